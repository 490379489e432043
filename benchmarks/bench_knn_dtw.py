"""Benchmark exact kNN under DTW (``helpers.knn_dtw``) against all pairs (``pairwise_dtw``).

    python benchmarks/bench_knn_dtw.py            # N = 500, 1000, 2000, 5000, 10000 (~6 min)
    python benchmarks/bench_knn_dtw.py --quick    # N = 300, 600, 1200 (~1 min)

Data: N sequences made from the HDM05 clips at 10 fps (``$STGCN_DATA_DIR``), centred on the
first frame's root and divided by the skeleton height, each a random clip played at a random
speed (0.8 to 1.25, linear resampling), turned about the vertical axis by a random angle and
given Gaussian noise of 1% of the height: (T_i, 93) float64, T_i from 4 to 95 frames. Window
0.1, k = 10, all cores for both.

For every N both are timed on the same data, the neighbours are checked to be identical (the
k nearest of all pairs, ties by index), and the table prints the speed ratio (all pairs time /
kNN time), the share of pairs whose DTW never ran, and at the end the growth exponent of each
method's time (least-squares slope of log time against log N). The all-pairs kNN includes its
argsort. Numba compilation happens in a warm-up call.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.data.hdm05 import load_hdm05  # noqa: E402
from helpers.data.resampling import resample  # noqa: E402
from helpers.dtw import pairwise_dtw  # noqa: E402
from helpers.knn_dtw import knn_dtw  # noqa: E402

K = 10
WINDOW = 0.1


def make_data(n: int, seed: int = 0) -> list[np.ndarray]:
    """N augmented HDM05 clips as (T_i, V*C) float64 sequences (see the module docstring)."""
    ds = load_hdm05(fps=10.0, progress=False).normalized(center="first", scale="height")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        clip = ds.sequences[int(rng.integers(len(ds)))]  # (T, V, 3), y up
        length = max(2, int(round(len(clip) / rng.uniform(0.8, 1.25))))
        clip = resample(clip, length)
        angle = rng.uniform(-np.pi, np.pi)
        c, s = np.cos(angle), np.sin(angle)
        rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        clip = clip @ rot.T + rng.normal(0, 0.01, clip.shape)
        out.append(np.ascontiguousarray(clip.reshape(len(clip), -1), np.float64))
    return out


def all_pairs_knn(X: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    D = pairwise_dtw(X, window=WINDOW)
    np.fill_diagonal(D, np.inf)
    n = len(X)
    order = np.lexsort((np.broadcast_to(np.arange(n), D.shape), D), axis=1)[:, :K]
    return order, np.take_along_axis(D, order, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N only (about a minute)")
    args = parser.parse_args()
    sizes = (300, 600, 1200) if args.quick else (500, 1000, 2000, 5000, 10000)
    warm = make_data(40, seed=99)
    t = time.perf_counter()
    knn_dtw(warm, 3, WINDOW)
    all_pairs_knn(warm)
    print(f"warm-up (numba compilation or cache load): {time.perf_counter() - t:.1f} s")
    print(f"{'N':>6} {'all pairs s':>12} {'kNN s':>8} {'ratio':>7} {'DTW avoided':>12} same")
    times = []
    for n in sizes:
        X = make_data(n)
        t = time.perf_counter()
        ref_idx, ref_dist = all_pairs_knn(X)
        t_all = time.perf_counter() - t
        t = time.perf_counter()
        idx, dist, stats = knn_dtw(X, K, WINDOW, return_stats=True)
        t_knn = time.perf_counter() - t
        same = bool((idx == ref_idx).all() and np.allclose(dist, ref_dist, rtol=1e-9))
        times.append((n, t_all, t_knn))
        print(
            f"{n:>6} {t_all:>12.2f} {t_knn:>8.2f} {t_all / t_knn:>6.2f}x {stats.pruned:>11.1%} "
            f"{'yes' if same else 'NO'}",
            flush=True,
        )
    arr = np.array(times)
    if len(arr) >= 2:
        logn = np.log(arr[:, 0])
        for name, col in (("all pairs", 1), ("kNN", 2)):
            slope = np.polyfit(logn, np.log(arr[:, col]), 1)[0]
            print(f"growth exponent, {name}: time ~ N^{slope:.2f}")


if __name__ == "__main__":
    main()
