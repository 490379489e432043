"""Resampling sequences in time: the one resampler of the project.

Everything that changes the number of frames of a sequence goes through here, by linear
interpolation of frames at fractional positions:

* :func:`resample` brings a sequence to a given number of frames (the fixed-length model
  inputs, the resampled Euclidean baseline);
* :func:`crop_resample` does the same for a window ``[start, stop]`` of it (crop augmentation);
* :func:`resample_fps` changes the frame rate (HDM05's 120 Hz to the profile's rate), through
  :func:`fps_positions`;
* :func:`interpolation_plan` and :func:`interpolate_frames` are the primitive underneath, public
  so that a loader can interpolate only what it needs (HDM05 runs forward kinematics only on the
  frames the new time grid touches).

Conventions, the same for every function:

* a sequence is an array ``(T, ...)``: the first axis is time, the rest is left alone (joints,
  coordinates, bodies);
* the result keeps the input's floating dtype (float32 stays float32); integers become float64;
* by frame count, ``length`` output frames sit evenly from the window's first to its last frame,
  so both ends are kept exactly; a single output frame is the window's middle (its time centre),
  and a one-frame input is repeated;
* whole-number positions return stored frames exactly (no rounding drift), so decimation by an
  integer ratio keeps every bone length.
"""

from __future__ import annotations

import numpy as np

from helpers.data.validation import check_fps
from helpers.runtime.arguments import check_int, check_number

__all__ = [
    "crop_resample",
    "fps_positions",
    "frame_positions",
    "interpolate_frames",
    "interpolation_plan",
    "resample",
    "resample_fps",
]


def _as_frames(seq, what: str = "sequence") -> np.ndarray:
    arr = np.asarray(seq)
    if arr.ndim == 0:
        raise ValueError(f"{what} is a scalar; expected an array (T, ...) with time first")
    if arr.shape[0] == 0:
        raise ValueError(f"{what} has zero frames (shape {arr.shape}); expected at least one")
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise TypeError(f"{what} has dtype {arr.dtype}; expected real numbers")
    return arr


def interpolation_plan(
    positions: np.ndarray, num_frames: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames below and above fractional positions, and the weight of the upper one.

    Parameters
    ----------
    positions : (P,) fractional frame positions in ``[0, num_frames - 1]``.
    num_frames : T, the number of frames of the sequence.

    Returns
    -------
    lo, hi : (P,) int64 frame indices; w : (P,) float64 weight of ``hi`` (``1 - w`` of ``lo``).
    """
    num_frames = check_int("num_frames", num_frames, low=1)
    q = np.asarray(positions, dtype=np.float64)
    lo = np.clip(np.floor(q).astype(np.int64), 0, num_frames - 1)
    hi = np.minimum(lo + 1, num_frames - 1)
    return lo, hi, q - lo


def interpolate_frames(seq: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Frames of ``seq`` (T, ...) at fractional ``positions`` (P,): an array (P, ...).

    The result has seq's floating dtype (float64 for integer input). Whole-number positions
    return stored frames exactly.
    """
    seq = _as_frames(seq)
    if not np.issubdtype(seq.dtype, np.floating):
        seq = seq.astype(np.float64)
    lo, hi, w = interpolation_plan(positions, len(seq))
    w = w.astype(seq.dtype).reshape((-1,) + (1,) * (seq.ndim - 1))
    return (1 - w) * seq[lo] + w * seq[hi]


def frame_positions(start: float, stop: float, length: int) -> np.ndarray:
    """(length,) float64 positions evenly from ``start`` to ``stop``; one frame: the middle."""
    length = check_int("length", length, low=1)
    start, stop = check_number("start", start), check_number("stop", stop)
    if length == 1:
        return np.array([(start + stop) / 2.0])
    return np.linspace(start, stop, length)


def crop_resample(seq: np.ndarray, start: float, stop: float, length: int) -> np.ndarray:
    """The window ``[start, stop]`` of ``seq`` (T, ...) resampled to ``length`` frames.

    ``start`` and ``stop`` are fractional frame positions in ``[0, T - 1]``; positions between
    stored frames are interpolated linearly, so a crop of a linear ramp is again a linear ramp.
    Returns (length, ...) in seq's floating dtype.
    """
    seq = _as_frames(seq)
    t = seq.shape[0]
    length = check_int("length", length, low=1)
    start, stop = check_number("start", start), check_number("stop", stop)
    if not (0.0 <= start <= stop <= t - 1 + 1e-9):
        raise ValueError(f"crop window [{start}, {stop}] must lie inside frames [0, {t - 1}]")
    return interpolate_frames(seq, frame_positions(start, stop, length))


def resample(seq: np.ndarray, length: int) -> np.ndarray:
    """The whole sequence (T, ...) resampled to ``length`` frames: (length, ...).

    Frame ``k`` of the result sits at time ``k (T - 1) / (length - 1)`` of the input, so the
    first and the last frame are kept exactly.
    """
    seq = _as_frames(seq)
    return crop_resample(seq, 0.0, float(seq.shape[0] - 1), length)


def fps_positions(num_frames: int, src_fps: float, dst_fps: float) -> np.ndarray:
    """Fractional source-frame positions of the time grid ``k / dst_fps``.

    Returns (T',) float64 in ``[0, num_frames - 1]`` with
    ``T' = floor((num_frames - 1) * dst / src) + 1``: the grid starts at the first frame and
    stops at or before the last. For an integer ratio ``src / dst`` the positions are exact
    integers (plain decimation).
    """
    num_frames = check_int("num_frames", num_frames, low=1)
    ratio = check_fps("src_fps", src_fps) / check_fps("dst_fps", dst_fps)
    n_out = int(np.floor((num_frames - 1) / ratio + 1e-9)) + 1
    q = np.arange(n_out) * ratio
    snapped = np.round(q)
    q = np.where(np.abs(q - snapped) < 1e-6, snapped, q)  # no float fuzz on decimation grids
    return np.minimum(q, num_frames - 1)


def resample_fps(seq: np.ndarray, src_fps: float, dst_fps: float) -> np.ndarray:
    """Frames (T, ...) recorded at ``src_fps``, interpolated onto the ``dst_fps`` time grid.

    Integer ratios reduce to taking every ``src/dst``-th frame starting with the first.
    """
    seq = _as_frames(seq)
    return interpolate_frames(seq, fps_positions(len(seq), src_fps, dst_fps))
