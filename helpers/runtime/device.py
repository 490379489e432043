"""Pick the compute device: CUDA when present, else CPU, with one code path for both."""

from __future__ import annotations

import torch

__all__ = [
    "resolve_device",
]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Return a :class:`torch.device`.

    ``'auto'`` (or ``None``) picks ``cuda`` when a GPU is visible, else ``cpu``. An explicit
    ``'cuda'`` on a machine without one raises a clear :class:`RuntimeError`.
    """
    if device is None or (isinstance(device, str) and device.lower() == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device={device!r} was asked for, but torch sees no CUDA device; use 'auto' or 'cpu'"
        )
    return dev
