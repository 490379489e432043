"""Benchmark kNN under DTW: all pairs, exact kNN and approximate kNN, time and peak memory.

    python benchmarks/bench_knn_dtw.py                 # input width, N = 500 .. 20000 (~25 min)
    python benchmarks/bench_knn_dtw.py --quick         # N = 300, 600, 1200 at both widths (~2 min)
    python benchmarks/bench_knn_dtw.py --width hidden  # at a hidden layer's width only

Data (``helpers.geometry.scaling.augmented_clips``): N sequences made from the HDM05 clips at 10 fps
(``$STGCN_DATA_DIR``), centred on the first frame's root and divided by the skeleton height,
each a random clip played at a random speed (0.8 to 1.25), turned about the vertical axis by
a random angle and given Gaussian noise of 1% of the height: (T_i, 93) float64, T_i from 4 to
95 frames. "hidden": the same through a fixed random ReLU layer to 1984 = 64 channels x 31
joints float32 features, the width of an ST-GCN's first blocks on HDM05
(``helpers.geometry.scaling.hidden_width``). Window 0.1, k = 10, all cores for every method.

For every N all methods run on the same data, in this process, after a warm-up (numba
compilation or its cache, faiss's first call): all pairs is ``pairwise_dtw`` and a top k per
row; exact kNN must give the neighbours of all pairs (``same``: share of rows, rounding ties
aside) and approximate kNN (5 k = 50 candidates per sequence from the segment embedding, with
faiss) is scored by its recall@10 against exact. The table gives each method's time, the peak
memory it added (resident set, Linux), the share of pairs whose full DTW ran, and the speed-up
over all pairs; at the end the growth exponent of each method's time (least-squares slope of
log time against log N). All pairs above ``--all-pairs-max`` is not run (its matrix alone is
8 N^2 bytes: 3.2 GB at N = 20000).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.data.hdm05 import load_hdm05  # noqa: E402
from helpers.geometry.scaling import (  # noqa: E402
    augmented_clips,
    growth_exponents,
    hidden_width,
    scaling_table,
)

K = 10
WINDOW = 0.1
HIDDEN = 1984  # 64 channels x 31 joints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N only (about 2 minutes)")
    parser.add_argument("--sizes", type=str, default=None, help="comma-separated N")
    parser.add_argument("--width", choices=["input", "hidden", "both"], default=None)
    parser.add_argument("--all-pairs-max", type=int, default=20000)
    parser.add_argument("--csv", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    else:
        sizes = [300, 600, 1200] if args.quick else [500, 1000, 2000, 5000, 10000, 20000]
    width = args.width or ("both" if args.quick else "input")
    ds = load_hdm05(fps=10.0, progress=False).normalized(center="first", scale="height")
    X = augmented_clips(ds, max(sizes), random_state=0)
    tables = []
    if width in ("input", "both"):
        tables.append(
            scaling_table(
                X, sizes, k=K, window=WINDOW, all_pairs_max=args.all_pairs_max, label="input D=93"
            )
        )
        print_table(tables[-1])
    if width in ("hidden", "both"):
        H = hidden_width(X, HIDDEN, random_state=0)
        tables.append(
            scaling_table(
                H,
                sizes,
                k=K,
                window=WINDOW,
                all_pairs_max=args.all_pairs_max,
                label=f"hidden D={HIDDEN}",
            )
        )
        print_table(tables[-1])
    table = pd.concat(tables, ignore_index=True)
    print("\ngrowth exponents (time ~ N^b):")
    for row in growth_exponents(table).itertuples():
        print(f"  {row.data:>14} {row.method:>16}: b = {row.exponent:.2f} ({row.points} N)")
    if args.csv:
        table.to_csv(args.csv, index=False)


def print_table(table: pd.DataFrame) -> None:
    print(f"\n## {table['data'].iloc[0]}, k = {K}, window {WINDOW}")
    print("| N | method | time s | peak MiB | full DTW | same | recall@10 | speed-up |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in table.itertuples():

        def fmt(v, spec):
            return "" if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, spec)

        print(
            f"| {r.n} | {r.method} | {r.seconds:.2f} | {fmt(r.peak_mib, '.0f')} | "
            f"{r.pairs_dtw:.2%} | {fmt(r.same, '.3f')} | {fmt(r.recall, '.3f')} | "
            f"{fmt(r.speedup, '.1f')} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
