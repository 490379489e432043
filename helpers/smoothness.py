"""How smooth class labels are on a weighted graph (lower = smoother).

Two measures, each reported overall and per class, for a non-negative (N, N)
weight matrix ``W`` (dense or scipy.sparse; normally the symmetric output of
:mod:`helpers.nnk`) and integer labels ``y`` of shape (N,). Self-loops
(``W_ii``) are ignored by both: a node says nothing about its own label.

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = [
    "ClassScores",
    "GraphSmoothness",
    "label_variation",
    "interpolation_error",
    "graph_smoothness",
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

    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be a 1-D array of shape (N,), got shape {y.shape}")
    if y.shape[0] != W.shape[0]:
        raise ValueError(f"labels must have length N = {W.shape[0]} to match W, got {y.shape[0]}")
    if not (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_):
        raise ValueError(f"labels must be integers, got dtype {y.dtype}")
    classes, cls_idx = np.unique(y, return_inverse=True)
    return W, classes, cls_idx.ravel()


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
