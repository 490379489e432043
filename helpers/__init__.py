"""stgcn-geometry: the computing behind the book.

Modules, from the bottom of the import graph to the top (each imports only modules above it in
this list; ``tests/test_imports.py`` checks that there are no cycles):

* ``config`` (data and cache folders), ``cache`` (the content-addressed artefact store),
  ``skeletons`` (joint names, bones, centre joints of HDM05 and NTU RGB+D), ``device``;
* ``data`` (``dataset``, ``resampling``, ``acclaim``, ``hdm05``, ``ntu``, ``augment``);
* ``graph`` (skeleton graphs and partitions), ``model`` (ST-GCN), ``block_model`` (any network
  whose blocks yield (N, C, T, V) features, wrapped for the tools), ``example_models`` (a
  second, smaller architecture: CompactGCN), ``training`` (fit, evaluate,
  checkpoints), ``profiles`` (the quick and paper settings), ``features`` (each layer's
  output per sequence, cropped to its valid length);
* ``dtw_core`` (what the DTW backends share), ``dtw`` (numba), ``dtw_torch`` (GPU: pairwise
  and kNN), ``dtw_distributed`` (row blocks on a Dask cluster);
* ``distances``, ``neighbours`` (neighbour sets: what the graphs need of a distance matrix),
  ``knn_dtw`` (k nearest neighbours under DTW without all pairs: exact with lower bounds,
  approximate with faiss candidates, on one machine or a cluster), ``nnk`` (NNK and kNN
  graphs), ``smoothness``, ``embedding`` (classical MDS), ``geometry`` (the summaries of a
  distance matrix or of neighbour sets the chapters report); ``scaling`` (how the neighbour
  searches scale with N: test collections, timings, peak memory);
* ``gradcam`` (layerwise spatio-temporal Grad-CAM), ``gradcam_checks`` (its sanity and
  faithfulness checks), ``transfer`` (task splits, freezing, fine-tuning);
* ``experiments`` (the cached studies of a profile: trained models, the layer geometry study,
  the noise study, the Grad-CAM studies, the transfer study, the scaling study, the study of
  another architecture); ``results`` (every chapter's headline numbers, for the results page);
* plots for the book: ``skeleton_plot``, ``graph_plot``, ``gradcam_plot``; build tooling:
  ``bookrun``.
"""

__version__ = "0.1.0"
