"""stgcn-geometry: the computing behind the book.

Modules: ``config`` (data and cache folders), ``cache`` (content-addressed artefact store),
``data`` (datasets and loaders), ``graph`` (skeleton graphs), ``model`` (ST-GCN), ``training``,
``dtw`` (windowed dynamic time warping), ``nnk`` (NNK and kNN graphs), ``smoothness``
(label smoothness on graphs), plotting helpers for the book.
"""

__version__ = "0.1.0"
