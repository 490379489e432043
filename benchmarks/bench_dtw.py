"""Benchmark ``helpers.dtw.cpu.pairwise_dtw`` against dtaidistance, aeon and tslearn.

    python benchmarks/bench_dtw.py            # N = 300 sequences per workload (~7 min)
    python benchmarks/bench_dtw.py --quick    # N = 60, one run per peer (~30 s)

Workloads (seeded): N sequences of random lengths 20..80 with D = 75 (a), 2048 (b) and 1 (c)
features, a Sakoe-Chiba band of radius r = 8 frames (10 % of the longest length, 80) for every
pair. All libraries run in this process, on the same data, with all cores:

* ``dtaidistance``: ``dtw_ndim.distance_matrix_fast(..., window=r + 1, parallel=True)``
  (``dtw.distance_matrix_fast`` on 1-D arrays when D = 1, its faster layout); the same band.
* ``tslearn``: ``cdist_dtw(..., global_constraint="sakoe_chiba", sakoe_chiba_radius=r,
  n_jobs=-1)`` on its NaN-padded dataset; the same band (its mask matches ours for unequal
  lengths too).
* ``aeon``: ``dtw_pairwise_distance(..., window=w, n_jobs=-1)`` on (channels, time) arrays in
  the memory layout it runs fastest with (picked by a trial on a subset). aeon returns the sum
  without the square root, and its ``window`` is a fraction of the *shorter* length with a band
  that follows the diagonal of unequal lengths, so no ``w`` gives our band there. We pass
  ``w = 0.1``: its band (radius int(0.1 min(n, m)) <= 8) is a subset of ours, with about 37%
  of its cells for these lengths, so aeon's time there is flattered, and it is not counted
  as a same-band peer. aeon is
  compared (and checked) on a second data set of the same size with all lengths 50, where
  ``w = (r + 0.5) / T`` gives exactly radius r.

The equal-length data is timed twice: in float64 and rounded to float32 (layer features are
float32; ours then computes float32 frame costs, summed in float64), each library on the same
arrays. Every same-band result is checked against ours (``allclose``, rtol 1e-9; 1e-5 for
float32) before its time is reported; the ratio column compares ours with the fastest
same-band peer on the same data.
Numba compilation (or loading it from the cache) happens in a warm-up call, timed separately.
Times are the best of a few runs; on a shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.dtw.cpu import pairwise_dtw  # noqa: E402

RADIUS = 8
WORKLOADS = {"a": 75, "b": 2048, "c": 1}


def make_data(n: int, D: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed + D)
    lengths = rng.integers(20, 81, n)
    return [rng.standard_normal((int(t), D)) for t in lengths]


def best_time(fn, repeat: int, budget_s: float = 20.0):
    """Best wall time of up to ``repeat`` runs (fewer once ``budget_s`` is spent)."""
    best, result, spent = np.inf, None, 0.0
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t
        best, spent = min(best, dt), spent + dt
        if spent > budget_s:
            break
    return best, result


def upper(M: np.ndarray) -> np.ndarray:
    return M[np.triu_indices(M.shape[0], 1)]


# ------------------------------------------------------------------------------------------
# Peers: each returns a function computing the full (N, N) matrix with our conventions
# ------------------------------------------------------------------------------------------
def peer_dtaidistance(X, r):
    try:
        from dtaidistance import dtw, dtw_ndim
    except ImportError:
        return None
    if X[0].shape[1] == 1:
        series = [np.ascontiguousarray(x[:, 0]) for x in X]
        return lambda: dtw.distance_matrix_fast(series, window=r + 1, parallel=True)
    return lambda: dtw_ndim.distance_matrix_fast(X, window=r + 1, parallel=True)


def peer_tslearn(X, r):
    try:
        from tslearn.metrics import cdist_dtw
        from tslearn.utils import to_time_series_dataset
    except ImportError:
        return None
    data = to_time_series_dataset(X)  # (N, max T, D), NaN-padded; tslearn strips the padding
    return lambda: cdist_dtw(data, global_constraint="sakoe_chiba", sakoe_chiba_radius=r, n_jobs=-1)


def aeon_layouts(X):
    """(channels, time) arrays, C-contiguous copies or F-contiguous views of our arrays."""
    return {
        "(D, T) C-order": [np.ascontiguousarray(x.T) for x in X],
        "(D, T) F-order view": [x.T for x in X],
    }


def peer_aeon(X, window, layout):
    try:
        from aeon.distances import dtw_pairwise_distance
    except ImportError:
        return None
    data = aeon_layouts(X)[layout]
    return lambda: np.sqrt(dtw_pairwise_distance(data, window=window, n_jobs=-1))


def pick_aeon_layout(X) -> str | None:
    try:
        from aeon.distances import dtw_pairwise_distance
    except ImportError:
        return None
    sub = X[:40]
    times = {}
    for name, data in aeon_layouts(sub).items():
        dtw_pairwise_distance(data[:3], window=0.1, n_jobs=-1)  # compile for this layout
        times[name] = best_time(lambda: dtw_pairwise_distance(data, window=0.1, n_jobs=-1), 2)[0]
    return min(times, key=times.get)


# ------------------------------------------------------------------------------------------
def timed_rows(
    X, label: str, peers: dict, repeat: int, peer_repeat: int, same_band: set[str], rtol=1e-9
):
    """Time ours and each peer on X; check every peer against ours. Returns table rows."""
    ours_fn = lambda: pairwise_dtw(X, window=RADIUS)  # noqa: E731
    t_ours, ours = best_time(ours_fn, repeat)
    print(f"  [{label}] ours: {t_ours:.3f} s", flush=True)
    rows = [(label, "helpers.dtw.cpu.pairwise_dtw", t_ours, "reference", False)]
    for name, (fn, warm) in peers.items():
        warm()  # numba compilation in tslearn and aeon, on a few sequences
        t_peer, got = best_time(fn, peer_repeat)
        diff = np.abs(upper(got) - upper(ours)).max()
        if name in same_band:
            if not np.allclose(upper(got), upper(ours), rtol=rtol, atol=rtol):
                raise SystemExit(f"{name} disagrees with pairwise_dtw on {label}: {diff}")
            note = f"same band, agrees (max abs diff {diff:.0e})"
        else:
            note = "narrower slanted band (10% of shorter), not comparable"
        rows.append((label, name, t_peer, note, name in same_band))
        print(f"  [{label}] {name}: {t_peer:.3f} s, {note}", flush=True)
    return rows


def run_workload(key: str, n: int, repeat: int, peer_repeat: int, peers: list[str]) -> list:
    D = WORKLOADS[key]
    X = make_data(n, D)
    lengths = [x.shape[0] for x in X]
    print(
        f"\n## workload ({key}): N={n}, lengths {min(lengths)}..{max(lengths)}, D={D}, "
        f"radius r={RADIUS} frames, {n * (n - 1) // 2} pairs",
        flush=True,
    )

    # warm-up: numba compilation or cache loading, timed but not counted
    t = time.perf_counter()
    pairwise_dtw(X[:4], window=RADIUS)
    print(f"numba warm-up (compile or load from cache): {time.perf_counter() - t:.2f} s")
    layout = pick_aeon_layout(X) if "aeon" in peers else None
    if layout:
        print(f"aeon layout: {layout} (fastest on a 40-sequence trial)")

    few = X[:4]
    unequal = {}
    if "dtaidistance" in peers and (fn := peer_dtaidistance(X, RADIUS)):
        unequal["dtaidistance"] = (fn, lambda: peer_dtaidistance(few, RADIUS)())
    if "tslearn" in peers and (fn := peer_tslearn(X, RADIUS)):
        unequal["tslearn"] = (fn, lambda: peer_tslearn(few, RADIUS)())
    if layout:
        unequal["aeon"] = (peer_aeon(X, 0.1, layout), lambda: peer_aeon(few, 0.1, layout)())
    rows = timed_rows(
        X, "lengths 20-80, float64", unequal, repeat, peer_repeat, {"dtaidistance", "tslearn"}
    )
    if layout:
        # aeon cannot express our band for unequal lengths: compare on equal lengths, where
        # window = (r + 0.5) / T gives exactly radius r
        T = 50
        rng = np.random.default_rng(1000 + D)
        E = [rng.standard_normal((T, D)) for _ in range(n)]
        w = (RADIUS + 0.5) / T
        equal = {"aeon": (peer_aeon(E, w, layout), lambda: peer_aeon(E[:4], w, layout)())}
        rows += timed_rows(E, f"all lengths {T}, float64", equal, repeat, peer_repeat, {"aeon"})
        # layer features are float32: the same values rounded to float32, for both libraries
        # (ours computes float32 frame costs then, summed in float64; checked at 1e-5)
        E32 = [e.astype(np.float32) for e in E]
        equal = {"aeon": (peer_aeon(E32, w, layout), lambda: peer_aeon(E32[:4], w, layout)())}
        rows += timed_rows(
            E32, f"all lengths {T}, float32", equal, repeat, peer_repeat, {"aeon"}, rtol=1e-5
        )
    return [(key, D, *row) for row in rows]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 60 and one run per peer")
    ap.add_argument("--n", type=int, default=None, help="number of sequences (overrides --quick)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per method; the best counts")
    ap.add_argument("--workloads", default="abc", help="subset of 'abc'")
    ap.add_argument(
        "--peers",
        default="dtaidistance,aeon,tslearn",
        help="comma-separated subset of dtaidistance,aeon,tslearn",
    )
    args = ap.parse_args(argv)
    n = args.n or (60 if args.quick else 300)
    peer_repeat = 1 if args.quick else args.repeat
    peers = [p for p in args.peers.split(",") if p]
    warnings.filterwarnings("ignore", category=RuntimeWarning)

    print(
        f"pairwise DTW benchmark: {os.cpu_count()} cores, N={n}, best of {args.repeat} "
        f"(peers: {peer_repeat})"
    )
    rows = []
    for key in args.workloads:
        rows += run_workload(key, n, args.repeat, peer_repeat, peers)

    print("\n| workload | data | method | time (s) | ratio | check |")
    print("|---|---|---|---:|---|---|")
    groups = dict.fromkeys((r[0], r[2]) for r in rows)
    for key, label in groups:
        group = [r for r in rows if (r[0], r[2]) == (key, label)]
        t_ours = group[0][4]
        same = [r for r in group if r[6]]
        best = min(same, key=lambda r: r[4]) if same else None
        for _, D, _, name, t, note, _ in group:
            if name.startswith("helpers"):
                ratio = (
                    f"**{best[4] / t:.1f}x faster** than {best[3]}" if best else "no same-band peer"
                )
            else:
                ratio = f"{t / t_ours:.1f}x our time"
            print(f"| ({key}) D={D} | {label} | {name} | {t:.3f} | {ratio} | {note} |")


if __name__ == "__main__":
    main()
