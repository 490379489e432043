"""One dataset type for every skeleton source: variable-length sequences plus metadata.

A :class:`SkeletonDataset` holds a list of sequences of joint positions, each shaped
``(T_i, V, C)`` (one body) or ``(T_i, M, V, C)`` (several bodies, e.g. NTU RGB+D), with labels,
class names, subject ids, the train/test split and the skeleton's edges. Models take padded
batches shaped ``(N, C, T, V, M)``; :meth:`SkeletonDataset.padded` builds them and returns each
sequence's valid length so later analysis can crop the padding away again.

Any other skeleton dataset plugs in through :meth:`SkeletonDataset.from_arrays`::

    ds = SkeletonDataset.from_arrays(sequences, labels, class_names=["wave", "kick"],
                                     subjects=actor_ids, split=["train", "test", ...],
                                     edges=[(0, 1), (1, 2)], center=0)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from helpers.data.canonical import (
    HEADING_SECONDS,
    canonical_clip,
    check_normalisation,
    heading_joints,
    skeleton_height,  # its home is the canonical clip's module; re-exported where it was
)

__all__ = [
    "DATASET_FORMAT",
    "DATASET_FORMAT_VERSION",
    "SPLITS",
    "SkeletonDataset",
    "pad_sequences",
    "sequences_fingerprint",
    "skeleton_height",
]

SPLITS = ("train", "test")

#: What :meth:`SkeletonDataset.save` writes into its ``.npz``, and its version.
DATASET_FORMAT = "stgcn-geometry.SkeletonDataset"
DATASET_FORMAT_VERSION = 1
_SAVED_KEYS = (
    "frames",
    "lengths",
    "labels",
    "class_names",
    "subjects",
    "split",
    "edges",
    "center",
    "files",
    "joint_names",
    "fps",
    "up_axis",
    "name",
    "units",
)


@dataclass(eq=False)
class SkeletonDataset:
    """Variable-length skeleton sequences with labels and skeleton graph.

    Attributes
    ----------
    sequences : list of float32 arrays, each (T_i, V, C) or (T_i, M, V, C)
    labels : (N,) int64, in ``0 .. len(class_names) - 1``
    class_names : list of str
    subjects : (N,) array of subject/actor ids (str or int)
    split : (N,) array of ``'train'`` / ``'test'``
    edges : (E, 2) int64, undirected bones as 0-based joint index pairs
    center : int, the root/centre joint (used for normalisation and graph partitions)
    files : list of str, each sequence's source (file name), or ``''``
    joint_names : list of str (may be empty)
    fps : frames per second of the stored sequences (``nan`` if unknown)
    up_axis : index of the vertical coordinate axis (HDM05 and NTU: 1, i.e. y)
    name : a short dataset name for captions and cache keys
    units : unit of the coordinates (e.g. ``'m'``)
    """

    sequences: list[np.ndarray]
    labels: np.ndarray
    class_names: list[str]
    subjects: np.ndarray
    split: np.ndarray
    edges: np.ndarray
    center: int = 0
    files: list[str] = field(default_factory=list)
    joint_names: list[str] = field(default_factory=list)
    fps: float = float("nan")
    up_axis: int = 1
    name: str = "custom"
    units: str = ""

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        sequences: Sequence[np.ndarray],
        labels: Sequence[int],
        class_names: Sequence[str] | None = None,
        subjects: Sequence | None = None,
        split: Sequence[str] | None = None,
        edges: Iterable[tuple[int, int]] = (),
        center: int = 0,
        *,
        files: Sequence[str] | None = None,
        joint_names: Sequence[str] | None = None,
        fps: float = float("nan"),
        up_axis: int = 1,
        name: str = "custom",
        units: str = "",
    ) -> "SkeletonDataset":
        """Build and validate a dataset from plain arrays.

        ``sequences``: N arrays shaped (T_i, V, C) or (T_i, M, V, C), all with the same V, C
        (and M).
        ``labels``: N ints; ``class_names`` defaults to ``['class 0', ...]``.
        ``subjects`` defaults to all 0; ``split`` to all ``'train'``.
        """
        seqs = [np.asarray(s, dtype=np.float32) for s in sequences]
        n = len(seqs)
        labels_arr = _as_labels(labels)
        if class_names is None:
            k = int(labels_arr.max()) + 1 if n else 0
            class_names = [f"class {i}" for i in range(k)]
        subjects_arr = np.asarray(subjects) if subjects is not None else np.zeros(n, dtype=np.int64)
        split_arr = (
            np.asarray(split, dtype=object)
            if split is not None
            else np.array(["train"] * n, dtype=object)
        )
        edges_arr = np.asarray(list(edges), dtype=np.int64).reshape(-1, 2)
        ds = cls(
            sequences=seqs,
            labels=labels_arr,
            class_names=list(class_names),
            subjects=subjects_arr,
            split=split_arr.astype(str),
            edges=edges_arr,
            center=int(center),
            files=list(files) if files is not None else [""] * n,
            joint_names=list(joint_names) if joint_names is not None else [],
            fps=float(fps),
            up_axis=int(up_axis),
            name=name,
            units=units,
        )
        ds.validate()
        return ds

    def validate(self) -> None:
        """Check shapes, labels, metadata lengths and finiteness; ValueError names the culprit."""
        n = len(self.sequences)
        if n == 0:
            raise ValueError("a SkeletonDataset needs at least one sequence")
        first = self.sequences[0]
        if first.ndim not in (3, 4):
            raise ValueError(
                f"sequence 0 ({self._where(0)}) has shape {first.shape}; expected (T, V, C) or (T, "
                "M, V, C)"
            )
        tail = first.shape[1:]
        for i, s in enumerate(self.sequences):
            if s.ndim != first.ndim or s.shape[1:] != tail:
                raise ValueError(
                    f"sequence {i} ({self._where(i)}) has shape {s.shape}; expected (T, "
                    f"{', '.join(map(str, tail))}) like sequence 0"
                )
            if s.shape[0] == 0:
                raise ValueError(f"sequence {i} ({self._where(i)}) has zero frames")
            if not np.isfinite(s).all():
                t = int(np.argwhere(~np.isfinite(s))[0][0])
                raise ValueError(f"sequence {i} ({self._where(i)}) has NaN or inf at frame {t}")
        for attr in ("labels", "subjects", "split"):
            if len(getattr(self, attr)) != n:
                raise ValueError(f"{attr} has {len(getattr(self, attr))} entries for {n} sequences")
        if len(self.files) != n:
            raise ValueError(f"files has {len(self.files)} entries for {n} sequences")
        k = len(self.class_names)
        bad = np.flatnonzero((self.labels < 0) | (self.labels >= k))
        if bad.size:
            raise ValueError(
                f"label {self.labels[bad[0]]} of sequence {bad[0]} is outside 0..{k - 1} ({k} "
                "class names)"
            )
        odd = sorted(set(self.split.tolist()) - set(SPLITS))
        if odd:
            raise ValueError(f"split values must be 'train' or 'test', got {odd}")
        v = self.num_joints
        if self.edges.size and (self.edges.min() < 0 or self.edges.max() >= v):
            raise ValueError(f"edges refer to joints outside 0..{v - 1}")
        if not 0 <= self.center < v:
            raise ValueError(f"center joint {self.center} is outside 0..{v - 1}")

    def _where(self, i: int) -> str:
        return self.files[i] if i < len(self.files) and self.files[i] else f"index {i}"

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the dataset to one ``.npz`` file; returns its path (``.npz`` appended if absent).

        Everything is kept: sequences (float32), labels, class names, subjects, split, edges,
        centre, files, joint names, frame rate, up axis, name and units. The file is written
        to a temporary name and then renamed, so an interrupted save leaves no half file.
        Read it back with :meth:`load`.
        """
        self.validate()
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        subjects = np.asarray(self.subjects)
        arrays = {
            "format": np.array(DATASET_FORMAT),
            "format_version": np.array(DATASET_FORMAT_VERSION),
            "frames": np.concatenate([np.asarray(q, np.float32) for q in self.sequences]),
            "lengths": self.lengths.astype(np.int64),
            "labels": np.asarray(self.labels, np.int64),
            "class_names": np.array(self.class_names, dtype=str),
            "subjects": subjects.astype(str) if subjects.dtype == object else subjects,
            "split": np.asarray(self.split, dtype=str),
            "edges": np.asarray(self.edges, np.int64).reshape(-1, 2),
            "center": np.array(int(self.center)),
            "files": np.array(self.files, dtype=str),
            "joint_names": np.array(self.joint_names, dtype=str),
            "fps": np.array(float(self.fps)),
            "up_axis": np.array(int(self.up_axis)),
            "name": np.array(str(self.name)),
            "units": np.array(str(self.units)),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SkeletonDataset":
        """Read a dataset written by :meth:`save`.

        Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file for
        one that is not a saved dataset (not a ``.npz`` archive, another ``.npz``, a newer
        format version or inconsistent contents).
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file (a dataset saved with .save(path))")
        try:
            archive = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise ValueError(f"{path} is not a .npz archive of a saved SkeletonDataset") from err
        with archive as z:
            keys = set(z.files)
            if "format" not in keys or str(z["format"]) != DATASET_FORMAT:
                raise ValueError(
                    f"{path} is a .npz archive but not a saved SkeletonDataset (no "
                    f"'format' = {DATASET_FORMAT!r} entry; it holds {sorted(keys)[:8]})"
                )
            version = int(z["format_version"])
            if version > DATASET_FORMAT_VERSION:
                raise ValueError(
                    f"{path} has dataset format version {version}; this helpers reads up to "
                    f"{DATASET_FORMAT_VERSION} (update the package)"
                )
            missing = sorted(set(_SAVED_KEYS) - keys)
            if missing:
                raise ValueError(f"{path} lacks the entries {missing} of a saved SkeletonDataset")
            lengths = z["lengths"].astype(np.int64)
            frames = z["frames"]
            if lengths.sum() != len(frames) or (lengths < 1).any():
                raise ValueError(
                    f"{path}: the lengths ({int(lengths.sum())} frames in all) do not match the "
                    f"{len(frames)} stored frames"
                )
            bounds = np.concatenate([[0], np.cumsum(lengths)])
            try:
                ds = cls(
                    sequences=[frames[a:b] for a, b in zip(bounds[:-1], bounds[1:])],
                    labels=z["labels"].astype(np.int64),
                    class_names=[str(c) for c in z["class_names"]],
                    subjects=z["subjects"],
                    split=z["split"].astype(str),
                    edges=z["edges"].astype(np.int64).reshape(-1, 2),
                    center=int(z["center"]),
                    files=[str(f) for f in z["files"]],
                    joint_names=[str(j) for j in z["joint_names"]],
                    fps=float(z["fps"]),
                    up_axis=int(z["up_axis"]),
                    name=str(z["name"]),
                    units=str(z["units"]),
                )
                ds.validate()
            except ValueError as err:
                raise ValueError(f"{path}: {err}") from err
        return ds

    # ------------------------------------------------------------------ shape facts
    def __len__(self) -> int:
        return len(self.sequences)

    def __repr__(self) -> str:
        counts = np.unique(self.split, return_counts=True)
        split = ", ".join(f"{k}={v}" for k, v in zip(*counts))
        return (
            f"SkeletonDataset({self.name!r}: {len(self)} sequences, {self.num_classes} classes, "
            f"V={self.num_joints}, C={self.num_channels}, M={self.num_bodies}, "
            f"T={self.lengths.min()}..{self.lengths.max()}, {split})"
        )

    @property
    def lengths(self) -> np.ndarray:
        """(N,) int64 number of frames of each sequence."""
        return np.array([s.shape[0] for s in self.sequences], dtype=np.int64)

    @property
    def num_joints(self) -> int:
        """Number of joints V."""
        return int(self.sequences[0].shape[-2])

    @property
    def num_channels(self) -> int:
        """Number of coordinates per joint C."""
        return int(self.sequences[0].shape[-1])

    @property
    def num_bodies(self) -> int:
        """Number of bodies M per frame (1 for (T, V, C) sequences)."""
        return int(self.sequences[0].shape[1]) if self.sequences[0].ndim == 4 else 1

    @property
    def num_classes(self) -> int:
        """Number of classes K (``len(class_names)``)."""
        return len(self.class_names)

    def class_counts(self) -> np.ndarray:
        """(num_classes,) number of sequences per class."""
        return np.bincount(self.labels, minlength=self.num_classes)

    def fingerprint(self) -> str:
        """A 20-hex-digit SHA-256 digest of the sequences, labels, subjects, split and skeleton.

        It is the dataset's identity in cache keys and checkpoints.
        """
        meta = {
            "name": self.name,
            "class_names": list(self.class_names),
            "center": int(self.center),
            "up_axis": int(self.up_axis),
            "fps": None if np.isnan(self.fps) else float(self.fps),
            "units": self.units,
            "edges": np.asarray(self.edges).tolist(),
            "labels": np.asarray(self.labels, np.int64).tolist(),
            "subjects": [str(s) for s in self.subjects],
            "split": [str(s) for s in self.split],
        }
        h = hashlib.sha256(repr(sorted(meta.items())).encode())
        h.update(
            sequences_fingerprint([np.asarray(s, np.float32) for s in self.sequences]).encode()
        )
        return h.hexdigest()[:20]

    # ------------------------------------------------------------------ selection
    def subset(self, index) -> "SkeletonDataset":
        """A new dataset with the sequences selected by a boolean mask or an index array."""
        idx = np.asarray(index)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise ValueError(f"boolean mask has shape {idx.shape}; expected ({len(self)},)")
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64).reshape(-1)
        return replace(
            self,
            sequences=[self.sequences[i] for i in idx],
            labels=self.labels[idx],
            subjects=self.subjects[idx],
            split=self.split[idx],
            files=[self.files[i] for i in idx],
        )

    def select_classes(self, classes: Sequence[str | int]) -> "SkeletonDataset":
        """The clips of ``classes`` only, relabelled ``0 .. len(classes) - 1`` in the given order.

        ``classes`` are class names or indices; ``class_names`` becomes their names. For example
        ``ds.select_classes(['squat1Reps', 'kickLFront1Reps'])`` is a two-class task.
        """
        idx = []
        for c in classes:
            if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
                if not 0 <= int(c) < self.num_classes:
                    raise ValueError(f"class index {c} is not in 0..{self.num_classes - 1}")
                idx.append(int(c))
            elif str(c) in self.class_names:
                idx.append(self.class_names.index(str(c)))
            else:
                raise ValueError(
                    f"unknown class {c!r}; the dataset's classes are {list(self.class_names)}"
                )
        if not idx or len(set(idx)) != len(idx):
            raise ValueError(f"classes must name distinct classes (got {list(classes)})")
        new_label = np.full(self.num_classes, -1, np.int64)
        new_label[idx] = np.arange(len(idx))
        keep = new_label[self.labels] >= 0
        out = self.subset(keep)
        return replace(
            out,
            labels=new_label[out.labels],
            class_names=[self.class_names[i] for i in idx],
        )

    def train(self) -> "SkeletonDataset":
        """A new dataset with the sequences whose split is ``'train'``."""
        return self.subset(self.split == "train")

    def test(self) -> "SkeletonDataset":
        """A new dataset with the sequences whose split is ``'test'``."""
        return self.subset(self.split == "test")

    def hold_out(self, subject) -> tuple["SkeletonDataset", "SkeletonDataset"]:
        """The training clips of the other subjects, and the training clips of ``subject``.

        For choices made on held-out training subjects (model selection, early stopping): the
        test clips are in neither part. Subjects are compared as strings (``'dg'``, ``7`` and
        ``'7'`` alike). Raises ValueError naming the training subjects when ``subject`` is not
        one of them, or when it is the only one.
        """
        tr = self.train()
        names = np.asarray([str(s) for s in tr.subjects])
        held = names == str(subject)
        if not held.any():
            raise ValueError(
                f"subject {subject!r} is not among the training subjects "
                f"{sorted(set(names.tolist()))}"
            )
        if held.all():
            raise ValueError(
                f"subject {subject!r} is the only training subject: holding it out leaves "
                "nothing to train on"
            )
        return tr.subset(~held), tr.subset(held)

    # ------------------------------------------------------------------ transforms
    def map(self, fn) -> "SkeletonDataset":
        """A new dataset with ``fn(sequence)`` applied to every sequence (metadata unchanged)."""
        return replace(
            self, sequences=[np.ascontiguousarray(fn(s), dtype=np.float32) for s in self.sequences]
        )

    def normalized(
        self,
        center: str | None = "first",
        scale: float | str | None = None,
        heading: str | None = None,
    ) -> "SkeletonDataset":
        """Centre, turn and scale every sequence (:func:`helpers.data.canonical.canonical_clip`).

        center: ``'first'`` subtracts the centre joint's position in the first frame (keeps the
            global trajectory, as st-gcn style pipelines do); ``'frame'`` subtracts it in every
            frame (removes translation); ``None`` leaves positions alone. For several bodies the
            first body's centre joint is used.
        scale: ``None``; a number to divide by; or ``'height'`` to divide each sequence by its
            first frame's vertical extent (the actor's height when standing).
        heading: ``None`` keeps each clip's heading; ``'first'`` turns it about the vertical
            axis so that the line from the left to the right hip (else shoulder) in its first
            :data:`~helpers.data.canonical.HEADING_SECONDS` points along +x (y up). The joints
            come from the layout (:func:`~helpers.data.canonical.heading_joints`); a skeleton
            without named hips or shoulders raises :class:`ValueError`.
        """
        check_normalisation(center, scale)
        if heading not in (None, "first"):
            raise ValueError(f"heading must be None or 'first', got {heading!r}")
        hips = shoulders = None
        frames = 1
        if heading == "first":
            hips, shoulders = heading_joints(self.joint_names)
            if hips is None and shoulders is None:
                raise ValueError(
                    f"heading='first': dataset {self.name!r} names no left/right hip or shoulder "
                    "joints (joint_names), so its heading cannot be read; give the joints names "
                    "such as 'left hip' and 'right hip', or use heading=None"
                )
            if np.isfinite(self.fps) and self.fps > 0:
                frames = max(1, int(round(HEADING_SECONDS * float(self.fps))))
        files = self.files if len(self.files) == len(self) else [""] * len(self)
        seqs = [
            np.ascontiguousarray(
                canonical_clip(
                    seq,
                    root=self.center,
                    up_axis=self.up_axis,
                    center=center,
                    scale=scale,
                    hips=hips,
                    shoulders=shoulders,
                    heading_frames=frames,
                    name=f"{self.name} clip {i}" + (f" ({files[i]})" if files[i] else ""),
                )
            )
            for i, seq in enumerate(self.sequences)
        ]
        return replace(self, sequences=seqs)

    # ------------------------------------------------------------------ batches
    def padded(self, index=None, max_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Zero-padded batch of the selected sequences.

        Returns ``x`` shaped (N, C, T, V, M) float32 with ``T = max_len`` or the longest selected
        length, and ``lengths`` (N,) int64, each sequence's valid (unpadded) frame count. Sequences
        longer than ``max_len`` are cut to their first ``max_len`` frames (and ``lengths`` says so).
        """
        idx = np.arange(len(self)) if index is None else np.asarray(index).reshape(-1)
        return pad_sequences([self.sequences[i] for i in idx], max_len=max_len)


def _as_labels(labels) -> np.ndarray:
    """Labels as (N,) int64; floats must be whole numbers, anything else is an error."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.size else np.zeros(0, np.int64)
    if arr.size == 0 or arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(
            f"labels have dtype {arr.dtype}; expected integer class indices 0..K-1 (for class "
            "names, use names, labels = np.unique(names, return_inverse=True))"
        )
    bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"label {float(arr[i])!r} of sequence {i} is not a whole number ({bad.size} such "
            "label(s)); "
            "labels are integer class indices 0..K-1"
        )
    return arr.astype(np.int64)


def pad_sequences(
    sequences: Sequence[np.ndarray], max_len: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pad (T_i, V, C) or (T_i, M, V, C) sequences to (N, C, T, V, M) float32 and (N,) lengths."""
    if len(sequences) == 0:
        raise ValueError("pad_sequences needs at least one sequence")
    seqs = [s[:, None] if s.ndim == 3 else s for s in sequences]  # (T, M, V, C)
    lengths = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    t = int(max_len) if max_len is not None else int(lengths.max())
    lengths = np.minimum(lengths, t)
    _, m, v, c = seqs[0].shape
    x = np.zeros((len(seqs), c, t, v, m), dtype=np.float32)
    for i, s in enumerate(seqs):
        x[i, :, : lengths[i]] = np.transpose(s[: lengths[i]], (3, 0, 2, 1))
    return x, lengths


def sequences_fingerprint(sequences: Sequence[np.ndarray]) -> str:
    """SHA-256 (hex) over the number of arrays and each one's dtype, shape and bytes.

    Any change of a value, a length, the order or the dtype gives another fingerprint; the same
    arrays always give the same one. One pass over the data (about 1 GB/s).
    """
    h = hashlib.sha256()
    h.update(f"n={len(sequences)};".encode())
    for s in sequences:
        a = np.ascontiguousarray(s)
        h.update(f"{a.dtype.str}{a.shape};".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()
