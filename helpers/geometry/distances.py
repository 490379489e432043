"""Distance matrices between whole skeleton sequences, and the 1-NN classifier that reads them.

Every sequence is first turned into a matrix of frames, ``(T, D)`` with ``D = V * C`` (or
``M * V * C`` for several bodies), by :func:`sequence_matrix`: one frame is one point in
``R^D``. Two ways of comparing sequences of different lengths follow:

* :func:`dataset_dtw`: windowed dynamic time warping (see :mod:`helpers.dtw.cpu` for the exact
  conventions: squared Euclidean frame cost, square root of the summed cost, Sakoe-Chiba
  band of radius ``window``), cached on disk because it is the expensive one.
* :func:`padded_euclidean`: bring every sequence to one length, by padding with zeros or by
  linear resampling, and take the plain Euclidean distance between the flattened arrays. This is
  what a model that eats fixed-size tensors "sees", and the naive baseline DTW is measured
  against. Both distances are in the same units: the square root of a sum of squared frame
  distances (with ``window=0`` and equal lengths DTW *is* this Euclidean distance).

:func:`nearest_neighbor_accuracy` turns any (N, N) distance matrix into a 1-NN accuracy, leave-one-
out or train -> test.

>>> D = dataset_dtw(ds.normalized("frame"), window=0.1)          # (N, N), cached
>>> nearest_neighbor_accuracy(D, ds.labels, train_mask=ds.split == "train")
"""

from __future__ import annotations

import os
from typing import Literal, Sequence, Union

import numpy as np
import scipy.sparse as sp

from helpers.data.dataset import SkeletonDataset, sequences_fingerprint
from helpers.data.resampling import resample
from helpers.dtw.core import integer_argument, rescale, unscale
from helpers.dtw.cpu import pairwise_dtw  # looked up at call time, so tests can replace it
from helpers.runtime.disk_cache import DiskCache
from helpers.runtime.keys import dtw_key

__all__ = [
    "dense_distances",
    "sequence_matrix",
    "as_sequence_list",
    "data_fingerprint",
    "dataset_dtw",
    "padded_euclidean",
    "nearest_neighbor_accuracy",
    "nearest_neighbor_predict",
]


SequenceData = Union[SkeletonDataset, Sequence[np.ndarray]]


# --------------------------------------------------------------------------------------------
# Sequences as frame matrices
# --------------------------------------------------------------------------------------------
def sequence_matrix(seq: np.ndarray) -> np.ndarray:
    """One sequence as a matrix of frames: (T, V, C) or (T, M, V, C) -> (T, V*C) or (T, M*V*C).

    (T, D) stays as it is and (T,) becomes (T, 1). The frame order and each frame's values are
    unchanged (C-order flattening: joint-major, coordinate-minor, so feature ``v * C + c`` is
    coordinate ``c`` of joint ``v``). Returns a view where possible.
    """
    arr = np.asarray(seq)
    if arr.ndim == 0:
        raise ValueError(f"a sequence must have a time axis; got a scalar {arr!r}")
    if arr.ndim == 1:
        return arr.reshape(-1, 1)
    if arr.ndim > 4:
        raise ValueError(
            f"a sequence has shape {arr.shape}; expected (T,), (T, D), (T, V, C) or (T, M, V, C)"
        )
    return arr.reshape(arr.shape[0], int(np.prod(arr.shape[1:])))


def as_sequence_list(data: SequenceData, name: str = "data") -> list[np.ndarray]:
    """The sequences of a :class:`SkeletonDataset` or a list of arrays as (T_i, D) frame matrices.

    Raises ValueError naming the offending sequence (and its file, for a dataset) when the
    sequences do not share D, are empty, or hold NaN/inf.
    """
    if isinstance(data, SkeletonDataset):
        seqs = data.sequences
        where = [f"{name}[{i}]" + (f" ({f})" if f else "") for i, f in enumerate(data.files)]
    else:
        if isinstance(data, np.ndarray) and data.ndim >= 2:
            seqs = list(data)  # an (N, T, ...) array: N equal-length sequences
        else:
            try:
                seqs = list(data)
            except TypeError:
                raise TypeError(
                    f"{name} is a {type(data).__name__}; expected a SkeletonDataset or a "
                    "list of arrays shaped (T_i, D), (T_i, V, C) or (T_i, M, V, C)"
                ) from None
        where = [f"{name}[{i}]" for i in range(len(seqs))]
    if len(seqs) == 0:
        raise ValueError(f"{name} holds no sequences; expected at least one")
    out = []
    for i, s in enumerate(seqs):
        try:
            m = sequence_matrix(s)
        except ValueError as exc:
            raise ValueError(f"{where[i]}: {exc}") from None
        if (
            not (np.issubdtype(m.dtype, np.floating) or np.issubdtype(m.dtype, np.integer))
            or m.dtype == np.bool_
        ):
            raise TypeError(f"{where[i]} has dtype {m.dtype}; expected real numbers")
        if m.shape[0] == 0:
            raise ValueError(f"{where[i]} has zero frames; every sequence needs at least one")
        if m.shape[1] != sequence_matrix(seqs[0]).shape[1]:
            raise ValueError(
                f"{where[i]} has {m.shape[1]} features per frame (shape {np.shape(s)}) but "
                f"{where[0]} has {sequence_matrix(seqs[0]).shape[1]}; all sequences must share them"
            )
        if not np.isfinite(m).all():
            t = int(np.argwhere(~np.isfinite(m))[0][0])
            raise ValueError(
                f"{where[i]} has NaN or inf at frame {t}; drop or interpolate missing frames first"
            )
        out.append(m)
    return out


#: SHA-256 (hex) over a list of arrays; see :func:`helpers.data.dataset.sequences_fingerprint`.
data_fingerprint = sequences_fingerprint


# --------------------------------------------------------------------------------------------
# DTW over a whole dataset
# --------------------------------------------------------------------------------------------
def _window_config(window) -> dict:
    # int 1 (one frame) and float 1.0 (the whole length) mean different bands; keep the type.
    if window is None:
        return {"kind": "none"}
    if isinstance(window, (bool, np.bool_)):
        raise TypeError(
            f"window={window!r} is a bool; expected an int radius in frames, a float fraction in "
            "(0, 1], or None"
        )
    if isinstance(window, (int, np.integer)):
        return {"kind": "frames", "value": int(window)}
    if isinstance(window, (float, np.floating)):
        return {"kind": "fraction", "value": float(window)}
    raise TypeError(
        f"window={window!r} has type {type(window).__name__}; expected an int radius in frames, "
        "a float fraction in (0, 1], or None"
    )


def dataset_dtw(
    data: SequenceData,
    window: int | float | None = 0.1,
    *,
    normalize: bool = False,
    band: Literal["sakoe", "slanted"] = "sakoe",
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    key: str | None = None,
    progress: bool = True,
    n_jobs: int | None = None,
    backend: Literal["numba", "torch"] = "numba",
    device: str | None = "auto",
) -> np.ndarray:
    """Pairwise DTW distances between all sequences of a dataset, cached on disk.

    Parameters
    ----------
    data : a :class:`SkeletonDataset` or a list of arrays (T_i, D) / (T_i, V, C) / (T_i, M, V, C);
        each sequence is flattened by :func:`sequence_matrix`. Normalise (centre, scale) first:
        the distances are taken on the values as given.
    window : Sakoe-Chiba radius: int frames, float fraction of the longer length, or None
        (see :mod:`helpers.dtw.cpu`).
    normalize, band : passed to :func:`helpers.dtw.cpu.pairwise_dtw`.
    cache : load the matrix from / store it in the :class:`~helpers.runtime.disk_cache.DiskCache`
        under ``cache_dir`` (default ``$STGCN_CACHE_DIR``), kind ``"dtw"``.
    key : a name for the data to use in the cache key instead of the content fingerprint
        (skips hashing; you promise that the same key always means the same data).
        Default: :func:`data_fingerprint` of the flattened sequences.
    progress : progress bar while computing.
    n_jobs : threads for the numba DTW (None: numba's default).
    backend, device : ``"numba"`` (:func:`helpers.dtw.cpu.pairwise_dtw`, CPU) or ``"torch"``
        (:func:`helpers.dtw.gpu.pairwise_dtw_torch`) on ``device`` (``"auto"``: CUDA when
        available). Both agree to rounding, so the backend
        is not part of the cache key.

    Returns
    -------
    (N, N) float64, symmetric, zero diagonal.
    """
    seqs = as_sequence_list(data)
    wconf = _window_config(window)
    if backend not in ("numba", "torch"):
        raise ValueError(f"backend={backend!r}; expected 'numba' (CPU) or 'torch' (GPU or CPU)")

    def compute() -> dict[str, np.ndarray]:
        if backend == "torch":
            # imported on demand: importing torch costs seconds that CPU users need not pay
            from helpers.dtw.gpu import pairwise_dtw_torch

            D = pairwise_dtw_torch(
                seqs,
                window=window,
                band=band,
                normalize=normalize,
                device=device,
                progress=progress,
            )
        else:
            D = pairwise_dtw(
                seqs,
                window=window,
                band=band,
                normalize=normalize,
                progress=progress,
                n_jobs=n_jobs,
            )
        return {"distances": D}

    if not cache:
        return np.asarray(compute()["distances"], dtype=np.float64)
    if key is not None and (not isinstance(key, str) or not key):
        raise ValueError(
            f"key={key!r}; expected a non-empty string naming the data, or None to fingerprint it"
        )
    config = dtw_key(
        data=key if key is not None else data_fingerprint(seqs),
        data_from="key" if key is not None else "sha256",
        n=len(seqs),
        d=int(seqs[0].shape[1]),
        window=wconf,
        normalize=normalize,
        band=band,
    )
    out = DiskCache(cache_dir).arrays("dtw", config, compute)["distances"]
    if out.shape != (len(seqs), len(seqs)):
        raise RuntimeError(
            f"the cached DTW matrix {DiskCache(cache_dir).path('dtw', config, '.npz')} has shape "
            f"{out.shape} but the data has {len(seqs)} sequences; delete that file"
        )
    return out


# --------------------------------------------------------------------------------------------
# The naive alternative: one common length, then Euclidean
# --------------------------------------------------------------------------------------------
def padded_euclidean(
    data: SequenceData,
    mode: Literal["zero-pad", "resample"] = "zero-pad",
    length: int | None = None,
) -> np.ndarray:
    """Euclidean distances between sequences brought to one common length.

    ``mode="zero-pad"`` appends zero frames (a sequence longer than ``length`` is cut to its first
    ``length`` frames), as a fixed-size model input would; ``"resample"`` stretches every sequence
    linearly to ``length`` frames (:func:`helpers.data.resampling.resample`). ``length`` defaults
    to the longest sequence. The distance is ``sqrt(sum_t ||x_t - y_t||^2)`` over the common
    frames, the same unit as :func:`dataset_dtw`.

    Returns (N, N) float64, symmetric, zero diagonal (computed exactly, pair by pair, with
    :func:`scipy.spatial.distance.pdist`). Values of any size: as for DTW, sequences outside
    :func:`helpers.dtw.core.rescale`'s range are divided by a power of two first (the squares
    would overflow), and ValueError names ``data`` when a distance exceeds float64's range.
    """
    from scipy.spatial.distance import pdist, squareform

    given = as_sequence_list(data)
    if mode not in ("zero-pad", "resample"):
        raise ValueError(f"mode={mode!r}; expected 'zero-pad' or 'resample'")
    if length is None:
        L = max(s.shape[0] for s in given)
    else:
        L = integer_argument(
            "length", length, low=1, expected="a positive int or None (the longest sequence)"
        )
    seqs, e = rescale(given)
    n, d = len(seqs), seqs[0].shape[1]
    flat = np.zeros((n, L, d), dtype=np.float64)
    for i, s in enumerate(seqs):
        if mode == "zero-pad":
            t = min(s.shape[0], L)
            flat[i, :t] = s[:t]
        else:
            flat[i] = resample(np.asarray(s, dtype=np.float64), L)  # interpolate in float64
    if n == 1:
        return np.zeros((1, 1))
    out = squareform(pdist(flat.reshape(n, L * d), metric="euclidean"))
    return unscale(out, e, squared=False, name="data", seqs=given)


# --------------------------------------------------------------------------------------------
# 1-nearest-neighbour classification from a distance matrix
# --------------------------------------------------------------------------------------------
def dense_distances(D, name: str = "D") -> np.ndarray:
    """A square (N, N) matrix of all pairwise distances as a float64 array.

    The common first check of everything that reads a distance matrix (1-NN, graphs, MDS).
    A ``scipy.sparse`` matrix is refused: its absent entries would read as distance 0, which
    makes them every node's nearest neighbours. Pass all N x N distances as a dense array (for a
    graph on a sparse similarity use a kernel, where an absent entry means similarity 0).
    """
    if sp.issparse(D):
        raise TypeError(
            f"{name} is a scipy.sparse matrix ({D.shape[0]} x {D.shape[1]}, {D.nnz} stored "
            "entries); a missing entry would count as distance 0, i.e. as a nearest neighbour. "
            "Pass a dense (N, N) array of all pairwise distances (e.g. D.toarray() if every "
            "pair is stored), or build the graph on a kernel (metric='precomputed_kernel'), "
            "where a missing entry means similarity 0"
        )
    arr = np.asarray(D)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} has dtype {arr.dtype}; expected real-valued distances")
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square (N, N) distance matrix, got shape {arr.shape}")
    return np.asarray(arr, dtype=np.float64)


def _check_distance_matrix(D, labels, train_mask):
    D = dense_distances(D)
    n = D.shape[0]
    if np.isnan(D).any():
        i, j = np.argwhere(np.isnan(D))[0]
        raise ValueError(f"D holds NaN (first at row {i}, column {j}); expected distances")
    y = np.asarray(labels)
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match D, got {y.shape}")
    if train_mask is None:
        if n < 2:
            raise ValueError("leave-one-out 1-NN needs at least 2 sequences")
        return D, y, None
    m = np.asarray(train_mask)
    if m.shape != (n,) or m.dtype != np.bool_:
        raise ValueError(
            f"train_mask must be a boolean array of shape ({n},), got dtype {m.dtype} shape "
            f"{m.shape}; "
            "e.g. ds.split == 'train'"
        )
    if not m.any() or m.all():
        raise ValueError(
            f"train_mask selects {int(m.sum())} of {n} sequences for training; "
            "it needs at least one training and one test sequence"
        )
    return D, y, m


def nearest_neighbor_predict(
    D, labels, train_mask=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1-NN predictions from a distance matrix.

    D : (N, N) distances; labels : (N,); train_mask : (N,) bool or None.
    Without ``train_mask`` every sequence is predicted from its nearest *other* sequence (leave-one-
    out); with it, every test sequence (``~train_mask``) from its nearest training sequence.
    Ties go to the lowest index.

    Returns ``(query, neighbour, predicted)``: indices of the predicted sequences (Q,), of their
    nearest neighbours (Q,), and the predicted labels (Q,).
    """
    D, y, m = _check_distance_matrix(D, labels, train_mask)
    if m is None:
        masked = D.copy()
        np.fill_diagonal(masked, np.inf)  # self is excluded by index, duplicates still count
        query = np.arange(D.shape[0])
        nn = np.argmin(masked, axis=1)
    else:
        query = np.flatnonzero(~m)
        train = np.flatnonzero(m)
        nn = train[np.argmin(D[np.ix_(query, train)], axis=1)]
    return query, nn, y[nn]


def nearest_neighbor_accuracy(D, labels, train_mask=None) -> float:
    """Share of sequences whose nearest neighbour has their label.

    Neighbours as in :func:`nearest_neighbor_predict`. ``train_mask=None``: leave-one-out over
    all N; else test (``~train_mask``) vs train.
    """
    query, _, pred = nearest_neighbor_predict(D, labels, train_mask)
    return float(np.mean(pred == np.asarray(labels)[query]))
