"""Bad inputs at the doors of ``helpers.data``: one clear error that names the argument or file.

Every case of the table is ``(id, call, error type, regex)``: ``call(tmp)`` (``tmp`` a fresh
folder for cases that write files) must raise exactly that type, with a message matching the
regex, which names the argument as the caller wrote it, or the file (ValueError for a bad value,
shape or file, TypeError for a wrong type, FileNotFoundError for a missing file). After the
table: saved datasets round-trip (also through the name without ``.npz``, in float32, and for a
dataset built from the required arguments alone), AMC frame numbers must count up by one, and
the HDM05 cache notices an edit that keeps a file's size and time stamp.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from test_hdm05 import FAKE_CLIPS, _fake_amc, _fake_asf

from helpers.data.acclaim import SkeletonFormatError, parse_amc, parse_asf
from helpers.data.augment import (
    Augment,
    add_joint_noise,
    random_crop_resample,
    random_rotation_matrix,
    rotate,
    rotation_about_axis,
    with_joint_noise,
)
from helpers.data.canonical import canonical_clip, heading_angle, skeleton_height
from helpers.data.dataset import SkeletonDataset, pad_sequences
from helpers.data.hdm05 import load_hdm05, manifest_from_files, read_clip
from helpers.data.ntu import load_ntu_preprocessed, load_ntu_skeletons
from helpers.data.perturb import add_correlated_noise, drop_joints, with_noise
from helpers.data.resampling import crop_resample, fps_positions, resample, resample_fps
from helpers.data.utd_mhad import load_utd_mhad
from helpers.runtime.arguments import ArgumentTypeError

FIXTURES = Path(__file__).parent / "fixtures" / "acclaim"
RNG = np.random.default_rng(0)
CLIP = np.random.default_rng(1).normal(size=(6, 3, 3)).astype(np.float32)


def _from(**changes):
    """``from_arrays`` on two 3-joint clips with ``changes`` to its arguments."""
    args = dict(sequences=[np.zeros((4, 3, 3)), np.ones((5, 3, 3))], labels=[0, 1])
    args.update(changes)
    return SkeletonDataset.from_arrays(**args)


#: Two clips, one train and one test, classes 'a' and 'b', subjects 'x' and 'y', 30 fps.
DS = _from(class_names=["a", "b"], split=["train", "test"], subjects=["x", "y"], fps=30.0)
#: Every clip in 'train' (from_arrays' default split).
TRAIN_ONLY = _from(class_names=["a", "b", "c"])


def _saved(tmp: Path) -> Path:
    return DS.save(tmp / "ok.npz")


def _write(tmp: Path, name: str, data: bytes) -> Path:
    (tmp / name).write_bytes(data)
    return tmp / name


def _amc(tmp: Path, numbers: list[int]) -> Path:
    """An AMC file of the tiny skeleton (tests/fixtures/acclaim) with these frame numbers."""
    lines = [":DEGREES"]
    for f in numbers:
        lines += [str(f), "root 0 0 0 0 0 0", "spine 0 0 0", "arm 0"]
    path = tmp / "frames.amc"
    path.write_text("\n".join(lines) + "\n")
    return path


def _npy(tmp: Path) -> Path:
    np.save(tmp / "arr.npy", np.zeros(3))
    return tmp / "arr.npy"


def _other_npz(tmp: Path) -> Path:
    np.savez(tmp / "other.npz", x=np.zeros(3))
    return tmp / "other.npz"


def _corrupted(tmp: Path) -> Path:
    data = bytearray(_saved(tmp).read_bytes())
    mid = len(data) // 2
    data[mid : mid + 64] = b"\0" * 64
    return _write(tmp, "corrupt.npz", bytes(data))


def _edited_save(tmp: Path, name: str, **entries) -> Path:
    """A saved dataset's file with some entries replaced."""
    with np.load(_saved(tmp)) as z:
        parts = dict(z)
    parts.update(entries)
    np.savez(tmp / name, **parts)
    return tmp / name


def _objects_npz(tmp: Path) -> Path:
    np.savez(tmp / "objects.npz", format=np.array([{"a": 1}], dtype=object))
    return tmp / "objects.npz"


CASES = [
    # ---------------------------------------------------------------- SkeletonDataset.load/save
    (
        "load-truncated-half",
        lambda tmp: SkeletonDataset.load(
            _write(tmp, "half.npz", _saved(tmp).read_bytes()[: _saved(tmp).stat().st_size // 2])
        ),
        ValueError,
        r"half\.npz is not a \.npz archive of a saved SkeletonDataset.*expected",
    ),
    (
        "load-empty-file",
        lambda tmp: SkeletonDataset.load(_write(tmp, "empty.npz", b"")),
        ValueError,
        r"empty\.npz is not a \.npz archive",
    ),
    (
        "load-corrupted-middle",
        lambda tmp: SkeletonDataset.load(_corrupted(tmp)),
        ValueError,
        r"corrupt\.npz.*(cannot be read|not a \.npz archive)",
    ),
    (
        "load-npy-array",
        lambda tmp: SkeletonDataset.load(_npy(tmp)),
        ValueError,
        r"arr\.npy holds a single \.npy array .* not a \.npz archive",
    ),
    (
        "load-other-npz",
        lambda tmp: SkeletonDataset.load(_other_npz(tmp)),
        ValueError,
        r"other\.npz is a \.npz archive but not a saved SkeletonDataset",
    ),
    (
        "load-pickled-objects",
        lambda tmp: SkeletonDataset.load(_objects_npz(tmp)),
        ValueError,
        r"objects\.npz: an entry of the archive cannot be read",
    ),
    (
        "load-newer-version",
        lambda tmp: SkeletonDataset.load(_edited_save(tmp, "v9.npz", format_version=np.array(9))),
        ValueError,
        r"v9\.npz: dataset format version 9; this helpers reads up to 1",
    ),
    (
        "load-flat-frames",
        lambda tmp: SkeletonDataset.load(
            _edited_save(tmp, "flat.npz", frames=np.zeros(9, np.float32), lengths=np.array([4, 5]))
        ),
        ValueError,
        r"flat\.npz: .*\(not a consistent saved SkeletonDataset\)",
    ),
    (
        "load-text-lengths",
        lambda tmp: SkeletonDataset.load(_edited_save(tmp, "text.npz", lengths=np.array(["a"]))),
        ValueError,
        r"text\.npz: .*not a consistent saved SkeletonDataset",
    ),
    (
        "load-missing",
        lambda tmp: SkeletonDataset.load(tmp / "missing"),
        FileNotFoundError,
        r"missing: no such file \(nor missing\.npz\)",
    ),
    ("load-folder", lambda tmp: SkeletonDataset.load(tmp), IsADirectoryError, r"is a folder"),
    ("load-path-int", lambda tmp: SkeletonDataset.load(3), TypeError, r"path must be a file path"),
    ("save-path-none", lambda tmp: DS.save(None), TypeError, r"path must be a file path"),
    # ---------------------------------------------------------------- from_arrays: sequences
    ("sequences-int", lambda tmp: _from(sequences=5), TypeError, r"sequences must be a list"),
    (
        "sequences-empty",
        lambda tmp: _from(sequences=[], labels=[]),
        ValueError,
        r"sequences is empty",
    ),
    (
        "sequences-text",
        lambda tmp: _from(sequences=["abc", "def"]),
        TypeError,
        r"sequences\[0\] must be an array",
    ),
    (
        "sequences-ragged",
        lambda tmp: _from(sequences=[[[1.0, 2.0], [3.0]], np.zeros((4, 3, 3))]),
        ValueError,
        r"sequences\[0\] is not a rectangular array",
    ),
    (
        "sequences-2d",
        lambda tmp: _from(sequences=[np.zeros((4, 3)), np.zeros((4, 3))]),
        ValueError,
        r"sequences\[0\] has shape \(4, 3\); expected \(T, V, C\)",
    ),
    (
        "sequences-bool",
        lambda tmp: _from(sequences=[np.zeros((4, 3, 3), bool)] * 2),
        TypeError,
        r"sequences\[0\] has dtype bool",
    ),
    (
        "sequences-other-joints",
        lambda tmp: _from(sequences=[np.zeros((4, 3, 3)), np.zeros((4, 5, 3))]),
        ValueError,
        r"sequence 1 .*shape \(4, 5, 3\); expected \(T, 3, 3\)",
    ),
    # ---------------------------------------------------------------- from_arrays: labels
    (
        "labels-short",
        lambda tmp: _from(labels=[0]),
        ValueError,
        r"labels has shape \(1,\); expected \(2,\)",
    ),
    ("labels-2d", lambda tmp: _from(labels=[[0, 1]]), ValueError, r"labels has shape \(1, 2\)"),
    ("labels-scalar", lambda tmp: _from(labels=1), ValueError, r"labels has shape \(\)"),
    ("labels-none", lambda tmp: _from(labels=None), TypeError, r"labels must be 2 integer"),
    ("labels-text", lambda tmp: _from(labels=["walk", "run"]), TypeError, r"labels have dtype <U"),
    (
        "labels-negative",
        lambda tmp: _from(labels=[-1, 0]),
        ValueError,
        r"labels\[0\] = -1 is negative",
    ),
    (
        "labels-beyond-class-names",
        lambda tmp: _from(labels=[0, 5], class_names=["a", "b"]),
        ValueError,
        r"labels\[1\]\) is outside 0\.\.1 \(2 class_names",
    ),
    ("labels-fraction", lambda tmp: _from(labels=[0.0, 1.5]), ValueError, r"label 1\.5 .*whole"),
    # ---------------------------------------------------------------- from_arrays: the rest
    (
        "class-names-string",
        lambda tmp: _from(class_names="ab"),
        TypeError,
        r"class_names must be a list of strings, got the single string 'ab'",
    ),
    (
        "class-names-ints",
        lambda tmp: _from(class_names=[0, 1]),
        TypeError,
        r"class_names\[0\] is 0 \(int\); expected a string",
    ),
    (
        "class-names-twice",
        lambda tmp: _from(class_names=["a", "a"]),
        ValueError,
        r"class_names holds \['a'\] more than once",
    ),
    ("subjects-short", lambda tmp: _from(subjects=["x"]), ValueError, r"subjects has shape \(1,\)"),
    ("subjects-scalar", lambda tmp: _from(subjects=7), ValueError, r"subjects has shape \(\)"),
    ("split-short", lambda tmp: _from(split=["train"]), ValueError, r"split has shape \(1,\)"),
    (
        "split-string",
        lambda tmp: _from(split="train"),
        TypeError,
        r"split must hold one entry per sequence \(2\), got the single string",
    ),
    ("split-value", lambda tmp: _from(split=["train", "val"]), ValueError, r"split values .*'val'"),
    (
        "edges-outside",
        lambda tmp: _from(edges=[(0, 1), (1, 3)]),
        ValueError,
        r"edges\[1\] = \(1, 3\) refers to a joint outside 0\.\.2",
    ),
    ("edges-negative", lambda tmp: _from(edges=[(-1, 0)]), ValueError, r"edges\[0\] = \(-1, 0\)"),
    (
        "edges-triples",
        lambda tmp: _from(edges=[(0, 1, 2)]),
        ValueError,
        r"edges has shape \(1, 3\)",
    ),
    ("edges-fraction", lambda tmp: _from(edges=[(0.5, 1)]), TypeError, r"edges hold float64"),
    ("edges-text", lambda tmp: _from(edges=[("a", "b")]), TypeError, r"edges hold <U1"),
    (
        "edges-loop",
        lambda tmp: _from(edges=[(1, 1)]),
        ValueError,
        r"edges\[0\] = \(1, 1\) joins joint 1 to itself",
    ),
    (
        "center-outside",
        lambda tmp: _from(center=5),
        ValueError,
        r"center joint 5 is outside 0\.\.2",
    ),
    ("center-float", lambda tmp: _from(center=1.0), TypeError, r"center=1\.0: expected an integer"),
    ("center-text", lambda tmp: _from(center="a"), TypeError, r"center='a'"),
    ("fps-zero", lambda tmp: _from(fps=0), ValueError, r"fps must be a positive number .*got 0"),
    ("fps-negative", lambda tmp: _from(fps=-30.0), ValueError, r"fps must be a positive .*-30"),
    ("fps-inf", lambda tmp: _from(fps=float("inf")), ValueError, r"fps must be a positive .*inf"),
    ("fps-text", lambda tmp: _from(fps="30"), TypeError, r"fps must be a positive .*'30' \(str\)"),
    (
        "up-axis-3",
        lambda tmp: _from(up_axis=3),
        ValueError,
        r"up_axis=3: expected an integer in \[0, 2\]",
    ),
    ("up-axis-float", lambda tmp: _from(up_axis=1.0), TypeError, r"up_axis=1\.0"),
    ("files-string", lambda tmp: _from(files="ab"), TypeError, r"files must be a list of strings"),
    ("files-short", lambda tmp: _from(files=["a"]), ValueError, r"files has 1 entries for 2"),
    (
        "joint-names-short",
        lambda tmp: _from(joint_names=["a"]),
        ValueError,
        r"joint_names has 1 names for 3 joints",
    ),
    ("joint-names-string", lambda tmp: _from(joint_names="abc"), TypeError, r"joint_names must be"),
    ("name-int", lambda tmp: _from(name=3), TypeError, r"name must be a string, got 3"),
    ("units-none", lambda tmp: _from(units=None), TypeError, r"units must be a string"),
    # ---------------------------------------------------------------- selections
    (
        "subset-empty-mask",
        lambda tmp: DS.subset(np.zeros(2, bool)),
        ValueError,
        r"index selects none of the 2",
    ),
    ("subset-empty-list", lambda tmp: DS.subset([]), ValueError, r"index selects none"),
    (
        "subset-mask-length",
        lambda tmp: DS.subset([True]),
        ValueError,
        r"index is a boolean mask of shape \(1,\)",
    ),
    ("subset-float", lambda tmp: DS.subset([0.5]), TypeError, r"index holds float64 values"),
    (
        "subset-outside",
        lambda tmp: DS.subset([5]),
        ValueError,
        r"index holds 5, outside the 2 sequences",
    ),
    ("subset-text", lambda tmp: DS.subset("a"), TypeError, r"index must be a boolean mask"),
    ("select-classes-empty", lambda tmp: DS.select_classes([]), ValueError, r"classes is empty"),
    (
        "select-classes-string",
        lambda tmp: DS.select_classes("a"),
        TypeError,
        r"classes must be a list .*single string 'a' \(write \['a'\]\)",
    ),
    (
        "select-classes-float",
        lambda tmp: DS.select_classes([1.0]),
        TypeError,
        r"classes\[0\] is 1\.0",
    ),
    (
        "select-classes-index",
        lambda tmp: DS.select_classes([5]),
        ValueError,
        r"classes\[0\]: class index 5",
    ),
    (
        "select-classes-unknown",
        lambda tmp: DS.select_classes(["z"]),
        ValueError,
        r"classes\[0\]: unknown class 'z'",
    ),
    (
        "select-classes-twice",
        lambda tmp: DS.select_classes(["a", 0]),
        ValueError,
        r"classes must name distinct",
    ),
    (
        "select-classes-without-clips",
        lambda tmp: TRAIN_ONLY.select_classes(["c"]),
        ValueError,
        r"classes \['c'\] have no clips",
    ),
    ("test-part-empty", lambda tmp: TRAIN_ONLY.test(), ValueError, r"has no 'test' clips"),
    ("hold-out-unknown", lambda tmp: DS.hold_out("q"), ValueError, r"subject 'q' is not among"),
    (
        "hold-out-only-subject",
        lambda tmp: DS.hold_out("x"),
        ValueError,
        r"'x' is the only training",
    ),
    ("padded-outside", lambda tmp: DS.padded([7]), ValueError, r"index holds 7"),
    ("padded-max-len-0", lambda tmp: DS.padded(max_len=0), ValueError, r"max_len=0"),
    ("padded-max-len-float", lambda tmp: DS.padded(max_len=2.5), TypeError, r"max_len=2\.5"),
    (
        "pad-sequences-2d",
        lambda tmp: pad_sequences([np.zeros((3, 3))]),
        ValueError,
        r"sequences\[0\] has shape \(3, 3\)",
    ),
    ("normalized-scale-0", lambda tmp: DS.normalized(scale=0), ValueError, r"scale=0\.0"),
    (
        "normalized-center",
        lambda tmp: DS.normalized(center="root"),
        ValueError,
        r"center must be None",
    ),
    # ---------------------------------------------------------------- canonical clips
    (
        "canonical-root-outside",
        lambda tmp: canonical_clip(CLIP, root=7),
        ValueError,
        r"root=7: expected an integer in \[0, 2\]",
    ),
    ("canonical-root-float", lambda tmp: canonical_clip(CLIP, root=1.0), TypeError, r"root=1\.0"),
    (
        "canonical-seq-2d",
        lambda tmp: canonical_clip(CLIP[0], root=0),
        ValueError,
        r"seq has shape \(3, 3\)",
    ),
    (
        "canonical-up-axis",
        lambda tmp: canonical_clip(CLIP, root=0, up_axis=5),
        ValueError,
        r"up_axis=5",
    ),
    (
        "canonical-scale-negative",
        lambda tmp: canonical_clip(CLIP, root=0, scale=-2.0),
        ValueError,
        r"scale=-2\.0",
    ),
    (
        "canonical-hips-outside",
        lambda tmp: canonical_clip(CLIP, root=0, hips=(0, 9)),
        ValueError,
        r"hips\[1\]=9",
    ),
    (
        "canonical-hips-one",
        lambda tmp: canonical_clip(CLIP, root=0, hips=0),
        TypeError,
        r"hips must be a \(left, right\)",
    ),
    (
        "canonical-heading-frames-float",
        lambda tmp: canonical_clip(CLIP, root=0, hips=(0, 1), heading_frames=1.5),
        TypeError,
        r"heading_frames=1\.5",
    ),
    (
        "heading-frames-0",
        lambda tmp: heading_angle(CLIP, (0, 1), frames=0),
        ValueError,
        r"frames=0",
    ),
    (
        "skeleton-height-axis",
        lambda tmp: skeleton_height(CLIP, up_axis=3),
        ValueError,
        r"up_axis=3",
    ),
    # ---------------------------------------------------------------- augmentation, noise
    (
        "crop-length-float",
        lambda tmp: random_crop_resample(CLIP, RNG, length=2.5),
        TypeError,
        r"length=2\.5",
    ),
    (
        "crop-length-range-float",
        lambda tmp: random_crop_resample(CLIP, RNG, length=(2.5, 4)),
        TypeError,
        r"length\[0\]=2\.5",
    ),
    (
        "crop-fraction-scalar",
        lambda tmp: random_crop_resample(CLIP, RNG, fraction=0.5),
        TypeError,
        r"fraction must be a \(low, high\) pair",
    ),
    (
        "crop-speed-negative",
        lambda tmp: random_crop_resample(CLIP, RNG, speed=(-1, 2)),
        ValueError,
        r"speed\[0\]=-1",
    ),
    (
        "crop-rng-seed",
        lambda tmp: random_crop_resample(CLIP, 0),
        TypeError,
        r"rng must be a numpy\.random\.Generator",
    ),
    ("rotation-axis-float", lambda tmp: rotation_about_axis(1.0, 30), TypeError, r"axis=1\.0"),
    ("rotation-degrees-text", lambda tmp: rotation_about_axis(1, "30"), TypeError, r"degrees='30'"),
    (
        "random-rotation-up-axis",
        lambda tmp: random_rotation_matrix(RNG, 10, up_axis=3),
        ValueError,
        r"up_axis=3",
    ),
    (
        "rotate-matrix",
        lambda tmp: rotate(CLIP, np.eye(2)),
        ValueError,
        r"rotation matrix has shape \(2, 2\)",
    ),
    (
        "joint-noise-nan",
        lambda tmp: add_joint_noise(CLIP, float("nan"), RNG),
        ValueError,
        r"sigma=nan",
    ),
    ("joint-noise-text", lambda tmp: add_joint_noise(CLIP, "1", RNG), TypeError, r"sigma='1'"),
    (
        "with-joint-noise-seed-float",
        lambda tmp: with_joint_noise(DS, 0.1, random_state=1.5),
        TypeError,
        r"random_state=1\.5",
    ),
    (
        "with-joint-noise-list",
        lambda tmp: with_joint_noise([CLIP], 0.1),
        TypeError,
        r"dataset must be a SkeletonDataset",
    ),
    ("augment-length-float", lambda tmp: Augment(length=2.5), TypeError, r"Augment: length=2\.5"),
    (
        "augment-up-axis-float",
        lambda tmp: Augment(up_axis=1.0),
        TypeError,
        r"Augment: up_axis=1\.0",
    ),
    ("augment-noise-text", lambda tmp: Augment(noise="1"), TypeError, r"Augment: noise='1'"),
    (
        "augment-crop-scalar",
        lambda tmp: Augment(crop=0.5),
        TypeError,
        r"Augment: crop must be a \(low, high\) pair",
    ),
    ("augment-call-rng", lambda tmp: Augment()(CLIP, 0), TypeError, r"rng must be"),
    (
        "with-noise-level-text",
        lambda tmp: with_noise(DS, "gaussian", "0.1"),
        TypeError,
        r"level='0\.1'",
    ),
    (
        "with-noise-seed-float",
        lambda tmp: with_noise(DS, "gaussian", 0.1, random_state=0.5),
        TypeError,
        r"random_state=0\.5",
    ),
    (
        "with-noise-dropout-share",
        lambda tmp: with_noise(DS, "dropout", 2.0),
        ValueError,
        r"level=2\.0",
    ),
    (
        "drop-joints-seconds",
        lambda tmp: drop_joints(CLIP, 0.5, RNG, 30, seconds=-1),
        ValueError,
        r"seconds=-1",
    ),
    (
        "correlated-noise-seconds-nan",
        lambda tmp: add_correlated_noise(CLIP, 1.0, RNG, 30, seconds=float("nan")),
        ValueError,
        r"seconds=nan",
    ),
    (
        "correlated-noise-sigma-text",
        lambda tmp: add_correlated_noise(CLIP, "1", RNG, 30),
        TypeError,
        r"sigma='1'",
    ),
    # ---------------------------------------------------------------- resampling
    ("resample-length-float", lambda tmp: resample(CLIP, 2.5), TypeError, r"length=2\.5"),
    (
        "crop-resample-start-text",
        lambda tmp: crop_resample(CLIP, "0", 2.0, 3),
        TypeError,
        r"start='0'",
    ),
    (
        "fps-positions-frames-float",
        lambda tmp: fps_positions(9.0, 120, 30),
        TypeError,
        r"num_frames=9\.0",
    ),
    (
        "resample-fps-text",
        lambda tmp: resample_fps(CLIP, "120", 30),
        TypeError,
        r"src_fps must be a positive number",
    ),
    # ---------------------------------------------------------------- loaders
    (
        "hdm05-fps-text",
        lambda tmp: load_hdm05(tmp, fps="30"),
        TypeError,
        r"fps must be a positive number .*'30'",
    ),
    (
        "hdm05-fps-zero",
        lambda tmp: load_hdm05(tmp, fps=0),
        ValueError,
        r"fps must be a positive number",
    ),
    (
        "read-clip-fps-negative",
        lambda tmp: read_clip(tmp / "x.amc", tmp / "x.asf", fps=-1),
        ValueError,
        r"fps must be a positive",
    ),
    (
        "manifest-test-actors-string",
        lambda tmp: manifest_from_files(tmp, test_actors="mm"),
        TypeError,
        r"test_actors must be a list of strings, got the single string 'mm'",
    ),
    (
        "utd-fps-text",
        lambda tmp: load_utd_mhad(tmp, fps="30"),
        TypeError,
        r"fps must be a positive number",
    ),
    (
        "ntu-max-bodies-float",
        lambda tmp: load_ntu_skeletons(tmp, max_bodies=1.5),
        TypeError,
        r"max_bodies=1\.5",
    ),
    (
        "ntu-class-names-string",
        lambda tmp: load_ntu_skeletons(tmp, class_names="abc"),
        TypeError,
        r"class_names must be a list",
    ),
    (
        "ntu-preprocessed-class-names-string",
        lambda tmp: load_ntu_preprocessed(tmp / "train_data_joint.npy", class_names="abc"),
        TypeError,
        r"class_names must be a list",
    ),
    # ---------------------------------------------------------------- AMC frame numbers
    (
        "amc-frame-skipped",
        lambda tmp: parse_amc(_amc(tmp, [1, 2, 4, 5]), parse_asf(FIXTURES / "tiny.asf")),
        SkeletonFormatError,
        r"frames\.amc:10: frame number 4 skips: after frame 2 \(line 6\) expected frame 3",
    ),
    (
        "amc-frame-repeated",
        lambda tmp: parse_amc(_amc(tmp, [1, 2, 2])),
        SkeletonFormatError,
        r"frames\.amc:10: frame number 2 repeats or goes back: after frame 2 .*expected frame 3",
    ),
    (
        "amc-frame-backwards",
        lambda tmp: parse_amc(_amc(tmp, [5, 6, 3])),
        SkeletonFormatError,
        r"frames\.amc:10: frame number 3 repeats or goes back.*expected frame 7",
    ),
]


@pytest.mark.parametrize("call, error, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_named(tmp_path, call, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        call(tmp_path)
    # not a subclass that happens to match, except the shared wrong-type error, which is a
    # TypeError (and a ValueError, for callers that caught those before)
    assert type(info.value) is error or (
        error is TypeError and type(info.value) is ArgumentTypeError
    )


def test_the_table_has_unique_ids():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


def test_amc_errors_are_value_errors_naming_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"frames\.amc:\d+"):
        parse_amc(_amc(tmp_path, [1, 3]))
    # any first number is fine as long as the numbers count up by one
    assert parse_amc(_amc(tmp_path, [7, 8, 9])).frame_numbers.tolist() == [7, 8, 9]


# ------------------------------------------------------------------------ saving and loading
def test_save_then_load_under_the_same_name(tmp_path):
    path = DS.save(tmp_path / "clips")
    assert path == tmp_path / "clips.npz"
    back = SkeletonDataset.load(tmp_path / "clips")  # the name as given to save
    assert back.fingerprint() == DS.fingerprint()
    # a name with another suffix gets '.npz' appended, and is found again too
    assert DS.save(tmp_path / "clips.v2") == tmp_path / "clips.v2.npz"
    assert SkeletonDataset.load(str(tmp_path / "clips.v2")).fingerprint() == DS.fingerprint()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clips.npz", "clips.v2.npz"]


def test_sequences_come_back_as_float32_even_from_float64(tmp_path):
    seqs = [np.random.default_rng(2).normal(size=(t, 3, 3)) for t in (3, 4)]  # float64
    built = _from(sequences=seqs)
    assert all(s.dtype == np.float32 for s in built.sequences)
    direct = SkeletonDataset(  # the dataclass itself, bypassing from_arrays' cast
        sequences=seqs,
        labels=np.array([0, 1]),
        class_names=["0", "1"],
        subjects=np.zeros(2, np.int64),
        split=np.array(["train", "train"]),
        edges=np.zeros((0, 2), np.int64),
        files=["", ""],
    )
    for ds in (built, direct):
        back = SkeletonDataset.load(ds.save(tmp_path / "f64"))
        assert all(s.dtype == np.float32 for s in back.sequences)
        for a, b in zip(back.sequences, seqs):
            np.testing.assert_array_equal(a, b.astype(np.float32))


def test_a_failed_save_leaves_nothing(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError, match="disk full"):
        DS.save(tmp_path / "clips")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------ minimal datasets
def test_a_dataset_of_the_required_arguments_only_works_everywhere(tmp_path):
    seqs = [np.random.default_rng(k).normal(size=(5 + k, 4, 3)) for k in range(4)]
    ds = SkeletonDataset.from_arrays(seqs, [0, 1, 1, 2])
    # the defaults
    assert ds.class_names == ["0", "1", "2"]
    assert ds.joint_names == ["joint 0", "joint 1", "joint 2", "joint 3"]
    assert np.isnan(ds.fps) and ds.files == [""] * 4 and ds.edges.shape == (0, 2)
    assert list(ds.split) == ["train"] * 4 and ds.subjects.tolist() == [0] * 4
    # chapter 1 lists joints by index: every joint has a name
    degree = np.bincount(ds.edges.ravel(), minlength=ds.num_joints)
    assert [ds.joint_names[j] for j in np.flatnonzero(degree == degree.max())] == ds.joint_names
    # selections, batches, normalisation, noise and the fingerprint
    assert len(ds.select_classes(["2", "0"])) == 2 and ds.select_classes([1]).class_names == ["1"]
    assert len(ds.subset([0, -1])) == 2 and len(ds.train()) == 4
    x, lengths = ds.padded()
    assert x.shape == (4, 3, 8, 4, 1) and lengths.tolist() == [5, 6, 7, 8]
    assert len(ds.normalized("frame", scale="height")) == 4
    assert len(with_noise(ds, "gaussian", 0.01)) == 4
    with pytest.raises(ValueError, match="needs its frame rate"):
        with_noise(ds, "correlated", 0.01)
    assert "4 sequences" in repr(ds) and len(ds.fingerprint()) == 20
    # and the round trip keeps every default
    back = SkeletonDataset.load(ds.save(tmp_path / "minimal"))
    assert back.fingerprint() == ds.fingerprint()
    assert back.class_names == ds.class_names and back.joint_names == ds.joint_names
    assert np.isnan(back.fps) and back.files == ds.files and back.edges.shape == (0, 2)
    assert [len(s) for s in back.sequences] == [5, 6, 7, 8]
    assert all(s.dtype == np.float32 for s in back.sequences)


def test_fps_none_means_unknown():
    assert np.isnan(_from(fps=None).fps)


# ------------------------------------------------------------------------ stale HDM05 cache
def _fake_hdm05(root: Path) -> Path:
    """One actor, two clips of the HDM05 layout (the builders of tests/test_hdm05.py)."""
    (root / "asf").mkdir(parents=True)
    (root / "amc").mkdir()
    (root / "asf" / "HDM_aa.asf").write_bytes(_fake_asf(1.0).encode())
    rows = ["file,actor,motion,class_folder,split"]
    for k, (f, _, m, c, _, t) in enumerate(FAKE_CLIPS[:2]):
        (root / "amc" / f).write_bytes(_fake_amc(t, seed=k))
        rows.append(f"{f},aa,{m},{c},train")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root


def _same_size_edit(path: Path) -> None:
    """Change the first root translation of ``path``, keeping its size and time stamps."""
    st = path.stat()
    text = path.read_bytes().decode("latin-1")
    start = text.index("\nroot ") + len("\nroot ")
    digit = next(i for i in range(start, len(text)) if text[i].isdigit())
    changed = text[:digit] + str((int(text[digit]) + 5) % 10) + text[digit + 1 :]
    path.write_bytes(changed.encode("latin-1"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_the_hdm05_cache_sees_an_edit_that_keeps_size_and_time(tmp_path):
    root = _fake_hdm05(tmp_path / "hdm05")
    cache = tmp_path / "cache"
    first = load_hdm05(root, cache_dir=cache, progress=False)
    _same_size_edit(root / "amc" / FAKE_CLIPS[0][0])
    again = load_hdm05(root, cache_dir=cache, progress=False)
    fresh = load_hdm05(root, cache=False, progress=False)
    np.testing.assert_array_equal(again.sequences[0], fresh.sequences[0])
    assert not np.array_equal(again.sequences[0], first.sequences[0])
    np.testing.assert_array_equal(again.sequences[1], first.sequences[1])  # untouched clip
