"""Load UTD-MHAD's skeletons as a :class:`~helpers.data.dataset.SkeletonDataset`.

UTD-MHAD (Chen, Jafari and Kehtarnavaz, ICIP 2015): 27 actions, each performed by 8 subjects
up to 4 times, recorded by one Kinect v1 camera at about 30 frames per second. The data folder
(see :func:`~helpers.runtime.folders.data_dir`, ``$STGCN_UTD_MHAD_DIR``) holds the authors'
``skeleton/a<action>_s<subject>_t<trial>_skeleton.mat`` files, each a MATLAB file with one
variable ``d_skel`` shaped (20 joints, 3 coordinates, frames), in metres, in the camera's
coordinates (y up, z away from the camera).

The dataset is read where it lies and never copied or redistributed: nothing this module
returns may be committed (the folder's ``NOTICE.md``). Reading all 861 clips takes well under a
second, so there is no disk cache of converted clips.

Joint layout (20 Kinect v1 joints, :data:`helpers.data.skeletons.UTD_MHAD`)::

  0 head  1 shoulder center  2 spine  3 hip center
  4-7   left shoulder, elbow, wrist, hand     8-11  right shoulder, elbow, wrist, hand
  12-15 left hip, knee, ankle, foot           16-19 right hip, knee, ankle, foot

Standard protocol (cross-subject, from the dataset paper): subjects 1, 3, 5 and 7 train,
2, 4, 6 and 8 test (:data:`UTD_MHAD_TRAIN_SUBJECTS`). Subjects are stored as ``'s1'`` to
``'s8'``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from helpers.data.dataset import SkeletonDataset
from helpers.data.resampling import resample_fps
from helpers.data.skeletons import UTD_MHAD, UTD_MHAD_EDGES, UTD_MHAD_JOINT_NAMES
from helpers.data.validation import check_fps
from helpers.runtime.folders import DATASET_FOLDERS, require_data_dir

__all__ = [
    "UTD_MHAD_CLASS_NAMES",
    "UTD_MHAD_FPS",
    "UTD_MHAD_HINT",
    "UTD_MHAD_TRAIN_SUBJECTS",
    "UtdClipName",
    "load_utd_mhad",
    "parse_utd_name",
    "read_utd_clip",
    "require_utd_mhad_dir",
]

#: Frame rate of the Kinect v1 recordings.
UTD_MHAD_FPS = 30.0

#: The 27 actions, in the order of their 1-based ids in the file names (``a1`` ... ``a27``).
UTD_MHAD_CLASS_NAMES: tuple[str, ...] = (
    "right arm swipe to the left",
    "right arm swipe to the right",
    "right hand wave",
    "two hand front clap",
    "right arm throw",
    "cross arms in the chest",
    "basketball shoot",
    "right hand draw x",
    "right hand draw circle (clockwise)",
    "right hand draw circle (counter clockwise)",
    "draw triangle",
    "bowling (right hand)",
    "front boxing",
    "baseball swing from right",
    "tennis right hand forehand swing",
    "arm curl (two arms)",
    "tennis serve",
    "two hand push",
    "right hand knock on door",
    "right hand catch an object",
    "right hand pick up and throw",
    "jogging in place",
    "walking in place",
    "sit to stand",
    "stand to sit",
    "forward lunge (left foot forward)",
    "squat (two arms stretch out)",
)

#: The training subjects of the standard cross-subject protocol (the others test).
UTD_MHAD_TRAIN_SUBJECTS: tuple[int, ...] = (1, 3, 5, 7)

#: Where UTD-MHAD comes from and how to lay it out; part of every "data not found" error.
UTD_MHAD_HINT = (
    "UTD-MHAD is published by the University of Texas at Dallas "
    "(https://www.utdallas.edu/~kehtar/UTD-MHAD.html, file 'Skeleton.zip'; cite Chen, Jafari and "
    "Kehtarnavaz, ICIP 2015). Unpack it so that the folder holds "
    "skeleton/a<action>_s<subject>_t<trial>_skeleton.mat, then point "
    f"{DATASET_FOLDERS['utd-mhad'][0]} at that folder or pass data_dir=... explicitly. Never "
    "commit the data or anything derived from it."
)

_NAME_RE = re.compile(r"^a(\d+)_s(\d+)_t(\d+)_skeleton\.mat$", re.IGNORECASE)
_NUM_JOINTS = len(UTD_MHAD_JOINT_NAMES)
# Kinect v1 reports metres within a few metres of the camera; anything far beyond this is a
# corrupt file, not a pose (the release's coordinates lie within about 4 m)
_MAX_ABS_METRES = 20.0


class UtdClipName(NamedTuple):
    """``(action, subject, trial)`` of a UTD-MHAD file name, 1-based as in the name."""

    action: int
    subject: int
    trial: int


def parse_utd_name(name: str | os.PathLike) -> UtdClipName:
    """Action, subject and trial of ``a<action>_s<subject>_t<trial>_skeleton.mat``.

    Raises :class:`ValueError` naming the file when the name does not follow that pattern or
    an id is out of range (actions 1-27, subjects 1-8).
    """
    base = Path(name).name
    m = _NAME_RE.match(base)
    if m is None:
        raise ValueError(
            f"{base!r} is not a UTD-MHAD skeleton file name; expected "
            "a<action>_s<subject>_t<trial>_skeleton.mat, e.g. a1_s1_t1_skeleton.mat"
        )
    clip = UtdClipName(*(int(g) for g in m.groups()))
    if not 1 <= clip.action <= len(UTD_MHAD_CLASS_NAMES):
        raise ValueError(
            f"{base!r}: action {clip.action} is out of range; UTD-MHAD has actions 1 to "
            f"{len(UTD_MHAD_CLASS_NAMES)}"
        )
    if not 1 <= clip.subject <= 8:
        raise ValueError(f"{base!r}: subject {clip.subject} is out of range; expected 1 to 8")
    return clip


def read_utd_clip(path: str | os.PathLike) -> np.ndarray:
    """One clip's joint positions, (T, 20, 3) float32 in metres, at the recording's 30 fps.

    Raises :class:`ValueError` naming the file when it is not a MATLAB file holding ``d_skel``
    shaped (20, 3, T) with T >= 1 finite, plausible coordinates.
    """
    from scipy.io import loadmat  # scipy is imported only when UTD-MHAD is read

    path = Path(path)
    try:
        content = loadmat(str(path))
    except Exception as err:  # scipy raises several types for damaged files
        raise ValueError(f"{path}: cannot be read as a MATLAB file ({err})") from err
    if "d_skel" not in content:
        found = sorted(k for k in content if not k.startswith("__"))
        raise ValueError(f"{path}: expected the variable 'd_skel'; the file holds {found}")
    skel = np.asarray(content["d_skel"])
    if skel.ndim != 3 or skel.shape[:2] != (_NUM_JOINTS, 3) or skel.shape[2] < 1:
        raise ValueError(
            f"{path}: 'd_skel' has shape {skel.shape}; expected (20 joints, 3 coordinates, frames)"
        )
    if not np.issubdtype(skel.dtype, np.number):
        raise ValueError(f"{path}: 'd_skel' holds {skel.dtype} values; expected numbers")
    frames = np.transpose(skel.astype(np.float64), (2, 0, 1))  # (T, V, C)
    bad = ~np.isfinite(frames) | (np.abs(frames) > _MAX_ABS_METRES)
    if bad.any():
        t = int(np.argwhere(bad)[0][0])
        raise ValueError(
            f"{path}: frame {t} holds a non-finite or implausible coordinate "
            f"(|x| > {_MAX_ABS_METRES:g} m); expected Kinect positions in metres"
        )
    return frames.astype(np.float32)


def require_utd_mhad_dir(root: str | os.PathLike | None = None) -> Path:
    """The UTD-MHAD folder (``$STGCN_UTD_MHAD_DIR``), checked to hold ``skeleton/``.

    Raises :class:`FileNotFoundError` saying what is missing, where to put it and where to get
    UTD-MHAD (:data:`UTD_MHAD_HINT`).
    """
    return require_data_dir(
        root, needs=("skeleton",), what="UTD-MHAD data", hint=UTD_MHAD_HINT, dataset="utd-mhad"
    )


def load_utd_mhad(
    root: str | os.PathLike | None = None,
    fps: float | None = UTD_MHAD_FPS,
    *,
    progress: bool = True,
) -> SkeletonDataset:
    """Load every UTD-MHAD skeleton clip with the cross-subject split.

    Parameters
    ----------
    root : the data folder; ``None`` uses :func:`~helpers.runtime.folders.data_dir` for
        ``'utd-mhad'`` (``$STGCN_UTD_MHAD_DIR``, else ``../shared/data/utd-mhad``). A missing
        folder raises :class:`FileNotFoundError` with the download hint.
    fps : frame rate of the returned sequences (default 30, the recording's; ``None`` keeps it).
        Lower rates take frames on the new time grid by linear interpolation
        (:func:`helpers.data.resampling.resample_fps`).
    progress : show a progress bar while reading.

    Returns
    -------
    SkeletonDataset
        Sequences (T_i, 20, 3) float32 in metres (y up; the camera's coordinates), labels
        0-26 in action order (:data:`UTD_MHAD_CLASS_NAMES`), ``subjects`` ``'s1'`` ... ``'s8'``,
        split ``'train'`` for subjects 1, 3, 5, 7, ``files`` the ``.mat`` names, the 19 Kinect
        v1 bones and ``center`` = the hip centre (joint 3), ``name = 'UTD-MHAD'``.
    """
    fps = check_fps("fps", fps, allow_none=True)
    base = require_utd_mhad_dir(root)
    paths = sorted((base / "skeleton").glob("*.mat"), key=lambda p: tuple(parse_utd_name(p.name)))
    if not paths:
        raise FileNotFoundError(
            f"UTD-MHAD data not found: {base / 'skeleton'} holds no .mat files. {UTD_MHAD_HINT}"
        )
    names = [parse_utd_name(p.name) for p in paths]
    seqs = []
    for p in tqdm(paths, desc="UTD-MHAD clips", unit="clip", disable=not progress):
        seq = read_utd_clip(p)
        if fps is not None and fps != UTD_MHAD_FPS:
            seq = resample_fps(seq, UTD_MHAD_FPS, fps).astype(np.float32)
        seqs.append(seq)
    return SkeletonDataset.from_arrays(
        seqs,
        labels=[n.action - 1 for n in names],
        class_names=list(UTD_MHAD_CLASS_NAMES),
        subjects=np.array([f"s{n.subject}" for n in names]),
        split=["train" if n.subject in UTD_MHAD_TRAIN_SUBJECTS else "test" for n in names],
        edges=UTD_MHAD_EDGES,
        center=UTD_MHAD.root,
        files=[p.name for p in paths],
        joint_names=list(UTD_MHAD_JOINT_NAMES),
        fps=UTD_MHAD_FPS if fps is None else fps,
        up_axis=1,
        name="UTD-MHAD",
        units="m",
    )
