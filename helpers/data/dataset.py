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
import struct
import tempfile
import zipfile
import zlib
from collections import abc
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from helpers.data.canonical import (
    HEADING_SECONDS,
    canonical_clip,
    check_normalisation,
    heading_joints,
    skeleton_height,  # its home is the canonical clip's module; re-exported where it was
)
from helpers.data.validation import (
    check_axis,
    check_fps,
    check_sequence,
    check_strings,
    describe,
)
from helpers.runtime.arguments import check_int

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
    "format_version",
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
#: What reading a damaged or foreign file can raise inside numpy and zipfile: a truncated zip
#: (BadZipFile, EOFError), a damaged member (BadZipFile for a CRC mismatch, zlib.error, EOFError,
#: struct.error for a cut header), an unsupported zip feature (NotImplementedError), a pickled
#: object (ValueError, as allow_pickle is off), or a bad .npy header (ValueError, OSError).
_UNREADABLE = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    NotImplementedError,
    struct.error,
    zipfile.BadZipFile,
    zlib.error,
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
    joint_names : list of V str (may be empty when built directly; :meth:`from_arrays` and
        :meth:`load` name unnamed joints ``'joint 0'``, ``'joint 1'``, ...)
    fps : frames per second of the stored sequences (``nan`` if unknown)
    up_axis : index of the vertical coordinate axis (HDM05 and NTU: 1, i.e. y)
    name : a short dataset name for captions and cache keys
    units : unit of the coordinates (e.g. ``'m'``)

    A dataset holds at least one sequence: its joint count, channels and bodies are read off
    its sequences. Selections that would leave none (:meth:`subset`, :meth:`select_classes`,
    :meth:`train`, :meth:`test`) raise a ValueError naming the argument instead of returning
    an empty dataset that would fail later, far from the cause.
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
        fps: float | None = float("nan"),
        up_axis: int = 1,
        name: str = "custom",
        units: str = "",
    ) -> "SkeletonDataset":
        """Build and validate a dataset from plain arrays.

        Only ``sequences`` and ``labels`` are required; the defaults make a dataset that works
        everywhere (saved, loaded, selected, normalised, drawn).

        Parameters
        ----------
        sequences : N arrays (T_i, V, C) or (T_i, M, V, C) of numbers, all with the same V, C
            (and M), each with at least one finite frame; stored as float32.
        labels : (N,) integer class indices ``0 .. K - 1`` (whole-number floats are accepted).
        class_names : K strings; default the numbers ``['0', '1', ..., str(max label)]``.
        subjects : (N,) subject/actor ids; default all ``0``.
        split : (N,) ``'train'`` / ``'test'``; default all ``'train'``.
        edges : (E, 2) bones as pairs of distinct joint indices ``0 .. V - 1``; default none.
        center : the root/centre joint index, ``0 .. V - 1``.
        files : (N,) file names, or ``''``; default all ``''``.
        joint_names : V strings; default (None or empty) ``['joint 0', ..., 'joint V-1']``.
        fps : frames per second, positive; default NaN, i.e. unknown (None means the same).
            Functions that act over time (correlated noise, the heading window) then say so.
        up_axis : the vertical coordinate axis, ``0 .. C - 1`` (at most 2).
        name, units : strings for captions and cache keys.

        Returns
        -------
        SkeletonDataset

        Raises
        ------
        TypeError
            An argument of the wrong type (text labels, a float joint index, a bare string for a
            list of names); the message names the argument.
        ValueError
            Wrong shapes, lengths or values (labels outside the class names, edges outside the
            joints, ``fps <= 0``); the message names the argument and the entry.
        """
        # any iterable of arrays (a list, a generator, an (N, T, V, C) array); not one string
        if isinstance(sequences, (str, bytes)) or not isinstance(sequences, abc.Iterable):
            raise TypeError(
                f"sequences must be a list of arrays (T, V, C) or (T, M, V, C), got "
                f"{describe(sequences)} ({type(sequences).__name__})"
            )
        seqs = [
            np.asarray(check_sequence(f"sequences[{i}]", s), dtype=np.float32)
            for i, s in enumerate(sequences)
        ]
        if not seqs:
            raise ValueError("sequences is empty; a SkeletonDataset needs at least one sequence")
        n = len(seqs)
        labels_arr = _as_labels(labels, n)
        if class_names is None:
            # numeric names: label k is called 'k', as a user who only has numbers would say
            class_names = [str(i) for i in range(int(labels_arr.max()) + 1)]
        num_joints = seqs[0].shape[-2]
        if joint_names is None or (
            not isinstance(joint_names, (str, bytes)) and len(joint_names) == 0
        ):
            joint_names = _default_joint_names(num_joints)
        ds = cls(
            sequences=seqs,
            labels=labels_arr,
            class_names=check_strings("class_names", class_names),
            subjects=_per_sequence("subjects", subjects, n, np.zeros(n, dtype=np.int64)),
            split=_per_sequence("split", split, n, np.array(["train"] * n)).astype(str),
            edges=_as_edges(edges),
            center=check_int("center", center),
            files=check_strings("files", files) if files is not None else [""] * n,
            joint_names=check_strings("joint_names", joint_names),
            fps=check_fps("fps", fps, allow_none=True, allow_nan=True) or float("nan"),
            up_axis=check_int("up_axis", up_axis),
            name=_text("name", name),
            units=_text("units", units),
        )
        ds.validate()
        return ds

    def validate(self) -> None:
        """Check shapes, labels, metadata lengths and finiteness.

        Raises ValueError (TypeError for a wrong type) naming the attribute, which is also the
        argument of :meth:`from_arrays`, and the entry at fault.
        """
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
        if k == 0:
            raise ValueError("class_names is empty; expected one name per class")
        twice = sorted({c for c in self.class_names if self.class_names.count(c) > 1})
        if twice:
            raise ValueError(
                f"class_names holds {twice} more than once; each class needs its own name"
            )
        bad = np.flatnonzero((self.labels < 0) | (self.labels >= k))
        if bad.size:
            raise ValueError(
                f"label {self.labels[bad[0]]} of sequence {bad[0]} (labels[{bad[0]}]) is outside "
                f"0..{k - 1} ({k} class_names; {bad.size} such label(s))"
            )
        odd = sorted(set(self.split.tolist()) - set(SPLITS))
        if odd:
            raise ValueError(f"split values must be 'train' or 'test', got {odd}")
        v = self.num_joints
        if self.edges.ndim != 2 or self.edges.shape[1:] != (2,):
            raise ValueError(f"edges has shape {self.edges.shape}; expected (E, 2) joint pairs")
        outside = np.flatnonzero(((self.edges < 0) | (self.edges >= v)).any(axis=1))
        if outside.size:
            e = outside[0]
            raise ValueError(
                f"edges[{e}] = {tuple(self.edges[e].tolist())} refers to a joint outside "
                f"0..{v - 1} ({v} joints)"
            )
        loops = np.flatnonzero(self.edges[:, 0] == self.edges[:, 1])
        if loops.size:
            e = loops[0]
            raise ValueError(
                f"edges[{e}] = {tuple(self.edges[e].tolist())} joins joint {self.edges[e, 0]} to "
                "itself; expected bones between two different joints"
            )
        check_int("center", self.center)
        if not 0 <= self.center < v:
            raise ValueError(f"center joint {self.center} is outside 0..{v - 1} ({v} joints)")
        if len(self.joint_names) not in (0, v):
            raise ValueError(
                f"joint_names has {len(self.joint_names)} names for {v} joints; expected one "
                "name per joint (or none: from_arrays then names them 'joint 0', ...)"
            )
        check_fps("fps", self.fps, allow_nan=True)
        check_axis("up_axis", self.up_axis, self.num_channels)

    def _where(self, i: int) -> str:
        return self.files[i] if i < len(self.files) and self.files[i] else f"index {i}"

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the dataset to one ``.npz`` file; returns the path written.

        ``.npz`` is appended to a path that does not end in it (``save('clips')`` writes
        ``clips.npz``), as :func:`numpy.savez` does; :meth:`load` finds the file under either
        name. Everything is kept: sequences (float32), labels, class names, subjects, split,
        edges, centre, files, joint names, frame rate, up axis, name and units. The file is
        written to a temporary name and then renamed, so an interrupted save leaves no half
        file. Read it back with :meth:`load`.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path (str or Path), got {describe(path)}")
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

        ``path`` may omit the ``.npz`` that :meth:`save` appends: when ``path`` does not exist
        but ``path + '.npz'`` does, that file is read. Sequences come back as float32 (the
        saved dtype, whatever the dtype of the data that was saved), joint names as saved
        (``'joint 0'``, ... for a file saved without them).

        Raises
        ------
        FileNotFoundError
            Neither ``path`` nor ``path + '.npz'`` is a file (IsADirectoryError, a subclass of
            OSError, for a folder).
        ValueError
            The file is not a saved dataset: not a ``.npz`` archive (a ``.npy`` array, text, a
            truncated or corrupted archive), another ``.npz``, a newer format version or
            inconsistent contents. The message names the file and what was expected.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path (str or Path), got {describe(path)}")
        path = Path(path)
        if not path.is_file() and path.suffix != ".npz":
            appended = path.with_name(path.name + ".npz")
            if appended.is_file():
                path = appended
        if path.is_dir():
            raise IsADirectoryError(
                f"{path} is a folder; expected a dataset file saved with SkeletonDataset.save(path)"
            )
        if not path.is_file():
            also = f" (nor {path.name}.npz)" if path.suffix != ".npz" else ""
            raise FileNotFoundError(
                f"{path}: no such file{also}; expected a dataset saved with "
                "SkeletonDataset.save(path)"
            )
        z = _read_saved(path)
        try:
            version = int(z["format_version"])
            if version > DATASET_FORMAT_VERSION:
                raise ValueError(
                    f"dataset format version {version}; this helpers reads up to "
                    f"{DATASET_FORMAT_VERSION} (update the package)"
                )
            lengths = z["lengths"].astype(np.int64).reshape(-1)
            # float32 is the documented dtype of every sequence: a file written by hand in
            # float64 comes back as float32 too
            frames = z["frames"].astype(np.float32, copy=False)
            if lengths.sum() != len(frames) or (lengths < 1).any():
                raise ValueError(
                    f"the lengths ({int(lengths.sum())} frames in all) do not match the "
                    f"{len(frames)} stored frames"
                )
            bounds = np.concatenate([[0], np.cumsum(lengths)])
            sequences = [frames[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
            joint_names = [str(j) for j in z["joint_names"]]
            ds = cls(
                sequences=sequences,
                labels=z["labels"].astype(np.int64),
                class_names=[str(c) for c in z["class_names"]],
                subjects=z["subjects"],
                split=z["split"].astype(str),
                edges=z["edges"].astype(np.int64).reshape(-1, 2),
                center=int(z["center"]),
                files=[str(f) for f in z["files"]],
                # files saved before from_arrays named every joint hold none
                joint_names=joint_names or _default_joint_names(sequences[0].shape[-2]),
                fps=float(z["fps"]),
                up_axis=int(z["up_axis"]),
                name=str(z["name"]),
                units=str(z["units"]),
            )
            ds.validate()
        except (TypeError, ValueError, IndexError) as err:
            # entries of the wrong kind (text lengths, a 1-D frames array) land here too
            raise ValueError(f"{path}: {err} (not a consistent saved SkeletonDataset)") from err
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
    def _indices(self, index: Any, name: str) -> np.ndarray:
        """``index`` (a boolean mask or integer indices) as (n,) int64 positions, checked."""
        if isinstance(index, (str, bytes)) or index is None:
            raise TypeError(
                f"{name} must be a boolean mask or integer indices, got {describe(index)}"
            )
        try:
            idx = np.asarray(index)
        except ValueError as err:
            raise ValueError(f"{name} is not a flat mask or list of indices: {err}") from None
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise ValueError(
                    f"{name} is a boolean mask of shape {idx.shape}; expected ({len(self)},), "
                    "one entry per sequence"
                )
            return np.flatnonzero(idx)
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(
                f"{name} holds {idx.dtype} values ({describe(index)}); expected a boolean mask or "
                "integer indices"
            )
        idx = idx.astype(np.int64).reshape(-1)
        n = len(self)
        outside = idx[(idx < -n) | (idx >= n)]
        if outside.size:
            raise ValueError(
                f"{name} holds {int(outside[0])}, outside the {n} sequences (indices 0..{n - 1}, "
                f"or -{n}..-1 from the end)"
            )
        return np.where(idx < 0, idx + n, idx)

    def subset(self, index) -> "SkeletonDataset":
        """A new dataset with the sequences selected by a boolean mask or an index array.

        Parameters
        ----------
        index : (N,) bool mask, or integer indices (negative ones count from the end, as in
            numpy; repeats repeat the sequence).

        Raises
        ------
        ValueError
            The selection is empty. A dataset always holds at least one sequence (its joint
            count, channels and bodies are read off its sequences), so an empty selection is
            refused here, where the mask that selected nothing is known, rather than at the
            first use of the empty result. Also for a mask of the wrong length or indices
            out of range.
        TypeError
            ``index`` is neither a boolean mask nor integers (e.g. floats).
        """
        idx = self._indices(index, "index")
        if idx.size == 0:
            raise ValueError(
                f"index selects none of the {len(self)} sequences of dataset {self.name!r}; a "
                "SkeletonDataset needs at least one sequence"
            )
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
        ``ds.select_classes(['squat1Reps', 'kickLFront1Reps'])`` is a two-class task. Raises
        ValueError for an empty list, unknown or repeated classes, or classes without clips
        (the result would be empty: see :meth:`subset`), TypeError for a bare string or an
        entry that is neither a name nor an integer index.
        """
        if isinstance(classes, (str, bytes)):
            raise TypeError(
                f"classes must be a list of class names or indices, got the single string "
                f"{classes!r} (write [{classes!r}])"
            )
        if not isinstance(classes, (Sequence, np.ndarray)):
            raise TypeError(
                f"classes must be a list of class names or indices, got {describe(classes)}"
            )
        if len(classes) == 0:
            raise ValueError("classes is empty; expected at least one class name or index")
        idx = []
        for k, c in enumerate(classes):
            if isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)):
                if not 0 <= int(c) < self.num_classes:
                    raise ValueError(
                        f"classes[{k}]: class index {c} is not in 0..{self.num_classes - 1}"
                    )
                idx.append(int(c))
            elif not isinstance(c, str):
                raise TypeError(
                    f"classes[{k}] is {describe(c)} ({type(c).__name__}); expected a class name "
                    "(str) or an integer index"
                )
            elif c in self.class_names:
                idx.append(self.class_names.index(c))
            else:
                raise ValueError(
                    f"classes[{k}]: unknown class {c!r}; the dataset's classes are "
                    f"{list(self.class_names)}"
                )
        if len(set(idx)) != len(idx):
            raise ValueError(f"classes must name distinct classes (got {list(classes)})")
        new_label = np.full(self.num_classes, -1, np.int64)
        new_label[idx] = np.arange(len(idx))
        keep = new_label[self.labels] >= 0
        if not keep.any():
            raise ValueError(
                f"classes {list(classes)} have no clips in dataset {self.name!r}; the result "
                "would be empty"
            )
        out = self.subset(keep)
        return replace(
            out,
            labels=new_label[out.labels],
            class_names=[self.class_names[i] for i in idx],
        )

    def _part(self, part: str) -> "SkeletonDataset":
        held = self.split == part
        if not held.any():
            raise ValueError(
                f"dataset {self.name!r} has no {part!r} clips (its split holds only "
                f"{sorted(set(self.split.tolist()))}); give from_arrays a split=[...] with "
                "'train' and 'test' entries"
            )
        return self.subset(held)

    def train(self) -> "SkeletonDataset":
        """A new dataset with the sequences whose split is ``'train'`` (ValueError if none)."""
        return self._part("train")

    def test(self) -> "SkeletonDataset":
        """A new dataset with the sequences whose split is ``'test'`` (ValueError if none)."""
        return self._part("test")

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
        idx = np.arange(len(self)) if index is None else self._indices(index, "index")
        return pad_sequences([self.sequences[i] for i in idx], max_len=max_len)


def _read_saved(path: Path) -> dict[str, np.ndarray]:
    """Every entry of a file written by :meth:`SkeletonDataset.save`, read and checked.

    Everything is read here, at once, so that a damaged archive fails here with the file's
    name rather than later, entry by entry, with a bare zipfile or zlib error.
    """
    expected = (
        f"expected a .npz archive written by SkeletonDataset.save (entries "
        f"'format' = {DATASET_FORMAT!r}, {', '.join(repr(k) for k in _SAVED_KEYS[:3])}, ...)"
    )
    try:
        archive = np.load(path, allow_pickle=False)
    except _UNREADABLE as err:
        raise ValueError(
            f"{path} is not a .npz archive of a saved SkeletonDataset (truncated, corrupted or "
            f"another kind of file: {type(err).__name__}: {err}); {expected}"
        ) from err
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(
            f"{path} holds a single .npy array ({describe(archive)}), not a .npz archive of a "
            f"saved SkeletonDataset; {expected}"
        )
    with archive:
        keys = set(archive.files)
        if "format" not in keys:
            raise ValueError(
                f"{path} is a .npz archive but not a saved SkeletonDataset (no 'format' entry; it "
                f"holds {sorted(keys)[:8]}); {expected}"
            )
        try:
            entries = {k: archive[k] for k in archive.files}
        except _UNREADABLE as err:
            raise ValueError(
                f"{path}: an entry of the archive cannot be read (a truncated or corrupted file, "
                f"or an entry holding Python objects: {type(err).__name__}: {err}); {expected}"
            ) from err
    if str(entries["format"]) != DATASET_FORMAT:
        raise ValueError(
            f"{path} is a .npz archive but not a saved SkeletonDataset ('format' is "
            f"{describe(entries['format'])}); {expected}"
        )
    missing = sorted(set(_SAVED_KEYS) - keys)
    if missing:
        raise ValueError(f"{path} lacks the entries {missing} of a saved SkeletonDataset")
    return entries


def _as_labels(labels: Any, n: int) -> np.ndarray:
    """Labels as (N,) int64; floats must be whole numbers, anything else is an error."""
    if isinstance(labels, (str, bytes)) or labels is None:
        raise TypeError(
            f"labels must be {n} integer class indices 0..K-1, got {describe(labels)} (for class "
            "names, use names, labels = np.unique(names, return_inverse=True))"
        )
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise ValueError(
            f"labels has shape {arr.shape}; expected ({n},), one class index per sequence"
        )
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(
            f"labels have dtype {arr.dtype}; expected integer class indices 0..K-1 (for class "
            "names, use names, labels = np.unique(names, return_inverse=True))"
        )
    if np.issubdtype(arr.dtype, np.integer):
        out = arr.astype(np.int64)
    else:
        bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"label {float(arr[i])!r} of sequence {i} is not a whole number ({bad.size} such "
                "label(s)); labels are integer class indices 0..K-1"
            )
        out = arr.astype(np.int64)
    if (out < 0).any():
        i = int(np.flatnonzero(out < 0)[0])
        raise ValueError(f"labels[{i}] = {out[i]} is negative; expected class indices 0..K-1")
    return out


def _per_sequence(name: str, values: Any, n: int, default: np.ndarray) -> np.ndarray:
    """One entry per sequence as an (N,) array; ``default`` for None."""
    if values is None:
        return default
    if isinstance(values, (str, bytes)):
        raise TypeError(
            f"{name} must hold one entry per sequence ({n}), got the single string {values!r}"
        )
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}; expected ({n},), one entry per sequence")
    return arr


def _as_edges(edges: Any) -> np.ndarray:
    """Edges as (E, 2) int64; non-integer joint indices are refused, not truncated."""
    if isinstance(edges, (str, bytes)) or edges is None:
        raise TypeError(f"edges must be (E, 2) pairs of joint indices, got {describe(edges)}")
    try:
        arr = np.asarray(list(edges))
    except (TypeError, ValueError) as err:
        raise TypeError(f"edges must be (E, 2) pairs of joint indices: {err}") from None
    if arr.size == 0:
        return np.zeros((0, 2), np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"edges has shape {arr.shape}; expected (E, 2) pairs of joint indices")
    if not np.issubdtype(arr.dtype, np.integer):
        whole = np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr))
        if not whole:
            raise TypeError(
                f"edges hold {arr.dtype} values ({describe(arr)}); expected integer joint indices"
            )
    return arr.astype(np.int64)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {describe(value)} ({type(value).__name__})")
    return value


def _default_joint_names(num_joints: int) -> list[str]:
    """``['joint 0', 'joint 1', ...]``: the names of joints nobody named."""
    return [f"joint {v}" for v in range(num_joints)]


def pad_sequences(
    sequences: Sequence[np.ndarray], max_len: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pad (T_i, V, C) or (T_i, M, V, C) sequences to (N, C, T, V, M) float32 and (N,) lengths.

    Parameters
    ----------
    sequences : N arrays (T_i, V, C) or (T_i, M, V, C), all with the same trailing shape.
    max_len : T, the padded length (longer sequences are cut); default the longest T_i.

    Returns
    -------
    x : (N, C, T, V, M) float32, zero after each sequence's end.
    lengths : (N,) int64 valid frames of each row (at most ``max_len``).
    """
    if len(sequences) == 0:
        raise ValueError("sequences is empty; pad_sequences needs at least one sequence")
    checked = [check_sequence(f"sequences[{i}]", s) for i, s in enumerate(sequences)]
    seqs = [s[:, None] if s.ndim == 3 else s for s in checked]  # (T, M, V, C)
    for i, s in enumerate(seqs):
        if s.shape[1:] != seqs[0].shape[1:]:
            raise ValueError(
                f"sequences[{i}] has shape {checked[i].shape}; expected the (M, V, C) of "
                f"sequences[0], {checked[0].shape}"
            )
    lengths = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    t = check_int("max_len", max_len, low=1) if max_len is not None else int(lengths.max())
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
