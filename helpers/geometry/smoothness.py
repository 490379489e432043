"""How smooth class labels are on a weighted graph (lower = smoother).

Two measures, each reported overall and per class, for a non-negative (N, N)
weight matrix ``W`` (dense or scipy.sparse; normally the symmetric output of
:mod:`helpers.geometry.nnk`) and integer labels ``y`` of shape (N,). Self-loops
(``W_ii``) are ignored by both: a node says nothing about its own label. A third,
the kNN label error of Das, Shekkizhar & Ortega, builds its own graph from a
distance matrix.

Label variation
    The share of edge weight that joins different labels::

        LV = sum_ij W_ij [y_i != y_j] / sum_ij W_ij  =  tr(Y'LY) / tr(Y'DY)

    with ``Y`` the (N, C) one-hot label matrix, ``D`` the degree matrix and
    ``L = D - W``. Per class ``c``::

        LV_c = cut(c) / vol(c) = sum_{i in c} sum_{j not in c} W_ij / sum_{i in c} sum_j W_ij
             = (Y'LY)_cc / (Y'DY)_cc

    i.e. of all the weight incident to class-c nodes (their volume; an edge
    inside the class counts from both ends, exactly as in the overall sum), the
    share that leaves the class. ``LV`` is the volume-weighted mean of the
    ``LV_c``. A class with zero volume gets NaN; an edgeless graph gets NaN overall.

Interpolation error
    Leave-one-out label interpolation with the graph weights (for an NNK graph,
    the NNK interpolation of the papers)::

        IE = mean_i (1 - sum_j theta_ij [y_j = y_i]),   theta_ij = W_ij / sum_j W_ij

    i.e. one minus the weight that node i's neighbours put on its own label when
    predicting it. Rows of ``W`` are used as given, so a directed (non-symmetric)
    weight matrix works too. Nodes without neighbours (zero row sum) cannot be
    interpolated: they count as error 1 and are reported in ``n_isolated``.
    Per class ``c``: the mean over the nodes of class ``c``.

kNN label error (Das, Shekkizhar & Ortega 2024)
    The label smoothness error of "Towards a geometric understanding of
    spatio-temporal graph convolution networks" (IEEE OJSP 2024), computed from an
    (N, N) distance matrix ``D`` (e.g. DTW) rather than a graph::

        w_ij = (1 / d_ij) / sum_{l in N_i} (1 / d_il)    for j in N_i
        y_hat_i = sum_{j in N_i} w_ij onehot(y_j),   KLE = mean_i (1 - y_hat_i[y_i])

    with ``N_i`` the ``k`` nearest *other* nodes (default ``k = 10``; self excluded by
    index, ties to the lower index, as :func:`helpers.geometry.nnk.neighbor_candidates`). If
    some of ``N_i`` are at distance 0, the limit of 1/d weighting is used: those
    zero-distance neighbours share the weight equally and the others get none.
    Per class ``c``: the mean over the nodes of class ``c``. Every node has ``k``
    neighbours, so ``n_isolated`` is 0. Without zero distances this is
    :func:`interpolation_error` of the directed kNN graph with weights ``1 / d_ij``.
    (The authors' script, ``stability_analysis/main_gradcam.py`` of
    daspraty/stg-gradcam, computes ``1 - y_hat_i[y_i]`` this way; a zero distance to
    a neighbour gives NaN there.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from helpers.dtw.core import integer_argument
from helpers.geometry.distances import dense_distances
from helpers.geometry.neighbours import NeighbourSets, same_group
from helpers.geometry.nnk import neighbor_candidates

__all__ = [
    "ClassScores",
    "GraphSmoothness",
    "label_variation",
    "interpolation_error",
    "graph_smoothness",
    "knn_label_error",
    "ReferenceLevels",
    "reference_levels",
]


@dataclass(frozen=True)
class ClassScores:
    """A smoothness measure, overall and per class.

    overall : the value over the whole graph.
    classes : (C,) the distinct labels, sorted.
    per_class : (C,) the value for each label in ``classes`` (NaN where undefined).
    n_isolated : nodes without neighbours (zero weight after dropping self-loops).
    """

    overall: float
    classes: np.ndarray
    per_class: np.ndarray
    n_isolated: int

    def as_dict(self) -> dict:
        """``{label: per-class value}``."""
        return {c.item(): float(v) for c, v in zip(self.classes, self.per_class)}


@dataclass(frozen=True)
class GraphSmoothness:
    """Both measures for one graph; see :func:`graph_smoothness`."""

    label_variation: ClassScores
    interpolation_error: ClassScores


def _check_inputs(W, labels) -> tuple[sp.coo_matrix, np.ndarray, np.ndarray]:
    """Validated inputs: (coo W, sorted classes (C,), class index per node (N,)).

    W comes back without its diagonal or stored zeros.
    """
    if sp.issparse(W):
        W = sp.csr_matrix(W)
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ValueError(f"W must be a square (N, N) matrix, got shape {W.shape}")
        values = W.data
    else:
        W = np.asarray(W)
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ValueError(f"W must be a square (N, N) matrix, got shape {W.shape}")
        values = W
    if not np.issubdtype(values.dtype, np.number) or np.iscomplexobj(values):
        raise ValueError(f"W must hold real numbers, got dtype {values.dtype}")
    if not np.all(np.isfinite(values)):
        raise ValueError("W must be finite, found NaN/inf entries")
    if values.size and values.min() < 0:
        raise ValueError(f"W must be non-negative, found minimum {float(values.min()):.6g}")
    coo = sp.coo_matrix(W, dtype=np.float64)
    keep = (coo.row != coo.col) & (coo.data != 0)  # drop self-loops and stored zeros
    W = sp.coo_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=coo.shape)
    return (W, *_check_labels(labels, W.shape[0], "W"))


def _check_labels(labels, n: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted classes (C,) and class index per node (N,) of integer labels for ``n`` nodes."""
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be a 1-D array of shape (N,), got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"labels must have length N = {n} to match {what}, got {y.shape[0]}")
    if not (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_):
        raise ValueError(f"labels must be integers, got dtype {y.dtype}")
    classes, cls_idx = np.unique(y, return_inverse=True)
    return classes, cls_idx.ravel()


def _label_variation(W: sp.coo_matrix, classes: np.ndarray, cls_idx: np.ndarray) -> ClassScores:
    rows, cols, w = W.row, W.col, W.data
    differ = cls_idx[rows] != cls_idx[cols]
    C = classes.size
    vol = np.bincount(cls_idx[rows], weights=w, minlength=C)
    cut = np.bincount(cls_idx[rows], weights=w * differ, minlength=C)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(vol > 0, cut / np.where(vol > 0, vol, 1.0), np.nan)
    total = float(w.sum())
    overall = float(cut.sum() / total) if total > 0 else float("nan")
    degree = np.bincount(rows, weights=w, minlength=W.shape[0])
    return ClassScores(overall, classes, per_class, int(np.count_nonzero(degree == 0)))


def _interpolation_error(W: sp.coo_matrix, classes: np.ndarray, cls_idx: np.ndarray) -> ClassScores:
    rows, cols, w = W.row, W.col, W.data
    n = W.shape[0]
    degree = np.bincount(rows, weights=w, minlength=n)
    same = cls_idx[rows] == cls_idx[cols]
    same_weight = np.bincount(rows, weights=w * same, minlength=n)
    isolated = degree == 0
    # Isolated nodes predict nothing: their own-label mass is 0, so their error is 1.
    own = np.where(isolated, 0.0, same_weight / np.where(isolated, 1.0, degree))
    err = 1.0 - own
    C = classes.size
    counts = np.bincount(cls_idx, minlength=C)
    per_class = np.bincount(cls_idx, weights=err, minlength=C) / counts  # every class has >= 1 node
    return ClassScores(float(err.mean()), classes, per_class, int(np.count_nonzero(isolated)))


def label_variation(W, labels) -> ClassScores:
    """Share of edge weight between different labels, overall and per class.

    W: (N, N) non-negative weights (dense or sparse); labels: (N,) ints.
    See the module docstring for the exact definitions.
    """
    return _label_variation(*_check_inputs(W, labels))


def interpolation_error(W, labels) -> ClassScores:
    """Leave-one-out weighted-neighbour label interpolation error, overall and per class.

    W: (N, N) non-negative weights (dense or sparse, rows are used); labels: (N,) ints.
    Isolated nodes count as error 1 (``n_isolated`` says how many).
    """
    return _interpolation_error(*_check_inputs(W, labels))


def graph_smoothness(W, labels) -> GraphSmoothness:
    """Both :func:`label_variation` and :func:`interpolation_error` for one graph."""
    checked = _check_inputs(W, labels)
    return GraphSmoothness(_label_variation(*checked), _interpolation_error(*checked))


def knn_label_error(distances, labels, k: int = 10) -> ClassScores:
    """Label error of 1/d-weighted k-nearest-neighbour voting (Das, Shekkizhar & Ortega 2024).

    Parameters
    ----------
    distances : (N, N) dense array of pairwise distances (e.g. DTW), symmetric, finite,
        non-negative; the diagonal is ignored. A scipy.sparse matrix is refused (an absent
        entry would read as distance 0). Or :class:`~helpers.geometry.neighbours.NeighbourSets` with
        at least ``k`` neighbours per node (the same result as their full matrix).
    labels : (N,) integer labels.
    k : neighbours per node, ``1 <= k <= N - 1``.

    Returns
    -------
    ClassScores
        ``overall`` = mean over nodes of ``1 - y_hat_i[y_i]``, ``per_class`` (C,) the mean over
        each class's nodes, ``n_isolated`` = 0. See the module docstring for the weights, the
        rule for zero distances and the tie rule.
    """
    if isinstance(distances, NeighbourSets):
        classes, cls_idx = _check_labels(labels, distances.n, "the neighbour sets")
        sets = distances.truncate(k)
        nbr, d = sets.indices, sets.distances
    else:
        D = dense_distances(distances, "distances")
        classes, cls_idx = _check_labels(labels, D.shape[0], "the distances")
        nbr = neighbor_candidates(D, k, kind="distance")  # (N, k), validates D and k
        d = np.take_along_axis(D, nbr, axis=1)
    zero = d == 0
    has_zero = zero.any(axis=1, keepdims=True)
    # 1/d weights as (smallest d of the row) / d: the same weights once normalised, in (0, 1]
    # whatever the distances' size (1/d overflows to inf for d below ~5.6e-309, and inf / inf
    # is NaN); a rounding change only
    nearest = np.where(zero, np.inf, d).min(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(has_zero, zero.astype(np.float64), nearest / np.where(zero, 1.0, d))
    w = inv / inv.sum(axis=1, keepdims=True)  # (N, k), rows sum to 1
    own = (w * (cls_idx[nbr] == cls_idx[:, None])).sum(axis=1)
    err = 1.0 - own
    counts = np.bincount(cls_idx, minlength=classes.size)
    per_class = np.bincount(cls_idx, weights=err, minlength=classes.size) / counts
    return ClassScores(float(err.mean()), classes, per_class, 0)


@dataclass(frozen=True)
class ReferenceLevels:
    """Where a neighbourhood measure stands before any geometry: its chance level and floor.

    chance : mean over nodes of the share of a node's candidates with another label: the
        expected label error (and label variation) of neighbours drawn at random.
    floor : mean over nodes of ``max(0, k - m_i) / k``, ``m_i`` the node's candidates with its
        own label: the lowest kNN label error with equal weights, reached when every same-label
        candidate is among the ``k`` (1/d weights can go lower only by weighting them up).
    fewest_same : the smallest ``m_i``; when ``k`` exceeds it, some nodes cannot have ``k``
        neighbours of their own class.
    """

    chance: float
    floor: float
    fewest_same: int


def reference_levels(labels, k: int, exclude=None) -> ReferenceLevels:
    """The chance level and floor of the label measures for ``k`` neighbours and these labels.

    Parameters
    ----------
    labels : (N,) integer classes of the nodes.
    k : neighbours per node.
    exclude : None, or (N,) groups (subjects) whose members are never each other's
        candidates, as :meth:`helpers.geometry.neighbours.NeighbourSets.from_matrix`.

    Returns
    -------
    :class:`ReferenceLevels` (the candidates of node ``i``: every other node, or every node of
    another group).
    """
    y = np.asarray(labels).reshape(-1)
    n = y.size
    k = integer_argument("k", k, low=1, high=n - 1, expected=f"an int in 1..N-1 = 1..{n - 1}")
    allowed = ~np.eye(n, dtype=bool)
    if exclude is not None:
        allowed &= ~same_group(exclude, n)
    candidates = allowed.sum(axis=1)
    if int(candidates.min()) < 1:
        raise ValueError("some node has no candidate neighbour outside its group")
    same = (allowed & (y[:, None] == y[None, :])).sum(axis=1)
    chance = float(np.mean(1.0 - same / candidates))
    floor = float(np.mean(np.maximum(0, int(k) - same) / int(k)))
    return ReferenceLevels(chance, floor, int(same.min()))
