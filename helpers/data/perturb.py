"""Sensor noise for the noise study (claim C3): three ways a skeleton tracker gets joints wrong.

``'gaussian'``
    i.i.d. Gaussian noise on every coordinate of every joint and frame
    (:func:`helpers.data.augment.add_joint_noise`): the textbook model, and the kindest one,
    since averaging over frames removes most of it.
``'correlated'``
    Gaussian noise low-pass filtered in time (:func:`add_correlated_noise`). A Kinect's joint
    estimates jitter smoothly over a few frames rather than independently per frame, so a
    layer cannot average the noise away over a short window.
``'dropout'``
    A joint lost by the tracker (:func:`drop_joints`): for a span of frames it is frozen at its
    last position, or reported at zero, as Kinect does for joints it cannot see.

The level of the first two is the noise's standard deviation as a share of the clip's skeleton
height; that of ``'dropout'`` is the share of joints that drop out once in the clip.
:func:`with_noise` perturbs a whole dataset repeatably: clip ``i`` draws from
``(random_state, i)``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from helpers.data.augment import add_joint_noise
from helpers.data.canonical import skeleton_height
from helpers.data.dataset import SkeletonDataset
from helpers.data.validation import check_fps, check_rng, check_sequence
from helpers.runtime.arguments import check_int, check_number

__all__ = [
    "DROPOUT_SECONDS",
    "JITTER_SECONDS",
    "NOISE_KINDS",
    "TIMED_NOISE_KINDS",
    "add_correlated_noise",
    "drop_joints",
    "with_noise",
]

#: Kinect joint jitter is correlated over about 0.2 s (its skeleton tracker smooths over a few
#: frames of a 30 Hz stream); the correlated noise is white noise averaged over this window.
JITTER_SECONDS = 0.2

#: How long a lost joint stays lost: about half a second, a typical brief occlusion (a hand
#: passing behind the body) in the Kinect recordings of UTD-MHAD and NTU RGB+D.
DROPOUT_SECONDS = 0.5

#: The noise models of :func:`with_noise`.
NOISE_KINDS = ("gaussian", "correlated", "dropout")
#: The noise models that act over time (a correlation time, a loss that lasts), and so need the
#: dataset's frame rate.
TIMED_NOISE_KINDS = ("correlated", "dropout")


def _frames_of(seconds: float, fps: float) -> int:
    """The frames ``seconds`` span at ``fps`` (at least one); both must be positive numbers."""
    fps = check_fps("fps", fps)
    seconds = check_number("seconds", seconds, low=0.0, low_open=True)
    return max(1, int(round(seconds * fps)))


def add_correlated_noise(
    seq: np.ndarray,
    sigma: float,
    rng: np.random.Generator,
    fps: float,
    seconds: float = JITTER_SECONDS,
) -> np.ndarray:
    """Gaussian noise of standard deviation ``sigma``, averaged over ``seconds`` in time.

    Parameters
    ----------
    seq : (T, V, C) or (T, M, V, C) positions.
    sigma : the noise's standard deviation per coordinate (data units).
    rng : the random generator.
    fps : the clip's frame rate.
    seconds : the averaging window (:data:`JITTER_SECONDS`); at least one frame.

    Returns
    -------
    float32 array of ``seq``'s shape. Each coordinate's noise is the moving average of ``w``
    white samples scaled by ``sqrt(w)`` (``w`` the window in frames), so its standard
    deviation is ``sigma`` at every frame and neighbouring frames within ``w`` are correlated.
    """
    seq = check_sequence("seq", seq)
    sigma = check_number("sigma", sigma, low=0.0)
    check_rng("rng", rng)
    w = _frames_of(seconds, fps)  # checked even when sigma is 0: a wrong call is wrong anyway
    out = seq.astype(np.float32, copy=True)
    if sigma == 0:
        return out
    white = rng.normal(0.0, 1.0, size=(seq.shape[0] + w - 1, *seq.shape[1:]))
    csum = np.cumsum(np.concatenate([np.zeros((1, *seq.shape[1:])), white]), axis=0)
    smooth = (csum[w:] - csum[:-w]) / np.sqrt(w)  # (T, ...): sums of w samples, std 1
    out += (sigma * smooth).astype(np.float32)
    return out


def drop_joints(
    seq: np.ndarray,
    share: float,
    rng: np.random.Generator,
    fps: float,
    seconds: float = DROPOUT_SECONDS,
    mode: str = "freeze",
) -> np.ndarray:
    """Lose a share of the joints for a span of frames each.

    Parameters
    ----------
    seq : (T, V, C) or (T, M, V, C) positions.
    share : the chance, per joint (and body), that it drops out once in the clip.
    rng : the random generator.
    fps : the clip's frame rate.
    seconds : how long a joint stays lost (:data:`DROPOUT_SECONDS`; at most the whole clip).
    mode : ``'freeze'`` holds the joint at its position in the frame before the span (the first
        frame after it when the span starts the clip); ``'zero'`` reports it at the origin.

    Returns
    -------
    float32 array of ``seq``'s shape.
    """
    seq = check_sequence("seq", seq)
    share = check_number("share", share, low=0.0, high=1.0)
    check_rng("rng", rng)
    if mode not in ("freeze", "zero"):
        raise ValueError(f"mode must be 'freeze' or 'zero', got {mode!r}")
    out = seq.astype(np.float32, copy=True)
    t = seq.shape[0]
    span = min(t, _frames_of(seconds, fps))
    joints = out.reshape(t, -1, seq.shape[-1])  # (T, M*V, C), a view of out
    lost = np.flatnonzero(rng.random(joints.shape[1]) < share)
    starts = rng.integers(0, t - span + 1, size=lost.size)
    for j, s in zip(lost, starts):
        if mode == "zero":
            joints[s : s + span, j] = 0.0
        elif s > 0:
            joints[s : s + span, j] = joints[s - 1, j]
        elif span < t:
            joints[:span, j] = joints[span, j]
    return out


def with_noise(
    dataset: SkeletonDataset, kind: str, level: float, random_state: int = 0
) -> SkeletonDataset:
    """A copy of ``dataset`` with noise of ``kind`` (:data:`NOISE_KINDS`) at ``level``.

    ``'gaussian'`` and ``'correlated'``: standard deviation ``level`` times each clip's
    skeleton height (:func:`~helpers.data.canonical.skeleton_height`); ``'dropout'``: ``level``
    is the share of joints lost once per clip (frozen, :func:`drop_joints`). Clip ``i`` draws
    from ``(random_state, i)``, so the same call gives the same clips. Needs the dataset's
    frame rate for the two kinds that act over time.
    """
    if not isinstance(dataset, SkeletonDataset):
        raise TypeError(f"dataset must be a SkeletonDataset, got {type(dataset).__name__}")
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind={kind!r}; expected one of {NOISE_KINDS}")
    # a share of joints for dropout (at most all of them), a share of the height otherwise
    level = check_number("level", level, low=0.0, high=1.0 if kind == "dropout" else None)
    # numpy seeds are non-negative integers; a float seed would be truncated silently
    random_state = check_int("random_state", random_state, low=0)
    if kind in TIMED_NOISE_KINDS and not (np.isfinite(dataset.fps) and dataset.fps > 0):
        raise ValueError(
            f"{kind} noise acts over time: dataset {dataset.name!r} needs its frame rate (fps), "
            f"got {dataset.fps!r}"
        )
    seqs = []
    for i, seq in enumerate(dataset.sequences):
        rng = np.random.default_rng((random_state, i))
        if kind == "dropout":
            seqs.append(drop_joints(seq, level, rng, dataset.fps))
            continue
        sigma = level * skeleton_height(seq, dataset.up_axis)
        if kind == "gaussian":
            seqs.append(add_joint_noise(seq, sigma, rng))
        else:
            seqs.append(add_correlated_noise(seq, sigma, rng, dataset.fps))
    return replace(dataset, sequences=seqs)
