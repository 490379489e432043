"""Pairwise DTW in PyTorch, for a GPU (it also runs, more slowly, on the CPU).

Same conventions as :mod:`helpers.dtw.cpu` (squared Euclidean frame cost, sum along the best
path, square root; the same bands and window rule), and the same results up to rounding.

How it works: sequences are sorted by length (so batches need little padding) and grouped
into blocks of frames. For a pair of blocks one matrix product gives all inner products, and
``||x||^2 + ||y||^2 - 2 x.y`` gives the frame costs of a batch of pairs as a padded tensor
(P, Tn, Tm), with ``inf`` outside each pair's band and lengths. The dynamic programme then
runs over anti-diagonals: all cells with ``i + j = k`` depend only on earlier diagonals, so
each of the ``Tn + Tm - 1`` steps updates every pair of the batch and every cell of the
diagonal at once.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from helpers.dtw.core import (
    Band,
    Window,
    as_collections,
    band_bounds,
    blocks,
    check_block_frames,
    integer_argument,
    offsets,
    parse_band,
    parse_window,
    radii,
    rescale,
    unscale,
)
from helpers.runtime.arguments import check_flag
from helpers.runtime.device import resolve_device

__all__ = ["knn_dtw_torch", "pairwise_dtw_torch"]


def _torch_dtype(dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype) and dtype in (torch.float32, torch.float64):
        return dtype
    if dtype in ("float32", np.float32) or (isinstance(dtype, np.dtype) and dtype == np.float32):
        return torch.float32
    if dtype in ("float64", np.float64) or (isinstance(dtype, np.dtype) and dtype == np.float64):
        return torch.float64
    raise ValueError(f"gram_dtype={dtype!r}; expected float32 or float64")


def _dp(C: torch.Tensor, n: torch.Tensor, m: torch.Tensor, track: bool):
    """Anti-diagonal DTW on costs C (P, Tn, Tm) (inf = forbidden); returns (cost, length) (P,)."""
    P, Tn, Tm = C.shape
    W = Tm + 1
    R = torch.full((P, (Tn + 1) * W), math.inf, dtype=C.dtype, device=C.device)
    R[:, 0] = 0.0  # R[-1, -1]: the path starts at (0, 0)
    L = torch.zeros_like(R) if track else None
    Cf = C.reshape(P, Tn * Tm)
    for k in range(Tn + Tm - 1):
        i = torch.arange(max(0, k - Tm + 1), min(k, Tn - 1) + 1, device=C.device)
        j = k - i
        cur = (i + 1) * W + (j + 1)
        cands = (i * W + j, i * W + j + 1, (i + 1) * W + j)  # diagonal, up, left
        c = Cf[:, i * Tm + j]
        if not track:
            best = torch.minimum(torch.minimum(R[:, cands[0]], R[:, cands[1]]), R[:, cands[2]])
            R[:, cur] = c + best
        else:
            # least cost, ties to the shorter path (as in the numba kernel)
            best, bl = R[:, cands[0]], L[:, cands[0]]
            for q in cands[1:]:
                rc, lc = R[:, q], L[:, q]
                take = (rc < best) | ((rc == best) & (lc < bl))
                best = torch.where(take, rc, best)
                bl = torch.where(take, lc, bl)
            R[:, cur] = c + best
            L[:, cur] = bl + 1
    end = n * W + m
    cost = R.gather(1, end.view(-1, 1)).squeeze(1)
    length = L.gather(1, end.view(-1, 1)).squeeze(1) if track else torch.ones_like(cost)
    return cost, length


def pairwise_dtw_torch(
    X,
    Y=None,
    window: Window = None,
    *,
    band: Band = "sakoe",
    normalize: bool = False,
    device: str | torch.device | None = "auto",
    gram_dtype=torch.float64,
    block_frames: int | None = None,
    batch_cells: int = 1 << 24,
    progress: bool = False,
) -> np.ndarray:
    """DTW distance matrix (N, M) with torch, the same as :func:`helpers.dtw.cpu.pairwise_dtw`.

    ``device``: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``...; ``gram_dtype``:
    the dtype of the frame inner products (float32 is faster on most GPUs, ~1e-6 relative
    error); costs are accumulated in float64. ``block_frames`` frames are multiplied at once
    (default 4096); a batch holds at most ``batch_cells`` DP cells (memory ~ 20 bytes each).
    Values of any size are compared, as in :func:`helpers.dtw.cpu.pairwise_dtw` (the same
    power-of-two rescaling; ValueError naming ``X`` or ``X and Y`` when a distance exceeds
    float64's range).
    """
    r_int, frac = parse_window(window)
    slanted = parse_band(band)
    normalize = check_flag("normalize", normalize)
    xs, ys = as_collections(X, Y)
    check_block_frames(block_frames)
    integer_argument("batch_cells", batch_cells, low=1, expected="a positive int")
    given = xs if ys is None else xs + ys
    scaled, e = rescale(given)
    out = _pairwise_torch(
        scaled[: len(xs)],
        None if ys is None else scaled[len(xs) :],
        r_int,
        frac,
        slanted,
        normalize,
        device,
        gram_dtype,
        block_frames,
        batch_cells,
        progress,
    )
    return unscale(out, e, squared=False, name="X" if ys is None else "X and Y", seqs=given)


def _pairwise_torch(
    xs: list[np.ndarray],
    ys: list[np.ndarray] | None,
    r_int: int,
    frac: float,
    slanted: bool,
    track: bool,
    device,
    gram_dtype,
    block_frames: int | None,
    batch_cells: int,
    progress: bool,
) -> np.ndarray:
    """:func:`pairwise_dtw_torch` on validated (T_i, D) arrays."""
    from tqdm.auto import tqdm

    dev = resolve_device(device)
    gdt = _torch_dtype(gram_dtype)
    symmetric = ys is None
    ys_ = xs if symmetric else ys

    def prepare(seqs):
        lengths = np.array([s.shape[0] for s in seqs], np.int64)
        order = np.argsort(lengths, kind="stable")  # similar lengths share a batch
        lens = lengths[order]
        F = torch.from_numpy(np.concatenate([seqs[k] for k in order])).to(dev, gdt)
        # squared norms in float64 (as in the numba code), without a float64 copy of F
        norms = torch.linalg.vector_norm(F, dim=1, dtype=torch.float64).square()
        return order, lens, offsets(lens), F, norms

    oa, la, offa, FA, nA = prepare(xs)
    ob, lb, offb, FB, nB = (oa, la, offa, FA, nA) if symmetric else prepare(ys_)
    bf = block_frames or 4096
    blocks_a = blocks(la, bf)
    blocks_b = blocks_a if symmetric else blocks(lb, bf)
    out = np.zeros((la.size, lb.size))
    n_pairs = la.size * (la.size - 1) // 2 if symmetric else la.size * lb.size
    with tqdm(total=n_pairs, disable=not progress, desc="DTW pairs (torch)", unit="pairs") as bar:
        for bi, (a0, a1) in enumerate(blocks_a):
            for bj, (b0, b1) in enumerate(blocks_b):
                if symmetric and bj < bi:
                    continue
                ra = slice(offa[a0], offa[a1 - 1] + la[a1 - 1])
                rb = slice(offb[b0], offb[b1 - 1] + lb[b1 - 1])
                G = FA[ra] @ FB[rb].T
                gi, gj = np.meshgrid(np.arange(a0, a1), np.arange(b0, b1), indexing="ij")
                gi, gj = gi.ravel(), gj.ravel()
                if symmetric and bi == bj:
                    keep = gi < gj
                    gi, gj = gi[keep], gj[keep]
                # batches of consecutive pairs with at most batch_cells padded cells
                start = 0
                while start < gi.size:
                    stop = start + 1
                    tn, tm = la[gi[start]], lb[gj[start]]
                    while stop < gi.size:
                        tn2, tm2 = max(tn, la[gi[stop]]), max(tm, lb[gj[stop]])
                        if (stop - start + 1) * tn2 * tm2 > batch_cells:
                            break
                        tn, tm = tn2, tm2
                        stop += 1
                    pi, pj = gi[start:stop], gj[start:stop]
                    cost, length = _batch(
                        G,
                        nA[ra],
                        nB[rb],
                        offa[pi] - ra.start,
                        la[pi],
                        offb[pj] - rb.start,
                        lb[pj],
                        r_int,
                        frac,
                        slanted,
                        track,
                        dev,
                    )
                    d = cost / length if track else cost
                    out[pi, pj] = torch.sqrt(d).cpu().numpy()
                    bar.update(stop - start)
                    start = stop
    # undo the length sorting (symmetric: only sorted pairs i < j were filled)
    res = np.empty_like(out)
    res[np.ix_(oa, ob)] = out + out.T if symmetric else out
    return res


def _batch(G, nA, nB, oa, na_len, ob, nb_len, r_int, frac, slanted, track, dev):
    """Costs for one batch of pairs from the Gram block ``G``.

    Pair p aligns rows ``oa[p]:oa[p]+na_len[p]`` of ``G`` with its columns
    ``ob[p]:ob[p]+nb_len[p]``.
    """
    n = torch.from_numpy(na_len).to(dev)
    m = torch.from_numpy(nb_len).to(dev)
    Tn, Tm = int(na_len.max()), int(nb_len.max())
    ii = torch.from_numpy(oa).to(dev).view(-1, 1) + torch.minimum(
        torch.arange(Tn, device=dev).view(1, -1), n.view(-1, 1) - 1
    )  # (P, Tn), clamped
    jj = torch.from_numpy(ob).to(dev).view(-1, 1) + torch.minimum(
        torch.arange(Tm, device=dev).view(1, -1), m.view(-1, 1) - 1
    )
    g = G[ii.unsqueeze(2), jj.unsqueeze(1)].double()  # (P, Tn, Tm)
    C = (nA[ii].unsqueeze(2) + nB[jj].unsqueeze(1) - 2.0 * g).clamp_min_(0.0)
    # the band of every pair, from the rules shared with the numba backend (rows past a pair's
    # length allow no column, and bounds never pass its last column)
    lo, hi = band_bounds(na_len, nb_len, radii(na_len, nb_len, r_int, frac), slanted, Tn)
    j = torch.arange(Tm, device=dev).view(1, 1, Tm)
    inside = (j >= torch.from_numpy(lo).to(dev).unsqueeze(2)) & (
        j <= torch.from_numpy(hi).to(dev).unsqueeze(2)
    )
    C.masked_fill_(~inside, math.inf)
    return _dp(C, n, m, track)


def knn_dtw_torch(
    X,
    k: int,
    window: Window = 0.1,
    *,
    band: Band = "sakoe",
    device: str | torch.device | None = "auto",
    gram_dtype=torch.float64,
    query_block: int = 1024,
    batch_cells: int = 1 << 24,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest neighbours under DTW with torch (a GPU), the result of all pairs.

    A GPU runs the DTW of tens of thousands of pairs at once, where lower bounds would only
    break the batches up: so the queries go in blocks of ``query_block``, each block's
    distances to all sequences come from :func:`pairwise_dtw_torch` (length-sorted batches),
    and only the block's top k is kept. Memory: one (query_block, N) float64 block on the
    host, and ``batch_cells`` DP cells on the device.

    Parameters
    ----------
    X : N sequences (T_i, D).
    k : neighbours per sequence, 1 <= k <= N - 1.
    window, band : the DTW band, as in :func:`helpers.dtw.cpu.dtw_distance`.
    device, gram_dtype, batch_cells : as in :func:`pairwise_dtw_torch`.
    query_block : queries per block.
    progress : a progress bar over query blocks.

    Returns
    -------
    ``(indices, distances)``, (N, k) int64 and float64, rows sorted by distance (ties by
    index), self excluded: the same as :func:`~helpers.geometry.knn_search.knn_dtw` to rounding.
    Frame costs come from inner products here, so distances that tie exactly there may differ by
    rounding (~1e-15 relative) here, and such ties may then be ordered differently.
    """
    from tqdm.auto import tqdm

    r_int, frac = parse_window(window)
    slanted = parse_band(band)
    given, _ = as_collections(X, None)
    n = len(given)
    k = integer_argument("k", k, low=1, high=n - 1, expected=f"an int in 1..N-1 = 1..{n - 1}")
    query_block = integer_argument("query_block", query_block, low=1, expected="a positive int")
    # the same power-of-two rescaling as pairwise_dtw_torch: no frame cost overflows
    xs, e = rescale(given)
    idx = np.empty((n, int(k)), np.int64)
    dist = np.empty((n, int(k)))
    columns = np.arange(n)
    starts = range(0, n, int(query_block))
    for q0 in tqdm(starts, disable=not progress, desc="kNN-DTW (torch)", unit="block"):
        q1 = min(n, q0 + int(query_block))
        D = _pairwise_torch(
            xs[q0:q1],
            xs,
            r_int,
            frac,
            slanted,
            False,
            device,
            gram_dtype,
            None,
            batch_cells,
            False,
        )
        D[np.arange(q1 - q0), np.arange(q0, q1)] = np.inf  # self excluded
        order = np.lexsort((np.broadcast_to(columns, D.shape), D), axis=1)[:, : int(k)]
        idx[q0:q1] = order
        dist[q0:q1] = np.take_along_axis(D, order, axis=1)
    return idx, unscale(dist, e, squared=False, name="X", seqs=given)
