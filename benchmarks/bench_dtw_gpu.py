"""DTW on the GPU (``helpers.dtw.gpu``) against the numba kernels on the CPU, in one run.

    python benchmarks/bench_dtw_gpu.py                 # N = 1000 all pairs, N = 3000 kNN
    python benchmarks/bench_dtw_gpu.py --quick         # N = 200 and 400, torch on the CPU
                                                       # without CUDA: a check, not a timing

Workloads (seeded): N random walks of lengths 20 to 80 with D = 75 features (the input's width
on HDM05 is 93; 75 is NTU's 25 joints x 3), a Sakoe-Chiba band of radius 8 frames (window 0.1
of the longest, 80). Timed:

* all pairs: :func:`helpers.dtw.cpu.pairwise_dtw` (numba, all cores) against
  :func:`helpers.dtw.gpu.pairwise_dtw_torch` with float64 and float32 inner products;
* k = 10 nearest neighbours: :func:`helpers.geometry.knn_search.knn_dtw` (numba, exact,
  lower-bound pruning) against :func:`helpers.dtw.gpu.knn_dtw_torch`.

Every GPU result is checked against the CPU one first (distances ``allclose``, rtol 1e-9 for
float64 and 1e-4 for float32 inner products; neighbours: the share of rows with the same set).
Times are the best of ``--repeat`` runs after a warm-up (numba compilation, CUDA context).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.dtw.cpu import pairwise_dtw  # noqa: E402
from helpers.dtw.gpu import knn_dtw_torch, pairwise_dtw_torch  # noqa: E402
from helpers.geometry.knn_search import knn_dtw  # noqa: E402
from helpers.runtime.device import resolve_device  # noqa: E402

RADIUS = 8
D = 75
K = 10


def random_walks(n: int, seed: int = 0) -> list[np.ndarray]:
    """n random walks (T_i, D), T_i uniform in 20..80."""
    rng = np.random.default_rng(seed)
    return [np.cumsum(rng.standard_normal((int(t), D)), axis=0) for t in rng.integers(20, 81, n)]


def best(fn, repeat: int, device: torch.device):
    out, times = None, []
    for _ in range(repeat):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        out = fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t0)
    return out, min(times)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="sequences for all pairs")
    ap.add_argument("--knn-n", type=int, default=3000, help="sequences for kNN")
    ap.add_argument("--quick", action="store_true", help="N = 200 and 400: a check, not a timing")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--device", default="auto", help="where the torch variant runs")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.knn_n, args.repeat = 200, 400, 1
    device = resolve_device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (torch)"
    window = RADIUS  # an int window is a radius in frames
    rows = []

    X = random_walks(args.n)
    small = X[:20]
    pairwise_dtw(small, window=window)  # numba compilation or its cache
    pairwise_dtw_torch(small, window=window, device=device)
    ref, t_cpu = best(lambda: pairwise_dtw(X, window=window), args.repeat, device)
    rows.append({"task": f"all pairs N={args.n}", "method": "numba (CPU)", "seconds": t_cpu})
    for gram in (torch.float64, torch.float32):
        got, t = best(
            lambda g=gram: pairwise_dtw_torch(X, window=window, device=device, gram_dtype=g),
            args.repeat,
            device,
        )
        rtol = 1e-9 if gram == torch.float64 else 1e-4
        ok = bool(np.allclose(got, ref, rtol=rtol, atol=1e-9))
        rows.append(
            {
                "task": f"all pairs N={args.n}",
                "method": f"torch {name}, {str(gram).replace('torch.', '')} products",
                "seconds": t,
                "speedup": t_cpu / t,
                "agrees": ok,
            }
        )

    Xk = random_walks(args.knn_n, seed=1)
    knn_dtw(Xk[:50], K, window=window)
    (ref_idx, _), t_cpu = best(lambda: knn_dtw(Xk, K, window=window), args.repeat, device)
    rows.append({"task": f"kNN k={K} N={args.knn_n}", "method": "numba (CPU)", "seconds": t_cpu})
    (idx, _), t = best(
        lambda: knn_dtw_torch(Xk, K, window=window, device=device), args.repeat, device
    )
    same = float(np.mean([set(a) == set(b) for a, b in zip(idx, ref_idx)]))
    rows.append(
        {
            "task": f"kNN k={K} N={args.knn_n}",
            "method": f"torch {name}",
            "seconds": t,
            "speedup": t_cpu / t,
            "agrees": same,
        }
    )

    print(f"DTW, random walks of 20-80 frames, D={D}, radius {RADIUS}; torch on {name}")
    print(f"{'task':<22} {'method':<40} {'seconds':>8} {'x CPU':>7} {'agrees':>7}")
    for r in rows:
        sp = f"{r['speedup']:7.3g}" if "speedup" in r else f"{'':>7}"
        ag = f"{r['agrees']!s:>7}" if "agrees" in r else ""
        print(f"{r['task']:<22} {r['method']:<40} {r['seconds']:8.2f} {sp} {ag}")
    if args.json:
        args.json.write_text(json.dumps({"device": name, "rows": rows}))


if __name__ == "__main__":
    main()
