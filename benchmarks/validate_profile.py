"""Validate a profile's settings on held-out training subjects (never the test subjects).

    python benchmarks/validate_profile.py --dataset utd-mhad
    python benchmarks/validate_profile.py --dataset hdm05 --set train_heading=first \
        --set 'train_augment={"crop": [0.8, 1.0], "speed": [0.8, 1.25]}' --seeds 0 1

Each ``--set KEY=VALUE`` is a :meth:`helpers.training.profiles.Profile.replace` keyword (the
value read as JSON when it parses, else as a string). Every training subject is held out in
turn (:func:`helpers.studies.held_out_validation`); the table of top-1 accuracies per held-out
subject and seed, and their mean, is printed and, with ``--json``, written to a file. Trained
networks are cached, so a setting already validated costs nothing the second time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.studies import StudyContext, held_out_validation  # noqa: E402
from helpers.training.profiles import DATASET_CHANGES, for_dataset, get_profile  # noqa: E402


def parse_setting(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` with the value as JSON when it parses, else as text."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--set {text!r}: expected KEY=VALUE")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--dataset", default="hdm05")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--subjects", nargs="*", default=None, help="default: every training one")
    ap.add_argument("--set", type=parse_setting, action="append", default=[], dest="changes")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    changes = dict(args.changes)
    # the changes first, then the data: a change of the frame rate must reach the loaded clips
    profile = (
        for_dataset(args.profile, args.dataset)
        if args.dataset in DATASET_CHANGES
        else (get_profile(args.profile))
    )
    profile = profile.replace(**changes) if changes else profile
    ctx = StudyContext.create(profile, dataset=args.dataset, device=args.device)
    start = time.perf_counter()
    table = held_out_validation(ctx, seeds=args.seeds, subjects=args.subjects)
    wall = time.perf_counter() - start
    print(f"{args.profile} on {ctx.dataset_name}, changes {changes or 'none'}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        f"mean top-1 {table.top1.mean():.3f} (balanced {table.balanced_top1.mean():.3f}) over "
        f"{len(table)} runs; {wall:.0f} s"
    )
    if args.json is not None:
        record = {
            "profile": args.profile,
            "dataset": ctx.dataset_name,
            "changes": changes,
            "runs": table.to_dict(orient="records"),
            "mean_top1": float(table.top1.mean()),
        }
        args.json.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
