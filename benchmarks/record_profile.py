"""Train a profile's networks once and record chapters 2 and 4's numbers in book/measurements/.

    python benchmarks/record_profile.py --profile paper             # this machine (CPU or CUDA)
    python benchmarks/record_profile.py --profile paper --device cuda --seeds 0 1 2

Trains (or loads from the cache) the profile's ST-GCN for each seed, runs chapter 4's
separation study on them (with its controls), and writes one JSON record
(:func:`helpers.report.machine.profile_measurement`: date, machine, commit, per-seed accuracy
and training time, chapter 4's headline numbers) to
``book/measurements/<profile>-<device>-<date>.json``, which the results page shows. The record
holds only numbers; nothing derived from the data is written there.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.report.machine import profile_measurement  # noqa: E402
from helpers.studies import StudyContext  # noqa: E402


def commit() -> str | None:
    """The checkout's commit (``+dirty`` when tracked files changed), or None outside git."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    except OSError:
        return None
    if rev.returncode:
        return None
    return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="paper")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seeds", type=int, nargs="*", default=None)
    ap.add_argument("--out", type=Path, default=None, help="the JSON file to write")
    args = ap.parse_args(argv)
    ctx = StudyContext.create(args.profile, dataset="hdm05", device=args.device, progress=True)
    start = time.perf_counter()
    record = profile_measurement(
        ctx, seeds=tuple(args.seeds) if args.seeds else None, commit=commit()
    )
    record["wall_seconds"] = time.perf_counter() - start
    out = args.out or ROOT / "book" / "measurements" / (
        f"{args.profile}-{ctx.device.type}-{record['date']}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, out)  # no half-written record is ever left under the final name
    print(f"wrote {out}")
    print(json.dumps(record["chapter_02"], indent=1))


if __name__ == "__main__":
    main()
