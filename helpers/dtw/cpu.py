"""Windowed dynamic time warping (DTW) for multivariate sequences of different lengths.

Conventions (the same everywhere in this module, in :mod:`helpers.dtw.gpu` and in the tests):

* A sequence is an array shaped ``(T, D)``: ``T`` frames of ``D`` features (a 1-D array is
  read as ``D = 1``). Sequences in one call may have different ``T`` but must share ``D``.
* The frame cost is the **squared** Euclidean distance ``||a_i - b_j||^2``; costs are summed
  along the best warping path (steps ``(1, 0)``, ``(0, 1)``, ``(1, 1)``) in float64, and the
  distance is the **square root** of that sum. With ``normalize=True`` the sum is divided by
  the number of cells on the path first (the shortest of the optimal paths), so the result is
  the root-mean-square frame distance along the alignment.
* ``window`` is a Sakoe-Chiba radius ``r``: an ``int`` counts frames, a ``float`` in
  ``(0, 1]`` is a fraction of the longer length (``r = floor(window * max(n, m))``), and
  ``None`` means unconstrained. For lengths ``n >= m`` cell ``(i, j)`` is allowed when
  ``-r <= i - j <= (n - m) + r`` (mirrored when ``n < m``). This is exactly the band of
  ``dtaidistance.dtw_ndim.distance(a, b, window=r + 1)`` and of
  ``tslearn.metrics.dtw(a, b, global_constraint="sakoe_chiba", sakoe_chiba_radius=r)``.
* ``band="slanted"`` instead centres the band on the straight line from ``(0, 0)`` to
  ``(n-1, m-1)``: for ``n >= m`` row ``i`` allows ``|j - round(i (m-1)/(n-1))| <= r``
  (columns and rows swap roles when ``n < m``). For equal lengths both bands coincide.

Public functions: :func:`dtw_distance`, :func:`dtw_path`, :func:`dtw_cost_matrix`,
:func:`band_mask`, :func:`window_radius` and :func:`pairwise_dtw` (numba on the CPU). The GPU
variant of :func:`pairwise_dtw` is :func:`helpers.dtw.gpu.pairwise_dtw_torch`; both backends
share :mod:`helpers.dtw.core` (input checks, the window and band rules, pair blocking) and do
not import each other. :func:`helpers.geometry.distances.dataset_dtw` chooses between them.

How :func:`pairwise_dtw` is fast (2-core AMD EPYC measurements in ``benchmarks/bench_dtw.py``):

* All pairs form one flat list, ordered so that groups of sequences stay in cache, and cut
  into chunks of equal estimated work; a pool of threads takes the chunks one by one and runs
  them in numba kernels that release the GIL. (No ``prange``: its compilation costs 5-10 s
  per kernel, and a queue balances pairs of uneven size by itself.)
* Frame costs are computed for band cells only, four rows by four columns at a time
  (register blocking: each loaded feature serves four cells), as fast per cell as BLAS for
  large D, with differences rather than ``x.x + y.y - 2 x.y`` (no cancellation).
* The DP runs four rows at once in a skewed sweep, so four independent min/add chains
  overlap in the CPU (the recurrence is latency-bound one row at a time); D = 1 uses a
  single-row loop with the cost fused into the recurrence.
* ``method="gram"`` instead takes the frame inner products from one GEMM per pair of small
  tiles of sequences (each thread runs its own single-threaded BLAS, so no BLAS thread pool
  spins between DP phases); it pays off for large D when the band covers most cells, and
  with ``gram_dtype=np.float32``.
* Sequences are stacked (contiguous frames, float32 kept as float32) one block at a time, so
  memory stays bounded for any N.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Iterator, Literal

import numpy as np
from numba import njit

from helpers.dtw.core import (
    Band,
    Window,
    as_collections,
    as_sequence,
    band_mask,
    blocks,
    check_block_frames,
    fill_bounds,
    integer_argument,
    mask_from_bounds,
    offsets,
    pair_list,
    parse_band,
    parse_window,
    radii,
    radius,
    rescale,
    unscale,
    window_radius,
)
from helpers.runtime.arguments import check_flag

__all__ = [
    "dtw_distance",
    "dtw_path",
    "dtw_cost_matrix",
    "band_mask",
    "pairwise_dtw",
    "window_radius",
    "GRAM_MIN_DIM",
    "GRAM_MIN_BAND",
]

#: With ``method="auto"``, :func:`pairwise_dtw` uses Gram tiles only when D is at least this
#: and the bands cover at least ``GRAM_MIN_BAND`` of the pairs' cost matrices: the Gram method
#: computes every cell of a tile at BLAS speed, the direct kernel only band cells, at a
#: similar speed per cell (measured on a 2-core AMD EPYC: direct 1.4x faster at D = 2048
#: with a band over half the cells, Gram 1.15x faster without a band).
GRAM_MIN_DIM = 512
GRAM_MIN_BAND = 0.85


# --------------------------------------------------------------------------------------------
# Numba kernels (reset_rows, cost_rows4, dp_group and work_buffers are also the building blocks
# of the kNN search in helpers.geometry.knn_search: public names, left out of __all__)
# --------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _dp_row(
    R2: np.ndarray, L2: np.ndarray, ip: int, C4: np.ndarray, p: int, lo: int, hi: int, track: bool
) -> None:
    """One DP row: ``R2[ip]`` holds the row above, the new row goes to ``R2[1 - ip]``.

    Index ``j + 1`` = column ``j``, slot 0 = the column before 0; costs are ``C4[p, j + 3]``.

    ``new[j+1] = cost + min(above[j], above[j+1], new[j])``. With ``track`` the path length
    (``L2``) is carried along and ties in cost go to the shorter path, which makes the length
    symmetric in the two sequences.
    """
    ic = 1 - ip
    R2[ic, lo] = np.inf  # the cell left of the band
    left = np.inf  # new[j], kept in a register: the loop-carried chain is one min and one add
    if not track:
        for j in range(lo, hi + 1):
            # conditional expressions compile to branch-free selects (random data would
            # mispredict if-branches about half the time)
            d = R2[ip, j]
            u = R2[ip, j + 1]
            best = d if d < u else u
            best = best if best < left else left
            left = C4[p, j + 3] + best
            R2[ic, j + 1] = left
    else:
        lleft = 0
        for j in range(lo, hi + 1):
            best = R2[ip, j]
            bl = L2[ip, j]
            c = R2[ip, j + 1]
            lc = L2[ip, j + 1]
            take = c < best or (c == best and lc < bl)
            best = c if take else best
            bl = lc if take else bl
            take = left < best or (left == best and lleft < bl)
            best = left if take else best
            bl = lleft if take else bl
            left = C4[p, j + 3] + best
            lleft = bl + 1
            R2[ic, j + 1] = left
            L2[ic, j + 1] = lleft


@njit(cache=True, nogil=True)
def reset_rows(R2: np.ndarray, L2: np.ndarray, m: int) -> None:
    """Row buffers to 'before row 0': all inf but R[-1, -1] = 0 (the path starts at (0, 0))."""
    for j in range(m + 5):
        R2[0, j] = np.inf
        R2[1, j] = np.inf
        L2[0, j] = 0
        L2[1, j] = 0
    R2[0, 0] = 0.0


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _sqdist_4x4(
    A: np.ndarray,
    i0: int,
    i1: int,
    i2: int,
    i3: int,
    B: np.ndarray,
    j0: int,
    j1: int,
    j2: int,
    j3: int,
):
    """Squared distances between rows ``i0..i3`` of A and ``j0..j3`` of B: a 16-tuple, row-major.

    4 x 4 register blocking: every loaded feature is used four times, so the loop is bound by
    arithmetic rather than loads (measured ~20 billion feature terms per second and core at
    D = 2048, more than BLAS reaches on 64 x 64 tiles). Differences, not
    ``x.x + y.y - 2 x.y``: no cancellation. The sums are in the inputs' dtype: float32 frames
    (layer features) give float32 costs (relative error ~1e-7 sqrt(D), twice the SIMD lanes
    of float64), which the DP then accumulates in float64.
    """
    # fmt: off  (one line per cell of the 4 x 4 block reads better than two)
    a0, a1, a2, a3 = A[i0], A[i1], A[i2], A[i3]
    b0, b1, b2, b3 = B[j0], B[j1], B[j2], B[j3]
    z = A.dtype.type(0)
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = z
    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = z
    for d in range(A.shape[1]):
        x0, x1 = a0[d], a1[d]
        x2, x3 = a2[d], a3[d]
        y0, y1 = b0[d], b1[d]
        y2, y3 = b2[d], b3[d]
        t = x0 - y0
        s00 += t * t  # noqa: E702
        t = x0 - y1
        s01 += t * t  # noqa: E702
        t = x0 - y2
        s02 += t * t  # noqa: E702
        t = x0 - y3
        s03 += t * t  # noqa: E702
        t = x1 - y0
        s10 += t * t  # noqa: E702
        t = x1 - y1
        s11 += t * t  # noqa: E702
        t = x1 - y2
        s12 += t * t  # noqa: E702
        t = x1 - y3
        s13 += t * t  # noqa: E702
        t = x2 - y0
        s20 += t * t  # noqa: E702
        t = x2 - y1
        s21 += t * t  # noqa: E702
        t = x2 - y2
        s22 += t * t  # noqa: E702
        t = x2 - y3
        s23 += t * t  # noqa: E702
        t = x3 - y0
        s30 += t * t  # noqa: E702
        t = x3 - y1
        s31 += t * t  # noqa: E702
        t = x3 - y2
        s32 += t * t  # noqa: E702
        t = x3 - y3
        s33 += t * t  # noqa: E702
    # fmt: on
    return (s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33)


@njit(cache=True, nogil=True)
def _pad_group(C4: np.ndarray, lo: np.ndarray, hi: np.ndarray, i0: int, k: int) -> None:
    """Set to inf the costs of a row group in the union of its bands but outside the row's band.

    These are a few cells per row: bands shift by at most one column per row.
    """
    jl = lo[i0]
    jh = hi[i0 + k - 1]
    for p in range(k):
        for j in range(jl, lo[i0 + p]):
            C4[p, j + 3] = np.inf
        for j in range(hi[i0 + p] + 1, jh + 1):
            C4[p, j + 3] = np.inf


@njit(cache=True, nogil=True)
def cost_rows4(
    A: np.ndarray,
    oa: int,
    n: int,
    B: np.ndarray,
    ob: int,
    i0: int,
    lo: np.ndarray,
    hi: np.ndarray,
    C4: np.ndarray,
) -> None:
    """Frame costs of rows ``i0..i0+3`` (those < n) into ``C4``.

    ``C4[p, j + 3]`` is the cost of cell ``(i0 + p, j)`` for ``j`` in the union of the rows'
    bands, inf outside the row's own band.

    For D > 1 the costs come in 4 x 4 blocks spanning that union; indices past the group's
    last row or column are clamped (their duplicate results are dropped), so no bounds checks
    are needed.
    """
    k = min(4, n - i0)
    jl = lo[i0]
    jh = hi[i0 + k - 1]
    if A.shape[1] == 1:  # a plain, vectorisable loop per row
        for p in range(k):
            x = np.float64(A[oa + i0 + p, 0])
            for j in range(lo[i0 + p], hi[i0 + p] + 1):
                t = x - np.float64(B[ob + j, 0])
                C4[p, j + 3] = t * t
    else:
        last = oa + n - 1
        r0, r1 = oa + i0, min(oa + i0 + 1, last)
        r2, r3 = min(oa + i0 + 2, last), min(oa + i0 + 3, last)
        ce = ob + jh
        for j0 in range(jl, jh + 1, 4):
            c = ob + j0
            s = _sqdist_4x4(A, r0, r1, r2, r3, B, c, min(c + 1, ce), min(c + 2, ce), min(c + 3, ce))
            for q in range(min(4, jh + 1 - j0)):
                C4[0, j0 + q + 3] = s[q]
                C4[1, j0 + q + 3] = s[4 + q]
                C4[2, j0 + q + 3] = s[8 + q]
                C4[3, j0 + q + 3] = s[12 + q]
    _pad_group(C4, lo, hi, i0, k)


@njit(cache=True, nogil=True)
def _gram_rows4(
    G: np.ndarray,
    na: np.ndarray,
    nb: np.ndarray,
    oa: int,
    n: int,
    ob: int,
    i0: int,
    lo: np.ndarray,
    hi: np.ndarray,
    C4: np.ndarray,
) -> None:
    """Like :func:`cost_rows4`, with costs ``na[i] + nb[j] - 2 G[i, j]`` from a Gram tile.

    The costs are clamped at 0: cancellation can leave tiny negatives.
    """
    k = min(4, n - i0)
    for p in range(k):
        i = oa + i0 + p
        x = na[i]
        for j in range(lo[i0 + p], hi[i0 + p] + 1):
            c = x + nb[ob + j] - 2.0 * np.float64(G[i, ob + j])
            C4[p, j + 3] = c if c > 0.0 else 0.0
    _pad_group(C4, lo, hi, i0, k)


@njit(cache=True, nogil=True)
def _dp_rows4(R2: np.ndarray, ip: int, C4: np.ndarray, jl: int, jh: int) -> None:
    """Four DP rows at once over the columns ``jl..jh`` of their bands' union.

    The row above is ``R2[ip]``, the fourth new row goes to ``R2[1 - ip]`` (layout as in
    :func:`_dp_row`).

    Row ``p`` runs one column behind row ``p - 1`` (a skewed sweep): at step ``t`` it computes
    column ``t - p`` from the values row ``p - 1`` produced in the two previous steps, kept in
    registers. The four loop-carried min/add chains are independent, so the CPU overlaps them
    instead of waiting on one (~2.4x faster than four single rows).

    Columns before ``jl`` are inf by construction: every row's chain starts at inf, and
    inf + cost stays inf whatever (finite or inf) stale cost ``C4`` holds there; columns past
    ``jh`` are computed and dropped. ``C4`` must therefore never hold NaN (:func:`work_buffers`
    fills it with inf).
    """
    ic = 1 - ip
    inf = np.inf
    v0 = v1 = v2 = v3 = inf  # each row's value at its previous column
    w0 = w1 = w2 = inf  # and at the column before
    R2[ic, jl] = inf  # column jl - 1 of the fourth row
    for t in range(jl, jh + 4):
        # row 3, column t - 3
        b = w2 if w2 < v2 else v2
        b = b if b < v3 else v3
        n3 = C4[3, t] + b
        # row 2, column t - 2
        b = w1 if w1 < v1 else v1
        b = b if b < v2 else v2
        n2 = C4[2, t + 1] + b
        # row 1, column t - 1
        b = w0 if w0 < v0 else v0
        b = b if b < v1 else v1
        n1 = C4[1, t + 2] + b
        # row 0, column t, from the row above
        d = R2[ip, t]
        u = R2[ip, t + 1]
        b = d if d < u else u
        b = b if b < v0 else v0
        n0 = C4[0, t + 3] + b
        w0, v0 = v0, n0
        w1, v1 = v1, n1
        w2, v2 = v2, n2
        v3 = n3
        if t >= jl + 3:
            R2[ic, t - 2] = n3


@njit(cache=True, nogil=True)
def dp_group(
    R2: np.ndarray,
    L2: np.ndarray,
    ip: int,
    C4: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    i0: int,
    k: int,
    track: bool,
) -> int:
    """DP rows ``i0..i0+k-1`` from costs in ``C4``.

    Returns the index of the buffer row now holding the last of them.
    """
    if k == 4 and not track:
        _dp_rows4(R2, ip, C4, lo[i0], hi[i0 + 3])
        return 1 - ip
    for p in range(k):
        _dp_row(R2, L2, ip, C4, p, lo[i0 + p], hi[i0 + p], track)
        ip = 1 - ip
    return ip


@njit(cache=True, nogil=True)
def _dtw_direct(
    A: np.ndarray,
    oa: int,
    n: int,
    B: np.ndarray,
    ob: int,
    m: int,
    r: int,
    slanted: bool,
    track: bool,
    lo,
    hi,
    R2,
    L2,
    C4,
):
    """Accumulated cost and path length for frames ``A[oa:oa+n]`` vs ``B[ob:ob+m]``.

    ``lo, hi, R2, L2, C4`` are work buffers from :func:`work_buffers`, passed in so that a thread
    reuses them for all its pairs. Rows go in groups of four: costs first, then the DP.
    """
    fill_bounds(n, m, r, slanted, lo, hi)
    reset_rows(R2, L2, m)
    ip = 0
    if A.shape[1] == 1 and not track:
        # D = 1: one row at a time with the cost computed inside the recurrence, where it
        # overlaps with the min/add chain (measured faster than the 4-row sweep here, whose
        # per-cell work grows with the band checks this would need)
        for i in range(n):
            ic = 1 - ip
            lo_i = lo[i]
            x = np.float64(A[oa + i, 0])
            R2[ic, lo_i] = np.inf
            left = np.inf
            for j in range(lo_i, hi[i] + 1):
                c = x - np.float64(B[ob + j, 0])
                d = R2[ip, j]
                u = R2[ip, j + 1]
                best = d if d < u else u
                best = best if best < left else left
                left = c * c + best
                R2[ic, j + 1] = left
            ip = ic
        return R2[ip, m], L2[ip, m]
    for i0 in range(0, n, 4):
        cost_rows4(A, oa, n, B, ob, i0, lo, hi, C4)
        ip = dp_group(R2, L2, ip, C4, lo, hi, i0, min(4, n - i0), track)
    return R2[ip, m], L2[ip, m]


@njit(cache=True, nogil=True)
def _dtw_gram(
    G: np.ndarray,
    na: np.ndarray,
    nb: np.ndarray,
    oa: int,
    n: int,
    ob: int,
    m: int,
    r: int,
    slanted: bool,
    track: bool,
    lo,
    hi,
    R2,
    L2,
    C4,
):
    """Like :func:`_dtw_direct`, with frame costs from a Gram tile ``G`` and squared norms.

    The costs come from rows ``oa:oa+n`` and columns ``ob:ob+m`` of ``G`` and of the squared
    norms ``na``, ``nb``.
    """
    fill_bounds(n, m, r, slanted, lo, hi)
    reset_rows(R2, L2, m)
    ip = 0
    for i0 in range(0, n, 4):
        _gram_rows4(G, na, nb, oa, n, ob, i0, lo, hi, C4)
        ip = dp_group(R2, L2, ip, C4, lo, hi, i0, min(4, n - i0), track)
    return R2[ip, m], L2[ip, m]


@njit(cache=True, nogil=True)
def work_buffers(maxn: int, maxm: int):
    """Work buffers for pairs of at most ``maxn`` x ``maxm`` frames.

    Band bounds (2 x maxn), two DP rows and their path lengths (2, maxm + 5), costs of a row
    group (4, maxm + 7).
    """
    C4 = np.empty((4, maxm + 7))
    C4[:] = np.inf  # never NaN, see _dp_rows4
    return (
        np.empty(maxn, np.int64),
        np.empty(maxn, np.int64),
        np.empty((2, maxm + 5)),
        np.empty((2, maxm + 5), np.int64),
        C4,
    )


@njit(cache=True, nogil=True)
def _pairs_direct(
    A,
    offa,
    lena,
    B,
    offb,
    lenb,
    pa,
    pb,
    start: int,
    stop: int,
    r_int: int,
    frac: float,
    slanted: bool,
    track: bool,
    ga: int,
    gb: int,
    out,
    out_len,
) -> None:
    """DTW for pairs ``(pa[p], pb[p])``, ``start <= p < stop``, of sequences stacked in A and B.

    ``A`` holds them at offsets ``offa`` with lengths ``lena`` (likewise ``B``); results go to
    ``out[ga + a, gb + b]``. Releases the GIL: threads run chunks of pairs side by side.
    """
    lo, hi, R2, L2, C4 = work_buffers(lena.max(), lenb.max())  # reused for every pair
    for p in range(start, stop):
        a = pa[p]
        b = pb[p]
        n = lena[a]
        m = lenb[b]
        r = radius(n, m, r_int, frac)
        cost, ln = _dtw_direct(A, offa[a], n, B, offb[b], m, r, slanted, track, lo, hi, R2, L2, C4)
        out[ga + a, gb + b] = cost
        if track:
            out_len[ga + a, gb + b] = ln


@njit(cache=True, nogil=True)
def _tiles_gram(
    FA,
    nA,
    offa,
    lena,
    FB,
    nB,
    offb,
    lenb,
    ta,
    tb,
    ti,
    tj,
    start: int,
    stop: int,
    diag: bool,
    r_int: int,
    frac: float,
    slanted: bool,
    track: bool,
    ga: int,
    gb: int,
    out,
    out_len,
) -> None:
    """DTW for all pairs of tiles ``(ti[k], tj[k])``, ``start <= k < stop``.

    Each tile pair's frame costs come from one small GEMM.

    ``FA`` (Fa, D) holds the stacked frames of sequences ``0..len(lena)`` with offsets
    ``offa`` and squared norms ``nA`` (likewise ``FB``). Tile ``t`` of A is the sequences
    ``ta[t]:ta[t+1]``. With ``diag`` (A is B) only pairs ``a < b`` are computed. Results go to
    ``out[ga + a, gb + b]``. The caller keeps BLAS single-threaded: every thread runs its own
    GEMMs, so no thread pool waits on another.
    """
    lo, hi, R2, L2, C4 = work_buffers(lena.max(), lenb.max())
    for k in range(start, stop):
        a0, a1 = ta[ti[k]], ta[ti[k] + 1]
        b0, b1 = tb[tj[k]], tb[tj[k] + 1]
        r0, r1 = offa[a0], offa[a1 - 1] + lena[a1 - 1]
        c0, c1 = offb[b0], offb[b1 - 1] + lenb[b1 - 1]
        G = np.dot(FA[r0:r1], FB[c0:c1].T)  # (frames of tile a, frames of tile b)
        na = nA[r0:r1]
        nb = nB[c0:c1]
        for a in range(a0, a1):
            for b in range(max(b0, a + 1) if diag else b0, b1):
                n = lena[a]
                m = lenb[b]
                rad = radius(n, m, r_int, frac)
                cost, ln = _dtw_gram(
                    G,
                    na,
                    nb,
                    offa[a] - r0,
                    n,
                    offb[b] - c0,
                    m,
                    rad,
                    slanted,
                    track,
                    lo,
                    hi,
                    R2,
                    L2,
                    C4,
                )
                out[ga + a, gb + b] = cost
                if track:
                    out_len[ga + a, gb + b] = ln


#: Pairs that :func:`_lockstep_pair` runs side by side, one per SIMD lane (one AVX2 register
#: of float32, two of float64).
LANES = 8

#: Equal lengths use the lockstep kernel up to this D, where the DP is a large share of the
#: work (300 sequences of 50 frames, r = 8, float32, 2-core Xeon: 1.7x faster at D = 1, 3.2x
#: at D = 8, 1.5x at D = 32, 1.2x at D = 48); at D = 75 the 4 x 4 register-blocked costs of
#: :func:`cost_rows4` are as fast or faster.
LOCKSTEP_MAX_DIM = 48


@njit(cache=True, nogil=True)
def _interleave(F: np.ndarray, T: int, n_seq: int) -> np.ndarray:
    """Equal-length sequences stacked in ``F`` as (G, D, T * LANES), G = ceil(n_seq / LANES).

    ``out[g, d, j * LANES + v]`` is feature ``d`` of frame ``j`` of sequence ``g * LANES + l``
    (zero past ``n_seq``): for one feature the band columns of eight sequences are one
    contiguous run, so costs vectorise across pairs and columns with no horizontal sums.
    """
    D = F.shape[1]
    G = (n_seq + LANES - 1) // LANES
    out = np.zeros((G, D, T * LANES), F.dtype)
    for g in range(G):
        for j in range(T):
            for v in range(min(LANES, n_seq - g * LANES)):
                row = (g * LANES + v) * T + j
                for d in range(D):
                    out[g, d, j * LANES + v] = F[row, d]
    return out


@njit(cache=True, nogil=True)
def _lockstep_pair(
    A: np.ndarray,
    oa: int,
    Bt: np.ndarray,
    g: int,
    n: int,
    lo: np.ndarray,
    hi: np.ndarray,
    R: np.ndarray,
    C: np.ndarray,
) -> int:
    """DTW of frames ``A[oa:oa+n]`` against the ``LANES`` sequences of group ``g`` of ``Bt``.

    All have length ``n`` and share the band ``lo, hi``. ``R`` (2, n + 1, LANES) holds two DP
    rows per lane (slot ``j + 1`` = column ``j``), ``C`` (4, (n + 3) * LANES) the costs of a
    row group, in the inputs' dtype. Returns the buffer row holding the last DP row.

    Costs: for each feature, one contiguous sweep over the band columns of all lanes for four
    rows at once (rows past ``n`` are clamped duplicates). DP: the innermost loop runs over
    the lanes, so the eight independent min/add chains share SIMD instructions.
    """
    D = A.shape[1]
    inf = np.inf
    for p in range(2):
        for j in range(n + 1):
            for v in range(LANES):
                R[p, j, v] = inf
    for v in range(LANES):
        R[0, 0, v] = 0.0
    z = A.dtype.type(0)
    ip = 0
    for i0 in range(0, n, 4):
        k = min(4, n - i0)
        jl = lo[i0]
        jh = hi[i0 + k - 1]
        e0 = jl * LANES
        W = (jh - jl + 1) * LANES
        for e in range(W):
            C[0, e] = z
            C[1, e] = z
            C[2, e] = z
            C[3, e] = z
        for p in range(k):
            x = A[oa + i0 + p]
            c = C[p]
            for d in range(D):
                xd = x[d]
                b = Bt[g, d, e0 : e0 + W]
                for e in range(W):
                    t = xd - b[e]
                    c[e] += t * t
        for p in range(k):
            i = i0 + p
            ic = 1 - ip
            for v in range(LANES):
                R[ic, lo[i], v] = inf
            for j in range(lo[i], hi[i] + 1):
                q = (j - jl) * LANES
                for v in range(LANES):
                    dg = R[ip, j, v]
                    up = R[ip, j + 1, v]
                    lf = R[ic, j, v]
                    best = dg if dg < up else up
                    best = best if best < lf else lf
                    R[ic, j + 1, v] = np.float64(C[p, q + v]) + best
            ip = ic
    return ip


@njit(cache=True, nogil=True)
def _pairs_lockstep(
    A,
    oa_all,
    Bt,
    n: int,
    n_b: int,
    ug,
    ua,
    start: int,
    stop: int,
    diag: bool,
    r: int,
    slanted: bool,
    ga: int,
    gb: int,
    out,
) -> None:
    """Units ``(ua[u], ug[u])``, ``start <= u < stop``: sequence ``a`` against lane group ``g``.

    All sequences have length ``n``; B has ``n_b`` of them. With ``diag`` only lanes ``b > a``
    are kept. Results go to ``out[ga + a, gb + b]``.
    """
    lo = np.empty(n, np.int64)
    hi = np.empty(n, np.int64)
    fill_bounds(n, n, r, slanted, lo, hi)
    R = np.empty((2, n + 1, LANES))
    C = np.empty((4, (n + 3) * LANES), A.dtype)
    for u in range(start, stop):
        a = ua[u]
        g = ug[u]
        ip = _lockstep_pair(A, oa_all[a], Bt, g, n, lo, hi, R, C)
        for v in range(LANES):
            b = g * LANES + v
            if b < n_b and (not diag or b > a):
                out[ga + a, gb + b] = R[ip, n, v]


@njit(cache=True, nogil=True)
def _acc_matrix(A: np.ndarray, B: np.ndarray, r: int, slanted: bool):
    """Full (n, m) accumulated-cost matrix (inf outside the band), (n, m) path lengths, band bounds.

    Same costs (same blocks, same rounding) and recurrence as :func:`_dtw_direct`, so its last
    cell equals :func:`dtw_distance` exactly.
    """
    n = A.shape[0]
    m = B.shape[0]
    lo, hi, R2, L2, C4 = work_buffers(n, m)
    fill_bounds(n, m, r, slanted, lo, hi)
    reset_rows(R2, L2, m)
    R = np.full((n, m), np.inf)
    Lm = np.zeros((n, m), np.int64)
    ip = 0
    for i0 in range(0, n, 4):
        cost_rows4(A, 0, n, B, 0, i0, lo, hi, C4)
        for p in range(min(4, n - i0)):
            i = i0 + p
            _dp_row(R2, L2, ip, C4, p, lo[i], hi[i], True)
            ip = 1 - ip
            R[i, lo[i] : hi[i] + 1] = R2[ip, lo[i] + 1 : hi[i] + 2]
            Lm[i, lo[i] : hi[i] + 1] = L2[ip, lo[i] + 1 : hi[i] + 2]
    return R, Lm, lo, hi


@njit(cache=True, nogil=True)
def _backtrack(R: np.ndarray, Lm: np.ndarray) -> np.ndarray:
    """Walk back from (n-1, m-1) along the predecessor with the least (cost, length).

    Exact ties prefer the diagonal, then the step back in ``a``, then in ``b``.
    """
    n, m = R.shape
    i = n - 1
    j = m - 1
    k = Lm[i, j]
    path = np.empty((k, 2), np.int64)
    while True:
        k -= 1
        path[k, 0] = i
        path[k, 1] = j
        if i == 0 and j == 0:
            break
        bi, bj = -1, -1
        best = np.inf
        bl = 1 << 62
        for di, dj in ((1, 1), (1, 0), (0, 1)):
            pi, pj = i - di, j - dj
            if pi < 0 or pj < 0:
                continue
            c = R[pi, pj]
            if c < best or (c == best and Lm[pi, pj] < bl):
                best, bl, bi, bj = c, Lm[pi, pj], pi, pj
        i, j = bi, bj
    return path


# --------------------------------------------------------------------------------------------
# Single pairs
# --------------------------------------------------------------------------------------------
def _finish(cost: float, length: int, normalize: bool) -> float:
    return math.sqrt(cost / length) if normalize else math.sqrt(cost)


def _as_pair(a, b) -> tuple[np.ndarray, np.ndarray, int, list[np.ndarray]]:
    """Validated ``a`` and ``b`` as float64 (T, D), rescaled; the exponent; the inputs.

    See :func:`helpers.dtw.core.rescale`: results on the returned sequences times ``2**e``
    (:func:`helpers.dtw.core.unscale`) are those of the given ones.
    """
    a = as_sequence(a, "a")
    b = as_sequence(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"a has D={a.shape[1]} features but b has D={b.shape[1]}; "
            "both sequences must have the same number of features"
        )
    (sa, sb), e = rescale([a, b])
    return np.ascontiguousarray(sa, np.float64), np.ascontiguousarray(sb, np.float64), e, [a, b]


def dtw_distance(
    a, b, window: Window = None, *, band: Band = "sakoe", normalize: bool = False
) -> float:
    """DTW distance between ``a`` (T_a, D) and ``b`` (T_b, D) (1-D arrays mean D = 1).

    ``sqrt(min over paths of sum ||a_i - b_j||^2)`` within the band of ``window`` (see the
    module docstring); with ``normalize`` the sum is divided by the path length first.
    Values of any size are compared (rescaled by a power of two, :func:`helpers.dtw.core.rescale`);
    ValueError, naming ``a and b``, when the distance itself exceeds float64's range.
    """
    r_int, frac = parse_window(window)
    slanted = parse_band(band)
    normalize = check_flag("normalize", normalize)
    a, b, e, given = _as_pair(a, b)
    n, m = a.shape[0], b.shape[0]
    r = radius(n, m, r_int, frac)
    lo, hi, R2, L2, C4 = work_buffers(n, m)
    cost, length = _dtw_direct(a, 0, n, b, 0, m, r, slanted, normalize, lo, hi, R2, L2, C4)
    return unscale(_finish(cost, length, normalize), e, squared=False, name="a and b", seqs=given)


def dtw_cost_matrix(
    a, b, window: Window = None, *, band: Band = "sakoe"
) -> tuple[np.ndarray, np.ndarray]:
    """Accumulated cost matrix and band mask, for plots.

    Returns ``(acc, mask)``, both shaped (T_a, T_b): ``acc[i, j]`` is the least sum of squared
    frame distances over paths from (0, 0) to (i, j) (``inf`` outside the band), so
    ``sqrt(acc[-1, -1]) == dtw_distance(a, b, window)``; ``mask`` is True inside the band.
    ``acc`` holds squares: ValueError, naming ``a and b`` and the values that work, when they
    leave float64's normal range (``|values|`` beyond ~1e153 or below ~1e-154).
    """
    r_int, frac = parse_window(window)
    slanted = parse_band(band)
    a, b, e, given = _as_pair(a, b)
    r = radius(a.shape[0], b.shape[0], r_int, frac)
    acc, _, lo, hi = _acc_matrix(a, b, r, slanted)
    acc = unscale(acc, e, squared=True, name="a and b", seqs=given)
    return acc, mask_from_bounds(lo, hi, b.shape[0])


def dtw_path(
    a, b, window: Window = None, *, band: Band = "sakoe", normalize: bool = False
) -> tuple[np.ndarray, float]:
    """Optimal alignment of ``a`` (T_a, D) and ``b`` (T_b, D) and its distance.

    Returns ``(path, distance)``: ``path`` is an int array (L, 2) of index pairs ``(i, j)``
    from ``(0, 0)`` to ``(T_a - 1, T_b - 1)``; among equally cheap paths the shortest is
    returned. ``distance`` equals :func:`dtw_distance` with the same arguments.
    """
    r_int, frac = parse_window(window)
    slanted = parse_band(band)
    normalize = check_flag("normalize", normalize)
    a, b, e, given = _as_pair(a, b)
    r = radius(a.shape[0], b.shape[0], r_int, frac)
    acc, lengths, _, _ = _acc_matrix(a, b, r, slanted)
    path = _backtrack(acc, lengths)
    dist = _finish(acc[-1, -1], int(lengths[-1, -1]), normalize)
    return path, unscale(dist, e, squared=False, name="a and b", seqs=given)


# --------------------------------------------------------------------------------------------
# Many pairs
# --------------------------------------------------------------------------------------------
def _n_threads(n_jobs: int | None) -> int:
    """Threads to use: ``None`` or -1 mean all cores available to this process."""
    if n_jobs is not None:
        expected = "a positive int, -1 (all cores) or None"
        integer_argument("n_jobs", n_jobs, expected=expected)
        if n_jobs == 0 or n_jobs < -1:
            raise ValueError(f"n_jobs={n_jobs!r}; expected {expected}")
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores if n_jobs is None or n_jobs == -1 else int(n_jobs)


def _run_tasks(run, bounds: np.ndarray, sizes: np.ndarray, n_threads: int, bar) -> None:
    """Call ``run(start, stop)`` for consecutive ``bounds`` on ``n_threads`` threads.

    The kernels release the GIL. Largest tasks run first; ``bar`` advances by ``sizes``.
    """
    tasks = sorted(range(bounds.size - 1), key=lambda k: -sizes[k])
    if n_threads == 1 or len(tasks) == 1:
        for k in tasks:
            run(bounds[k], bounds[k + 1])
            bar.update(int(sizes[k]))
        return
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        futures = {pool.submit(run, bounds[k], bounds[k + 1]): k for k in tasks}
        try:
            for f in as_completed(futures):
                f.result()
                bar.update(int(sizes[futures[f]]))
        except BaseException:  # e.g. KeyboardInterrupt: do not start the queued tasks
            for f in futures:
                f.cancel()
            raise


def _balanced_chunks(work: np.ndarray, n_chunks: int) -> np.ndarray:
    """Boundaries (k + 1,) cutting ``work`` into at most ``n_chunks`` runs of about equal sum.

    The runs are contiguous: they are the tasks that threads take one by one.
    """
    if work.size == 0:
        return np.zeros(1, np.int64)
    cum = np.cumsum(work, dtype=np.float64)
    targets = cum[-1] * np.arange(1, n_chunks) / n_chunks
    cuts = np.searchsorted(cum, targets, side="right")
    return np.unique(np.concatenate(([0], cuts, [work.size]))).astype(np.int64)


def _work(n: np.ndarray, m: np.ndarray, r_int: int, frac: float, d_cost: float) -> np.ndarray:
    """Rough cost of each pair: band cells times the cost of one cell."""
    r = radii(np.asarray(n, np.int64), np.asarray(m, np.int64), r_int, frac)
    width = np.minimum(np.minimum(n, m), np.abs(n - m) + 2 * r + 1)
    return np.maximum(n, m) * width * d_cost + n + m


def _band_fraction(lena: np.ndarray, lenb: np.ndarray, r_int: int, frac: float) -> float:
    """Estimated share of the pairs' cost-matrix cells inside their bands (on a sample)."""
    rng = np.random.default_rng(0)
    k = 4096
    n = lena[rng.integers(0, lena.size, k)]
    m = lenb[rng.integers(0, lenb.size, k)]
    band = _work(n, m, r_int, frac, 1.0) - n - m
    return float(band.sum() / (n * m).sum())


def _stack(seqs: list[np.ndarray], lo: int, hi: int, dtype) -> np.ndarray:
    """Frames of ``seqs[lo:hi]`` in one C-contiguous (F, D) array."""
    return np.ascontiguousarray(np.concatenate(seqs[lo:hi], axis=0), dtype=dtype)


def _default_block_frames(D: int, itemsize: int) -> int:
    # frames per stacked block: about 256 MB of features
    return int(max(512, (256 << 20) // (itemsize * D)))


def pairwise_dtw(
    X,
    Y=None,
    window: Window = None,
    *,
    band: Band = "sakoe",
    normalize: bool = False,
    method: Literal["auto", "direct", "gram"] = "auto",
    gram_dtype=np.float64,
    block_frames: int | None = None,
    n_jobs: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """DTW distances between all sequences of ``X`` (and ``Y``), as a float64 matrix.

    Parameters
    ----------
    X, Y : collections of sequences, each (T_i, D) or (T_i,); lengths may differ. An array
        (N, T) is read as N univariate sequences, (N, T, D) as N sequences.
    window, band, normalize : as in :func:`dtw_distance`.
    method : ``"direct"`` computes band cells only, as differences of frames (exact to
        rounding); ``"gram"`` looks frame costs up in Gram tiles from BLAS, computing whole
        tiles (absolute error ~1e-15 * ||x||^2 per cell, so near-identical sequences come out
        ~1e-7 * ||x|| apart instead of 0); ``"auto"`` picks gram only for
        ``D >= GRAM_MIN_DIM`` with bands covering ``GRAM_MIN_BAND`` of the cells.
    gram_dtype : dtype of the Gram tiles; ``np.float32`` is ~1.8x faster at ~1e-6 relative
        error. Costs are always accumulated in float64.
    block_frames : frames stacked into one contiguous array at once (default: about 256 MB);
        bounds the memory used besides the inputs and the (N, M) result.
    n_jobs : threads (None or -1: all cores of this process).
    progress : show a tqdm progress bar.

    Returns
    -------
    (N, M) float64 array; with ``Y=None`` it is (N, N), symmetric, with a zero diagonal.

    Values of any size are compared: outside ``2**-SCALE_EXPONENT .. 2**SCALE_EXPONENT`` the
    sequences are divided by a power of two first (:func:`helpers.dtw.core.rescale`, exact),
    so no frame cost overflows, float32 ones included. ValueError, naming ``X`` (or
    ``X and Y``), when a distance itself exceeds float64's range.
    """
    r_int, frac = parse_window(window)
    slanted = parse_band(band)
    normalize = check_flag("normalize", normalize)
    if method not in ("auto", "direct", "gram"):
        raise ValueError(f"method={method!r}; expected 'auto', 'direct' or 'gram'")
    xs, ys = as_collections(X, Y)
    symmetric = ys is None
    given = xs if symmetric else xs + ys
    scaled, e = rescale(given)
    xs = scaled[: len(xs)]
    ys = xs if symmetric else scaled[len(xs) :]
    check_block_frames(block_frames)
    n_threads = _n_threads(n_jobs)
    try:
        gdt = np.dtype(gram_dtype)
    except TypeError:
        gdt = None
    if gdt not in (np.float32, np.float64):
        raise ValueError(f"gram_dtype={gram_dtype!r}; expected float32 or float64")

    D = xs[0].shape[1]
    lena = np.array([s.shape[0] for s in xs], np.int64)
    lenb = np.array([s.shape[0] for s in ys], np.int64)
    use_gram = method == "gram" or (
        method == "auto"
        and D >= GRAM_MIN_DIM
        and _band_fraction(lena, lenb, r_int, frac) >= GRAM_MIN_BAND
    )
    out = np.zeros((lena.size, lenb.size))
    length = np.ones((lena.size, lenb.size), np.int64) if normalize else None
    _run_numba(
        xs,
        ys,
        lena,
        lenb,
        symmetric,
        r_int,
        frac,
        slanted,
        normalize,
        use_gram,
        gdt,
        block_frames,
        n_threads,
        progress,
        out,
        length,
    )
    if normalize:
        out /= length
    np.sqrt(out, out=out)
    if symmetric:
        iu = np.triu_indices(lena.size, 1)
        out[(iu[1], iu[0])] = out[iu]
        np.fill_diagonal(out, 0.0)
    return unscale(out, e, squared=False, name="X" if symmetric else "X and Y", seqs=given)


def _progress_bar(total: int, progress: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not progress, desc=desc, unit="pairs", smoothing=0.1)


def _tile_bounds(lengths: np.ndarray, tile_frames: int) -> np.ndarray:
    """Boundaries (k + 1,) of tiles of consecutive sequences with at most ``tile_frames`` frames.

    A longer sequence gets a tile of its own.
    """
    return np.array([s for s, _ in blocks(lengths, tile_frames)] + [lengths.size], np.int64)


#: Largest tile (frames) whose Gram a thread computes at once (``method="gram"``): big enough
#: for an efficient GEMM, small enough that a tile's frames and Gram stay mostly in cache.
TILE_FRAMES = 384


def _run_numba(
    xs,
    ys,
    lena,
    lenb,
    symmetric,
    r_int,
    frac,
    slanted,
    track,
    use_gram,
    gram_dtype,
    block_frames,
    n_threads,
    progress,
    out,
    length,
) -> None:
    """Fill ``out`` (and ``length``) with accumulated costs, block pair by block pair."""
    D = xs[0].shape[1]
    if use_gram:
        dtype = gram_dtype
    else:  # float32 stays float32: half the memory, float32 frame costs (summed in float64)
        all32 = all(x.dtype == np.float32 for x in xs) and all(y.dtype == np.float32 for y in ys)
        dtype = np.dtype(np.float32 if all32 else np.float64)
    # Sequences are stacked (contiguous frames) one block at a time, so memory stays bounded
    # whatever N; within a pair of blocks, threads share the work.
    bf = block_frames or _default_block_frames(D, dtype.itemsize)
    blocks_a = blocks(lena, bf)
    blocks_b = blocks_a if symmetric else blocks(lenb, bf)
    jobs = [
        (bi, bj)
        for bi in range(len(blocks_a))
        for bj in range(len(blocks_b))
        if not symmetric or bj >= bi
    ]
    n_pairs = lena.size * (lena.size - 1) // 2 if symmetric else lena.size * lenb.size
    out_len = length if track else np.zeros((1, 1), np.int64)

    def stack(seqs, lo, hi):
        F = _stack(seqs, lo, hi, dtype)
        # squared norms (Gram method only), accumulated in float64 whatever the dtype
        return F, (np.einsum("ij,ij->i", F, F, dtype=np.float64) if use_gram else None)

    desc = "DTW pairs (Gram)" if use_gram else "DTW pairs"
    cached = None
    with _blas_single_thread(use_gram), _progress_bar(n_pairs, progress, desc) as bar:
        for bi, bj in jobs:
            (a0, a1), (b0, b1) = blocks_a[bi], blocks_b[bj]
            if cached is None or cached[0] != bi:  # jobs run row block by row block
                cached = (bi, *stack(xs, a0, a1))
            _, FA, nA = cached
            diag = symmetric and bi == bj
            FB, nB = (FA, nA) if diag else stack(ys, b0, b1)
            la, lb = lena[a0:a1], lenb[b0:b1]
            offa, offb = offsets(la), offsets(lb)
            if use_gram:
                _gram_block_pair(
                    FA,
                    nA,
                    offa,
                    la,
                    FB,
                    nB,
                    offb,
                    lb,
                    diag,
                    r_int,
                    frac,
                    slanted,
                    track,
                    a0,
                    b0,
                    out,
                    out_len,
                    n_threads,
                    bar,
                )
                continue
            if D <= LOCKSTEP_MAX_DIM and not track and la.min() == la.max() == lb.min() == lb.max():
                _lockstep_block_pair(
                    FA, offa, la, FB, lb, diag, r_int, frac, slanted, a0, b0, out, n_threads, bar
                )
                continue
            # one flat list of pairs, cut into chunks of equal estimated work
            pa, pb = _cache_ordered_pairs(la, lb, diag, D * FA.itemsize)
            work = _work(la[pa], lb[pb], r_int, frac, D + 8.0)
            bounds = _balanced_chunks(work, 16 * n_threads)

            def run(
                s, e, FA=FA, FB=FB, offa=offa, offb=offb, la=la, lb=lb, pa=pa, pb=pb, a0=a0, b0=b0
            ):
                _pairs_direct(
                    FA,
                    offa,
                    la,
                    FB,
                    offb,
                    lb,
                    pa,
                    pb,
                    s,
                    e,
                    r_int,
                    frac,
                    slanted,
                    track,
                    a0,
                    b0,
                    out,
                    out_len,
                )

            _run_tasks(run, bounds, np.diff(bounds), n_threads, bar)


def _lockstep_block_pair(
    FA, offa, la, FB, lb, diag, r_int, frac, slanted, a0, b0, out, n_threads, bar
) -> None:
    """Equal lengths (all of A and B): each sequence of A against lane groups of B.

    B is copied once into the interleaved layout of :func:`_interleave` (as much memory again
    as its stacked frames); units (a, group) run group-major, so a group's frames stay in
    cache while the sequences of A stream past.
    """
    T = int(la[0])
    r = int(radius(T, T, r_int, frac))
    Bt = _interleave(FB, T, lb.size)
    G = Bt.shape[0]
    first = np.arange(G) * LANES  # first sequence of each group
    ends = np.minimum(first + LANES, lb.size)
    # with diag only a < b: group g pairs with a < its last sequence
    count = ends - 1 if diag else np.full(G, la.size)
    ug = np.repeat(np.arange(G), count)
    ua = np.concatenate([np.arange(c) for c in count]) if G else np.zeros(0, np.int64)
    lanes = ends[ug] - (np.maximum(first[ug], ua + 1) if diag else first[ug])
    bounds = _balanced_chunks(np.ones(ug.size), 16 * n_threads)
    sizes = np.add.reduceat(lanes, bounds[:-1]) if ug.size else np.zeros(0)

    def run(s, e):
        _pairs_lockstep(FA, offa, Bt, T, lb.size, ug, ua, s, e, diag, r, slanted, a0, b0, out)

    _run_tasks(run, bounds, sizes, n_threads, bar)


#: Bytes of frames per group of sequences when ordering pairs for cache reuse (a pair of
#: groups per thread should fit in the shared L3 cache).
CACHE_GROUP_BYTES = 4 << 20


def _cache_ordered_pairs(
    la: np.ndarray, lb: np.ndarray, diag: bool, frame_bytes: int
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (with a < b when ``diag``), ordered group pair by group pair.

    With large frames one sequence pair reads megabytes; in a-major order every pair would
    bring its ``b`` from memory, while in groups of a few MB each sequence is read once per
    group pair and then found in cache.
    """
    per = max(1, CACHE_GROUP_BYTES // frame_bytes)
    ga = _tile_bounds(la, per)
    gb = ga if diag else _tile_bounds(lb, per)
    pas, pbs = [], []
    for gi in range(ga.size - 1):
        for gj in range(gi if diag else 0, gb.size - 1):
            pa, pb = pair_list(
                la.size, lb.size, diag and gi == gj, ga[gi], ga[gi + 1], gb[gj], gb[gj + 1]
            )
            pas.append(pa)
            pbs.append(pb)
    return np.concatenate(pas), np.concatenate(pbs)


def _gram_block_pair(
    FA,
    nA,
    offa,
    la,
    FB,
    nB,
    offb,
    lb,
    diag,
    r_int,
    frac,
    slanted,
    track,
    a0,
    b0,
    out,
    out_len,
    n_threads,
    bar,
) -> None:
    """The Gram method on one pair of stacked blocks: tasks are pairs of small tiles."""
    D = FA.shape[1]
    # tiles small enough that every thread gets many tasks
    per_dim = math.ceil(math.sqrt(32 * n_threads))
    tf = min(TILE_FRAMES, max(32, math.ceil(max(FA.shape[0], FB.shape[0]) / per_dim)))
    ta = _tile_bounds(la, tf)
    tb = ta if diag else _tile_bounds(lb, tf)
    ti, tj = pair_list(ta.size - 1, tb.size - 1, False)
    if diag:
        keep = tj >= ti
        ti, tj = ti[keep], tj[keep]
    fa = np.add.reduceat(la, ta[:-1])[ti].astype(np.float64)
    fb = np.add.reduceat(lb, tb[:-1])[tj].astype(np.float64)
    work = fa * fb * (D / 32.0 + 2.0)  # GEMM and DP, in rough ns
    ca, cb = np.diff(ta)[ti], np.diff(tb)[tj]
    pairs = np.where(diag & (ti == tj), ca * (ca - 1) // 2, ca * cb)
    bounds = _balanced_chunks(work, 32 * n_threads)

    def run(s, e):
        _tiles_gram(
            FA,
            nA,
            offa,
            la,
            FB,
            nB,
            offb,
            lb,
            ta,
            tb,
            ti,
            tj,
            s,
            e,
            diag,
            r_int,
            frac,
            slanted,
            track,
            a0,
            b0,
            out,
            out_len,
        )

    sizes = np.add.reduceat(pairs, bounds[:-1]) if pairs.size else np.zeros(0)
    _run_tasks(run, bounds, sizes, n_threads, bar)


@contextmanager
def _blas_single_thread(active: bool = True) -> Iterator[None]:
    """One BLAS thread per worker thread (threadpoolctl).

    Without threadpoolctl BLAS keeps its default, which is correct but oversubscribes the cores.
    """
    if not active:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
