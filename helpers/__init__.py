"""stgcn-geometry: the computing behind the book.

The package is split into subpackages that build on each other: ``runtime``, ``data``, ``nets``,
``training``, ``dtw``, ``geometry``, ``explain``, ``plots``, ``studies``, ``report``, then the
book's runner ``bookrun``. Each imports only from those before it (``tests/test_imports.py``
checks it) and re-exports the public names of its modules.

The module map, one line per module, is in the README (section "Modules"); the book's API
reference (``api.md``) documents every module, grouped the same way.
"""

__version__ = "0.1.0"
