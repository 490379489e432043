"""The geometry of a set of sequences, read off its distance matrix.

Given all pairwise distances ``D`` (N, N) between sequences (raw joints or a layer's features,
under DTW or another distance) and their labels, this module answers the paper's questions:

* how separated are the classes? :func:`within_between_ratio`, the mean distance within classes
  over the mean distance between them, and the 1-NN accuracies of
  :func:`helpers.distances.nearest_neighbor_accuracy`, collected by :func:`distance_table`;
* which local neighbourhoods do the sequences form, and how well do they agree with the labels?
  :func:`neighbourhood_graphs` builds the kNN and NNK graphs (:mod:`helpers.nnk`) and measures
  label smoothness on them (:mod:`helpers.smoothness`); :func:`graph_table` collects the numbers
  of several matrices and neighbourhood sizes in one tidy DataFrame.

>>> scores = neighbourhood_graphs(D, labels, k=10)
>>> scores["NNK"].label_variation, scores["NNK"].edges
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .distances import dense_distances, nearest_neighbor_accuracy
from .nnk import KNNGraph, NNKGraph
from .smoothness import GraphSmoothness, graph_smoothness

__all__ = [
    "GRAPH_KINDS",
    "GraphScores",
    "distance_table",
    "graph_table",
    "neighbourhood_graphs",
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
    graph : the fitted :class:`~helpers.nnk.KNNGraph` or :class:`~helpers.nnk.NNKGraph`
        (``graph.adjacency_`` is the symmetric (N, N) weight matrix).
    smoothness : :class:`~helpers.smoothness.GraphSmoothness`, overall and per class.
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

        See :func:`~helpers.smoothness.label_variation`.
        """
        return float(self.smoothness.label_variation.overall)

    @property
    def interpolation_error(self) -> float:
        """Leave-one-out label interpolation error.

        See :func:`~helpers.smoothness.interpolation_error`.
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
) -> dict[str, GraphScores]:
    """KNN and NNK graphs of a distance matrix, with the labels' smoothness on each.

    Parameters
    ----------
    D : (N, N) distances; the graphs use a Gaussian kernel of them and the ``k`` nearest
        other nodes as candidates (see :mod:`helpers.nnk` for the conventions).
    labels : (N,) integer classes.
    k : candidates per node, ``1 <= k <= N - 1``.
    kinds : which graphs, among :data:`GRAPH_KINDS`.

    Returns
    -------
    ``{kind: GraphScores}`` in the order of ``kinds``.
    """
    makers = {"kNN": KNNGraph, "NNK": NNKGraph}
    unknown = [kind for kind in kinds if kind not in makers]
    if unknown:
        raise ValueError(f"unknown graph kind(s) {unknown}; expected some of {GRAPH_KINDS}")
    D = dense_distances(D)
    y = _check_labels(labels, D.shape[0])
    out = {}
    for kind in kinds:
        graph = makers[kind](k).fit(D)
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
    ks = [int(k)] if np.isscalar(k) else [int(v) for v in k]
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
