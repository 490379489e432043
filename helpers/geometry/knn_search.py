"""k nearest neighbours under windowed DTW without computing all pairs (exact mode).

For every sequence, the k others closest to it under the DTW of :mod:`helpers.dtw.cpu` (squared
Euclidean frame costs, the same window and band conventions), found with a cascade of lower
bounds in the manner of the UCR suite (Rakthanmanon et al. 2012), cheapest first:

1. **endpoints**: every warping path holds the first cell ``(0, 0)`` and the last
   ``(n-1, m-1)``, so ``||a_0 - b_0||^2 + ||a_{n-1} - b_{m-1}||^2`` (one term when both
   sequences have a single frame) bounds the accumulated cost from below; it costs O(D);
   with the projection of step 3, O(projection_dims);
2. **envelope** (LB_MV, a multivariate LB_Keogh): every row ``i`` of ``a`` is matched to at
   least one column inside its band ``[lo_i, hi_i]`` of ``b``, and for each feature the best
   such column is no closer than the band's per-feature range ``[min, max]`` of ``b``; summing
   the distance of ``a_i`` to that box over rows bounds the cost; O((n + m) D) with running
   minima and maxima (the band's bounds never decrease);
3. **projected DTW**: the DTW of the two sequences' frames projected on a few principal
   directions of all frames (``projection_dims``, 8 by default). An orthonormal projection can
   only shrink every frame cost, hence every path cost, so this is a lower bound, at a fraction
   ``projection_dims / D`` of the full cost; it is computed with early abandoning, as below;
4. **early-abandoning DTW**: the rows of the dynamic programme are computed in order and the
   pair is dropped as soon as a whole row exceeds the current k-th best cost (the path crosses
   every row, and costs only grow along it).

Candidates of each query are visited in increasing order of the endpoint bound (on projected
frames when there are some), so the search stops as soon as that bound alone exceeds the k-th
best. Bounds must pass the k-th best by a rounding margin before they rule a pair out. Ties
are resolved by index: the result is what sorting all distances by ``(distance, index)``
gives, to floating-point rounding (the kernels here sum frame costs in plain order;
:func:`helpers.dtw.cpu.pairwise_dtw` blocks them).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numba import njit
from tqdm.auto import tqdm

from helpers.dtw.core import (
    Band,
    Window,
    as_collection,
    fill_bounds,
    integer_argument,
    offsets,
    parse_band,
    parse_window,
    radius,
    rescale,
    unscale,
)
from helpers.dtw.cpu import cost_rows4, dp_group, reset_rows, work_buffers
from helpers.dtw.distributed import cluster_client, run_blocks
from helpers.geometry.neighbours import NeighbourSets
from helpers.runtime.arguments import ArgumentTypeError, check_flag

__all__ = [
    "ENVELOPE_MIN_WIDTH",
    "KnnStats",
    "embedding_candidates",
    "knn_dtw",
    "lb_endpoints",
    "lb_envelope",
    "lower_bounds",
    "neighbour_sets",
    "recall_at_k",
    "segment_embedding",
]

#: Relative margins by which a lower bound must pass the k-th best cost to rule a pair out:
#: for float64 frames, and for float32 frames (float32 frame costs, ~1e-7 sqrt(D) relative).
MARGIN_FLOAT64 = 1e-9
MARGIN_FLOAT32 = 1e-5

#: With ``envelope=None``, :func:`knn_dtw` tries the envelope bound on a pair only when its band
#: is at least this many cells wide per row on average.
ENVELOPE_MIN_WIDTH = 24


# --------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------
# Reassociation (and fused multiply-adds) let LLVM vectorise this sum of squares: 3.5x (D =
# 93) to 6.8x (D = 1984, float32 frames) faster per cell. Only the order of the additions
# changes; no flag about infinities or NaN is given, and the DP's min logic is not in here.
@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _sq(a: np.ndarray, i: int, b: np.ndarray, j: int) -> float:
    s = 0.0
    for d in range(a.shape[1]):
        c = np.float64(a[i, d]) - np.float64(b[j, d])
        s += c * c
    return s


@njit(cache=True, nogil=True)
def _above(cost: float, margin: float) -> float:
    """A threshold a bound must pass to rule a pair out: ``cost`` plus a rounding margin.

    Bounds from projected frames equal the full cost in exact arithmetic when the data lie in
    the projection's span; rounding must not make them pass it. ``margin`` is relative:
    :data:`MARGIN_FLOAT64`, or :data:`MARGIN_FLOAT32` for float32 frames, whose costs are
    summed in float32 (as :func:`helpers.dtw.cpu.pairwise_dtw` does).
    """
    return cost + margin * cost + 1e-12


@njit(cache=True, nogil=True)
def _lb_endpoints(a: np.ndarray, b: np.ndarray) -> float:
    n, m = a.shape[0], b.shape[0]
    first = _sq(a, 0, b, 0)
    if n == 1 and m == 1:
        return first
    return first + _sq(a, n - 1, b, m - 1)


@njit(cache=True, nogil=True)
def _lb_envelope(
    a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, dq: np.ndarray
) -> float:
    """Sum over rows of the squared distance of a_i to the band's per-feature box of b."""
    n, dims = a.shape[0], a.shape[1]
    total = 0.0
    for d in range(dims):
        # running max (deque 0) and min (deque 1) over the sliding column window [lo_i, hi_i]
        h0 = t0 = h1 = t1 = 0
        nxt = 0
        for i in range(n):
            while nxt <= hi[i]:
                v = b[nxt, d]
                while t0 > h0 and b[dq[0, t0 - 1], d] <= v:
                    t0 -= 1
                dq[0, t0] = nxt
                t0 += 1
                while t1 > h1 and b[dq[1, t1 - 1], d] >= v:
                    t1 -= 1
                dq[1, t1] = nxt
                t1 += 1
                nxt += 1
            while dq[0, h0] < lo[i]:
                h0 += 1
            while dq[1, h1] < lo[i]:
                h1 += 1
            x = np.float64(a[i, d])
            up = np.float64(b[dq[0, h0], d])
            down = np.float64(b[dq[1, h1], d])
            if x > up:
                total += (x - up) * (x - up)
            elif x < down:
                total += (down - x) * (down - x)
    return total


@njit(cache=True, nogil=True)
def _dtw_abandon(
    a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, limit: float, R: np.ndarray
) -> float:
    """Banded DTW cost, or inf as soon as a whole row exceeds ``limit``.

    Only band cells are touched: the band's bounds never decrease, so a row reads cells of the
    previous one that it wrote, or that are still infinite, plus its own left neighbour of the
    band, which is set to infinity first (as in :mod:`helpers.dtw.cpu`).
    """
    n, m = a.shape[0], b.shape[0]
    for j in range(m + 1):
        R[0, j] = np.inf
        R[1, j] = np.inf
    prev, cur = 0, 1
    R[prev, 0] = 0.0  # the virtual cell before (0, 0)
    for i in range(n):
        lo_i, hi_i = lo[i], hi[i]
        R[cur, lo_i] = np.inf
        best_row = np.inf
        left = np.inf
        for j in range(lo_i, hi_i + 1):
            d = R[prev, j]
            u = R[prev, j + 1]
            s = d if d < u else u
            s = s if s < left else left
            left = _sq(a, i, b, j) + s
            R[cur, j + 1] = left
            if left < best_row:
                best_row = left
        if best_row > limit:
            return np.inf
        prev, cur = cur, prev
    return R[prev, m]


@njit(cache=True, nogil=True)
def _dtw_full(
    flat: np.ndarray,
    oa: int,
    n: int,
    ob: int,
    m: int,
    lo: np.ndarray,
    hi: np.ndarray,
    limit: float,
    R2: np.ndarray,
    L2: np.ndarray,
    C4: np.ndarray,
) -> float:
    """Banded DTW cost of frames ``flat[oa:oa+n]`` and ``flat[ob:ob+m]``, or inf past ``limit``.

    The kernels of :func:`helpers.dtw.cpu.pairwise_dtw` (frame costs in 4 x 4 register blocks,
    four DP rows at once), so costs are computed as there; after every group of four rows the
    pair is dropped if the group's last row exceeds ``limit`` everywhere. ``lo, hi`` are the
    band (filled); ``R2, L2, C4`` work buffers from :func:`helpers.dtw.cpu.work_buffers`.
    """
    reset_rows(R2, L2, m)
    ip = 0
    for i0 in range(0, n, 4):
        rows = min(4, n - i0)
        cost_rows4(flat, oa, n, flat, ob, i0, lo, hi, C4)
        ip = dp_group(R2, L2, ip, C4, lo, hi, i0, rows, False)
        last = i0 + rows - 1
        best = np.inf
        for j in range(lo[last], hi[last] + 1):
            v = R2[ip, j + 1]
            best = v if v < best else best
        if best > limit:
            return np.inf
    return R2[ip, m]


@njit(cache=True, nogil=True)
def _query(
    q: int,
    order: np.ndarray,
    lb_end: np.ndarray,
    flat: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    k: int,
    r_int: int,
    frac: float,
    slanted: bool,
    envelope_width: float,
    proj: np.ndarray,
    margin: float,
    out_idx: np.ndarray,
    out_cost: np.ndarray,
    counts: np.ndarray,
):
    """The k best (cost, index) of query ``q`` over candidates in ``order`` (self excluded).

    ``proj`` holds every frame projected on a few orthonormal directions (empty: no projected
    stage); the DTW of two projected sequences bounds the full one from below.
    """
    n = lengths[q]
    a = flat[starts[q] : starts[q] + n]
    use_proj = proj.shape[0] == flat.shape[0]
    ap = proj[starts[q] : starts[q] + n] if use_proj else proj
    maxm = lengths.max()
    lo = np.empty(n, np.int64)
    hi = np.empty(n, np.int64)
    R = np.empty((2, maxm + 1))
    _, _, R2, L2, C4 = work_buffers(1, maxm)
    dq = np.empty((2, maxm + 1), np.int64)
    filled = 0
    for t in range(k):
        out_cost[t] = np.inf
        out_idx[t] = -1
    for c in order:
        if c == q:
            continue
        kth_cost = out_cost[k - 1]
        kth_idx = out_idx[k - 1]
        # strict comparisons keep ties: an equal cost with a smaller index still gets in
        if filled == k and lb_end[c] > _above(kth_cost, margin):
            break  # every later candidate has a larger endpoint bound
        m = lengths[c]
        b = flat[starts[c] : starts[c] + m]
        r = radius(n, m, r_int, frac)
        fill_bounds(n, m, r, slanted, lo, hi)
        # the envelope costs O((n + m) D), a banded DTW O(n w D): worth it for wide bands only
        if filled == k and (hi[n - 1] - lo[0] + n) >= envelope_width * n:
            if _lb_envelope(a, b, lo, hi, dq) > kth_cost:
                counts[1] += 1
                continue
        if filled == k and use_proj:
            bp = proj[starts[c] : starts[c] + m]
            if _dtw_abandon(ap, bp, lo, hi, _above(kth_cost, margin), R) > _above(kth_cost, margin):
                counts[0] += 1
                continue
        limit = kth_cost if filled == k else np.inf
        cost = _dtw_full(flat, starts[q], n, starts[c], m, lo, hi, limit, R2, L2, C4)
        counts[2] += 1
        if filled == k and (cost > kth_cost or (cost == kth_cost and c > kth_idx)):
            continue
        # insert (cost, c) into the sorted list
        t = filled if filled < k else k - 1
        while t > 0 and (
            out_cost[t - 1] > cost or (out_cost[t - 1] == cost and out_idx[t - 1] > c)
        ):
            out_cost[t] = out_cost[t - 1]
            out_idx[t] = out_idx[t - 1]
            t -= 1
        out_cost[t] = cost
        out_idx[t] = c
        if filled < k:
            filled += 1


@njit(cache=True, nogil=True)
def _endpoint_bounds(frames, starts, lengths, q, row, lb):
    """``lb[c]`` = the endpoint bound of query ``q`` against each ``c`` in ``row``."""
    a = frames[starts[q] : starts[q] + lengths[q]]
    for c in row:
        lb[c] = _lb_endpoints(a, frames[starts[c] : starts[c] + lengths[c]])


@njit(cache=True, nogil=True)
def _queries(
    q0: int,
    q1: int,
    candidates: np.ndarray,
    flat: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    k: int,
    r_int: int,
    frac: float,
    slanted: bool,
    envelope_width: float,
    proj: np.ndarray,
    margin: float,
    idx: np.ndarray,
    cost: np.ndarray,
    counts: np.ndarray,
):
    """Queries ``q0 .. q1 - 1``: endpoint bounds, their stable order, then :func:`_query`.

    ``candidates`` is (0, 0) for all sequences, or (q1 - q0, C) candidate indices per query
    (approximate mode). Results go to rows ``q - q0`` of ``idx`` and ``cost``. The endpoint
    bounds use the projected frames when there are some (cheaper, still valid).
    """
    n_seq = lengths.shape[0]
    lb = np.empty(n_seq)
    use_proj = proj.shape[0] == flat.shape[0]
    everyone = candidates.shape[0] == 0
    row = np.arange(n_seq) if everyone else candidates[0]
    for q in range(q0, q1):
        if not everyone:
            row = np.sort(candidates[q - q0])  # index order first, for the same tie rule
        # two calls rather than one array chosen at run time: proj (float64) and flat (float32
        # or float64) need not have the same type
        if use_proj:
            _endpoint_bounds(proj, starts, lengths, q, row, lb)
        else:
            _endpoint_bounds(flat, starts, lengths, q, row, lb)
        order = row[np.argsort(lb[row], kind="mergesort")]  # stable: ties keep index order
        _query(
            q,
            order,
            lb,
            flat,
            starts,
            lengths,
            k,
            r_int,
            frac,
            slanted,
            envelope_width,
            proj,
            margin,
            idx[q - q0],
            cost[q - q0],
            counts,
        )


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------
@dataclass
class KnnStats:
    """How much of the all-pairs work the lower bounds saved.

    ``pairs``: candidate pairs (N * (N - 1)); ``stopped``: pairs ruled out before their full
    DTW by the sorted endpoint bound or by the DTW of projected frames; ``envelope``: pairs
    dropped by the envelope bound; ``dtw``: pairs whose full DTW was run (early abandoning
    included).
    """

    pairs: int
    stopped: int
    envelope: int
    dtw: int

    @property
    def pruned(self) -> float:
        """Share of candidate pairs whose DTW never ran."""
        return 1.0 - self.dtw / self.pairs if self.pairs else 0.0


def lb_endpoints(a, b) -> float:
    """The endpoint lower bound (squared): ``||a_0 - b_0||^2 + ||a_-1 - b_-1||^2``.

    A squared cost: ValueError, naming ``a and b``, when it leaves float64's normal range
    (see :func:`helpers.dtw.core.unscale`).
    """
    given = as_collection([a, b], "(a, b)")
    (a, b), e = rescale(given)
    cost = float(_lb_endpoints(*_float64(a, b)))
    return unscale(cost, e, squared=True, name="a and b", seqs=given)


def lb_envelope(a, b, window: Window = None, *, band: Band = "sakoe") -> float:
    """The envelope lower bound (squared) of the DTW cost of ``a`` against ``b``'s band.

    A squared cost, as :func:`lb_endpoints`.
    """
    r_int, frac = parse_window(window)
    slanted = parse_band(band)
    given = as_collection([a, b], "(a, b)")
    (a, b), e = rescale(given)
    cost = _envelope_cost(*_float64(a, b), r_int, frac, slanted)
    return unscale(cost, e, squared=True, name="a and b", seqs=given)


def _envelope_cost(a: np.ndarray, b: np.ndarray, r_int: int, frac: float, slanted: bool) -> float:
    """The envelope bound of float64 (T, D) ``a`` against ``b`` for a parsed window and band."""
    n, m = len(a), len(b)
    lo, hi = np.empty(n, np.int64), np.empty(n, np.int64)
    fill_bounds(n, m, radius(n, m, r_int, frac), slanted, lo, hi)
    return float(_lb_envelope(a, b, lo, hi, np.empty((2, m + 1), np.int64)))


def _float64(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(a, np.float64), np.ascontiguousarray(b, np.float64)


def _stacked(seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All frames (F, D) (see :func:`_frames`), the (N,) lengths and the (N,) start offsets."""
    lengths = np.array([len(q) for q in seqs], np.int64)
    return _frames(seqs), lengths, offsets(lengths)


def _frames(seqs: list[np.ndarray]) -> np.ndarray:
    """All frames (F, D), contiguous; float32 when every sequence is, else float64.

    float32 halves the memory and the bandwidth; costs are still summed in float64.
    """
    dtype = np.float32 if all(s.dtype == np.float32 for s in seqs) else np.float64
    return np.ascontiguousarray(np.concatenate(seqs), dtype)


def _check_dims(dims, name: str) -> None:
    if dims is not None:
        integer_argument(name, dims, low=1, expected="a positive int or None")


def _principal_basis(flat: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean frame (D,) and ``dims`` leading principal directions (D, dims) of the frames.

    From a fixed sample of at most 2e7 values (20,000 frames at D <= 1000). Up to D = 256 an
    eigendecomposition of the covariance; beyond, a randomised range finder with two power
    iterations (Halko, Martinsson and Tropp 2011), O(frames D dims) rather than O(frames D^2)
    and O(D^3). Any orthonormal directions give valid bounds; these give tight ones.
    """
    F, D = flat.shape
    step = max(1, F // max(1000, min(20000, int(2e7 // D))))
    sample = flat[::step].astype(np.float64)
    centre = sample.mean(axis=0)
    sample -= centre
    if D <= 256:
        _, vectors = np.linalg.eigh(sample.T @ sample)
        return centre, np.ascontiguousarray(vectors[:, ::-1][:, :dims])
    rng = np.random.default_rng(0)
    Y = sample @ rng.standard_normal((D, dims + 8))
    for _ in range(2):
        Y, _ = np.linalg.qr(sample @ (sample.T @ np.linalg.qr(Y)[0]))
    Q, _ = np.linalg.qr(Y)
    _, _, vt = np.linalg.svd(Q.T @ sample, full_matrices=False)
    return centre, np.ascontiguousarray(vt[:dims].T)


def _projection(flat: np.ndarray, dims: int | None) -> np.ndarray:
    """Frames (F, D) projected on their ``dims`` principal directions, or (0, 0) for none.

    None, or ``dims >= D``, means no projection.
    """
    _check_dims(dims, "projection_dims")
    if dims is None or dims >= flat.shape[1]:
        return np.zeros((0, 0))
    centre, basis = _principal_basis(flat, int(dims))
    # centring moves both frames of a pair alike, so differences and costs are unchanged;
    # float64 throughout (a bound rounded up past the true cost would prune wrongly), in
    # chunks of frames so that float32 frames are never copied whole to float64
    out = np.empty((flat.shape[0], basis.shape[1]))
    for a in range(0, flat.shape[0], 1 << 16):
        out[a : a + (1 << 16)] = (flat[a : a + (1 << 16)].astype(np.float64) - centre) @ basis
    return out


@dataclass(frozen=True)
class _Problem:
    """Everything a block of queries needs (sent once to each worker in distributed runs)."""

    flat: np.ndarray  # (F, D) all frames: float32 when every input is, else float64
    starts: np.ndarray  # (N,) first frame of each sequence
    lengths: np.ndarray  # (N,)
    proj: np.ndarray  # (F, projection_dims) or (0, 0)
    k: int
    r_int: int
    frac: float
    slanted: bool
    width: float
    margin: float  # MARGIN_FLOAT32 or MARGIN_FLOAT64, by the frames' dtype


def _solve_rows(
    problem: _Problem, q0: int, q1: int, candidates: np.ndarray | None, threads: int = 1, bar=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Queries ``q0 .. q1 - 1``: (q1 - q0, k) indices and costs, and (3,) counts.

    ``candidates`` is None (all sequences) or (q1 - q0, C) per query. The rows are cut into
    many more chunks than threads, so that uneven queries balance out.
    """
    p = problem
    rows = q1 - q0
    idx = np.zeros((rows, p.k), np.int64)
    cost = np.zeros((rows, p.k))
    edges = np.linspace(q0, q1, min(rows, 8 * threads) + 1).round().astype(np.int64)
    counts = np.zeros((len(edges) - 1, 3), np.int64)  # per chunk: (unused, envelope, DTW)
    none = np.zeros((0, 0), np.int64)

    def run(c: int) -> int:
        a, b = int(edges[c]), int(edges[c + 1])
        _queries(
            a,
            b,
            none if candidates is None else candidates[a - q0 : b - q0],
            p.flat,
            p.starts,
            p.lengths,
            p.k,
            p.r_int,
            p.frac,
            p.slanted,
            p.width,
            p.proj,
            p.margin,
            idx[a - q0 : b - q0],
            cost[a - q0 : b - q0],
            counts[c],
        )
        return b - a

    if threads == 1:
        for c in range(len(edges) - 1):
            done = run(c)
            if bar is not None:
                bar.update(done)
    else:
        with ThreadPoolExecutor(threads) as pool:
            for done in pool.map(run, range(len(edges) - 1)):
                if bar is not None:
                    bar.update(done)
    return idx, cost, counts.sum(axis=0)


def _block_task(problem: _Problem, q0: int, q1: int, candidates: np.ndarray | None):
    """One distributed task: the top-k of queries ``q0 .. q1 - 1`` only."""
    return _solve_rows(problem, q0, q1, candidates)


def segment_embedding(X, segments: int = 4, dims: int | None = 16) -> np.ndarray:
    """A cheap fixed-size summary of each sequence, whose distances follow DTW's.

    Frames are projected on their ``dims`` principal directions (all of them for None or
    ``dims >= D``); each sequence is then summarised by the mean of all its frames and the
    means of ``segments`` equal stretches of its time axis (proportional to its length, so a
    sequence played faster still lines up), concatenated.

    Parameters
    ----------
    X : N sequences, each (T_i, D) (or (T_i,)).
    segments : stretches of time, >= 0 (0: the mean frame only).
    dims : principal directions kept, or None.

    Returns
    -------
    (N, dims * (segments + 1)) float32 (``D`` in place of ``dims`` when all are kept).
    Computed on the sequences divided by a power of two where their values are out of
    :func:`helpers.dtw.core.rescale`'s range (the principal directions square them), and
    multiplied back; ValueError, naming ``X``, when the summary exceeds float32's range.

    Notes
    -----
    On 2000 augmented HDM05 clips (D = 93, window 0.1) the 50 nearest in this embedding (16
    directions, 4 segments) hold 99.8% of each clip's 10 nearest under DTW; the mean frame
    alone, 98.8%.
    """
    given = as_collection(X, "X")
    _check_segments(segments)
    _check_dims(dims, "dims")
    seqs, e = rescale(given)
    flat, lengths, _ = _stacked(seqs)
    proj = _projection(flat, dims)
    out = _embed(proj if proj.shape[0] == flat.shape[0] else flat, lengths, int(segments))
    if e == 0:
        return out
    big = np.ldexp(np.abs(out).max(initial=0.0), e)
    if big > np.finfo(np.float32).max:
        raise ValueError(
            f"X: the float32 summary of values this large does not fit (largest |entry| "
            f"{big:.3g}); |values| up to {np.finfo(np.float32).max:.3g} work"
        )
    # float32 has powers of two down to 2**-149 (subnormal): small values lose digits there
    return np.ldexp(out.astype(np.float64), e).astype(np.float32)


def _check_segments(segments) -> None:
    integer_argument("segments", segments, low=0)


def _embed(frames: np.ndarray, lengths: np.ndarray, segments: int) -> np.ndarray:
    """:func:`segment_embedding` of the sequences stacked in ``frames`` (F, d)."""
    out = np.empty((len(lengths), frames.shape[1] * (segments + 1)), np.float32)
    start = 0
    for i, t in enumerate(lengths):
        x = frames[start : start + t]
        start += t
        parts = [x.mean(axis=0)]
        edges = np.linspace(0, t, segments + 1)
        for j in range(segments):
            # a stretch covers at least one frame, also for sequences shorter than `segments`
            a = min(int(np.floor(edges[j])), t - 1)
            b = max(int(np.ceil(edges[j + 1])), a + 1)
            parts.append(x[a:b].mean(axis=0))
        out[i] = np.concatenate(parts)
    return out


def _import_faiss():
    try:
        import faiss
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ImportError(
            "mode='approximate' needs faiss: pip install faiss-cpu (or this project's [scale] "
            "extra: pip install -e '.[scale]')"
        ) from err
    return faiss


def embedding_candidates(
    E: np.ndarray, n_candidates: int, index: str = "flat", threads: int | None = None
) -> np.ndarray:
    """The ``n_candidates`` nearest rows of ``E`` to each row (itself excluded), with faiss.

    Parameters
    ----------
    E : (N, d) embedding, e.g. :func:`segment_embedding`.
    n_candidates : neighbours per row, 1 <= n_candidates <= N - 1.
    index : ``'flat'`` (exact Euclidean search in the embedding, O(N^2 d), a few seconds for
        N = 20,000) or ``'hnsw'`` (a navigable small-world graph, approximate, for far larger
        N).
    threads : faiss's OpenMP threads (default: all cores).

    Returns
    -------
    (N, n_candidates) int64 indices, nearest first.
    """
    E = np.asarray(E)
    if E.ndim != 2 or not np.issubdtype(E.dtype, np.number) or np.iscomplexobj(E):
        raise ValueError(f"E: shape {E.shape}, dtype {E.dtype}; expected an (N, d) real array")
    if not np.isfinite(E).all():
        row = int(np.argwhere(~np.isfinite(E))[0, 0])
        raise ValueError(f"E holds NaN or inf (first at row {row}); expected finite values")
    E = np.ascontiguousarray(E, np.float32)
    n = len(E)
    n_candidates = integer_argument(
        "n_candidates", n_candidates, low=1, high=n - 1, expected=f"1..N-1 = 1..{n - 1}"
    )
    if threads is not None:
        integer_argument("threads", threads, low=1, expected="a positive int or None")
    faiss = _import_faiss()
    if threads is not None:
        faiss.omp_set_num_threads(int(threads))
    if index == "flat":
        ix = faiss.IndexFlatL2(E.shape[1])
    elif index == "hnsw":
        ix = faiss.IndexHNSWFlat(E.shape[1], 32)
        ix.hnsw.efSearch = max(64, 2 * n_candidates)
    else:
        raise ValueError(f"index={index!r}; expected 'flat' or 'hnsw'")
    ix.add(E)
    want = min(n_candidates + 1, n)
    _, found = ix.search(E, want)
    out = np.empty((n, n_candidates), np.int64)
    for q in range(n):
        # drop the query itself (not always first: duplicates tie with it) and any -1 faiss
        # gives when it finds fewer than asked (hnsw)
        row = [c for c in found[q] if c != q and c >= 0][:n_candidates]
        if len(row) < n_candidates:  # pad from the rest, far ones are harmless candidates
            extra = np.setdiff1d(np.arange(n), np.r_[row, q], assume_unique=False)
            row = row + list(extra[: n_candidates - len(row)])
        out[q] = row
    return out


def knn_dtw(
    X,
    k: int,
    window: Window = 0.1,
    *,
    band: Band = "sakoe",
    mode: str = "exact",
    envelope: bool | None = None,
    projection_dims: int | None = 8,
    candidates: int | np.ndarray | None = None,
    segments: int = 4,
    embedding_dims: int | None = 16,
    index: str = "flat",
    client=None,
    block_rows: int | None = None,
    n_jobs: int | None = None,
    progress: bool = False,
    return_stats: bool = False,
):
    """The k nearest neighbours of every sequence under windowed DTW, without all pairs.

    Parameters
    ----------
    X : N sequences, each (T_i, D) (or (T_i,)); lengths may differ.
    k : neighbours per sequence, 1 <= k <= N - 1.
    window, band : the DTW band, as in :func:`helpers.dtw.cpu.dtw_distance`.
    mode : ``'exact'``: every sequence is a candidate, ruled out only by lower bounds, so the
        result is that of all pairs. ``'approximate'``: the candidates of each sequence are
        its ``candidates`` nearest in :func:`segment_embedding` (found with faiss, see
        :func:`embedding_candidates`), and the exact cascade runs on those only; a true
        neighbour outside them is missed (measure the recall with :func:`recall_at_k`).
    envelope : use the envelope bound for every pair (True), never (False), or (None) only
        where the band is at least :data:`ENVELOPE_MIN_WIDTH` cells wide on average: on
        narrower bands it costs more than the early-abandoning DTW it would save (measured on
        HDM05 clips, D = 93, bands of 12 cells: 20 us for the bound, 15 us for the DTW).
    projection_dims : before a pair's full DTW, the DTW of its frames projected on the
        ``projection_dims`` principal directions of all frames (orthonormal, so every frame
        cost and hence every path cost can only shrink: a lower bound, cheap when
        ``projection_dims`` is much smaller than D); also the endpoint bound uses them. None,
        or a value >= D, skips this stage. On 1200 augmented HDM05 clips (D = 93) 8
        directions hold 95% of the variance and leave a full DTW for 5% of the pairs.
    candidates : approximate mode: candidates per sequence (default ``5 k``, at most N - 1),
        or an (N, C) array of candidate indices of your own (the embedding is then skipped).
    segments, embedding_dims : the embedding of approximate mode (:func:`segment_embedding`).
    index : faiss index of approximate mode, ``'flat'`` or ``'hnsw'``.
    client : None (this process, ``n_jobs`` threads), a ``dask.distributed.Client``, or
        ``'local'`` (a LocalCluster for this call): the queries are cut into blocks of
        ``block_rows`` rows and each task returns only its block's top k. The result is
        identical to the single-process one; a worker that dies costs only its blocks (see
        :mod:`helpers.dtw.distributed`).
    block_rows : queries per distributed task (default: N / (8 workers), at most 256).
    n_jobs : threads in this process (default: all cores); the kernels release the GIL.
    progress : a progress bar over the queries.
    return_stats : also return a :class:`KnnStats`.

    Returns
    -------
    ``(indices, distances)``: (N, k) int64 and float64, each row sorted by distance (ties by
    index), the sequence itself excluded; distances are DTW distances (square roots of the
    costs), equal to :func:`helpers.dtw.cpu.pairwise_dtw` to rounding. With ``return_stats``,
    ``(indices, distances, stats)``.

    Values of any size are searched: as :func:`helpers.dtw.cpu.pairwise_dtw`, the sequences
    are divided by a power of two where needed (:func:`helpers.dtw.core.rescale`); ValueError,
    naming ``X``, when a neighbour's distance exceeds float64's range.
    """
    given = as_collection(X, "X")
    return_stats = check_flag("return_stats", return_stats)
    seqs, e = rescale(given)
    out = _knn_dtw(
        seqs,
        None,
        k,
        window,
        band=band,
        mode=mode,
        envelope=envelope,
        projection_dims=projection_dims,
        candidates=candidates,
        segments=segments,
        embedding_dims=embedding_dims,
        index=index,
        client=client,
        block_rows=block_rows,
        n_jobs=n_jobs,
        progress=progress,
        return_stats=return_stats,
    )
    dist = unscale(out[1], e, squared=False, name="X", seqs=given)
    return (out[0], dist, *out[2:])


def _knn_dtw(
    seqs: list[np.ndarray],
    stacked: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    k: int,
    window: Window,
    *,
    band: Band = "sakoe",
    mode: str = "exact",
    envelope: bool | None = None,
    projection_dims: int | None = 8,
    candidates: int | np.ndarray | None = None,
    segments: int = 4,
    embedding_dims: int | None = 16,
    index: str = "flat",
    client=None,
    block_rows: int | None = None,
    n_jobs: int | None = None,
    progress: bool = False,
    return_stats: bool = False,
):
    """:func:`knn_dtw` on validated sequences; ``stacked`` is their :func:`_stacked` or None."""
    if mode not in ("exact", "approximate"):
        raise ValueError(f"mode={mode!r}; expected 'exact' or 'approximate'")
    n_seq = len(seqs)
    k = integer_argument(
        "k", k, low=1, high=n_seq - 1, expected=f"an int in 1..N-1 = 1..{n_seq - 1}"
    )
    r_int, frac = parse_window(window)
    slanted = parse_band(band)
    if envelope not in (True, False, None):
        raise ValueError(f"envelope={envelope!r}; expected True, False or None")
    width = {True: 0.0, False: np.inf, None: float(ENVELOPE_MIN_WIDTH)}[envelope]
    if n_jobs is not None:
        integer_argument("n_jobs", n_jobs, low=1, expected="a positive int or None (all cores)")
    if block_rows is not None:
        integer_argument("block_rows", block_rows, low=1, expected="a positive int or None")
    if candidates is not None and np.ndim(candidates) == 0:
        integer_argument("candidates", candidates, expected="an int or an (N, C) array of indices")
    threads = max(1, min(os.cpu_count() or 1, n_seq) if n_jobs is None else int(n_jobs))
    flat, lengths, starts = _stacked(seqs) if stacked is None else stacked
    _check_dims(projection_dims, "projection_dims")
    _check_dims(embedding_dims, "embedding_dims")
    _check_segments(segments)
    if mode == "exact" and candidates is not None:
        raise ValueError("candidates=... is for mode='approximate'")
    embeds = mode == "approximate" and (candidates is None or np.ndim(candidates) == 0)
    # one projection serves both the bounds and the embedding (leading directions first);
    # dims >= D mean all frames' coordinates, unprojected
    D = flat.shape[1]
    wanted = [d for d in (projection_dims, embedding_dims if embeds else None) if d and d < D]
    both = _projection(flat, max(wanted)) if wanted else np.zeros((0, 0))
    cand = None
    if mode == "approximate":
        emb = _leading(both, embedding_dims, D) if embeds else flat
        cand = _candidate_array(
            n_seq,
            k,
            candidates,
            flat if emb.size == 0 else emb,
            lengths,
            segments,
            index,
            threads,
        )
    proj = _leading(both, projection_dims, D)
    both = None  # the narrower copies are kept, not this one
    problem = _Problem(
        flat=flat,
        starts=starts,
        lengths=lengths,
        proj=proj,
        k=k,
        r_int=r_int,
        frac=frac,
        slanted=slanted,
        width=width,
        margin=MARGIN_FLOAT32 if flat.dtype == np.float32 else MARGIN_FLOAT64,
    )
    if client is None:
        with tqdm(total=n_seq, desc="kNN-DTW", unit="query", disable=not progress) as bar:
            idx, cost, counts = _solve_rows(problem, 0, n_seq, cand, threads, bar)
    else:
        idx, cost, counts = _distributed(problem, cand, client, block_rows, progress)
    pairs = n_seq * (n_seq - 1) if cand is None else int(cand.size)
    # what neither the envelope bound nor the full DTW saw, the endpoint bound or the
    # projected DTW ruled out
    stats = KnnStats(
        pairs=pairs,
        stopped=pairs - int(counts[1]) - int(counts[2]),
        envelope=int(counts[1]),
        dtw=int(counts[2]),
    )
    dist = np.sqrt(cost)
    return (idx, dist, stats) if return_stats else (idx, dist)


def _leading(both: np.ndarray, dims: int | None, D: int) -> np.ndarray:
    """Frames on their first ``dims`` principal directions; (0, 0) for none or all."""
    if dims is None or dims >= D:
        return np.zeros((0, 0))
    return np.ascontiguousarray(both[:, :dims])


def _candidate_array(
    n_seq: int, k: int, candidates, frames, lengths, segments, index, threads
) -> np.ndarray:
    """(N, C) candidate indices for approximate mode, checked or found in the embedding.

    ``frames`` (F, d): the frames to embed (projected on the embedding's directions).
    """
    if candidates is None or np.ndim(candidates) == 0:
        c = (
            min(5 * k, n_seq - 1)
            if candidates is None
            else integer_argument("candidates", candidates)
        )
        if not k <= c <= n_seq - 1:
            raise ValueError(f"candidates={candidates!r}; expected k..N-1 = {k}..{n_seq - 1}")
        return embedding_candidates(_embed(frames, lengths, int(segments)), c, index, threads)
    cand = np.asarray(candidates)
    if cand.ndim != 2 or cand.shape[0] != n_seq or not np.issubdtype(cand.dtype, np.integer):
        raise ValueError(
            f"candidates: an array of shape {cand.shape} and dtype {cand.dtype}; expected "
            f"(N, C) = ({n_seq}, C) integer indices"
        )
    if cand.size and (cand.min() < 0 or cand.max() >= n_seq):
        raise ValueError(f"candidates: indices must lie in 0..{n_seq - 1}")
    cand = np.ascontiguousarray(cand, np.int64)
    for q in range(n_seq):
        row = cand[q]
        if len(np.unique(row[row != q])) < k or len(np.unique(row)) != len(row):
            raise ValueError(
                f"candidates row {q}: expected distinct indices with at least k = {k} "
                "other than the query itself"
            )
    return cand


def _distributed(problem: _Problem, cand, client, block_rows, progress):
    """The query blocks on a Dask cluster; (N, k) indices and costs, and (3,) counts."""
    n_seq, k = len(problem.lengths), problem.k
    if block_rows is None:  # else checked by _knn_dtw
        block_rows = int(np.clip(np.ceil(n_seq / 64), 1, 256))
    edges = list(range(0, n_seq, int(block_rows))) + [n_seq]
    blocks = [(a, b, None if cand is None else cand[a:b]) for a, b in zip(edges[:-1], edges[1:])]
    idx = np.full((n_seq, k), -1, np.int64)
    cost = np.full((n_seq, k), np.nan)
    counts = np.zeros(3, np.int64)
    with cluster_client(client) as cl:
        for i, (bi, bc, bn) in run_blocks(
            cl,
            _block_task,
            problem,
            blocks,
            sizes=[b - a for a, b, _ in blocks],
            progress=progress,
            desc="kNN-DTW",
            unit="query",
        ):
            a, b, _ = blocks[i]
            idx[a:b], cost[a:b] = bi, bc
            counts += bn
    return idx, cost, counts


def recall_at_k(indices: np.ndarray, reference: np.ndarray) -> float:
    """Share of the reference neighbours found: the mean over rows of (found and true) / k.

    Parameters
    ----------
    indices : (N, k) neighbours to score (e.g. approximate mode's).
    reference : (N, k) true neighbours (e.g. exact mode's).
    """
    indices, reference = np.asarray(indices), np.asarray(reference)
    if indices.shape != reference.shape or indices.ndim != 2:
        raise ValueError(
            f"indices {indices.shape} and reference {reference.shape}: expected the same "
            "(N, k) shape"
        )
    hits = sum(len(np.intersect1d(a, b)) for a, b in zip(indices, reference))
    return hits / reference.size if reference.size else 1.0


@njit(cache=True, nogil=True)
def _pair_costs(
    flat: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    pa: np.ndarray,
    pb: np.ndarray,
    s: int,
    e: int,
    r_int: int,
    frac: float,
    slanted: bool,
    out: np.ndarray,
):
    """Full banded DTW costs of the pairs ``(pa[t], pb[t])`` for t in ``s .. e - 1``."""
    maxm = lengths.max()
    lo, hi, R2, L2, C4 = work_buffers(maxm, maxm)
    for t in range(s, e):
        a, b = pa[t], pb[t]
        n, m = lengths[a], lengths[b]
        fill_bounds(n, m, radius(n, m, r_int, frac), slanted, lo, hi)
        out[t] = _dtw_full(flat, starts[a], n, starts[b], m, lo, hi, np.inf, R2, L2, C4)


def neighbour_sets(
    X,
    k: int,
    window: Window = 0.1,
    *,
    band: Band = "sakoe",
    mode: str = "exact",
    among: bool = True,
    n_jobs: int | None = None,
    progress: bool = False,
    **knn_options,
) -> NeighbourSets:
    """The DTW neighbour sets of ``X`` for kNN and NNK graphs, without all pairs.

    :func:`knn_dtw` gives each sequence's k nearest; with ``among`` the DTW distances among
    each sequence's neighbours follow (NNK's local kernel blocks), each distinct pair once:
    at most ``N k (k - 1) / 2`` DTWs, usually far fewer, since neighbourhoods overlap.

    Parameters
    ----------
    X : N sequences (T_i, D).
    k : neighbours per sequence.
    window, band, mode : as in :func:`knn_dtw`.
    among : also compute the (N, k, k) distances among neighbours (needed by NNK only).
    n_jobs, progress : threads and a progress bar.
    **knn_options : passed on to :func:`knn_dtw` (``candidates``, ``client``, ...).

    Returns
    -------
    :class:`~helpers.geometry.neighbours.NeighbourSets`: (N, k) indices and distances, (N, k, k)
    distances among neighbours (None without ``among``).
    """
    given = as_collection(X, "X")
    among = check_flag("among", among)
    seqs, e = rescale(given)  # values of any size, as knn_dtw
    # the frames are stacked once, for the search and for the distances among neighbours
    stacked = _stacked(seqs) if among else None
    idx, dist = _knn_dtw(
        seqs,
        stacked,
        k,
        window,
        band=band,
        mode=mode,
        n_jobs=n_jobs,
        progress=progress,
        **knn_options,
    )
    dist = unscale(dist, e, squared=False, name="X", seqs=given)
    if not among:
        return NeighbourSets(idx, dist)
    n_seq, k = idx.shape
    r, c = np.triu_indices(k, 1)
    pa, pb = idx[:, r].ravel(), idx[:, c].ravel()
    lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)  # DTW is symmetric: one order per pair
    keys, where = np.unique(lo * n_seq + hi, return_inverse=True)
    ua, ub = keys // n_seq, keys % n_seq
    flat, lengths, starts = stacked
    r_int, frac = parse_window(window)
    slanted = parse_band(band)
    costs = np.empty(len(keys))
    threads = max(1, os.cpu_count() or 1) if n_jobs is None else int(n_jobs)
    edges = np.linspace(0, len(keys), min(len(keys), 16 * threads) + 1).round().astype(np.int64)

    def run(t: int) -> int:
        s, e = int(edges[t]), int(edges[t + 1])
        _pair_costs(flat, starts, lengths, ua, ub, s, e, r_int, frac, slanted, costs)
        return e - s

    with (
        ThreadPoolExecutor(threads) as pool,
        tqdm(total=len(keys), desc="DTW among neighbours", disable=not progress) as bar,
    ):
        for done in pool.map(run, range(len(edges) - 1)):
            bar.update(done)
    block = np.zeros((n_seq, k, k))
    vals = unscale(np.sqrt(costs), e, squared=False, name="X", seqs=given)[where].reshape(n_seq, -1)
    block[:, r, c] = vals
    block[:, c, r] = vals
    return NeighbourSets(idx, dist, block)


def lower_bounds(
    X,
    pairs,
    window: Window = 0.1,
    *,
    band: Band = "sakoe",
    projection_dims: int | None = 8,
) -> dict[str, np.ndarray]:
    """The cascade's lower bounds and the DTW cost itself for given pairs of sequences.

    For seeing how tight each bound is (each must not exceed ``'dtw'``): the endpoint bound
    (on the full frames), the envelope bound, the DTW of the frames projected on
    ``projection_dims`` principal directions of all frames of ``X``, and the full DTW cost, all
    as squared costs (the DTW distance is the square root of ``'dtw'``).

    Parameters
    ----------
    X : N sequences (T_i, D).
    pairs : (P, 2) indices into ``X``.
    window, band : the DTW band.
    projection_dims : directions of the projected bound (None: it is NaN).

    Returns
    -------
    ``{'endpoints', 'envelope', 'projected', 'dtw'}``, each (P,) float64. Squared costs:
    ValueError, naming ``X``, when they leave float64's normal range
    (:func:`helpers.dtw.core.unscale`).
    """
    given = as_collection(X, "X")
    pairs = np.asarray(pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"pairs: shape {pairs.shape}; expected (P, 2) integer indices")
    if pairs.size and not np.issubdtype(pairs.dtype, np.integer):
        raise ArgumentTypeError(f"pairs: dtype {pairs.dtype}; expected (P, 2) integer indices")
    if pairs.size and (pairs.min() < 0 or pairs.max() >= len(given)):
        raise ValueError(f"pairs: indices must lie in 0..{len(given) - 1}")
    r_int, frac = parse_window(window)
    slanted = parse_band(band)
    seqs, e = rescale(given)
    flat, lengths, starts = _stacked(seqs)
    proj = _projection(flat, projection_dims)
    pa, pb = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    out = {name: np.full(len(pairs), np.nan) for name in ("endpoints", "envelope", "projected")}
    dtw = np.empty(len(pairs))
    _pair_costs(flat, starts, lengths, pa, pb, 0, len(pairs), r_int, frac, slanted, dtw)
    if proj.shape[0] == flat.shape[0]:
        _pair_costs(
            proj, starts, lengths, pa, pb, 0, len(pairs), r_int, frac, slanted, out["projected"]
        )
    for t, (a, b) in enumerate(zip(pa, pb)):
        sa, sb = _float64(seqs[a], seqs[b])
        out["endpoints"][t] = _lb_endpoints(sa, sb)
        out["envelope"][t] = _envelope_cost(sa, sb, r_int, frac, slanted)
    out["dtw"] = dtw
    return {name: unscale(v, e, squared=True, name="X", seqs=given) for name, v in out.items()}
