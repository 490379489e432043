"""How the DTW neighbour searches scale with N: test collections, timed runs, peak memory.

The benchmark ``benchmarks/bench_knn_dtw.py`` and the scaling chapter of the book both use
these pieces, so that they measure the same thing:

* :func:`augmented_clips`: N sequences made from a skeleton dataset's clips by random speed
  (linear resampling), a turn about the vertical axis and Gaussian noise; as many as wanted
  from a few hundred real clips, with near duplicates like a large dataset has.
* :func:`hidden_width`: the same sequences at a hidden layer's width, through a fixed random
  ReLU layer (a stand-in for an ST-GCN block's (T, C * V) features without training one).
* :func:`scaling_table`: all pairs (``pairwise_dtw`` and a top-k per row), exact kNN and
  approximate kNN (``knn_dtw``) timed on the same data for several N, with the peak memory
  each call added, whether exact kNN found the neighbours of all pairs, and the recall of the
  approximate mode against exact; :func:`growth_exponents` fits ``time ~ N^b``.

Peak memory is the growth of the process's peak resident set (``VmHWM``), which Linux lets a
process reset (``/proc/self/clear_refs``); elsewhere it is reported as NaN.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from helpers.data.dataset import SkeletonDataset
from helpers.data.resampling import resample
from helpers.dtw.core import integer_argument
from helpers.dtw.cpu import pairwise_dtw
from helpers.geometry.knn_search import knn_dtw, recall_at_k

__all__ = [
    "METHODS",
    "all_pairs_knn",
    "augmented_clips",
    "growth_exponents",
    "hidden_width",
    "measure",
    "same_neighbours",
    "scaling_table",
]

#: The methods :func:`scaling_table` compares, in its order.
METHODS = ("all pairs", "exact kNN", "approximate kNN")


def augmented_clips(
    dataset: SkeletonDataset,
    n: int,
    *,
    speed: tuple[float, float] = (0.8, 1.25),
    noise: float = 0.01,
    up_axis: int = 1,
    random_state: int = 0,
) -> list[np.ndarray]:
    """``n`` sequences (T_i, V * C) float64, each a random clip of ``dataset``, altered.

    Each is played at a random speed in ``speed`` (linear resampling), turned about the
    ``up_axis`` by a uniform random angle, and given Gaussian noise of standard deviation
    ``noise`` (in the dataset's units: normalise it first, e.g.
    ``dataset.normalized(center='first', scale='height')``, for a share of the body height).

    Parameters
    ----------
    dataset : the clips, (T, V, C) each with C = 3.
    n : sequences to make.
    speed : range of playback speeds (> 1 is faster: fewer frames).
    noise : standard deviation of the added noise.
    up_axis : the vertical axis of the coordinates.
    random_state : seed.
    """
    n = integer_argument("n", n, low=1, expected="a positive int")
    up_axis = integer_argument("up_axis", up_axis, low=0, high=2)
    if not 0 < speed[0] <= speed[1]:
        raise ValueError(f"speed={speed!r}; expected 0 < low <= high")
    rng = np.random.default_rng(random_state)
    other = [a for a in range(3) if a != up_axis]
    out = []
    for _ in range(int(n)):
        clip = np.asarray(dataset.sequences[int(rng.integers(len(dataset)))], np.float64)
        length = max(2, int(round(len(clip) / rng.uniform(*speed))))
        clip = resample(clip, length)
        angle = rng.uniform(-np.pi, np.pi)
        rot = np.eye(3)
        a, b = other
        rot[a, a], rot[a, b], rot[b, a], rot[b, b] = (
            np.cos(angle),
            np.sin(angle),
            -np.sin(angle),
            np.cos(angle),
        )
        clip = clip @ rot.T + rng.normal(0.0, noise, clip.shape)
        out.append(np.ascontiguousarray(clip.reshape(len(clip), -1)))
    return out


def hidden_width(X: Sequence[np.ndarray], width: int, random_state: int = 0) -> list[np.ndarray]:
    """``X`` through a fixed random layer ``relu(x W)``: (T_i, width) float32 each.

    ``W`` is (D, width) Gaussian with variance 2 / D (He initialisation), the same for all
    sequences, so distances stay meaningful; like an ST-GCN block's features, the result is
    wide, non-negative and correlated across its dimensions.
    """
    width = integer_argument("width", width, low=1, expected="a positive int")
    D = X[0].shape[1]
    W = np.random.default_rng(random_state).normal(0.0, np.sqrt(2.0 / D), (D, int(width)))
    return [np.maximum(np.asarray(x) @ W, 0.0).astype(np.float32) for x in X]


def all_pairs_knn(X, k: int, window, rows: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest neighbours from all pairs: ``pairwise_dtw``, then a top k per row.

    The reference the kNN searches must reproduce: rows sorted by (distance, index), self
    excluded. The top k runs over blocks of ``rows`` rows, so that beyond the (N, N) matrix
    it needs little memory.
    """
    rows = integer_argument("rows", rows, low=1)
    k = integer_argument("k", k, low=1)  # its type before the DTW of all pairs, its range after
    D = pairwise_dtw(X, window=window)
    n = len(D)
    integer_argument("k", k, high=n - 1, expected=f"an int in 1..N-1 = 1..{n - 1}")
    idx = np.empty((n, k), np.int64)
    dist = np.empty((n, k))
    cols = np.arange(n)
    for a in range(0, n, rows):
        b = min(n, a + rows)
        block = D[a:b].copy()
        block[np.arange(b - a), np.arange(a, b)] = np.inf
        order = np.lexsort((np.broadcast_to(cols, block.shape), block), axis=1)[:, :k]
        idx[a:b] = order
        dist[a:b] = np.take_along_axis(block, order, axis=1)
    return idx, dist


def same_neighbours(found, reference, rtol: float = 1e-5) -> float:
    """Share of rows whose k neighbours are those of ``reference``, up to rounding ties.

    A row counts as the same when its indices are identical, or when its distances equal the
    reference's to ``rtol`` and every index that differs sits among reference distances
    that tie with it to ``rtol`` (sums rounded differently may order such ties either way:
    ``pairwise_dtw`` sums float32 frame costs in float32 and large-D ones through a Gram
    matrix, ``knn_dtw`` in float64, directly).

    Parameters
    ----------
    found, reference : ``(indices, distances)`` pairs, each (N, k).
    """
    (idx, dist), (ref_idx, ref_dist) = found, reference
    same = 0
    for a, da, b, db in zip(idx, dist, ref_idx, ref_dist):
        if np.array_equal(a, b):
            same += 1
            continue
        if not np.allclose(da, db, rtol=rtol, atol=0):
            continue
        # a neighbour both have must be at the same distance in both; one only found here
        # must tie with the reference's k-th (it took the place of an equally near one)
        ref_of = dict(zip(b.tolist(), db.tolist()))
        same += all(
            np.isclose(d, ref_of.get(j, db[-1]), rtol=rtol, atol=0)
            for j, d in zip(a.tolist(), da.tolist())
        )
    return same / len(idx) if len(idx) else 1.0


def _read_status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1]) * 1024.0  # kB
    raise OSError(f"no {field} in /proc/self/status")


def measure(fn: Callable[[], object]) -> tuple[object, float, float]:
    """Run ``fn()``: its result, wall seconds, and the peak memory it added in MiB.

    The peak is the process's peak resident set during the call minus its resident set
    before (Linux; NaN where the peak cannot be reset).
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        before = _read_status("VmRSS")
    except OSError:
        before = None
    t = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t
    if before is None:
        return out, seconds, float("nan")
    return out, seconds, max(0.0, _read_status("VmHWM") - before) / 2**20


def scaling_table(
    X: Sequence[np.ndarray],
    sizes: Sequence[int],
    *,
    k: int = 10,
    window=0.1,
    methods: Sequence[str] = METHODS,
    all_pairs_max: int | None = None,
    candidates: int | None = None,
    label: str = "",
    progress: bool = False,
) -> pd.DataFrame:
    """Time and peak memory of each method for the first n sequences of ``X``, n in ``sizes``.

    Parameters
    ----------
    X : at least ``max(sizes)`` sequences (T_i, D).
    sizes : the N to measure, increasing.
    k, window : the neighbours per sequence and the DTW band.
    methods : a subset of :data:`METHODS`.
    all_pairs_max : run all pairs only up to this N (its (N, N) matrix and time grow as N^2);
        exact kNN is then checked against itself only and its ``same`` is NaN.
    candidates : approximate mode's candidates per sequence (default 5 k).
    label : a name for the data (e.g. ``'input, D=93'``), the ``data`` column.
    progress : a progress bar over (N, method).

    Returns
    -------
    DataFrame with one row per (N, method): ``data``, ``n``, ``method``, ``seconds``,
    ``peak_mib``, ``pairs_dtw`` (share of the N (N - 1) pairs whose full DTW ran),
    ``same`` (exact kNN: share of rows with the neighbours of all pairs, up to rounding ties,
    see :func:`same_neighbours`), ``recall`` (of the
    approximate mode against exact, at k), ``speedup`` (all-pairs time / this time, at that
    N, NaN where all pairs did not run).
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"methods {unknown}; expected a subset of {METHODS}")
    k = integer_argument("k", k, low=1)
    sizes = [integer_argument(f"sizes[{i}]", s, low=1) for i, s in enumerate(sizes)]
    if all_pairs_max is not None:
        integer_argument("all_pairs_max", all_pairs_max, low=1, expected="a positive int or None")
    if candidates is not None:
        integer_argument("candidates", candidates, low=k, expected=f"an int >= k = {k}, or None")
    if not sizes or max(sizes) > len(X) or min(sizes) <= k:
        raise ValueError(f"sizes={sizes}; expected values in k+1..len(X) = {k + 1}..{len(X)}")
    # numba compilation (or loading it from its cache) and faiss's first call, untimed
    few = list(X[: min(len(X), 3 * k + 2)])
    knn_dtw(few, k, window)
    knn_dtw(few, k, window, mode="approximate", candidates=min(len(few) - 1, 2 * k))
    all_pairs_knn(few, k, window)
    rows = []
    steps = [(n, m) for n in sizes for m in methods]
    with tqdm(total=len(steps), desc="scaling", disable=not progress) as bar:
        for n in sizes:
            sub = list(X[:n])
            found: dict[str, tuple] = {}
            for method in methods:
                bar.set_postfix_str(f"N={n}, {method}")
                row = {"data": label, "n": n, "method": method}
                if method == "all pairs":
                    if all_pairs_max is not None and n > all_pairs_max:
                        bar.update()
                        continue
                    out, sec, mib = measure(lambda: all_pairs_knn(sub, k, window))
                    row["pairs_dtw"] = 1.0
                elif method == "exact kNN":
                    out, sec, mib = measure(lambda: knn_dtw(sub, k, window, return_stats=True))
                    row["pairs_dtw"] = out[2].dtw / (n * (n - 1))
                else:
                    out, sec, mib = measure(
                        lambda: knn_dtw(
                            sub,
                            k,
                            window,
                            mode="approximate",
                            candidates=candidates,
                            return_stats=True,
                        )
                    )
                    row["pairs_dtw"] = out[2].dtw / (n * (n - 1))
                found[method] = out
                row.update(seconds=sec, peak_mib=mib)
                rows.append(row)
                bar.update()
            ref = found.get("all pairs")
            exact = found.get("exact kNN")
            for row in rows[-len(found) :]:
                if row["method"] == "exact kNN" and ref is not None:
                    row["same"] = same_neighbours(exact[:2], ref[:2])
                if row["method"] == "approximate kNN" and exact is not None:
                    row["recall"] = recall_at_k(found["approximate kNN"][0], exact[0])
    table = pd.DataFrame(
        rows,
        columns=[
            "data",
            "n",
            "method",
            "seconds",
            "peak_mib",
            "pairs_dtw",
            "same",
            "recall",
        ],
    )
    base = table[table["method"] == "all pairs"].set_index("n")["seconds"]
    table["speedup"] = table["n"].map(base) / table["seconds"]
    return table


def growth_exponents(table: pd.DataFrame) -> pd.DataFrame:
    """The least-squares slope b of log(seconds) against log(N), per data and method.

    Returns a DataFrame with ``data``, ``method``, ``exponent`` and ``points`` (the N used);
    a method measured at fewer than two N gets NaN.
    """
    out = []
    for (data, method), part in table.groupby(["data", "method"], sort=False):
        part = part.dropna(subset=["seconds"])
        if part["n"].nunique() >= 2:
            slope = float(np.polyfit(np.log(part["n"]), np.log(part["seconds"]), 1)[0])
        else:
            slope = float("nan")
        out.append({"data": data, "method": method, "exponent": slope, "points": len(part)})
    return pd.DataFrame(out, columns=["data", "method", "exponent", "points"])
