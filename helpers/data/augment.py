"""Training-time augmentation of single skeleton sequences.

Every function takes one sequence shaped ``(T, V, C)`` (one body) or ``(T, M, V, C)`` (several
bodies) and a :class:`numpy.random.Generator`, and returns a new float32 array; the input is
never modified. :class:`Augment` chains them into one picklable callable::

    aug = Augment(length=64, crop=(0.8, 1.0), rotate_up=180.0, tilt=5.0, up_axis=1)
    rng = np.random.default_rng(0)
    x = aug(seq, rng)            # (64, V, C)

Rotations turn positions about the coordinate origin, so centre the sequences first
(:meth:`helpers.data.dataset.SkeletonDataset.normalized`), otherwise a rotation also moves the
actor around the room.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Mapping

import numpy as np

from helpers.data.canonical import skeleton_height
from helpers.data.dataset import SkeletonDataset
from helpers.data.resampling import crop_resample
from helpers.data.validation import check_axis, check_pair, check_rng, check_sequence
from helpers.runtime.arguments import check_int, check_number

__all__ = [
    "Augment",
    "add_joint_noise",
    "random_crop_resample",
    "random_rotation_matrix",
    "rotate",
    "rotation_about_axis",
    "with_joint_noise",
]


# --------------------------------------------------------------------------- time
def random_crop_resample(
    seq: np.ndarray,
    rng: np.random.Generator,
    fraction: tuple[float, float] = (1.0, 1.0),
    length: int | tuple[int, int] | None = None,
    speed: tuple[float, float] | None = None,
) -> np.ndarray:
    """Crop a random window covering a random ``fraction`` of the clip, then resample it.

    Parameters
    ----------
    fraction : (low, high) range of the share of the clip's duration the window covers, in
        (0, 1].
    length : output frames: an int, a (low, high) inclusive range to draw from, or ``None`` to keep
        the window's own frame count (about ``fraction * T``).
    speed : with ``length=None``, a (low, high) range of playback speeds: the window is played
        ``s`` times as fast, i.e. resampled to ``round(fraction * T / s)`` frames, with ``s`` drawn
        log-uniformly (so 0.8 and 1.25 are equally likely). ``None``: the recorded speed.
    """
    seq = check_sequence("seq", seq)
    check_rng("rng", rng)
    lo_f, hi_f = check_pair("fraction", fraction, positive=True, maximum=1.0)
    lengths = _check_length("length", length)
    if speed is not None:
        speed = check_pair("speed", speed, positive=True)
    t = seq.shape[0]
    f = lo_f if lo_f == hi_f else float(rng.uniform(lo_f, hi_f))
    span = f * (t - 1)
    start = float(rng.uniform(0.0, (t - 1) - span)) if span < t - 1 else 0.0
    if lengths is None:
        s = 1.0
        if speed is not None and speed[0] != speed[1]:
            s = float(np.exp(rng.uniform(np.log(speed[0]), np.log(speed[1]))))
        elif speed is not None:
            s = float(speed[0])
        n = max(1, int(round(f * t / s)))
    elif isinstance(length, (tuple, list)):
        n = int(rng.integers(lengths[0], lengths[1] + 1))
    else:
        n = lengths[0]
    return crop_resample(seq.astype(np.float32, copy=False), start, start + span, n)


def _check_length(name: str, length: Any) -> tuple[int, int] | None:
    """An output length: None, an int >= 1, or an inclusive (low, high) range of them."""
    if length is None:
        return None
    if isinstance(length, (tuple, list)):
        if len(length) != 2:
            raise TypeError(f"{name} must be an int or a (low, high) pair of ints, got {length!r}")
        low, high = (check_int(f"{name}[{k}]", v, low=1) for k, v in enumerate(length))
        if low > high:
            raise ValueError(f"{name}={tuple(length)} has low > high; expected low <= high")
        return low, high
    n = check_int(name, length, low=1)
    return n, n


# --------------------------------------------------------------------------- space
def rotation_about_axis(axis: int, degrees: float) -> np.ndarray:
    """(3, 3) right-handed rotation matrix by ``degrees`` about coordinate ``axis`` (0, 1 or 2)."""
    axis = check_axis("axis", axis)
    degrees = check_number("degrees", degrees)
    a, b = (axis + 1) % 3, (axis + 2) % 3  # the plane it turns, in cyclic order
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    r = np.eye(3)
    r[a, a], r[a, b], r[b, a], r[b, b] = c, -s, s, c
    return r


def random_rotation_matrix(
    rng: np.random.Generator, up_degrees: float = 0.0, tilt_degrees: float = 0.0, up_axis: int = 1
) -> np.ndarray:
    """(3, 3) random rotation: a turn about the vertical axis after small tilts about the other two.

    Angles are drawn uniformly from ``[-up_degrees, up_degrees]`` and
    ``[-tilt_degrees, tilt_degrees]``.
    """
    check_rng("rng", rng)
    up_degrees = check_number("up_degrees", up_degrees, low=0.0)
    tilt_degrees = check_number("tilt_degrees", tilt_degrees, low=0.0)
    up_axis = check_axis("up_axis", up_axis)
    r = np.eye(3)
    for axis in ((up_axis + 1) % 3, (up_axis + 2) % 3):
        if tilt_degrees:
            r = rotation_about_axis(axis, rng.uniform(-tilt_degrees, tilt_degrees)) @ r
    if up_degrees:
        r = rotation_about_axis(up_axis, rng.uniform(-up_degrees, up_degrees)) @ r
    return r


def rotate(seq: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a (3, 3) rotation to every joint position (about the origin); float32, same shape."""
    seq = check_sequence("seq", seq)
    if seq.shape[-1] != 3:
        raise ValueError(f"rotation needs 3-D coordinates (C = 3), got C = {seq.shape[-1]}")
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (3, 3):
        raise ValueError(f"rotation matrix has shape {m.shape}; expected (3, 3)")
    return (seq.astype(np.float64) @ m.T).astype(np.float32)


def with_joint_noise(dataset, fraction: float, random_state: int = 0):
    """A copy of a :class:`~helpers.data.dataset.SkeletonDataset` with Gaussian joint noise.

    Every coordinate of every joint and frame gets independent noise of standard deviation
    ``fraction`` times the clip's skeleton height (:func:`~helpers.data.canonical.skeleton_height`),
    so the same ``fraction`` perturbs a child and an adult alike. ``random_state`` seeds the
    noise: clip ``i`` of ``dataset`` draws from ``(random_state, i)``, so results are repeatable.
    """
    if not isinstance(dataset, SkeletonDataset):
        raise TypeError(f"dataset must be a SkeletonDataset, got {type(dataset).__name__}")
    try:
        fraction = check_number("fraction", fraction, low=0.0)
    except ValueError as err:
        raise ValueError(f"noise {err}") from None
    # numpy seeds are non-negative integers; a float seed would be truncated silently
    random_state = check_int("random_state", random_state, low=0)

    seqs = []
    for i, seq in enumerate(dataset.sequences):
        rng = np.random.default_rng((random_state, i))
        seqs.append(add_joint_noise(seq, fraction * skeleton_height(seq, dataset.up_axis), rng))
    return replace(dataset, sequences=seqs)


def add_joint_noise(seq: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Add i.i.d. Gaussian noise of standard deviation ``sigma`` (data units) to each coordinate."""
    seq = check_sequence("seq", seq)
    sigma = check_number("sigma", sigma, low=0.0)
    check_rng("rng", rng)
    out = seq.astype(np.float32, copy=True)
    if sigma > 0:
        out += rng.normal(0.0, sigma, size=out.shape).astype(np.float32)
    return out


# --------------------------------------------------------------------------- pipeline
def _setting(check: Callable[[], Any], hint: str = "") -> Any:
    """Run one check of an :class:`Augment` setting; its error starts with ``Augment:``."""
    try:
        return check()
    except (TypeError, ValueError) as err:
        # the hint spells out the allowed range; a wrong type is plain from the message itself
        also = f" ({hint})" if hint and isinstance(err, ValueError) else ""
        raise type(err)(f"Augment: {err}{also}") from None


@dataclass
class Augment:
    """A random augmentation pipeline: crop/resample in time, then rotate, scale and add noise.

    Calling ``aug(seq, rng)`` returns a new float32 array; with the default settings it returns
    the input's values unchanged.

    Parameters
    ----------
    length : output frames: an int, an inclusive (low, high) range, or ``None`` to keep the
        cropped window's frame count (identity when ``crop == (1, 1)``).
    crop : (low, high) share of the clip a random window covers; ``(1, 1)`` keeps the whole clip.
    rotate_up : largest turn in degrees about the vertical axis (``up_axis``), drawn uniformly
        in ``[-rotate_up, rotate_up]``; ``180`` makes the facing direction irrelevant.
    tilt : largest tilt in degrees about each horizontal axis.
    speed : ``None`` or a (low, high) range of playback speeds, used when ``length`` is None
        (clips keep their duration up to this change of speed; see :func:`random_crop_resample`).
    scale : ``None`` or a (low, high) range for a uniform random size factor.
    noise : standard deviation of Gaussian joint noise (data units), 0 for none.
    up_axis : index of the vertical coordinate.
    """

    length: int | tuple[int, int] | None = None
    crop: tuple[float, float] = (1.0, 1.0)
    speed: tuple[float, float] | None = None
    rotate_up: float = 0.0
    tilt: float = 0.0
    scale: tuple[float, float] | None = None
    noise: float = 0.0
    up_axis: int = 1

    def __post_init__(self) -> None:
        crop_hint = "crop must be (low, high) with 0 < low <= high <= 1"
        range_hint = "{} must be None or (low, high) with 0 < low <= high"
        self.crop = _setting(
            lambda: check_pair("crop", self.crop, positive=True, maximum=1.0), crop_hint
        )
        if isinstance(self.length, (list, tuple)):
            self.length = _setting(lambda: _check_length("length", self.length))
        elif self.length is not None:
            self.length = _setting(lambda: check_int("length", self.length, low=1))
        if self.speed is not None:
            self.speed = _setting(
                lambda: check_pair("speed", self.speed, positive=True), range_hint.format("speed")
            )
        if self.scale is not None:
            self.scale = _setting(
                lambda: check_pair("scale", self.scale, positive=True), range_hint.format("scale")
            )
        self.rotate_up = _setting(lambda: check_number("rotate_up", self.rotate_up, low=0.0))
        self.tilt = _setting(lambda: check_number("tilt", self.tilt, low=0.0))
        self.noise = _setting(lambda: check_number("noise", self.noise, low=0.0))
        self.up_axis = _setting(lambda: check_axis("up_axis", self.up_axis))
        if self.speed is not None and self.length is not None:
            raise ValueError(
                "Augment: speed applies only with length=None (a fixed length already sets "
                "the speed of every clip)"
            )

    def __call__(self, seq: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A new float32 augmented copy of a (T, V, C) or (T, M, V, C) ``seq``, drawn by ``rng``."""
        seq = check_sequence("seq", seq)
        check_rng("rng", rng)
        out = seq.astype(np.float32, copy=True)
        if self.crop != (1.0, 1.0) or self.length is not None or self.speed is not None:
            out = random_crop_resample(out, rng, self.crop, self.length, self.speed)
        if self.rotate_up or self.tilt:
            out = rotate(out, random_rotation_matrix(rng, self.rotate_up, self.tilt, self.up_axis))
        if self.scale is not None:
            out = out * np.float32(rng.uniform(*self.scale))
        if self.noise:
            out = add_joint_noise(out, self.noise, rng)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly settings (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Augment":
        """An :class:`Augment` from :meth:`to_dict` settings; raises ValueError on unknown keys."""
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(
                f"Augment: unknown settings {unknown}; known: {sorted(cls.__dataclass_fields__)}"
            )
        return cls(**d)
