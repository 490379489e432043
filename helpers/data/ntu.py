"""NTU RGB+D 60/120: raw ``.skeleton`` files, sample names, benchmark splits, preprocessed arrays.

NTU RGB+D (Shahroudy et al., CVPR 2016) and NTU RGB+D 120 (Liu et al., TPAMI 2019) are recorded
with three Kinect v2 cameras; every sample is one file named ``SsssCcccPpppRrrrAaaa`` (setup,
camera, performer, replication, action), e.g. ``S001C002P003R002A013.skeleton``. We do not
redistribute them: request them from the ROSE Lab, Nanyang Technological University, Singapore
(see :data:`NTU_HINT`).

Two ways in, both returning a :class:`~helpers.data.dataset.SkeletonDataset` whose sequences are
``(T_i, M, 25, 3)`` float32 positions in metres (x, y, z camera coordinates, y up), with the
st-gcn skeleton graph (:data:`helpers.data.skeletons.NTU_RGBD`, centre joint 20 = spine shoulder):

* :func:`load_ntu_skeletons` parses the raw text files (:func:`read_skeleton_file`) and applies a
  benchmark split rule (:func:`ntu_split`): ``'xsub'`` / ``'xview'`` (NTU 60), ``'xsub120'`` /
  ``'xset'`` (NTU 120).
* :func:`load_ntu_preprocessed` / :func:`load_ntu_preprocessed_folder` read the arrays written by
  st-gcn style pipelines: ``{train,val}_data_joint.npy`` shaped (N, 3, 300, 25, 2) and
  ``{train,val}_label.pkl`` holding ``(sample_names, labels)``.

>>> parse_ntu_name("S001C002P003R002A013.skeleton").label
12
>>> ntu_split("S001C002P003R002A013", "xsub"), ntu_split("S001C002P003R002A013", "xview")
('test', 'train')
"""

from __future__ import annotations

import os
import pickle
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

import numpy as np
from tqdm.auto import tqdm

from helpers.data.dataset import SkeletonDataset
from helpers.data.skeletons import NTU_EDGES, NTU_JOINT_NAMES, NTU_RGBD
from helpers.data.validation import check_strings
from helpers.runtime.arguments import check_int

__all__ = [
    "NTU_BENCHMARKS",
    "NTU_CLASS_NAMES",
    "NTU60_CLASS_NAMES",
    "NTU_FPS",
    "NTU_HINT",
    "NTU60_XSUB_TRAIN_SUBJECTS",
    "NTU120_XSUB_TRAIN_SUBJECTS",
    "NTU_XVIEW_TRAIN_CAMERAS",
    "NtuFormatError",
    "NtuMissingSkeletonError",
    "NtuSampleName",
    "NtuBody",
    "NtuSkeletonFile",
    "parse_ntu_name",
    "ntu_split",
    "read_skeleton_file",
    "read_ignore_list",
    "load_ntu_skeletons",
    "load_ntu_preprocessed",
    "ntu_preprocessed_paths",
    "load_ntu_preprocessed_folder",
]

# ---------------------------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------------------------

NTU_HINT = (
    "NTU RGB+D and NTU RGB+D 120 are distributed by the ROSE Lab, Nanyang Technological "
    "University, "
    "Singapore, after a request form (see https://github.com/shahroudy/NTURGB-D and "
    "http://rose1.ntu.edu.sg/Datasets/actionRecognition.asp). For the raw skeletons, unzip "
    "nturgbd_skeletons_s001_to_s017.zip (NTU 60; add s018_to_s032 for NTU 120) so that the folder "
    "holds files named like S001C002P003R002A013.skeleton."
)

NTU_NUM_JOINTS = len(NTU_JOINT_NAMES)
NTU_FPS = 30.0

#: Action names A1..A120 from the dataset's official list (github.com/shahroudy/NTURGB-D);
#: label = action id - 1. A1..A60 are NTU RGB+D, A61..A120 the additions of NTU RGB+D 120.
#: Stray trailing periods are dropped and A67's "hush (quite)" is spelled "hush (quiet)".
NTU_CLASS_NAMES: tuple[str, ...] = (
    "drink water",
    "eat meal/snack",
    "brushing teeth",
    "brushing hair",
    "drop",
    "pickup",
    "throw",
    "sitting down",
    "standing up (from sitting position)",
    "clapping",
    "reading",
    "writing",
    "tear up paper",
    "wear jacket",
    "take off jacket",
    "wear a shoe",
    "take off a shoe",
    "wear on glasses",
    "take off glasses",
    "put on a hat/cap",
    "take off a hat/cap",
    "cheer up",
    "hand waving",
    "kicking something",
    "put something inside pocket / take out something from pocket",
    "hopping (one foot jumping)",
    "jump up",
    "make a phone call/answer phone",
    "playing with phone/tablet",
    "typing on a keyboard",
    "pointing to something with finger",
    "taking a selfie",
    "check time (from watch)",
    "rub two hands together",
    "nod head/bow",
    "shake head",
    "wipe face",
    "salute",
    "put the palms together",
    "cross hands in front (say stop)",
    "sneeze/cough",
    "staggering",
    "falling",
    "touch head (headache)",
    "touch chest (stomachache/heart pain)",
    "touch back (backache)",
    "touch neck (neckache)",
    "nausea or vomiting condition",
    "use a fan (with hand or paper)/feeling warm",
    "punching/slapping other person",
    "kicking other person",
    "pushing other person",
    "pat on back of other person",
    "point finger at the other person",
    "hugging other person",
    "giving something to other person",
    "touch other person's pocket",
    "handshaking",
    "walking towards each other",
    "walking apart from each other",
    # NTU RGB+D 120 additions (A61..A120)
    "put on headphone",
    "take off headphone",
    "shoot at the basket",
    "bounce ball",
    "tennis bat swing",
    "juggling table tennis balls",
    "hush (quiet)",
    "flick hair",
    "thumb up",
    "thumb down",
    "make ok sign",
    "make victory sign",
    "staple book",
    "counting money",
    "cutting nails",
    "cutting paper (using scissors)",
    "snapping fingers",
    "open bottle",
    "sniff (smell)",
    "squat down",
    "toss a coin",
    "fold paper",
    "ball up paper",
    "play magic cube",
    "apply cream on face",
    "apply cream on hand back",
    "put on bag",
    "take off bag",
    "put something into a bag",
    "take something out of a bag",
    "open a box",
    "move heavy objects",
    "shake fist",
    "throw up cap/hat",
    "hands up (both hands)",
    "cross arms",
    "arm circles",
    "arm swings",
    "running on the spot",
    "butt kicks (kick backward)",
    "cross toe touch",
    "side kick",
    "yawn",
    "stretch oneself",
    "blow nose",
    "hit other person with something",
    "wield knife towards other person",
    "knock over other person (hit with body)",
    "grab other person's stuff",
    "shoot at other person with a gun",
    "step on foot",
    "high-five",
    "cheers and drink",
    "carry something with other person",
    "take a photo of other person",
    "follow other person",
    "whisper in other person's ear",
    "exchange things with other person",
    "support somebody with one's hand (someone is sick, help him to walk)",
    "finger-guessing game (playing rock-paper-scissors)",
)
NTU60_CLASS_NAMES: tuple[str, ...] = NTU_CLASS_NAMES[:60]

#: Cross-subject training performers of NTU RGB+D (Shahroudy et al. 2016, Sec. 4.1); the other
#: 20 of performers 1..40 are the test set.
NTU60_XSUB_TRAIN_SUBJECTS: frozenset[int] = frozenset(
    {1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38}
)
#: Cross-subject training performers of NTU RGB+D 120 (Liu et al. 2019, Sec. 4.1): the 20 above
#: plus 33 of the new performers 41..106 (53 in all).
NTU120_XSUB_TRAIN_SUBJECTS: frozenset[int] = NTU60_XSUB_TRAIN_SUBJECTS | frozenset(
    {
        45,
        46,
        47,
        49,
        50,
        52,
        53,
        54,
        55,
        56,
        57,
        58,
        59,
        70,
        74,
        78,
        80,
        81,
        82,
        83,
        84,
        85,
        86,
        89,
        91,
        92,
        93,
        94,
        95,
        97,
        98,
        100,
        103,
    }
)
#: Cross-view: cameras 2 and 3 train, camera 1 tests.
NTU_XVIEW_TRAIN_CAMERAS: frozenset[int] = frozenset({2, 3})

#: Benchmark name -> description. ``xsub``/``xview`` are NTU RGB+D 60's, ``xsub120``/``xset``
#: NTU RGB+D 120's (cross-setup: even setup ids train, odd ones test).
NTU_BENCHMARKS: dict[str, str] = {
    "xsub": "cross-subject, NTU RGB+D 60 (20 training performers of 40)",
    "xview": "cross-view (cameras 2 and 3 train, camera 1 tests)",
    "xsub120": "cross-subject, NTU RGB+D 120 (53 training performers of 106)",
    "xset": "cross-setup, NTU RGB+D 120 (even setup ids train, odd ones test)",
}

_NTU60_LAST_SETUP = 17
_NTU60_LAST_PERFORMER = 40
_NAME_RE = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")
_JOINT_FIELDS = (
    "x y z depthX depthY colorX colorY orientationW orientationX orientationY orientationZ "
    "trackingState"
)
#: Names of the 9 numbers after the body ID on a body's info line (NtuBody.info columns).
BODY_INFO_FIELDS: tuple[str, ...] = (
    "clippedEdges",
    "handLeftConfidence",
    "handLeftState",
    "handRightConfidence",
    "handRightState",
    "isRestricted",
    "leanX",
    "leanY",
    "trackingState",
)


class NtuFormatError(ValueError):
    """A ``.skeleton`` file or preprocessed array that does not follow the NTU RGB+D format."""


class NtuMissingSkeletonError(NtuFormatError):
    """A well-formed ``.skeleton`` file without skeleton data (zero frames or no tracked body)."""


# ---------------------------------------------------------------------------------------------
# Sample names and splits
# ---------------------------------------------------------------------------------------------


class NtuSampleName(NamedTuple):
    """The five fields of an NTU sample name ``SsssCcccPpppRrrrAaaa`` (all 1-based ints)."""

    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    @property
    def label(self) -> int:
        """0-based class label (``action - 1``)."""
        return self.action - 1

    @property
    def subject(self) -> int:
        """The performer id (what the cross-subject benchmarks split on)."""
        return self.performer

    @property
    def name(self) -> str:
        """The canonical sample name, e.g. ``'S001C002P003R002A013'``."""
        return (
            f"S{self.setup:03d}C{self.camera:03d}P{self.performer:03d}"
            f"R{self.replication:03d}A{self.action:03d}"
        )

    @property
    def is_ntu120_only(self) -> bool:
        """True for samples that exist only in NTU RGB+D 120 (setup > 17 or action > 60)."""
        return self.setup > _NTU60_LAST_SETUP or self.action > 60


def parse_ntu_name(name: str | os.PathLike) -> NtuSampleName:
    """Parse ``'S001C002P003R002A013'`` or a file name/path (``.../S001C002P003R002A013.skeleton``).

    Raises :class:`ValueError` naming the input when its base name does not start with the
    ``SsssCcccPpppRrrrAaaa`` pattern (three digits each, ids >= 1).
    """
    base = (
        os.path.basename(os.fspath(name)) if not isinstance(name, bytes) else name.decode("latin1")
    )
    m = _NAME_RE.match(base)
    # anything after the 20 characters must be a suffix (".skeleton", "_rgb.avi", ...), not more
    # digits
    if m is None or (len(base) > 20 and base[20] not in "._-"):
        raise ValueError(
            f"{name!r} is not an NTU RGB+D sample name: expected 'SsssCcccPpppRrrrAaaa' with three "
            "digits "
            f"each (setup, camera, performer, replication, action), e.g. 'S001C002P003R002A013' or "
            f"'S001C002P003R002A013.skeleton'"
        )
    fields = NtuSampleName(*(int(g) for g in m.groups()))
    zero = [f for f, v in zip(NtuSampleName._fields, fields) if v == 0]
    if zero:
        raise ValueError(f"{name!r}: NTU ids are 1-based, but {', '.join(zero)} is 000")
    return fields


def _check_benchmark(benchmark: str) -> str:
    if benchmark not in NTU_BENCHMARKS:
        opts = ", ".join(f"{k!r} ({v})" for k, v in NTU_BENCHMARKS.items())
        raise ValueError(f"unknown NTU benchmark {benchmark!r}; expected one of {opts}")
    return benchmark


def ntu_split(name: str | os.PathLike | NtuSampleName, benchmark: str) -> str:
    """``'train'`` or ``'test'`` for one sample under a benchmark's rule.

    ``'xsub'``: performer in :data:`NTU60_XSUB_TRAIN_SUBJECTS`; ``'xview'``: camera 2 or 3;
    ``'xsub120'``: performer in :data:`NTU120_XSUB_TRAIN_SUBJECTS`; ``'xset'``: even setup id.
    ``'xsub'`` refuses NTU 120 samples (setup > 17 or performer > 40), whose split it does not
    define; use ``'xsub120'`` or ``'xset'`` for those.
    """
    _check_benchmark(benchmark)
    s = name if isinstance(name, NtuSampleName) else parse_ntu_name(name)
    if benchmark == "xsub":
        if s.setup > _NTU60_LAST_SETUP or s.performer > _NTU60_LAST_PERFORMER:
            raise ValueError(
                f"sample {s.name} belongs to NTU RGB+D 120 (setup {s.setup}, performer "
                f"{s.performer}); the "
                "NTU 60 cross-subject rule 'xsub' covers setups 1-17 and performers 1-40 only: "
                "use "
                f"benchmark='xsub120' or 'xset'"
            )
        return "train" if s.performer in NTU60_XSUB_TRAIN_SUBJECTS else "test"
    if benchmark == "xview":
        if s.camera > 3:
            raise ValueError(f"sample {s.name} has camera {s.camera}; NTU RGB+D has cameras 1-3")
        return "train" if s.camera in NTU_XVIEW_TRAIN_CAMERAS else "test"
    if benchmark == "xsub120":
        return "train" if s.performer in NTU120_XSUB_TRAIN_SUBJECTS else "test"
    return "train" if s.setup % 2 == 0 else "test"  # xset


def _default_class_names(max_label: int, ntu120: bool, where: str) -> list[str]:
    if max_label >= len(NTU_CLASS_NAMES):
        raise ValueError(
            f"{where}: label {max_label} is beyond NTU RGB+D 120's {len(NTU_CLASS_NAMES)} "
            f"classes; pass class_names=... for a custom label set"
        )
    return list(NTU_CLASS_NAMES if ntu120 or max_label >= 60 else NTU60_CLASS_NAMES)


# ---------------------------------------------------------------------------------------------
# Raw .skeleton files
# ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class NtuBody:
    """One tracked body (one Kinect bodyID) over the frames it appears in.

    K is the number of frames the body is present in.

    Attributes
    ----------
    body_id : the Kinect tracking id (a 64-bit integer)
    frames : (K,) int64 0-based frame indices
    info : (K, 9) float64, the info line after the id (columns :data:`BODY_INFO_FIELDS`)
    positions : (K, 25, 3) float32 camera-space x, y, z in metres
    depth_xy : (K, 25, 2) float32 pixel coordinates in the depth/IR frame
    color_xy : (K, 25, 2) float32 pixel coordinates in the RGB frame
    orientation : (K, 25, 4) float32 joint orientation quaternion (w, x, y, z)
    joint_tracking : (K, 25) int8 tracking state (0 not tracked, 1 inferred, 2 tracked)
    """

    body_id: int
    frames: np.ndarray
    info: np.ndarray
    positions: np.ndarray
    depth_xy: np.ndarray
    color_xy: np.ndarray
    orientation: np.ndarray
    joint_tracking: np.ndarray

    @property
    def activity(self) -> float:
        """Sum over joints and axes of the variance of the position over the body's frames.

        This is the heuristic the dataset's authors describe for picking the main actor (NTU RGB+D
        FAQ): a person moving their arms scores high, a still bystander or a piece of furniture
        misdetected as a body scores near zero. A body seen in one frame scores 0.
        """
        return float(np.var(self.positions.astype(np.float64), axis=0).sum())


@dataclass(eq=False)
class NtuSkeletonFile:
    """The parsed content of one ``.skeleton`` file.

    ``bodies`` are in order of first appearance; ``body_counts`` (T,) is the number of bodies
    listed in each frame.
    """

    path: str
    num_frames: int
    body_counts: np.ndarray
    bodies: list[NtuBody] = field(default_factory=list)

    def ranked_bodies(self) -> list[NtuBody]:
        """Bodies by decreasing :attr:`NtuBody.activity`; ties keep their first-appearance order."""
        order = sorted(range(len(self.bodies)), key=lambda i: (-self.bodies[i].activity, i))
        return [self.bodies[i] for i in order]

    def positions(self, max_bodies: int = 2) -> np.ndarray:
        """(T, max_bodies, 25, 3) float32 joint positions, the most active body first.

        Each body slot holds one Kinect bodyID over the whole sequence (bodies are followed by
        id, not by their order within a frame); frames where that body is absent, and unused
        slots, are zeros. Bodies beyond ``max_bodies`` are dropped.
        """
        max_bodies = check_int("max_bodies", max_bodies, low=1)
        out = np.zeros((self.num_frames, max_bodies, NTU_NUM_JOINTS, 3), dtype=np.float32)
        for m, body in enumerate(self.ranked_bodies()[:max_bodies]):
            out[body.frames, m] = body.positions
        return out


def _fail(path, lineno: int, expected: str, got: str) -> NtuFormatError:
    got = got.strip()
    shown = got if len(got) <= 80 else got[:77] + "..."
    return NtuFormatError(f"{path}, line {lineno}: expected {expected}, got {shown!r}")


def _locate_joint_error(path, joint_lines: list[str], line_of) -> NtuFormatError:
    """Find the first joint line that is not 12 numbers and describe it (slow path, errors only)."""
    for k, text in enumerate(joint_lines):
        tokens = text.split()
        if len(tokens) != 12:
            return _fail(
                path, line_of(k), f"12 numbers ({_JOINT_FIELDS}), found {len(tokens)}", text
            )
        for t in tokens:
            try:
                float(t)
            except ValueError:
                return _fail(path, line_of(k), f"a number in every column ({_JOINT_FIELDS})", text)
    return NtuFormatError(f"{path}: could not parse the joint lines")  # unreachable in practice


def read_skeleton_file(path: str | os.PathLike) -> NtuSkeletonFile:
    """Parse one NTU RGB+D ``.skeleton`` text file.

    Layout: line 1 is the frame count; each frame has a body-count line, then per body an info
    line of 10 values (bodyID, clippedEdges, handLeftConfidence, handLeftState,
    handRightConfidence, handRightState, isRestricted, leanX, leanY, trackingState), a joint-count
    line (25) and 25 joint lines of 12 values (:data:`_JOINT_FIELDS`).

    Raises :class:`NtuFormatError` naming the file, the line and what was expected for malformed
    or missing numbers, a truncated file, extra content, a joint count other than 25 or a
    non-finite position; :class:`NtuMissingSkeletonError` (a subclass) for a file with zero frames
    or without any tracked body. Non-position fields are kept as read (even if NaN).
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        raise FileNotFoundError(f"NTU skeleton file not found: {path}") from None
    lines = text.splitlines()
    n_lines = len(lines)
    while n_lines and not lines[n_lines - 1].strip():
        n_lines -= 1  # trailing blank lines are harmless

    pos = 0  # 0-based index of the next line to read
    context = "the frame count"

    def take(expected: str) -> str:
        nonlocal pos
        if pos >= n_lines:
            raise NtuFormatError(
                f"{path}, line {pos + 1}: the file ends (truncated?) while reading {context}; "
                f"expected {expected}"
            )
        pos += 1
        return lines[pos - 1]

    def take_int(expected: str, low: int = 0) -> int:
        line = take(expected)
        try:
            value = int(line)
        except ValueError:
            raise _fail(path, pos, expected, line) from None
        if value < low:
            raise _fail(path, pos, expected, line)
        return value

    num_frames = take_int("the frame count (a non-negative integer)")
    if num_frames == 0:
        raise NtuMissingSkeletonError(f"{path}, line 1: the file has 0 frames (no skeleton data)")

    body_counts = np.zeros(num_frames, dtype=np.int64)
    slot_of: dict[tuple[int, int], int] = {}  # (bodyID, repeat within frame) -> body slot
    frames: list[list[int]] = []
    infos: list[list[list[float]]] = []
    ids: list[int] = []
    rows: list[list[int]] = []  # per body: its blocks' indices in joint_lines
    block_start: list[int] = []  # per block: 0-based file line of its first joint
    joint_lines: list[str] = []
    for f in range(num_frames):
        context = f"frame {f + 1} of {num_frames}"
        n_bodies = take_int("the number of bodies in this frame (a non-negative integer)")
        body_counts[f] = n_bodies
        seen: dict[int, int] = {}
        for b in range(n_bodies):
            context = f"body {b + 1} of {n_bodies} in frame {f + 1} of {num_frames}"
            expected_info = "10 body values (bodyID, " + ", ".join(BODY_INFO_FIELDS) + ")"
            line = take(expected_info)
            tokens = line.split()
            if len(tokens) != 10:
                raise _fail(path, pos, expected_info + f", found {len(tokens)}", line)
            try:
                body_id = int(tokens[0])
                info = [float(t) for t in tokens[1:]]
            except ValueError:
                raise _fail(
                    path, pos, expected_info + " as numbers (an integer bodyID first)", line
                ) from None
            joints = take_int(f"the joint count ({NTU_NUM_JOINTS})")
            if joints != NTU_NUM_JOINTS:
                raise _fail(
                    path,
                    pos,
                    f"the joint count {NTU_NUM_JOINTS} (Kinect v2 skeleton)",
                    lines[pos - 1],
                )
            if pos + NTU_NUM_JOINTS > n_lines:
                raise NtuFormatError(
                    f"{path}, line {n_lines + 1}: the file ends (truncated?) after {n_lines - pos} "
                    "of "
                    f"{NTU_NUM_JOINTS} joint lines of {context}; expected 12 numbers per joint "
                    f"({_JOINT_FIELDS})"
                )
            # the same id twice in one frame is kept as two bodies rather than merged
            rep = seen.get(body_id, 0)
            seen[body_id] = rep + 1
            key = (body_id, rep)
            if key not in slot_of:
                slot_of[key] = len(ids)
                ids.append(body_id)
                frames.append([])
                infos.append([])
                rows.append([])
            s = slot_of[key]
            frames[s].append(f)
            infos[s].append(info)
            rows[s].append(len(block_start))
            block_start.append(pos)
            joint_lines.extend(lines[pos : pos + NTU_NUM_JOINTS])
            pos += NTU_NUM_JOINTS
    if pos < n_lines:
        raise _fail(
            path,
            pos + 1,
            f"the end of the file after {num_frames} frames (does the frame count on line 1 "
            f"match the content?)",
            lines[pos],
        )
    if not ids:
        raise NtuMissingSkeletonError(
            f"{path}: none of the {num_frames} frames has a tracked body (a sample with missing "
            "skeletons)"
        )

    def line_of(k: int) -> int:  # 1-based file line of joint line k
        return block_start[k // NTU_NUM_JOINTS] + k % NTU_NUM_JOINTS + 1

    # one vectorised parse of all joint lines; on any problem, a slow pass finds the culprit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = np.loadtxt(joint_lines, dtype=np.float64, comments=None, ndmin=2)
    except ValueError:
        raise _locate_joint_error(path, joint_lines, line_of) from None
    if table.shape != (len(joint_lines), 12):
        raise _locate_joint_error(path, joint_lines, line_of)
    finite = np.isfinite(table[:, :3]).all(axis=1)
    if not finite.all():
        k = int(np.flatnonzero(~finite)[0])
        raise _fail(path, line_of(k), "finite x, y, z positions (no NaN or inf)", joint_lines[k])
    table = table.reshape(-1, NTU_NUM_JOINTS, 12)

    bodies = []
    for s, body_id in enumerate(ids):
        t = table[rows[s]]  # (K, 25, 12)
        bodies.append(
            NtuBody(
                body_id=body_id,
                frames=np.asarray(frames[s], dtype=np.int64),
                info=np.asarray(infos[s], dtype=np.float64).reshape(-1, 9),
                positions=t[..., 0:3].astype(np.float32),
                depth_xy=t[..., 3:5].astype(np.float32),
                color_xy=t[..., 5:7].astype(np.float32),
                orientation=t[..., 7:11].astype(np.float32),
                joint_tracking=np.nan_to_num(t[..., 11]).astype(np.int8),
            )
        )
    return NtuSkeletonFile(
        path=str(path), num_frames=num_frames, body_counts=body_counts, bodies=bodies
    )


def read_ignore_list(ignore: str | os.PathLike | Iterable[str]) -> set[str]:
    """Sample names to leave out, from a text file or an iterable of names.

    The text file is e.g. NTU's ``NTU_RGBD_samples_with_missing_skeletons.txt``, whose prose header
    lines are skipped. Returns canonical names.
    """
    if isinstance(ignore, (str, os.PathLike)):
        p = Path(ignore)
        if not p.is_file():
            raise FileNotFoundError(
                f"ignore list not found: {p} (expected a text file of NTU sample names, "
                f"one per line, such as NTU_RGBD_samples_with_missing_skeletons.txt)"
            )
        names = {m.group(0) for m in _NAME_RE.finditer(p.read_text(errors="replace"))}
        if not names:
            raise ValueError(
                f"{p} holds no NTU sample names (expected lines like 'S001C002P005R002A008')"
            )
        return names
    return {parse_ntu_name(n).name for n in ignore}


def _ntu_folder_error(folder: Path, what: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"{what} {folder}: expected NTU RGB+D skeleton files named like "
        f"S001C002P003R002A013.skeleton. {NTU_HINT}"
    )


def load_ntu_skeletons(
    folder: str | os.PathLike,
    benchmark: str = "xsub",
    max_bodies: int = 2,
    missing: str = "skip",
    progress: bool = True,
    files: Sequence[str | os.PathLike] | None = None,
    class_names: Sequence[str] | None = None,
    ignore: str | os.PathLike | Iterable[str] | None = None,
    errors: str = "raise",
) -> SkeletonDataset:
    """Read raw NTU RGB+D ``.skeleton`` files into a dataset split by ``benchmark``.

    Parameters
    ----------
    folder : the folder holding ``S???C???P???R???A???.skeleton`` files (not searched recursively).
    benchmark : ``'xsub'``, ``'xview'`` (NTU 60), ``'xsub120'`` or ``'xset'`` (NTU 120); see
        :func:`ntu_split`.
    max_bodies : body slots M per sequence; the most active bodies are kept (see
        :meth:`NtuSkeletonFile.positions`).
    missing : what to do with samples without skeleton data (zero frames or no tracked body):
        ``'skip'`` them with one warning, or ``'error'``.
    files : only these files (names or paths, relative to ``folder``); default: every
        ``*.skeleton`` file in ``folder``, sorted by name.
    class_names : default: the 60 NTU RGB+D names, or all 120 for NTU 120 benchmarks or data.
    ignore : sample names to leave out unread: the path of a list such as NTU's
        ``NTU_RGBD_samples_with_missing_skeletons.txt``, or an iterable of names.
    errors : ``'raise'`` (default) stops at the first malformed file with its
        :class:`NtuFormatError`; ``'skip'`` leaves such files out with one warning listing them.

    Returns
    -------
    SkeletonDataset
        Sequences (T_i, M, 25, 3) float32 in metres, labels
    ``action - 1``, subjects = performer ids, the benchmark's split, ``files`` = file names,
    :data:`NTU_EDGES`, ``center=20``, :data:`NTU_JOINT_NAMES`, ``fps=30``, ``up_axis=1``.
    """
    _check_benchmark(benchmark)
    if missing not in ("skip", "error"):
        raise ValueError(f"missing must be 'skip' or 'error', got {missing!r}")
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    max_bodies = check_int("max_bodies", max_bodies, low=1)
    if class_names is not None:
        class_names = check_strings("class_names", class_names)
    if isinstance(files, (str, bytes)):
        raise TypeError(f"files must be a list of file names, got the single string {files!r}")
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise _ntu_folder_error(folder, "NTU RGB+D skeleton folder not found:")
    if files is None:
        paths = sorted(folder.glob("*.skeleton"))
        if not paths:
            raise _ntu_folder_error(folder, "no .skeleton files in")
    else:
        paths = [folder / Path(f) if not Path(f).is_absolute() else Path(f) for f in files]
        absent = [str(p) for p in paths if not p.is_file()]
        if absent:
            more = f" (and {len(absent) - 3} more)" if len(absent) > 3 else ""
            raise FileNotFoundError(
                f"requested NTU skeleton files not found: {', '.join(absent[:3])}{more}"
            )
        if not paths:
            raise ValueError("files=[] selects no sample")

    # names and splits first: a bad name or a wrong benchmark fails before minutes of parsing
    parsed = [parse_ntu_name(p.name) for p in paths]
    skip_names = read_ignore_list(ignore) if ignore is not None else set()
    splits = [None if s.name in skip_names else ntu_split(s, benchmark) for s in parsed]

    seqs, keep, no_skeleton, broken = [], [], [], []
    ignored = 0
    for i, p in enumerate(
        tqdm(paths, desc="reading NTU skeletons", unit="file", disable=not progress)
    ):
        if parsed[i].name in skip_names:
            ignored += 1
            continue
        try:
            sample = read_skeleton_file(p)
        except NtuMissingSkeletonError:
            if missing == "error":
                raise
            no_skeleton.append(p.name)
            continue
        except NtuFormatError as exc:
            if errors == "raise":
                raise
            broken.append(f"{p.name} ({exc})")
            continue
        seqs.append(sample.positions(max_bodies))
        keep.append(i)
    if no_skeleton:
        warnings.warn(
            f"skipped {len(no_skeleton)} NTU sample(s) without skeleton data: "
            f"{', '.join(no_skeleton[:5])}{' ...' if len(no_skeleton) > 5 else ''}",
            stacklevel=2,
        )
    if broken:
        warnings.warn(
            f"skipped {len(broken)} malformed NTU file(s): {'; '.join(broken[:3])}"
            f"{' ...' if len(broken) > 3 else ''}",
            stacklevel=2,
        )
    if not seqs:
        raise ValueError(
            f"no usable NTU sample in {folder}: {len(paths)} file(s), {ignored} ignored, "
            f"{len(no_skeleton)} without skeleton data, {len(broken)} malformed"
        )

    kept = [parsed[i] for i in keep]
    labels = np.array([s.label for s in kept], dtype=np.int64)
    ntu120 = benchmark in ("xsub120", "xset") or any(s.is_ntu120_only for s in kept)
    names = (
        list(class_names)
        if class_names is not None
        else _default_class_names(int(labels.max()), ntu120, str(folder))
    )
    return SkeletonDataset.from_arrays(
        seqs,
        labels,
        class_names=names,
        subjects=np.array([s.performer for s in kept], dtype=np.int64),
        split=[splits[i] for i in keep],
        edges=NTU_EDGES,
        center=NTU_RGBD.root,
        files=[paths[i].name for i in keep],
        joint_names=NTU_JOINT_NAMES,
        fps=NTU_FPS,
        up_axis=1,
        name="ntu-rgb+d-120" if ntu120 else "ntu-rgb+d",
        units="m",
    )


# ---------------------------------------------------------------------------------------------
# Preprocessed arrays (st-gcn / 2s-AGCN / mmaction style)
# ---------------------------------------------------------------------------------------------


def _load_label_pickle(label_path: Path, n: int, data_path: Path) -> tuple[list[str], np.ndarray]:
    """Read ``(sample_names, labels)`` from a pickle, falling back to latin1 for Python 2 ones."""
    if not label_path.is_file():
        raise FileNotFoundError(
            f"label file not found: {label_path} (expected a pickle of (sample_names, labels) "
            f"next to {data_path.name})"
        )
    raw = label_path.read_bytes()
    try:
        try:
            obj = pickle.loads(raw)
        except UnicodeDecodeError:
            # Python 2 pickles hold byte strings (and numpy buffers) that need a byte-preserving
            # codec
            obj = pickle.loads(raw, encoding="latin1")
    except Exception as exc:
        raise NtuFormatError(
            f"{label_path}: not a readable pickle ({type(exc).__name__}: {exc})"
        ) from None
    if isinstance(obj, dict):
        hint = (
            " (this looks like an mmaction2/pyskl annotation file, which this loader does not read)"
            if "annotations" in obj
            else ""
        )
        raise NtuFormatError(
            f"{label_path}: expected a pickle of (sample_names, labels), got a dict{hint}"
        )
    if not isinstance(obj, (tuple, list)) or len(obj) != 2:
        what = (
            f"a {type(obj).__name__} of length {len(obj)}"
            if hasattr(obj, "__len__")
            else type(obj).__name__
        )
        raise NtuFormatError(
            f"{label_path}: expected a pickle of (sample_names, labels): two lists, got {what}"
        )
    names_obj, labels_obj = obj
    try:
        names = [n_.decode("latin1") if isinstance(n_, bytes) else n_ for n_ in names_obj]
    except TypeError:
        raise NtuFormatError(
            f"{label_path}: sample_names must be a list of strings, got {type(names_obj).__name__}"
        ) from None
    bad = [x for x in names if not isinstance(x, str)]
    if bad:
        raise NtuFormatError(
            f"{label_path}: sample_names must be strings, found {type(bad[0]).__name__} {bad[0]!r}"
        )
    try:
        labels_f = np.asarray(labels_obj, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise NtuFormatError(
            f"{label_path}: labels must be a list of integers, got {type(labels_obj).__name__}"
        ) from None
    if (
        not np.all(np.isfinite(labels_f))
        or np.any(labels_f != np.round(labels_f))
        or np.any(labels_f < 0)
    ):
        raise NtuFormatError(f"{label_path}: labels must be non-negative integers")
    labels = labels_f.astype(np.int64)
    if len(names) != len(labels):
        raise NtuFormatError(f"{label_path}: {len(names)} sample names but {len(labels)} labels")
    if len(labels) != n:
        raise NtuFormatError(
            f"{label_path} has {len(labels)} labels but {data_path} holds N={n} samples"
        )
    return names, labels


def _split_from_file_name(path: Path) -> str | None:
    stem = path.name.lower()
    if stem.startswith("train"):
        return "train"
    if stem.startswith(("val", "test")):
        return "test"
    return None


def _infer_benchmark(path: Path) -> str | None:
    """The benchmark of a folder named as usual (``xsub/``, ``xview/``, ``xsub120/``, ``xset/``)."""
    folder = path.resolve().parent.name.lower()
    return folder if folder in NTU_BENCHMARKS else None


def _valid_lengths(
    data: np.ndarray, data_path: Path, names: Sequence[str], progress: bool, chunk: int = 256
) -> np.ndarray:
    """(N,) number of frames up to the last one where any body has a non-zero coordinate.

    Also checks every value is finite. Works chunk by chunk so a memory-mapped array is read once
    without loading it whole.
    """
    n, _, t = data.shape[:3]
    lengths = np.zeros(n, dtype=np.int64)
    starts = range(0, n, chunk)
    for a in tqdm(starts, desc=f"scanning {data_path.name}", unit="chunk", disable=not progress):
        x = np.asarray(data[a : a + chunk])  # (n_c, C, T, V, M)
        finite = np.isfinite(x)
        if not finite.all():
            i, _, f = np.argwhere(~finite)[0][:3]
            raise NtuFormatError(
                f"{data_path}: sample {a + i} ({names[a + i]}) has NaN or inf at frame {f}"
            )
        active = (x != 0).any(axis=(1, 3, 4))  # (n_c, T)
        last = t - np.argmax(active[:, ::-1], axis=1)  # 1 + index of the last active frame
        lengths[a : a + len(x)] = np.where(active.any(axis=1), last, 0)
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        i = int(empty[0])
        raise NtuFormatError(
            f"{data_path}: sample {i} ({names[i]}) is all zeros ({empty.size} such sample(s)); "
            f"drop it from the data and the label file"
        )
    return lengths


def load_ntu_preprocessed(
    data_path: str | os.PathLike,
    label_path: str | os.PathLike | None = None,
    mmap: bool = True,
    benchmark: str | None = None,
    split: str | None = None,
    class_names: Sequence[str] | None = None,
    progress: bool = True,
) -> SkeletonDataset:
    """Read an st-gcn style ``*_data_joint.npy`` (N, 3, T, 25, M) with its ``*_label.pkl``.

    Each sample's valid length is the number of frames up to the last one in which any body has
    a non-zero coordinate, so sequences come back with their own lengths, (T_i, M, 25, 3); zero
    frames inside that range are kept. (Pipelines that fill short samples by repeating them, as
    2s-AGCN's preprocessing does, leave nothing to detect: those samples come back T frames long.)

    Parameters
    ----------
    data_path : the ``.npy`` array, (N, C=3, T, V=25, M) of x, y, z.
    label_path : a pickle of ``(sample_names, labels)``; default: ``data_path`` with
        ``data_joint.npy`` / ``data.npy`` replaced by ``label.pkl``. Python 2 pickles are read with
        ``encoding='latin1'``. Only open pickles you trust: unpickling can run code.
    mmap : memory-map the array (default). Sequences are then read-only views into the file and
        nothing is copied; with ``mmap=False`` the array is read into memory and each sequence is
        a compact copy of its valid frames.
    benchmark : the split rule for the sample names; default: inferred from the folder name
        (``xsub``, ``xview``, ``xsub120``, ``xset``; an ``xsub`` folder of NTU 120 names means
        ``xsub120``).
    split : ``'train'`` or ``'test'`` for every sample. Default: from the file name (``train_...``
        -> train, ``val_...``/``test_...`` -> test), else from the names under ``benchmark``.
        When both are known and disagree, a warning says so (the file name wins).
    class_names : default: the 60 NTU RGB+D names, or 120 when labels go beyond 59.

    Subjects are the performer ids parsed from the sample names; ``files`` are the names.
    """
    # the arguments first: a wrong one fails before any file is opened
    if split is not None and split not in ("train", "test"):
        raise ValueError(f"split must be 'train', 'test' or None, got {split!r}")
    if benchmark is not None:
        _check_benchmark(benchmark)
    if class_names is not None:
        class_names = check_strings("class_names", class_names)
    data_path = Path(data_path).expanduser()
    if label_path is None:
        label_path = data_path.with_name(
            re.sub(r"data(_joint)?\.npy$", "label.pkl", data_path.name)
        )
        if label_path == data_path:
            raise ValueError(f"cannot derive the label file from {data_path}; pass label_path=...")
    label_path = Path(label_path).expanduser()
    if not data_path.is_file():
        raise FileNotFoundError(
            f"NTU array not found: {data_path} (expected an .npy array shaped (N, 3, T, 25, M), "
            f"e.g. xsub/train_data_joint.npy). {NTU_HINT}"
        )
    try:
        data = np.load(data_path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise NtuFormatError(f"{data_path}: not a readable .npy array ({exc})") from None
    if data.ndim != 5 or data.shape[1] != 3 or data.shape[3] != NTU_NUM_JOINTS or 0 in data.shape:
        raise NtuFormatError(
            f"expected (N, 3, T, {NTU_NUM_JOINTS}, M) array in {data_path}, got {data.shape}"
        )
    if not np.issubdtype(data.dtype, np.floating):
        raise NtuFormatError(
            f"{data_path}: expected floating-point coordinates, got dtype {data.dtype}"
        )
    n = int(data.shape[0])
    names, labels = _load_label_pickle(label_path, n, data_path)

    try:
        parsed = [parse_ntu_name(x) for x in names]
    except ValueError as exc:
        raise NtuFormatError(f"{label_path}: {exc}") from None
    mismatch = [i for i, s in enumerate(parsed) if s.label != labels[i]]
    if mismatch:
        i = mismatch[0]
        warnings.warn(
            f"{label_path}: {len(mismatch)} label(s) differ from the action id in the sample name, "
            "e.g. "
            f"{names[i]} has label {labels[i]} (action {parsed[i].action} means label "
            f"{parsed[i].label})",
            stacklevel=2,
        )

    bench = benchmark
    if bench is None:
        bench = _infer_benchmark(data_path)
        if bench == "xsub" and any(
            s.setup > _NTU60_LAST_SETUP or s.performer > _NTU60_LAST_PERFORMER for s in parsed
        ):
            bench = "xsub120"  # NTU 120 pipelines also name their cross-subject folder xsub/
    by_name = np.array([ntu_split(s, bench) for s in parsed], dtype=object) if bench else None
    by_file = split or _split_from_file_name(data_path)
    if by_file is None and by_name is None:
        raise ValueError(
            f"cannot tell the split of {data_path}: its name does not start with train/val/test "
            "and "
            f"its folder is not one of {sorted(NTU_BENCHMARKS)}; pass split='train'|'test' or "
            f"benchmark=..."
        )
    if by_file is not None:
        split_arr = np.array([by_file] * n, dtype=object)
        if by_name is not None:
            odd = np.flatnonzero(by_name != by_file)
            if odd.size:
                warnings.warn(
                    f"{data_path}: {odd.size} of {n} samples belong to '{by_name[odd[0]]}' under "
                    "the "
                    f"{bench} rule (e.g. {names[odd[0]]}) but the file is a '{by_file}' file; "
                    f"keeping '{by_file}'",
                    stacklevel=2,
                )
    else:
        split_arr = by_name

    lengths = _valid_lengths(data, data_path, names, progress)
    if mmap and data.dtype == np.float32:
        # views into the memory map: (C, T_i, V, M) -> (T_i, M, V, C), nothing read until used
        seqs = [np.asarray(data[i, :, : lengths[i]]).transpose(1, 3, 2, 0) for i in range(n)]
    else:
        seqs = [
            np.ascontiguousarray(data[i, :, : lengths[i]].transpose(1, 3, 2, 0), dtype=np.float32)
            for i in range(n)
        ]

    ntu120 = any(s.is_ntu120_only for s in parsed)
    if class_names is None:
        class_names = _default_class_names(int(labels.max()), ntu120, str(label_path))
    if labels.max() >= len(class_names):
        raise ValueError(
            f"{label_path}: label {labels.max()} is outside the {len(class_names)} class names"
        )
    # built directly: _valid_lengths has already checked finiteness and non-empty sequences over
    # the whole array, and SkeletonDataset.validate would read a memory-mapped array a second time
    return SkeletonDataset(
        sequences=seqs,
        labels=labels,
        class_names=list(class_names),
        subjects=np.array([s.performer for s in parsed], dtype=np.int64),
        split=np.asarray(split_arr).astype(str),
        edges=np.asarray(NTU_EDGES, dtype=np.int64),
        center=NTU_RGBD.root,
        files=list(names),
        joint_names=list(NTU_JOINT_NAMES),
        fps=NTU_FPS,
        up_axis=1,
        name="ntu-rgb+d-120" if ntu120 or len(class_names) > 60 else "ntu-rgb+d",
        units="m",
    )


def ntu_preprocessed_paths(folder: str | os.PathLike) -> dict[str, tuple[Path, Path]]:
    """The ``{'train': (data, label), 'val': (data, label)}`` files of a benchmark folder.

    Looks for ``train_data_joint.npy`` (or st-gcn's ``train_data.npy``) with ``train_label.pkl``,
    and the same for ``val``. Raises :class:`FileNotFoundError` listing what is missing.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"NTU preprocessed folder not found: {folder} (expected train_data_joint.npy, "
            f"train_label.pkl, val_data_joint.npy, val_label.pkl). {NTU_HINT}"
        )
    out, missing = {}, []
    for part in ("train", "val"):
        data = next(
            (
                folder / f
                for f in (f"{part}_data_joint.npy", f"{part}_data.npy")
                if (folder / f).is_file()
            ),
            None,
        )
        label = folder / f"{part}_label.pkl"
        if data is None:
            missing.append(f"{part}_data_joint.npy")
        if not label.is_file():
            missing.append(label.name)
        if data is not None and label.is_file():
            out[part] = (data, label)
    if missing:
        raise FileNotFoundError(
            f"{folder} lacks {', '.join(missing)} (expected train_data_joint.npy, train_label.pkl, "
            f"val_data_joint.npy and val_label.pkl, as st-gcn style pipelines write them)"
        )
    return out


def load_ntu_preprocessed_folder(
    folder: str | os.PathLike,
    mmap: bool = True,
    benchmark: str | None = None,
    class_names: Sequence[str] | None = None,
    progress: bool = True,
) -> SkeletonDataset:
    """One dataset of a benchmark folder's train and val files (:func:`ntu_preprocessed_paths`).

    Train samples come first; the split is ``'train'`` / ``'test'`` from the file names. Other
    arguments as in :func:`load_ntu_preprocessed`.
    """
    paths = ntu_preprocessed_paths(folder)
    parts = [
        load_ntu_preprocessed(
            d, lab, mmap=mmap, benchmark=benchmark, class_names=class_names, progress=progress
        )
        for d, lab in (paths["train"], paths["val"])
    ]
    tr, va = parts
    names = tr.class_names if len(tr.class_names) >= len(va.class_names) else va.class_names
    return SkeletonDataset(
        sequences=tr.sequences + va.sequences,
        labels=np.concatenate([tr.labels, va.labels]),
        class_names=list(names),
        subjects=np.concatenate([tr.subjects, va.subjects]),
        split=np.array(["train"] * len(tr) + ["test"] * len(va)),
        edges=tr.edges,
        center=tr.center,
        files=tr.files + va.files,
        joint_names=tr.joint_names,
        fps=tr.fps,
        up_axis=tr.up_axis,
        name="ntu-rgb+d-120" if len(names) > 60 else "ntu-rgb+d",
        units=tr.units,
    )
