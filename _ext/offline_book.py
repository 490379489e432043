"""A small Sphinx extension for a book that works offline and loads without console errors.

* sphinx-thebe (live code cells through Binder, which this book does not offer) registers its
  configuration script once per build pass, so pages declared ``THEBE_JS_URL`` twice (a
  console SyntaxError) and loaded its JavaScript from unpkg.com: its handler is disconnected.
* The theme reads the colour mode from the browser's storage and logs an error on a first visit,
  when there is none: the mode defaults to ``auto`` before the theme's script runs.
"""

from __future__ import annotations


def _drop_thebe(app) -> None:
    listeners = app.events.listeners.get("env-before-read-docs", [])
    for listener in list(listeners):
        handler = listener.handler
        if getattr(handler, "__module__", "").startswith("sphinx_thebe") and (
            handler.__name__ == "init_thebe_core"  # the scripts; its default config stays
        ):
            app.disconnect(listener.id)
    app.registry.js_files = [
        (name, attrs) for name, attrs in app.registry.js_files if name != "sphinx-thebe.js"
    ]


def setup(app):
    """Register with Sphinx (after sphinx_thebe, which Jupyter Book loads first)."""
    app.connect("builder-inited", _drop_thebe)
    app.add_js_file(
        None,
        body=(
            "if (!document.documentElement.dataset.mode) "
            "{ document.documentElement.dataset.mode = 'auto'; }"
        ),
        priority=100,
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
