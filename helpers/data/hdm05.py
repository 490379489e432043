"""Load the HDM05 subset used by the book as a :class:`~helpers.data.dataset.SkeletonDataset`.

The data folder (see :func:`~helpers.runtime.folders.data_dir`) holds ``asf/HDM_<actor>.asf`` (one
skeleton per actor), ``amc/HDM_<actor>_<motion>_<nnn>_120.amc`` (joint angles at 120 Hz) and
``manifest.csv`` (``file,actor,motion,class_folder,split``). Each clip is turned into 3-D joint
positions in metres by Acclaim forward kinematics (:mod:`~helpers.data.acclaim`), resampled to
``fps`` and cached on disk, so only the first load pays for the conversion.

Joint layout (31 joints, y up; each bone's joint is the bone's end point, see
:data:`helpers.data.skeletons.HDM05`, which holds the names, parents and bones)::

  0 root
  1 lhipjoint  2 lfemur  3 ltibia  4 lfoot  5 ltoes            (parents 0 1 2 3 4)
  6 rhipjoint  7 rfemur  8 rtibia  9 rfoot 10 rtoes            (parents 0 6 7 8 9)
 11 lowerback 12 upperback 13 thorax 14 lowerneck 15 upperneck 16 head   (0 11 12 13 14 15)
 17 lclavicle 18 lhumerus 19 lradius 20 lwrist 21 lhand 22 lfingers 23 lthumb (13 17 18 19 20 21 20)
 24 rclavicle 25 rhumerus 26 rradius 27 rwrist 28 rhand 29 rfingers 30 rthumb (13 24 25 26 27 28 27)

Resampling: the 120 Hz motion is sampled on the new time grid ``t_k = k / fps`` (from the first
frame up to the last) by linear interpolation of joint positions. When ``120 / fps`` is an
integer (the default 30 fps: every 4th frame) the grid falls on recorded frames and this is plain
decimation, which keeps every bone length exact. No anti-aliasing average is applied on purpose:
averaging positions of a rotating limb shortens it, and human motion carries little energy above
the 15 Hz Nyquist frequency of 30 fps.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from helpers.data.acclaim import (
    AsfSkeleton,
    SkeletonFormatError,
    forward_kinematics,
    parse_amc,
    parse_asf,
    rest_pose,
)
from helpers.data.dataset import SkeletonDataset
from helpers.data.resampling import fps_positions, interpolation_plan
from helpers.data.skeletons import HDM05, HDM05_EDGES, HDM05_JOINT_NAMES, HDM05_PARENTS
from helpers.data.validation import check_fps, check_strings
from helpers.runtime.disk_cache import DiskCache
from helpers.runtime.folders import DATA_ENV, require_data_dir
from helpers.runtime.keys import hdm05_key

__all__ = [
    "HDM05_FPS",
    "HDM05_HINT",
    "HDM05_TEST_ACTORS",
    "ManifestRow",
    "hdm05_rest_pose",
    "load_hdm05",
    "manifest_from_files",
    "read_clip",
    "read_manifest",
    "require_hdm05_dir",
]

#: Frame rate of the HDM05 recordings (Vicon, 120 Hz).
HDM05_FPS = 120.0


#: Where HDM05 comes from and how to lay it out; part of every "data not found" error.
HDM05_HINT = (
    "HDM05 is published by Universität Bonn (https://resources.mpi-inf.mpg.de/HDM05/, "
    "'Documentation Mocap Database HDM05', CC BY-SA 3.0). Put the cut clips of the 11 classes "
    "used here into a folder with asf/HDM_<actor>.asf, amc/HDM_<actor>_<motion>_<nnn>_120.amc and "
    "optionally manifest.csv (columns file,actor,motion,class_folder,split; without it classes and "
    "the actor split are read from the file names; see README.md), then point "
    f"{DATA_ENV} at that folder or pass data_dir=... explicitly."
)

_MANIFEST_COLUMNS = ("file", "actor", "motion", "class_folder", "split")
_FPS_RE = re.compile(r"_(\d+)\.amc$", re.IGNORECASE)


def require_hdm05_dir(
    root: str | os.PathLike | None = None, needs: tuple[str, ...] = ("asf", "amc")
) -> Path:
    """The HDM05 folder (see :func:`helpers.runtime.folders.data_dir`), checked to hold ``needs``.

    Raises :class:`FileNotFoundError` saying what is missing, where to put it and where to get
    HDM05 (:data:`HDM05_HINT`).
    """
    return require_data_dir(root, needs=needs, what="HDM05 data", hint=HDM05_HINT)


# ---------------------------------------------------------------------------------- manifest
@dataclass(frozen=True)
class ManifestRow:
    """One clip listed in ``manifest.csv`` (``line`` is its line number in the file)."""

    file: str
    actor: str
    motion: str
    class_folder: int
    split: str
    line: int


def read_manifest(path: str | os.PathLike) -> list[ManifestRow]:
    """Read and check ``manifest.csv``; errors name the line and the problem."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ValueError(
                f"{path}: the manifest is empty; expected the header {','.join(_MANIFEST_COLUMNS)}"
            )
        header = [h.strip() for h in header]
        missing = [c for c in _MANIFEST_COLUMNS if c not in header]
        if missing:
            raise ValueError(
                f"{path}:1: the manifest lacks column(s) {', '.join(missing)}; expected "
                f"{','.join(_MANIFEST_COLUMNS)}"
            )
        col = {c: header.index(c) for c in _MANIFEST_COLUMNS}
        rows = []
        for lineno, rec in enumerate(reader, 2):
            if not rec or all(not r.strip() for r in rec):
                continue
            if len(rec) != len(header):
                raise ValueError(
                    f"{path}:{lineno}: expected {len(header)} fields, got {len(rec)}: "
                    f"{','.join(rec)!r}"
                )
            get = {c: rec[i].strip() for c, i in col.items()}
            try:
                folder = int(get["class_folder"])
            except ValueError:
                raise ValueError(
                    f"{path}:{lineno}: class_folder must be an integer, got {get['class_folder']!r}"
                ) from None
            if get["split"] not in ("train", "test"):
                raise ValueError(
                    f"{path}:{lineno}: split must be 'train' or 'test', got {get['split']!r}"
                )
            if not get["file"].lower().endswith(".amc"):
                raise ValueError(
                    f"{path}:{lineno}: file must name an .amc file, got {get['file']!r}"
                )
            if not get["actor"]:
                raise ValueError(f"{path}:{lineno}: the actor is empty")
            rows.append(
                ManifestRow(get["file"], get["actor"], get["motion"], folder, get["split"], lineno)
            )
    if not rows:
        raise ValueError(f"{path}: the manifest lists no clips")
    return rows


# ---------------------------------------------------------------------------------- conversion
def _layout_permutation(skeleton: AsfSkeleton) -> np.ndarray:
    """Indices that reorder the skeleton's joints into :data:`HDM05_JOINT_NAMES` (checked)."""
    names = skeleton.joint_names
    if sorted(names) != sorted(HDM05_JOINT_NAMES):
        extra = sorted(set(names) - set(HDM05_JOINT_NAMES))
        lack = sorted(set(HDM05_JOINT_NAMES) - set(names))
        raise SkeletonFormatError(
            skeleton.path,
            None,
            f"the skeleton does not have the 31 HDM05 bones (extra: {extra}, missing: {lack})",
        )
    perm = np.array([names.index(n) for n in HDM05_JOINT_NAMES], dtype=np.int64)
    parents = skeleton.parent_indices()
    inv = np.empty_like(perm)
    inv[perm] = np.arange(len(perm))
    remapped = [
        -1 if parents[perm[j]] < 0 else int(inv[parents[perm[j]]]) for j in range(len(perm))
    ]
    if tuple(remapped) != HDM05_PARENTS:
        raise SkeletonFormatError(
            skeleton.path, None, "the skeleton's :hierarchy differs from the HDM05 layout"
        )
    return perm


def read_clip(
    amc_path: str | os.PathLike,
    skeleton: AsfSkeleton | str | os.PathLike,
    fps: float | None = 30.0,
    src_fps: float = HDM05_FPS,
) -> np.ndarray:
    """Joint positions of one HDM05 clip: (T', 31, 3) float32 metres.

    Joints are in :data:`HDM05_JOINT_NAMES` order. ``skeleton`` is the actor's parsed ASF (or its
    path). ``fps=None`` keeps the recorded rate. Forward kinematics runs only on the frames the new
    time grid needs.
    """
    fps = check_fps("fps", fps, allow_none=True)
    src_fps = check_fps("src_fps", src_fps)
    skel = skeleton if isinstance(skeleton, AsfSkeleton) else parse_asf(skeleton)
    perm = _layout_permutation(skel)
    motion = parse_amc(amc_path, skel)
    t = motion.num_frames
    if fps is None or fps == src_fps:
        pos = forward_kinematics(skel, motion)
    else:
        lo, hi, w = interpolation_plan(fps_positions(t, src_fps, fps), t)
        frames = np.unique(np.concatenate([lo, hi[w > 0]]))
        sub = forward_kinematics(skel, motion.take(frames))
        at = np.searchsorted(frames, lo)
        pos = sub[at]
        if (w > 0).any():
            wk = w[:, None, None]
            pos = np.where(wk > 0, sub[at] * (1 - wk) + sub[np.searchsorted(frames, hi)] * wk, pos)
    with np.errstate(over="ignore"):  # an overflow is reported below, with the file and frame
        out = np.ascontiguousarray(pos[:, perm], dtype=np.float32)
    if not np.isfinite(out).all():
        t, j = np.argwhere(~np.isfinite(out).all(axis=2))[0]
        raise SkeletonFormatError(
            Path(amc_path),
            None,
            f"joint {HDM05_JOINT_NAMES[j]} of output frame {t} is not a finite position in "
            "float32 (an angle or translation in the file is too large or not a number)",
        )
    return out


def _fingerprint(path: Path) -> list:
    """A file's part of the cache key: name, size, modification time and SHA-256 of its bytes.

    The time stamp alone misses an edit that keeps the file's size and time stamp (a copy with
    ``cp -p`` or ``rsync -t``, a restore from an archive, a clock set back), and the cache would
    answer with the old clip; the content digest catches it. The time stamp stays in the key
    as before, so a touched file is still converted again. Hashing every file on each load is
    cheap: all 294 files of the book's HDM05 folder (57 MB) hash in about 0.12 s (SHA-256,
    files in the page cache, measured on the project's 2-core test machine), against minutes
    for the conversion.
    """
    st = path.stat()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return [path.name, int(st.st_size), int(st.st_mtime_ns), digest]


def _clip_fps(name: str) -> float:
    m = _FPS_RE.search(name)
    return float(m.group(1)) if m else HDM05_FPS


_CLIP_RE = re.compile(r"^HDM_([A-Za-z]+)_(.+)_(\d+)_(\d+)\.amc$", re.IGNORECASE)

#: The cross-subject test actors of the default split.
HDM05_TEST_ACTORS = ("mm", "tr")


def manifest_from_files(
    root: str | os.PathLike, test_actors: tuple[str, ...] = HDM05_TEST_ACTORS
) -> list[ManifestRow]:
    """Manifest rows inferred from the AMC file names under ``root/amc`` (searched recursively).

    For users who downloaded HDM05 themselves and have no ``manifest.csv``: each file named
    ``HDM_<actor>_<motion>_<nnn>_<fps>.amc`` becomes one clip; classes are the motion names in
    alphabetical order (``class_folder`` 1, 2, ...) and the split is by actor (``test_actors``
    test, the others train). Files that do not follow the pattern raise a ValueError naming them.
    """
    # a bare string would test membership by substring ('m' in 'mm'), not by actor name
    test_actors = tuple(check_strings("test_actors", test_actors))
    amc_root = Path(root) / "amc"
    files = sorted(
        p.relative_to(amc_root).as_posix()
        for p in amc_root.rglob("*")
        if p.suffix.lower() == ".amc"
    )
    if not files:
        raise FileNotFoundError(f"no .amc files under {amc_root}")
    parsed = []
    for f in files:
        m = _CLIP_RE.match(Path(f).name)
        if m is None:
            raise ValueError(
                f"{amc_root / f}: cannot read actor and motion from the name; expected "
                "HDM_<actor>_<motion>_<nnn>_<fps>.amc (or list the clips in manifest.csv)"
            )
        parsed.append((f, m.group(1), m.group(2)))
    folder_of = {motion: k + 1 for k, motion in enumerate(sorted({m for _, _, m in parsed}))}
    return [
        ManifestRow(
            f, actor, motion, folder_of[motion], "test" if actor in test_actors else "train", 0
        )
        for f, actor, motion in parsed
    ]


def hdm05_rest_pose(actor: str = "bd", root: str | os.PathLike | None = None) -> np.ndarray:
    """(31, 3) float64 rest pose (all angles zero, a T-pose) of an actor's skeleton in metres.

    Joints are in HDM05 order (:data:`HDM05_JOINT_NAMES`).
    """
    if not isinstance(actor, str):
        raise TypeError(f"actor must be an actor's id such as 'bd', got {actor!r}")
    base = require_hdm05_dir(root, needs=("asf",))
    skel = parse_asf(base / "asf" / f"HDM_{actor}.asf")
    return rest_pose(skel)[_layout_permutation(skel)]


def load_hdm05(
    root: str | os.PathLike | None = None,
    fps: float | None = 30.0,
    *,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> SkeletonDataset:
    """Load the HDM05 clips listed in ``manifest.csv`` as joint positions.

    Parameters
    ----------
    root : the data folder; ``None`` uses :func:`~helpers.runtime.folders.data_dir`
        (``$STGCN_DATA_DIR``). A missing or incomplete folder raises :class:`FileNotFoundError` with
        instructions.
    fps : frame rate of the returned sequences (default 30; ``None`` keeps 120 Hz).
    cache : reuse/store the converted arrays in the disk cache (``cache_dir`` or
        ``$STGCN_CACHE_DIR``). The key covers every input file's name, size, modification
        time and content (a SHA-256 digest, so an edit is seen even when the file keeps its
        size and time stamp), the manifest's content, ``fps`` and
        :data:`helpers.runtime.keys.HDM05_VERSION`.
    progress : show a progress bar while converting.

    Returns
    -------
    SkeletonDataset
        Sequences (T_i, 31, 3) float32 in metres (y up),
    labels ordered by ``class_folder``, ``class_names`` = motion names, ``subjects`` = actor ids,
    the manifest's split, ``files`` = AMC file names, the 30 HDM05 edges and ``center = 0``.
    """
    fps = check_fps("fps", fps, allow_none=True)
    base = require_hdm05_dir(root, needs=("asf", "amc"))
    manifest = base / "manifest.csv"
    if manifest.is_file():
        rows = read_manifest(manifest)
        manifest_key = hashlib.sha256(manifest.read_bytes()).hexdigest()
    else:
        rows = manifest_from_files(base)
        warnings.warn(
            f"{base} has no manifest.csv: classes and the split were inferred from the AMC file "
            f"names (test actors {', '.join(HDM05_TEST_ACTORS)})",
            stacklevel=2,
        )
        manifest_key = hashlib.sha256(
            repr([tuple(vars(r).values()) for r in rows]).encode()
        ).hexdigest()

    def where(r: ManifestRow) -> str:
        return f"{manifest}:{r.line}" if r.line else f"clip {r.file} (no manifest.csv)"

    folders = sorted({r.class_folder for r in rows})
    names: dict[int, str] = {}
    for r in rows:
        if names.setdefault(r.class_folder, r.motion) != r.motion:
            raise ValueError(
                f"{where(r)}: class_folder {r.class_folder} is {r.motion!r} here "
                f"but {names[r.class_folder]!r} earlier; each class_folder needs one motion name"
            )
    label_of = {f: k for k, f in enumerate(folders)}

    amc_paths, asf_paths = [], {}
    for r in rows:
        p = base / "amc" / r.file
        if not p.is_file():
            raise FileNotFoundError(f"{where(r)} lists {r.file}, but {p} does not exist")
        amc_paths.append(p)
        if r.actor not in asf_paths:
            a = base / "asf" / f"HDM_{r.actor}.asf"
            if not a.is_file():
                raise FileNotFoundError(f"{where(r)}: no skeleton {a} for actor {r.actor!r}")
            asf_paths[r.actor] = a

    def convert() -> dict[str, np.ndarray]:
        skeletons = {actor: parse_asf(p) for actor, p in asf_paths.items()}
        seqs = []
        for r, p in tqdm(
            list(zip(rows, amc_paths)),
            desc="HDM05 -> joint positions",
            unit="clip",
            disable=not progress,
        ):
            seqs.append(read_clip(p, skeletons[r.actor], fps=fps, src_fps=_clip_fps(r.file)))
        return {
            "positions": np.concatenate(seqs, axis=0),
            "lengths": np.array([len(s) for s in seqs], dtype=np.int64),
        }

    def build(arrays: dict[str, np.ndarray]) -> SkeletonDataset:
        # also the cache's validator: nothing that fails here is ever stored
        lengths = arrays["lengths"]
        if len(lengths) != len(rows) or int(lengths.sum()) != len(arrays["positions"]):
            raise ValueError(
                f"the HDM05 arrays hold {len(lengths)} clips of {int(lengths.sum())} "
                f"frames in all, but the manifest lists {len(rows)} clips"
            )
        sequences = np.split(arrays["positions"], np.cumsum(lengths)[:-1])
        return SkeletonDataset.from_arrays(
            sequences,
            labels=[label_of[r.class_folder] for r in rows],
            class_names=[names[f] for f in folders],
            subjects=np.array([r.actor for r in rows]),
            split=[r.split for r in rows],
            edges=HDM05_EDGES,
            center=HDM05.root,
            files=[r.file for r in rows],
            joint_names=list(HDM05_JOINT_NAMES),
            fps=HDM05_FPS if fps is None else float(fps),
            up_axis=1,
            name="hdm05",
            units="m",
        )

    if not cache:
        return build(convert())
    config = hdm05_key(
        fps,
        manifest_key,
        asf=[_fingerprint(asf_paths[a]) for a in sorted(asf_paths)],
        amc=[_fingerprint(p) for p in amc_paths],
    )
    built: list[SkeletonDataset] = []
    arrays = DiskCache(cache_dir).arrays(
        "hdm05", config, convert, validate=lambda a: built.append(build(a))
    )
    return built[-1] if built else build(arrays)
