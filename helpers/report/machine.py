"""What a build ran on, and measurements recorded elsewhere (``book/measurements/*.json``)."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from helpers.runtime.device import resolve_device

__all__ = [
    "load_measurements",
    "machine_info",
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
