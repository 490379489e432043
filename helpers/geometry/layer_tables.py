"""The geometry of a set of sequences, read off its distance matrix.

Given all pairwise distances ``D`` (N, N) between sequences (raw joints or a layer's features,
under DTW or another distance) and their labels, this module answers the paper's questions:

* how separated are the classes? :func:`within_between_ratio`, the mean distance within classes
  over the mean distance between them, and the 1-NN accuracies of
  :func:`helpers.geometry.distances.nearest_neighbor_accuracy`, collected by :func:`distance_table`;
* which local neighbourhoods do the sequences form, and how well do they agree with the labels?
  :func:`neighbourhood_graphs` builds the kNN and NNK graphs (:mod:`~helpers.geometry.nnk`) and
  measures label smoothness on them (:mod:`~helpers.geometry.smoothness`); :func:`graph_table`
  collects the numbers of several matrices and neighbourhood sizes in one tidy DataFrame;
* how does that geometry change from layer to layer of a network? :func:`layer_geometry` takes
  every layer's features (:func:`~helpers.training.features.layer_features`), computes (and caches)
  the windowed DTW distances between the sequences of each layer and reports the three smoothness
  measures of the book per layer, graph and class in one tidy DataFrame.

>>> scores = neighbourhood_graphs(D, labels, k=10)
>>> scores["NNK"].label_variation, scores["NNK"].edges
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from helpers.dtw.core import integer_argument
from helpers.geometry.distances import dataset_dtw, dense_distances, nearest_neighbor_accuracy
from helpers.geometry.knn_search import neighbour_sets
from helpers.geometry.neighbours import NeighbourSets
from helpers.geometry.nnk import KNNGraph, NNKGraph
from helpers.geometry.smoothness import GraphSmoothness, graph_smoothness, knn_label_error
from helpers.geometry.validation import check_index_array, check_layers, real_argument

__all__ = [
    "GRAPH_KINDS",
    "GraphScores",
    "class_curves",
    "distance_table",
    "graph_table",
    "halving_layer",
    "LAYER_METRICS",
    "MIN_RADIUS",
    "layer_distances",
    "layer_radii",
    "layer_geometry",
    "neighbourhood_graphs",
    "sensitivity_grid",
    "within_between_ratio",
]

#: The neighbourhood graphs compared throughout the book, in display order.
GRAPH_KINDS = ("kNN", "NNK")


def _check_labels(labels, n: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match the distances, got {y.shape}")
    return y


def within_between_ratio(D, labels) -> float:
    """Mean distance within classes over mean distance between classes (lower: more separated).

    Parameters
    ----------
    D : (N, N) distances (the diagonal is ignored).
    labels : (N,) class of each sequence.

    Returns
    -------
    float, the mean of ``D[i, j]`` over pairs ``i != j`` of one class divided by the mean over
    pairs of different classes.
    """
    D = dense_distances(D)
    y = _check_labels(labels, D.shape[0])
    same = (y[:, None] == y[None, :]) & ~np.eye(len(y), dtype=bool)
    differ = y[:, None] != y[None, :]
    if not same.any() or not differ.any():
        raise ValueError(
            "within_between_ratio needs at least one pair of sequences of the same "
            "class and one pair of different classes"
        )
    return float(D[same].mean() / D[differ].mean())


@dataclass(frozen=True)
class GraphScores:
    """One neighbourhood graph of a distance matrix and the labels' smoothness on it.

    Attributes
    ----------
    kind : ``'kNN'`` or ``'NNK'``.
    k : the number of candidates per node.
    graph : the fitted :class:`~helpers.geometry.nnk.KNNGraph` or
        :class:`~helpers.geometry.nnk.NNKGraph` (``graph.adjacency_`` is the symmetric (N, N) weight
        matrix).
    smoothness : :class:`~helpers.geometry.smoothness.GraphSmoothness`, overall and per class.
    """

    kind: str
    k: int
    graph: KNNGraph | NNKGraph
    smoothness: GraphSmoothness

    @property
    def edges(self) -> int:
        """Undirected edges of the symmetrised graph."""
        return int(sp.triu(self.graph.adjacency_, 1).nnz)

    @property
    def neighbours(self) -> float:
        """Mean number of neighbours each node chose, before symmetrisation."""
        return float(self.graph.n_neighbors_.mean())

    @property
    def label_variation(self) -> float:
        """Share of edge weight joining different labels.

        See :func:`~helpers.geometry.smoothness.label_variation`.
        """
        return float(self.smoothness.label_variation.overall)

    @property
    def interpolation_error(self) -> float:
        """Leave-one-out label interpolation error.

        See :func:`~helpers.geometry.smoothness.interpolation_error`.
        """
        return float(self.smoothness.interpolation_error.overall)

    def as_row(self) -> dict:
        """The scalar numbers, as one row of :func:`graph_table`."""
        return {
            "graph": self.kind,
            "k": self.k,
            "edges": self.edges,
            "neighbours": self.neighbours,
            "label_variation": self.label_variation,
            "interpolation_error": self.interpolation_error,
        }


def neighbourhood_graphs(
    D,
    labels,
    k: int,
    kinds: Sequence[str] = GRAPH_KINDS,
    *,
    sigma: float | str = "mean_kth",
) -> dict[str, GraphScores]:
    """KNN and NNK graphs of a distance matrix, with the labels' smoothness on each.

    Parameters
    ----------
    D : (N, N) distances; the graphs use a Gaussian kernel of them and the ``k`` nearest
        other nodes as candidates (see :mod:`helpers.geometry.nnk` for the conventions). Or
        :class:`~helpers.geometry.neighbours.NeighbourSets` with at least ``k`` per node (and their
        ``among`` distances for NNK): the same graphs without all N x N distances.
    labels : (N,) integer classes.
    k : candidates per node, ``1 <= k <= N - 1``.
    kinds : which graphs, among :data:`GRAPH_KINDS`.
    sigma : the Gaussian bandwidth rule of both graphs (see :mod:`helpers.geometry.nnk`).

    Returns
    -------
    ``{kind: GraphScores}`` in the order of ``kinds``.
    """
    makers = {"kNN": KNNGraph, "NNK": NNKGraph}
    unknown = [kind for kind in kinds if kind not in makers]
    if unknown:
        raise ValueError(f"unknown graph kind(s) {unknown}; expected some of {GRAPH_KINDS}")
    if not isinstance(D, NeighbourSets):
        D = dense_distances(D)
    y = _check_labels(labels, D.n if isinstance(D, NeighbourSets) else D.shape[0])
    out = {}
    for kind in kinds:
        graph = makers[kind](k, sigma=sigma).fit(D)
        out[kind] = GraphScores(kind, int(k), graph, graph_smoothness(graph.adjacency_, y))
    return out


def graph_table(
    distances: Mapping[str, np.ndarray],
    labels,
    k: int | Sequence[int],
    kinds: Sequence[str] = GRAPH_KINDS,
) -> pd.DataFrame:
    """Graph sizes and label smoothness for several distance matrices and neighbourhood sizes.

    Parameters
    ----------
    distances : ``{name: (N, N) distances}``, e.g. one matrix per distance or per layer.
    labels : (N,) classes, shared by all matrices.
    k : one neighbourhood size or several.
    kinds : graphs to build (:data:`GRAPH_KINDS`).

    Returns
    -------
    A tidy DataFrame, one row per (distance, graph, k), with the columns ``distance``,
    ``graph``, ``k``, ``edges``, ``neighbours`` (chosen per node), ``label_variation`` and
    ``interpolation_error``.
    """
    if np.isscalar(k):
        ks = [integer_argument("k", k, low=1)]
    else:
        ks = [integer_argument(f"k[{i}]", v, low=1) for i, v in enumerate(k)]
    rows = []
    for name, D in distances.items():
        for kk in ks:
            for scores in neighbourhood_graphs(D, labels, kk, kinds).values():
                rows.append({"distance": name, **scores.as_row()})
    return pd.DataFrame(rows)


def distance_table(
    distances: Mapping[str, np.ndarray], labels, train_mask: np.ndarray | None = None
) -> pd.DataFrame:
    """How well each distance matrix separates the classes.

    Parameters
    ----------
    distances : ``{name: (N, N) distances}``.
    labels : (N,) classes.
    train_mask : (N,) bool, the training sequences (for the train -> test 1-NN accuracy), or
        None to report leave-one-out only.

    Returns
    -------
    A DataFrame indexed by ``distance`` with ``nn_train_test`` (test sequences labelled by their
    nearest training sequence; only with ``train_mask``), ``nn_leave_one_out`` (every sequence
    by its nearest other one) and ``within_between`` (:func:`within_between_ratio`).
    """
    rows = []
    for name, D in distances.items():
        row = {"distance": name}
        if train_mask is not None:
            row["nn_train_test"] = nearest_neighbor_accuracy(D, labels, train_mask)
        row["nn_leave_one_out"] = nearest_neighbor_accuracy(D, labels)
        row["within_between"] = within_between_ratio(D, labels)
        rows.append(row)
    return pd.DataFrame(rows).set_index("distance")


# --------------------------------------------------------------------------------------------
# Layer by layer
# --------------------------------------------------------------------------------------------
#: The measures of :func:`layer_geometry`, in display order.
LAYER_METRICS = (
    "label_variation",
    "interpolation_error",
    "paper_knn_error",
    "degree",
    "isolated",
)


def _subset_index(subset, n: int) -> np.ndarray:
    if subset is None:
        return np.arange(n)
    idx = np.asarray(subset)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise ValueError(f"a boolean subset must have shape ({n},), got {idx.shape}")
        return np.flatnonzero(idx)
    # float indices are refused, not floored: subset=[0.5, 1.5] would select clips 0 and 1
    return check_index_array(idx, "subset (indices or a boolean mask)", n).reshape(-1)


#: The smallest DTW radius, in steps, a layer gets from :func:`layer_radii`: with radius 0 DTW is
#: the Euclidean distance of two equally long sequences, and the late blocks of a network whose
#: stride halves the time twice have only 2 to 15 steps, where 10% of the length rounds to 0.
MIN_RADIUS = 1


def layer_radii(
    features: Sequence[Sequence[np.ndarray]],
    fraction: float = 0.1,
    minimum: int = MIN_RADIUS,
    subset=None,
) -> list[int]:
    """One DTW radius per layer: ``fraction`` of the layer's median length, at least ``minimum``.

    Parameters
    ----------
    features : a list over layers of lists over sequences of (T_i, D_l) arrays, every layer
        over the same N sequences (ValueError naming the layer otherwise).
    fraction : the band as a share of the median number of steps of the layer.
    minimum : the smallest radius (:data:`MIN_RADIUS`).
    subset : the sequences whose lengths count (indices or boolean mask); default all.

    Returns
    -------
    A list of ints, one per layer, to pass as ``window`` of :func:`layer_distances`.
    """
    if not 0 < real_argument("fraction", fraction) <= 1:
        raise ValueError(f"fraction={fraction!r}; expected a share in (0, 1]")
    minimum = integer_argument("minimum", minimum, low=0)
    idx = _subset_index(subset, check_layers(features))
    radii = []
    for layer in features:
        median = float(np.median([len(layer[i]) for i in idx]))
        radii.append(max(minimum, int(np.floor(fraction * median))))
    return radii


def layer_distances(
    features: Sequence[Sequence[np.ndarray]],
    window: int | float | None | Sequence[int | float | None] = 0.1,
    *,
    subset=None,
    cache: bool = True,
    cache_dir=None,
    progress: bool = False,
) -> list[np.ndarray]:
    """Windowed DTW distances between the sequences of every layer, cached on disk.

    Parameters
    ----------
    features : a list over layers of lists over sequences of (T_i, D_l) arrays, as
        :func:`helpers.training.features.layer_features` returns; every layer over the same N
        sequences (ValueError naming the layer otherwise).
    window : the Sakoe-Chiba band (see :mod:`helpers.dtw.cpu`), the same for every layer (a float
        is a share of the longer sequence, so it scales with each layer's time resolution), or
        a list with one band per layer (e.g. :func:`layer_radii`).
    subset : which sequences (indices or a boolean mask); default all.
    cache, cache_dir, progress : as in :func:`helpers.geometry.distances.dataset_dtw`.

    Returns
    -------
    One (S, S) float64 matrix per layer, S the number of sequences in ``subset``.
    """
    idx = _subset_index(subset, check_layers(features))
    windows = list(window) if isinstance(window, (list, tuple)) else [window] * len(features)
    if len(windows) != len(features):
        raise ValueError(f"{len(windows)} windows given for {len(features)} layers")
    out = []
    for layer, w in zip(features, windows):
        out.append(
            dataset_dtw(
                [layer[i] for i in idx], w, cache=cache, cache_dir=cache_dir, progress=progress
            )
        )
    return out


def layer_geometry(
    features: Sequence[Sequence[np.ndarray]],
    labels,
    *,
    window: int | float | None = 0.1,
    k: int = 10,
    subset=None,
    sigma: float | str = "mean_kth",
    class_names: Sequence[str] | None = None,
    distances: Sequence[np.ndarray | NeighbourSets] | None = None,
    neighbours: str | None = None,
    exclude=None,
    cache: bool = True,
    cache_dir=None,
    progress: bool = False,
    **knn_options,
) -> pd.DataFrame:
    """Label smoothness of every layer's neighbourhood graphs, as one tidy DataFrame.

    For each layer: windowed DTW distances between the (cropped) feature sequences
    (:func:`layer_distances`), then the kNN and NNK graphs on a Gaussian kernel of them
    (:func:`neighbourhood_graphs`) and the measures

    ``label_variation``
        share of edge weight between different classes
        (:func:`helpers.geometry.smoothness.label_variation`);
    ``interpolation_error``
        leave-one-out label interpolation error with the graph's weights (for NNK, the NNK
        interpolation of the papers; :func:`helpers.geometry.smoothness.interpolation_error`);
    ``paper_knn_error``
        the authors' measure: k nearest neighbours weighted by 1/d
        (:func:`~helpers.geometry.smoothness.knn_label_error`); it needs no kernel and is reported
        with the ``knn`` rows;
    ``degree``
        mean number of neighbours per node of the symmetrised graph (for NNK, how many of the
        ``k`` candidates the local geometry keeps);
    ``isolated``
        share of nodes without any neighbour (the NNK reference rule can leave a node alone);
        each counts as an interpolation error of 1.

    Parameters
    ----------
    features : a list over layers (layer 0 = input) of lists over sequences of (T_i, D_l)
        arrays (:func:`helpers.training.features.layer_features`), every layer over the same
        N sequences (ValueError naming the layer otherwise).
    labels : (N,) integer classes of the sequences.
    window : the DTW band (see :mod:`helpers.dtw.cpu`), or one per layer (:func:`layer_radii`).
    k : candidates per node of both graphs and neighbours of the authors' measure.
    subset : the sequences to use (indices or boolean mask, e.g. ``ds.split == 'test'``);
        default all.
    sigma : the Gaussian bandwidth rule of the graphs (see :mod:`helpers.geometry.nnk`).
    class_names : names for the per-class rows (default: the label values).
    distances : precomputed, one per layer, of the subset (skips the DTW): (S, S) matrices
        or :class:`~helpers.geometry.neighbours.NeighbourSets` (at least ``k`` per node, with their
        ``among`` distances), e.g. from :func:`helpers.geometry.knn_search.neighbour_sets`.
    neighbours : None (all pairs, cached matrices), or ``'exact'`` / ``'approximate'``: each
        layer's neighbour sets from :func:`helpers.geometry.knn_search.neighbour_sets` in that mode,
        without all pairs (not cached; for data too large for all pairs). ``'exact'`` gives
        the same table as all pairs, to rounding.
    exclude : None, or (N,) groups of all the sequences (e.g. ``ds.subjects``): every node's
        candidates are then the sequences of *other* groups only
        (:meth:`~helpers.geometry.neighbours.NeighbourSets.from_matrix`), so that neighbours
        measure classes, not a subject repeating himself. Needs all-pairs distances.
    cache, cache_dir, progress : for the DTW matrices
        (:func:`helpers.geometry.distances.dataset_dtw`).
    **knn_options : passed on to :func:`helpers.geometry.knn_search.neighbour_sets` with
        ``neighbours``.

    Returns
    -------
    A DataFrame with the columns ``layer`` (0 = input), ``graph`` (``'knn'`` or ``'nnk'``),
    ``metric`` (:data:`LAYER_METRICS`), ``class`` (empty for the overall rows, else the class
    name) and ``value``: one row per layer x graph x metric overall, and one per class.
    """
    y_all = np.asarray(labels)
    n = check_layers(features)
    k = integer_argument("k", k, low=1)  # before the DTW of every layer, not after
    if y_all.shape != (n,):
        raise ValueError(
            f"labels must have shape ({n},) to match the {n} sequences, got {y_all.shape}"
        )
    idx = _subset_index(subset, n)
    y = y_all[idx]
    if neighbours is not None and distances is not None:
        raise ValueError("give either distances=... or neighbours=..., not both")
    if knn_options and neighbours is None:
        raise ValueError(f"{sorted(knn_options)}: options of neighbours=..., which is None")
    if neighbours is not None:
        if neighbours not in ("exact", "approximate"):
            raise ValueError(f"neighbours={neighbours!r}; expected None, 'exact' or 'approximate'")
        distances = [
            neighbour_sets(
                [layer[i] for i in idx],
                k,
                window,
                mode=neighbours,
                progress=progress,
                **knn_options,
            )
            for layer in features
        ]
    elif distances is None:
        distances = layer_distances(
            features, window, subset=idx, cache=cache, cache_dir=cache_dir, progress=progress
        )
    elif len(distances) != len(features):
        raise ValueError(f"{len(distances)} distance matrices given for {len(features)} layers")
    if exclude is not None:
        groups = np.asarray(exclude)
        if groups.shape != (n,):
            raise ValueError(
                f"exclude must hold one group per sequence, shape ({n},), got {groups.shape}"
            )
        if neighbours is not None or any(isinstance(D, NeighbourSets) for D in distances):
            raise ValueError(
                "exclude=... chooses the neighbours from all-pairs distances; it cannot be "
                "combined with neighbours=... or precomputed neighbour sets"
            )
        distances = [
            NeighbourSets.from_matrix(
                dense_distances(D, f"distances[{layer}]"), k, among=True, exclude=groups[idx]
            )
            for layer, D in enumerate(distances)
        ]
    classes = np.unique(y)
    names = {c: (str(class_names[c]) if class_names is not None else str(c)) for c in classes}
    rows = []

    def add(layer, graph, metric, overall, per_class):
        rows.append(
            {"layer": layer, "graph": graph, "metric": metric, "class": "", "value": float(overall)}
        )
        for c, v in zip(classes, per_class):
            rows.append(
                {
                    "layer": layer,
                    "graph": graph,
                    "metric": metric,
                    "class": names[c],
                    "value": float(v),
                }
            )

    for layer, D in enumerate(distances):
        if isinstance(D, NeighbourSets):
            if D.n != len(y):
                raise ValueError(
                    f"distances[{layer}]: neighbour sets of {D.n} nodes for {len(y)} sequences"
                )
        else:
            D = dense_distances(D, f"distances[{layer}]")
        for kind, scores in neighbourhood_graphs(D, y, k, sigma=sigma).items():
            graph, sm = scores.graph, scores.smoothness
            name = kind.lower()
            add(
                layer,
                name,
                "label_variation",
                sm.label_variation.overall,
                sm.label_variation.per_class,
            )
            add(
                layer,
                name,
                "interpolation_error",
                sm.interpolation_error.overall,
                sm.interpolation_error.per_class,
            )
            degree = np.diff(graph.adjacency_.tocsr().indptr)
            add(layer, name, "degree", degree.mean(), [degree[y == c].mean() for c in classes])
            alone = degree == 0
            add(layer, name, "isolated", alone.mean(), [alone[y == c].mean() for c in classes])
        paper = knn_label_error(D, y, k=k)
        add(layer, "knn", "paper_knn_error", paper.overall, paper.per_class)
    table = pd.DataFrame(rows, columns=["layer", "graph", "metric", "class", "value"])
    order = {m: i for i, m in enumerate(LAYER_METRICS)}
    return table.sort_values(
        ["layer", "graph", "metric", "class"],
        key=lambda c: c.map(order) if c.name == "metric" else c,
        kind="stable",
    ).reset_index(drop=True)


def class_curves(
    table: pd.DataFrame,
    graph: str = "nnk",
    metric: str = "label_variation",
    model: str = "trained",
) -> pd.DataFrame:
    """One measure of a layer table class by class: the mean over seeds, layer by layer.

    Parameters
    ----------
    table : rows of :func:`layer_geometry` or of a layer study
        (:func:`helpers.studies.layer_geometry_study`; columns ``layer``, ``graph``, ``metric``,
        ``class``, ``value`` and, for a study, ``model`` and ``seed``).
    graph, metric : which measure (``'nnk'``, ``'label_variation'``...).
    model : which networks' rows of a study (``'trained'`` or ``'untrained'``); ignored for a
        table without a ``model`` column.

    Returns
    -------
    A (classes, layers) DataFrame: one row per class name, one column per layer, the mean of
    ``value`` over the seeds.
    """
    sel = table[(table["class"] != "") & (table["graph"] == graph) & (table["metric"] == metric)]
    if "model" in table.columns:
        sel = sel[sel["model"] == model]
    if sel.empty:
        raise ValueError(f"no per-class rows for graph={graph!r}, metric={metric!r}")
    return sel.groupby(["class", "layer"])["value"].mean().unstack("layer")


def halving_layer(values: pd.Series, share: float = 0.5) -> int | None:
    """The first layer after the input whose value is at most ``share`` of the input's.

    Parameters
    ----------
    values : a label-smoothness measure indexed by layer (layer 0, the first, is the input;
        lower is smoother).
    share : the fraction of the input's value to reach (0.5: half of the input's variation
        gone).

    Returns
    -------
    The layer index, or ``None`` when no later layer gets there (or the input's value is
    already 0: nothing is left to remove).
    """
    if not 0 < real_argument("share", share) <= 1:
        raise ValueError(f"share={share!r}: must be in (0, 1]")
    v = pd.Series(values, dtype=float).sort_index()
    if v.empty:
        raise ValueError("halving_layer: no values")
    start = float(v.iloc[0])
    if not start > 0:
        return None
    later = v.iloc[1:]
    below = later[later <= share * start]
    return None if below.empty else int(below.index[0])


def sensitivity_grid(
    features: Mapping[str, Sequence[Sequence[np.ndarray]]],
    labels,
    *,
    windows: Sequence[int | float | None],
    ks: Sequence[int],
    sigmas: Sequence[str | float] = ("mean_kth",),
    other_sigmas_at: tuple[int | float | None, int] | None = None,
    layers: Mapping[str, int] | None = None,
    graph: str = "nnk",
    metric: str = "label_variation",
    cache_dir=None,
) -> pd.DataFrame:
    """One measure at a few layers, over a grid of DTW windows, graph sizes and bandwidths.

    Parameters
    ----------
    features : by model name (``'trained'``, ``'untrained'``...), every layer's features (see
        :func:`layer_geometry`).
    labels : (N,) integer classes of the sequences.
    windows, ks : the DTW bands and neighbourhood sizes of the grid (all combinations).
    sigmas : the bandwidth rules; the first is used at every (window, k), the others only at
        ``other_sigmas_at`` (default: every (window, k) too).
    other_sigmas_at : the one (window, k) where the other bandwidth rules are tried.
    layers : the columns to report, by name: a layer index (negative counts from the end);
        default the input, block 5 and the last block.
    graph, metric : the measure (default NNK label variation).
    cache_dir : for the DTW matrices.

    Returns
    -------
    A DataFrame with one row per (window, k, bandwidth, model): the columns ``window``,
    ``k``, ``bandwidth``, ``model`` and one per entry of ``layers``.
    """
    if layers is None:
        layers = {"input": 0, "block 5": 5, "last block": -1}
    ks = [integer_argument(f"ks[{i}]", kk, low=1) for i, kk in enumerate(ks)]
    for name, feats in features.items():
        check_layers(feats, f"features[{name!r}]")
    for col, i in layers.items():
        integer_argument(f"layers[{col!r}]", i)
    rows = []
    for w in windows:
        for kk in ks:
            for j, sig in enumerate(sigmas):
                if j > 0 and other_sigmas_at is not None and (w, kk) != tuple(other_sigmas_at):
                    continue
                for name, feats in features.items():
                    t = layer_geometry(
                        feats, labels, window=w, k=kk, sigma=sig, cache_dir=cache_dir
                    )
                    sel = t[(t["class"] == "") & (t["graph"] == graph) & (t["metric"] == metric)]
                    values = sel.set_index("layer")["value"].sort_index()
                    row = {"window": w, "k": kk, "bandwidth": sig, "model": name}
                    row.update({col: float(values.iloc[i]) for col, i in layers.items()})
                    rows.append(row)
    return pd.DataFrame(rows)
