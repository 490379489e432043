"""Neighbour sets: what the graphs need of a distance matrix, without all N x N distances.

A kNN graph needs each node's k nearest neighbours and their distances; an NNK graph needs
also the distances *among* each node's candidates (its local kernel block ``K_SS``). A
:class:`NeighbourSets` holds exactly that, (N, k) plus (N, k, k), and
:class:`~helpers.geometry.nnk.NNKGraph`, :class:`~helpers.geometry.nnk.KNNGraph`,
:func:`~helpers.geometry.smoothness.knn_label_error` and
:func:`~helpers.geometry.layer_tables.layer_geometry` accept it wherever they accept a full (N, N)
matrix, with the same result when the sets are the matrix's (:meth:`NeighbourSets.from_matrix`).
:func:`~helpers.geometry.knn_search.neighbour_sets` computes them under DTW without all pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.dtw.core import integer_argument
from helpers.geometry.distances import dense_distances
from helpers.runtime.arguments import check_flag

__all__ = ["NeighbourSets", "k_smallest", "same_group"]


def k_smallest(key: np.ndarray, k: int) -> np.ndarray:
    """(N, k) column indices of each row's ``k`` smallest values, smallest first, ties by index.

    The same as ``np.argsort(key, axis=1, kind="stable")[:, :k]``, without sorting whole rows:
    a partition finds each row's k-th value, and only rows with a tie across it are sorted in
    full (so the lower index still wins every tie).

    ``key`` : (N, M) values; ``k`` : an int >= 1 (``k >= M`` gives every column).
    """
    k = integer_argument("k", k, low=1)
    n = key.shape[1]
    if k >= n:
        return np.argsort(key, axis=1, kind="stable")[:, :k]
    part = np.argpartition(key, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(key, part, axis=1)
    kth = vals.max(axis=1)
    # a row is exact unless a value equal to its k-th lies outside the chosen k
    ties = (key == kth[:, None]).sum(axis=1) != (vals == kth[:, None]).sum(axis=1)
    order = np.lexsort((part, vals), axis=1)  # by value, then by index
    out = np.take_along_axis(part, order, axis=1)
    if ties.any():
        out[ties] = np.argsort(key[ties], axis=1, kind="stable")[:, :k]
    return np.ascontiguousarray(out, dtype=np.int64)


def same_group(groups, n: int) -> np.ndarray:
    """(N, N) bool: True where two nodes share a group (the diagonal included).

    ``groups`` : (N,) labels of any kind (subjects as strings or numbers); :class:`ValueError`
    when its shape is not (N,).
    """
    g = np.asarray(groups)
    if g.shape != (n,):
        raise ValueError(f"exclude: expected one group per node, shape ({n},), got {g.shape}")
    return g[:, None] == g[None, :]


@dataclass(frozen=True, eq=False)
class NeighbourSets:
    """The k nearest neighbours of N nodes, their distances and the distances among them.

    Parameters
    ----------
    indices : (N, k) int64, row i the k distinct neighbours of node i, nearest first (ties by
        index), node i itself excluded.
    distances : (N, k) float64, ``d(i, indices[i, r])``, non-decreasing along each row.
    among : (N, k, k) float64 or None, ``among[i, r, c] = d(indices[i, r], indices[i, c])``
        (symmetric, zero diagonal); needed by NNK only.
    """

    indices: np.ndarray
    distances: np.ndarray
    among: np.ndarray | None = None

    def __post_init__(self):
        idx = np.asarray(self.indices)
        dist = np.asarray(self.distances, dtype=np.float64)
        if idx.ndim != 2 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(
                f"indices: shape {idx.shape}, dtype {idx.dtype}; expected (N, k) integers"
            )
        n, k = idx.shape
        if dist.shape != (n, k):
            raise ValueError(f"distances: shape {dist.shape}; expected (N, k) = ({n}, {k})")
        if k < 1 or k > n - 1:
            raise ValueError(f"k = {k} neighbours for N = {n} nodes; expected 1..N-1")
        if idx.min() < 0 or idx.max() >= n:
            raise ValueError(f"indices must lie in 0..{n - 1}")
        if (idx == np.arange(n)[:, None]).any():
            i = int(np.argwhere(idx == np.arange(n)[:, None])[0, 0])
            raise ValueError(f"indices row {i} holds node {i} itself; neighbours exclude it")
        # a node listed twice would be two edges to one neighbour, whose weights the graphs add
        # up (a kNN weight near 2 where a Gaussian weight is at most 1)
        ordered = np.sort(idx, axis=1)
        twice = ordered[:, 1:] == ordered[:, :-1]
        if twice.any():
            i, c = (int(v) for v in np.argwhere(twice)[0])
            raise ValueError(
                f"indices row {i} lists node {int(ordered[i, c])} twice ({idx[i].tolist()}); a "
                "node's neighbours must be distinct"
            )
        if not np.isfinite(dist).all() or (dist < 0).any():
            raise ValueError("distances must be finite and non-negative")
        if (np.diff(dist, axis=1) < 0).any():
            i = int(np.argwhere(np.diff(dist, axis=1) < 0)[0, 0])
            raise ValueError(f"distances row {i} is not sorted; expected nearest first")
        object.__setattr__(self, "indices", np.ascontiguousarray(idx, np.int64))
        object.__setattr__(self, "distances", np.ascontiguousarray(dist))
        if self.among is not None:
            among = np.asarray(self.among, dtype=np.float64)
            if among.shape != (n, k, k):
                raise ValueError(
                    f"among: shape {among.shape}; expected (N, k, k) = ({n}, {k}, {k})"
                )
            if not np.isfinite(among).all() or (among < 0).any():
                raise ValueError("among must hold finite, non-negative distances")
            object.__setattr__(self, "among", np.ascontiguousarray(among))

    @property
    def n(self) -> int:
        """Number of nodes N."""
        return self.indices.shape[0]

    @property
    def k(self) -> int:
        """Neighbours per node."""
        return self.indices.shape[1]

    def truncate(self, k: int) -> NeighbourSets:
        """The first ``k`` neighbours of every node (the k nearest, since rows are sorted)."""
        k = integer_argument(
            "k", k, low=1, high=self.k, expected=f"1..{self.k} (the sets' k per node)"
        )
        if k == self.k:
            return self
        among = None if self.among is None else self.among[:, :k, :k]
        return NeighbourSets(self.indices[:, :k], self.distances[:, :k], among)

    def overlap(self, other: NeighbourSets) -> np.ndarray:
        """Per node, the share of its neighbours that ``other`` also lists (a stability score).

        Parameters
        ----------
        other : neighbour sets of the same N nodes with the same k (e.g. of noisy clips).

        Returns
        -------
        (N,) float64 in [0, 1]: ``|N_self(i) & N_other(i)| / k``. 1 when a perturbation leaves
        every neighbourhood as it was; about ``k / (N - 1)`` for unrelated sets.
        """
        if not isinstance(other, NeighbourSets) or other.indices.shape != self.indices.shape:
            shape = getattr(getattr(other, "indices", None), "shape", None)
            raise ValueError(
                f"other: expected NeighbourSets of shape {self.indices.shape}, got {shape}"
            )
        same = (self.indices[:, :, None] == other.indices[:, None, :]).any(axis=2)
        return same.sum(axis=1) / self.k

    @classmethod
    def from_matrix(cls, D, k: int, among: bool = True, exclude=None) -> NeighbourSets:
        """The neighbour sets of a full (N, N) distance matrix (ties by index).

        Parameters
        ----------
        D : (N, N) distances; the diagonal is ignored.
        k : neighbours per node.
        among : also keep the (N, k, k) distances among each node's neighbours.
        exclude : None, or (N,) group labels (e.g. each clip's subject): a node's neighbours
            are then chosen among the nodes of *other* groups only, so that a neighbour is
            never the same subject repeating himself. ``k`` must not exceed the smallest
            number of such candidates (:class:`ValueError` names the node otherwise).
        """
        D = dense_distances(D, "D")
        n = D.shape[0]
        k = integer_argument("k", k, low=1, high=n - 1, expected=f"an int in 1..N-1 = 1..{n - 1}")
        among = check_flag("among", among)
        key = D.copy()
        np.fill_diagonal(key, np.inf)
        if exclude is not None:
            same = same_group(exclude, n)
            allowed = n - same.sum(axis=1)
            if int(allowed.min()) < k:
                i = int(np.argmin(allowed))
                raise ValueError(
                    f"k={k}: node {i} has only {int(allowed[i])} candidates outside its group "
                    f"{np.asarray(exclude)[i].item()!r}; choose k <= {int(allowed.min())}"
                )
            key[same] = np.inf
        idx = k_smallest(key, k)
        dist = np.take_along_axis(D, idx, axis=1)
        block = D[idx[:, :, None], idx[:, None, :]] if among else None
        return cls(idx, dist, block)
