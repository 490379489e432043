"""Canonical clips: the same body position, size and heading for every clip.

A camera sees each actor from wherever he stands. Centring removes where he stands and scaling
removes his size; the heading (which way he faces, a turn about the vertical axis) stays, and
the actors of a dataset often face different ways (HDM05: actors bd, bk, tr at about -5
degrees, dg at about -86, mm at about -63). Distances between raw clips then mix the actor's
heading into the comparison of motions. :func:`canonical_clip` removes all three, and the
input pipeline (:func:`helpers.training.inputs.prepare_dataset`) applies the same function to
the model's input and so to layer 0 of every layer table.

The heading is read from the line across the body in the clip's first frames: from the left
hip to the right hip, or across the shoulders when the hips are not known or coincide in the
horizontal plane. The clip is turned about the vertical axis through its root so that this
line points along a fixed horizontal axis: for y up (``up_axis = 1``), +x. The whole clip
turns rigidly, so the actor's own turns during the clip are kept.

>>> import numpy as np
>>> from helpers.data.skeletons import UTD_MHAD
>>> clip = np.zeros((2, 20, 3), np.float32)
>>> clip[:, 12], clip[:, 16] = (0.0, 0.0, -0.1), (0.0, 0.0, 0.1)   # hips along z
>>> turned = canonical_clip(clip, root=3, hips=UTD_MHAD.hips, center="first")
>>> np.round(turned[0, 16] - turned[0, 12], 3).tolist()            # now along +x
[0.2, 0.0, 0.0]
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

from helpers.data.skeletons import LAYOUTS
from helpers.data.validation import check_axis, check_sequence
from helpers.runtime.arguments import check_int, check_number

__all__ = [
    "HEADING_SECONDS",
    "MIN_LINE_FRACTION",
    "canonical_clip",
    "check_normalisation",
    "heading_angle",
    "heading_joints",
    "skeleton_height",
    "turn_about_up",
]

#: The heading is averaged over the clip's first 0.2 s: long enough to average out a Kinect's
#: frame-to-frame jitter (6 frames at 30 fps), short enough that an actor has not yet turned.
HEADING_SECONDS = 0.2

#: A body line shorter than 1% of the actor's height in the horizontal plane gives no heading
#: (hip joints at one point, or a body seen exactly edge-on from above): a real hip or shoulder
#: line is about 10-25% of the height.
MIN_LINE_FRACTION = 0.01


def skeleton_height(seq: np.ndarray, up_axis: int = 1) -> float:
    """The first frame's vertical extent of a (T, V, C) or (T, M, V, C) sequence (body 0).

    For a standing actor, their height: the scale of ``canonical_clip(scale='height')`` and of
    height-relative joint noise (:func:`helpers.data.augment.with_joint_noise`).
    """
    seq = check_sequence("seq", seq)
    up_axis = check_axis("up_axis", up_axis, seq.shape[-1])
    body0 = seq if seq.ndim == 3 else seq[:, 0]
    return float(np.ptp(body0[0, :, up_axis]))


def heading_joints(
    joint_names: Sequence[str],
) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """The ``(left, right)`` hip and shoulder joints of a skeleton, from its joint names.

    A built-in layout (:data:`helpers.data.skeletons.LAYOUTS`) gives its own; other skeletons
    are read from names containing "left"/"right" and "hip"/"shoulder" (as NTU RGB+D's and
    Kinect's). Either pair is None when it cannot be found.
    """
    names = tuple(str(n) for n in joint_names)
    for layout in LAYOUTS.values():
        if names == layout.joint_names:
            return layout.hips, layout.shoulders

    def pair(part: str) -> tuple[int, int] | None:
        left = [i for i, n in enumerate(names) if "left" in n.lower() and part in n.lower()]
        right = [i for i, n in enumerate(names) if "right" in n.lower() and part in n.lower()]
        return (left[0], right[0]) if len(left) == 1 and len(right) == 1 else None

    return pair("hip"), pair("shoulder")


def _horizontal(up_axis: int) -> tuple[int, int]:
    """The two horizontal axes ``(a, b)``; the heading line is turned onto +a."""
    if up_axis not in (0, 1, 2):
        raise ValueError(f"up_axis must be 0, 1 or 2, got {up_axis!r}")
    return (up_axis + 2) % 3, (up_axis + 1) % 3


def heading_angle(
    seq: np.ndarray,
    hips: tuple[int, int] | None,
    shoulders: tuple[int, int] | None = None,
    *,
    up_axis: int = 1,
    frames: int = 1,
    min_length: float = 0.0,
) -> float | None:
    """The angle (radians) of the clip's body line in the horizontal plane, or None.

    Parameters
    ----------
    seq : (T, V, 3) or (T, M, V, 3) joint positions (several bodies: body 0's line).
    hips, shoulders : ``(left, right)`` joint indices; the hips are used when their line is
        longer than ``min_length``, else the shoulders'.
    up_axis : the vertical coordinate axis.
    frames : how many first frames the line is averaged over (at least 1).
    min_length : the shortest usable line, in the clip's units.

    Returns
    -------
    ``atan2(b, a)`` of the averaged right-minus-left vector in the horizontal axes ``(a, b)``
    (for y up: ``a = x``, ``b = z``), or None when neither line is usable.
    """
    a, b = _horizontal(up_axis)
    body0 = seq if seq.ndim == 3 else seq[:, 0]
    first = np.asarray(body0[: check_int("frames", frames, low=1)], dtype=np.float64)
    for pair in (hips, shoulders):
        if pair is None:
            continue
        left, right = pair
        line = (first[:, right] - first[:, left]).mean(axis=0)
        if math.hypot(line[a], line[b]) > min_length:
            return math.atan2(line[b], line[a])
    return None


def turn_about_up(seq: np.ndarray, angle: float, up_axis: int = 1) -> np.ndarray:
    """``seq`` (..., 3) turned about the vertical axis through the origin by ``-angle``.

    The rotation that maps a horizontal line at ``angle`` (as :func:`heading_angle` measures it)
    onto the +a axis; heights are unchanged. Returns float32.
    """
    a, b = _horizontal(up_axis)
    c, s = math.cos(angle), math.sin(angle)
    x = np.asarray(seq, dtype=np.float64)
    out = x.copy()
    out[..., a] = c * x[..., a] + s * x[..., b]
    out[..., b] = -s * x[..., a] + c * x[..., b]
    return out.astype(np.float32)


def check_normalisation(center, scale) -> None:
    """Check the centring and scaling options of :func:`canonical_clip`.

    Raises :class:`ValueError` naming ``center`` unless it is None, ``'first'`` or ``'frame'``,
    or ``scale`` when it is text other than ``'height'`` or a number that is not positive and
    finite; :class:`TypeError` when either has another type.
    """
    if not (center is None or isinstance(center, str)):
        raise TypeError(
            f"center must be None, 'first' or 'frame', got {center!r} ({type(center).__name__})"
        )
    if center not in (None, "first", "frame"):
        raise ValueError(f"center must be None, 'first' or 'frame', got {center!r}")
    if isinstance(scale, str):
        if scale != "height":
            raise ValueError(f"scale must be None, a number or 'height', got {scale!r}")
    elif scale is not None:
        # dividing by zero, a negative or a non-finite scale gives no clip worth having
        check_number("scale", scale, low=0.0, low_open=True)


def _check_joint_pair(name: str, pair: Sequence[int], num_joints: int) -> tuple[int, int]:
    """A ``(left, right)`` pair of joint indices ``0 .. num_joints - 1``."""
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"{name} must be a (left, right) pair of joint indices, got {pair!r}")
    left, right = (
        check_int(f"{name}[{k}]", j, low=0, high=num_joints - 1) for k, j in enumerate(pair)
    )
    return left, right


def canonical_clip(
    seq: np.ndarray,
    *,
    root: int,
    up_axis: int = 1,
    center: str | None = "first",
    scale: float | str | None = None,
    hips: tuple[int, int] | None = None,
    shoulders: tuple[int, int] | None = None,
    heading_frames: int = 1,
    name: str = "clip",
) -> np.ndarray:
    """One clip centred, turned to the fixed heading and scaled.

    Parameters
    ----------
    seq : (T, V, C) or (T, M, V, C) joint positions.
    root : the joint subtracted when centring (body 0's).
    up_axis : the vertical coordinate axis.
    center : ``'first'`` subtracts the root's position in the first frame, ``'frame'`` in every
        frame, None nothing.
    scale : None; a number to divide by; or ``'height'`` to divide by the first frame's
        vertical extent (body 0's: the actor's height when standing).
    hips, shoulders : ``(left, right)`` joints that give the heading (see
        :func:`heading_angle`); both None leaves the heading alone.
    heading_frames : how many first frames the heading is averaged over.
    name : how warnings and errors name the clip.

    Returns
    -------
    float32 array of ``seq``'s shape. A clip whose heading cannot be read (both lines shorter
    than :data:`MIN_LINE_FRACTION` of its first frame's height) is left unturned, with a
    :class:`UserWarning` naming it.
    """
    check_normalisation(center, scale)
    seq = check_sequence(f"seq ({name})" if name != "clip" else "seq", seq)
    num_joints, channels = seq.shape[-2], seq.shape[-1]
    root = check_int("root", root, low=0, high=num_joints - 1)
    up_axis = check_axis("up_axis", up_axis, channels)
    for what, pair in (("hips", hips), ("shoulders", shoulders)):
        if pair is not None:
            _check_joint_pair(what, pair, num_joints)
    heading_frames = check_int("heading_frames", heading_frames, low=1)
    # float32 arithmetic for centring and scaling, as the pipeline has always done: a dataset
    # normalised without a heading is bit for bit what it was
    s = np.asarray(seq, dtype=np.float32)
    body0 = s if s.ndim == 3 else s[:, 0]
    if center == "first":
        s = s - body0[0, root]
    elif center == "frame":
        ref = body0[:, root]
        s = s - (ref[:, None, :] if s.ndim == 3 else ref[:, None, None, :])
    if hips is not None or shoulders is not None:
        if s.shape[-1] != 3:
            raise ValueError(
                f"{name}: turning to a heading needs 3-D joints, got C = {s.shape[-1]}"
            )
        angle = heading_angle(
            s,
            hips,
            shoulders,
            up_axis=up_axis,
            frames=heading_frames,
            min_length=MIN_LINE_FRACTION * skeleton_height(s, up_axis),
        )
        if angle is None:
            warnings.warn(
                f"{name}: no heading (the hip and shoulder lines are shorter than "
                f"{MIN_LINE_FRACTION:.0%} of the height in the horizontal plane); left unturned",
                stacklevel=2,
            )
        else:
            s = turn_about_up(s, angle, up_axis)
    if scale is None:
        return s
    if scale == "height":
        return s / max(skeleton_height(s, up_axis), 1e-6)
    return s / float(scale)
