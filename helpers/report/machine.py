"""What a build ran on, and measurements recorded elsewhere (``book/measurements/*.json``)."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from helpers import studies
from helpers.report.chapters import separation_results
from helpers.report.numbers import CHAPTER_TITLES, format_value
from helpers.runtime.device import resolve_device
from helpers.studies import StudyContext
from helpers.training import study_settings

__all__ = [
    "load_measurements",
    "machine_info",
    "profile_comparison",
    "profile_measurement",
]


def machine_info(device: str | torch.device = "auto") -> dict[str, Any]:
    """What this build ran on: platform, Python, torch, CPU cores, the accelerator, the date."""
    dev = resolve_device(device)
    gpu = torch.cuda.get_device_name(dev) if dev.type == "cuda" else None
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu cores": os.cpu_count(),
        "torch threads": torch.get_num_threads(),
        "device": str(dev),
        "gpu": gpu or "none",
        "cuda available": torch.cuda.is_available(),
        "date": time.strftime("%Y-%m-%d"),
    }


def load_measurements(folder: str | Path) -> pd.DataFrame | None:
    """Measurements stored as ``folder/*.json``, one row per record, or ``None`` if there are none.

    Each file holds one JSON object (one record) or a list of objects; nested objects are
    flattened to dotted column names. A ``file`` column names the source. A file that is not
    valid JSON, or holds something else, raises a ``ValueError`` naming it.
    """
    folder = Path(folder)
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        return None
    rows = []
    for path in files:
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ValueError(f"measurements file {path}: cannot be read as JSON ({err})") from err
        records = content if isinstance(content, list) else [content]
        if not records or not all(isinstance(r, dict) for r in records):
            raise ValueError(f"measurements file {path}: expected an object or a list of objects")
        table = pd.json_normalize(records)
        table.insert(0, "file", path.name)
        rows.append(table)
    return pd.concat(rows, ignore_index=True)


def profile_measurement(
    ctx: StudyContext, seeds: tuple[int, ...] | None = None, commit: str | None = None
) -> dict[str, Any]:
    """One record of a profile's trained networks: chapter 2 per seed, chapter 4's headline.

    Trains (or loads from the cache) ``ctx.profile``'s network for every seed (``None``: the
    profile's geometry seeds, as chapter 4 uses) and runs chapter 4's
    :func:`~helpers.report.chapters.separation_results` on them. The record is what
    :func:`load_measurements` reads back: ``profile``, ``dataset``, ``date``, ``commit``,
    ``machine`` (:func:`machine_info`), ``per_seed`` (test top-1, balanced top-1, epochs and
    training seconds of each seed, and where it trained), ``chapter_02`` (their mean, min and
    max) and ``chapter_04`` (chapter 4's table of headline numbers, key -> value).
    """
    if seeds is None:
        seeds = tuple(study_settings(ctx.profile, "geometry")["seeds"])
    per_seed = []
    for seed in seeds:
        _, result = studies.get_trained_model(ctx, seed=int(seed))
        per_seed.append(
            {
                "seed": int(seed),
                "test_top1": float(result.test.accuracy),
                "balanced_top1": float(result.test.balanced_accuracy),
                "epochs": int(result.epochs_done),
                "train_seconds": float(result.train_seconds),
                "trained_on": result.device,
            }
        )
    top1 = np.array([r["test_top1"] for r in per_seed])
    seconds = np.array([r["train_seconds"] for r in per_seed])
    geometry = separation_results(ctx, seeds=list(seeds))
    return {
        "what": f"the {ctx.profile.name} profile's networks, chapters 2 and 4",
        "profile": ctx.profile.name,
        "dataset": ctx.dataset_name,
        "date": time.strftime("%Y-%m-%d"),
        "commit": commit,
        "machine": machine_info(ctx.device),
        "per_seed": per_seed,
        "chapter_02": {
            "test_top1_mean": float(top1.mean()),
            "test_top1_min": float(top1.min()),
            "test_top1_max": float(top1.max()),
            "train_seconds_mean": float(seconds.mean()),
        },
        "chapter_04": {
            str(row.key): float(row.value) for row in geometry.numbers.itertuples(index=False)
        },
    }


def profile_comparison(measurements: pd.DataFrame | None, headline: pd.DataFrame) -> pd.DataFrame:
    """Chapters 2 and 4's numbers of this build beside each recorded profile measurement.

    Parameters
    ----------
    measurements : :func:`load_measurements`'s table (records of :func:`profile_measurement`
        have ``chapter_02.*`` and ``chapter_04.*`` columns; other records are left out)
    headline : :func:`helpers.report.numbers.headline_table` of this build

    Returns
    -------
    One row per chapter 4 number this build has (its quantity as index), and chapter 2's
    training time; one column for this build and one per recorded measurement (named by
    ``profile, device, date``), formatted with the number's unit. Empty when there is no profile
    record.
    """
    if measurements is None or "chapter_02.test_top1_mean" not in measurements:
        return pd.DataFrame()
    records = measurements.dropna(subset=["chapter_02.test_top1_mean"])
    chapter2 = headline[
        (headline["chapter"] == CHAPTER_TITLES["02_training"])
        & (headline["key"] == "train_seconds")
    ]
    chapter4 = headline[headline["chapter"] == CHAPTER_TITLES["04_embedding_geometry"]]
    # (quantity, this build's value, the record's column, unit)
    rows = [
        ("training time of one network (chapter 2; recorded: mean over seeds)", v, u, col)
        for v, u, col in zip(chapter2["value"], chapter2["unit"], ["chapter_02.train_seconds_mean"])
    ] + [
        (q, v, u, f"chapter_04.{k}")
        for q, k, v, u in zip(
            chapter4["quantity"], chapter4["key"], chapter4["value"], chapter4["unit"]
        )
    ]
    table = {"this build": [format_value(v, u) for _, v, u, _ in rows]}
    for _, rec in records.iterrows():
        device = rec.get("machine.gpu")
        device = device if isinstance(device, str) and device != "none" else "CPU"
        name = f"{rec.get('profile')}, {device}, {rec.get('date')}"
        table[name] = [
            format_value(float(rec[col]) if col in rec else np.nan, u) for _, _, u, col in rows
        ]
    return pd.DataFrame(table, index=[q for q, _, _, _ in rows])
