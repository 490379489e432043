"""Linear interpolation of frames at fractional positions: the one resampler behind frame-rate
conversion (HDM05), crop-and-resample augmentation and the fixed-length baselines."""
from __future__ import annotations

import numpy as np


def interpolation_plan(positions: np.ndarray, num_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For fractional frame ``positions`` (P,) in ``[0, num_frames - 1]``: the frames below and
    above each position and the weight of the upper one, as ((P,) int64, (P,) int64, (P,) float64)."""
    q = np.asarray(positions, dtype=np.float64)
    lo = np.clip(np.floor(q).astype(np.int64), 0, num_frames - 1)
    hi = np.minimum(lo + 1, num_frames - 1)
    return lo, hi, q - lo


def interpolate_frames(seq: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Frames of ``seq`` (T, ...) at fractional ``positions`` (P,): (P, ...) in seq's float dtype
    (float64 for integer input). Whole-number positions return stored frames exactly."""
    seq = np.asarray(seq)
    if not np.issubdtype(seq.dtype, np.floating):
        seq = seq.astype(np.float64)
    lo, hi, w = interpolation_plan(positions, len(seq))
    w = w.astype(seq.dtype).reshape((-1,) + (1,) * (seq.ndim - 1))
    return (1 - w) * seq[lo] + w * seq[hi]
