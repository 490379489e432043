"""NTU RGB+D support: .skeleton parsing, names, splits, loaders, preprocessed arrays, bad input.

The hand-made fixtures in tests/fixtures/ntu/ (see its README.md) hold values chosen so positions
can be asserted exactly; random files are checked against a naive token-by-token reader written
here after the dataset's own MATLAB reader.
"""

from __future__ import annotations

import io
import pickle
import re
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from helpers.data.ntu import (
    NTU60_CLASS_NAMES,
    NTU60_XSUB_TRAIN_SUBJECTS,
    NTU120_XSUB_TRAIN_SUBJECTS,
    NTU_CLASS_NAMES,
    NtuFormatError,
    NtuMissingSkeletonError,
    load_ntu_preprocessed,
    load_ntu_preprocessed_folder,
    load_ntu_skeletons,
    ntu_preprocessed_paths,
    ntu_split,
    parse_ntu_name,
    read_ignore_list,
    read_skeleton_file,
)
from helpers.data.skeletons import NTU_CENTER, NTU_EDGES, NTU_JOINT_NAMES

from naive import naive_read_ntu_skeleton

FIX = Path(__file__).parent / "fixtures" / "ntu"
TWO = FIX / "S001C002P003R002A013.skeleton"  # still body A, moving body B from frame 1
GAPS = FIX / "S001C001P001R001A001.skeleton"  # one body, frames 1 and 3 empty, CRLF
EMPTY = FIX / "S002C003P002R001A060.skeleton"  # no body at all
IGNORED = FIX / "S001C003P008R002A002.skeleton"  # listed in ignore.txt

J = np.arange(25)


def body_a(t):  # (25, 3), the same in every frame
    return np.stack([-0.5 + J / 16, 0.25 * (J % 5), np.full(25, 3.0)], axis=1)


def body_b(t):
    return np.stack([1.0 + J / 16, 0.25 * (J % 5) + 0.5 * t, np.full(25, 2.5)], axis=1)


# --------------------------------------------------------------------------- writing test files


def skeleton_text(frames, body_info="0 0 0 0 0 0 0 0 2") -> str:
    """NTU text for ``frames``: a list (one per frame) of lists of (body_id, (25, 3) positions)."""
    out = [str(len(frames))]
    for bodies in frames:
        out.append(str(len(bodies)))
        for body_id, xyz in bodies:
            out += [f"{body_id} {body_info}", "25"]
            out += [
                f"{x!r} {y!r} {z!r} 1 2 3 4 1 0 0 0 2"
                for x, y, z in np.asarray(xyz, float).tolist()
            ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- parsing the fixtures


def test_two_body_fixture_fields_exact():
    f = read_skeleton_file(TWO)
    assert f.num_frames == 3 and f.body_counts.tolist() == [1, 2, 2]
    a, b = f.bodies  # order of first appearance
    assert (a.body_id, b.body_id) == (72057594037931101, 72057594037931102)
    assert a.frames.tolist() == [0, 1, 2] and b.frames.tolist() == [1, 2]
    for k, t in enumerate(a.frames):
        np.testing.assert_array_equal(a.positions[k], body_a(t).astype(np.float32))
        np.testing.assert_array_equal(a.depth_xy[k], np.stack([100 + J, np.full(25, 200 + t)], 1))
        np.testing.assert_array_equal(a.color_xy[k], np.stack([1000 + J, np.full(25, 500 + t)], 1))
    for k, t in enumerate(b.frames):  # B is listed second in frame 1, first in frame 2
        np.testing.assert_array_equal(b.positions[k], body_b(t).astype(np.float32))
        np.testing.assert_array_equal(b.color_xy[k], np.stack([1100 + J, np.full(25, 520 + t)], 1))
    np.testing.assert_array_equal(a.orientation, np.broadcast_to([1, 0, 0, 0], (3, 25, 4)))
    np.testing.assert_array_equal(b.orientation, np.full((2, 25, 4), 0.5))
    assert (
        a.joint_tracking.min() == 2
        and b.joint_tracking[1, 7] == 1
        and b.joint_tracking.sum() == 2 * 50 - 1
    )
    np.testing.assert_array_equal(a.info[0], [0, 1, 1, 0, 0, 0, 0.25, -0.5, 2])
    np.testing.assert_array_equal(b.info[1], [0, 0, 0, 1, 1, 0, -0.125, 0.0625, 2])
    # hand-worked activity: A is still; B's y takes two values 0.5 apart -> variance 0.0625 per
    # joint
    assert a.activity == 0.0 and b.activity == pytest.approx(25 * 0.0625)


def test_moving_body_comes_first_and_missing_frames_are_zero():
    f = read_skeleton_file(TWO)
    p = f.positions()
    assert p.shape == (3, 2, 25, 3) and p.dtype == np.float32
    assert np.all(p[0, 0] == 0)  # B is absent in frame 0
    for t in (1, 2):
        np.testing.assert_array_equal(p[t, 0], body_b(t))
    for t in range(3):
        np.testing.assert_array_equal(p[t, 1], body_a(t))
    np.testing.assert_array_equal(f.positions(max_bodies=1)[:, 0], p[:, 0])
    p3 = f.positions(max_bodies=3)
    assert p3.shape == (3, 3, 25, 3) and np.all(p3[:, 2] == 0)
    with pytest.raises(ValueError, match="max_bodies"):
        f.positions(0)


def test_frames_without_bodies_and_crlf():
    f = read_skeleton_file(GAPS)
    assert f.num_frames == 4 and f.body_counts.tolist() == [1, 0, 1, 0]
    p = f.positions()
    expected = lambda t: np.stack([J / 16 + t, np.ones(25), np.full(25, 2.0 + 0.5 * t)], 1)  # noqa: E731
    np.testing.assert_array_equal(p[0, 0], expected(0))
    np.testing.assert_array_equal(p[2, 0], expected(2))
    assert np.all(p[[1, 3]] == 0) and np.all(p[:, 1] == 0)


def test_three_bodies_keep_the_two_most_active(tmp_path):
    rng = np.random.default_rng(3)
    base = rng.normal(size=(25, 3))
    still = lambda t: base  # noqa: E731
    slow = lambda t: base + 0.1 * t  # noqa: E731
    fast = lambda t: base + np.array([1.0, -2.0, 0.5]) * t  # noqa: E731
    frames = [[(7, still(t)), (8, slow(t)), (9, fast(t))] for t in range(4)]
    path = tmp_path / "S001C001P001R001A001.skeleton"
    path.write_text(skeleton_text(frames))
    f = read_skeleton_file(path)
    assert [b.body_id for b in f.ranked_bodies()] == [9, 8, 7]
    p = f.positions(2)
    np.testing.assert_allclose(p[:, 0], np.stack([fast(t) for t in range(4)]), rtol=1e-6)
    np.testing.assert_allclose(p[:, 1], np.stack([slow(t) for t in range(4)]), rtol=1e-6)
    # ties (two still bodies) keep the order of first appearance
    path.write_text(skeleton_text([[(5, base), (4, base + 1)]] * 3))
    assert [b.body_id for b in read_skeleton_file(path).ranked_bodies()] == [5, 4]


def test_random_files_match_the_naive_reader(tmp_path):
    rng = np.random.default_rng(0)
    for trial in range(5):
        frames = []
        for t in range(int(rng.integers(1, 30))):
            present = [bid for bid in (101, 202, 303) if rng.random() < 0.6]
            rng.shuffle(present)
            frames.append([(bid, rng.normal(size=(25, 3))) for bid in present])
        if not any(frames):
            frames[0] = [(101, rng.normal(size=(25, 3)))]
        path = tmp_path / f"S001C001P001R001A00{trial + 1}.skeleton"
        path.write_text(skeleton_text(frames))
        ref = naive_read_ntu_skeleton(path)
        f = read_skeleton_file(path)
        assert {b.body_id for b in f.bodies} == set(ref)
        for b in f.bodies:
            assert b.frames.tolist() == sorted(ref[b.body_id])
            np.testing.assert_array_equal(
                b.positions, np.stack([ref[b.body_id][t] for t in b.frames]).astype(np.float32)
            )
        # positions(): each slot is one body over time, ranked by the activity of the reference data
        act = {bid: np.var(np.stack(list(d.values())), axis=0).sum() for bid, d in ref.items()}
        order = sorted(ref, key=lambda bid: -act[bid])[:2]
        p = f.positions(2)
        for m, bid in enumerate(order):
            for t in range(len(frames)):
                want = ref[bid].get(t, np.zeros((25, 3)))
                np.testing.assert_array_equal(p[t, m], want.astype(np.float32))


# --------------------------------------------------------------------------- names and splits


def test_parse_ntu_name():
    s = parse_ntu_name("S001C002P003R002A013")
    assert (s.setup, s.camera, s.performer, s.replication, s.action) == (1, 2, 3, 2, 13)
    assert s.label == 12 and s.subject == 3 and s.name == "S001C002P003R002A013"
    assert parse_ntu_name("S001C002P003R002A013.skeleton") == s
    assert parse_ntu_name(Path("/data/ntu") / "S001C002P003R002A013.skeleton") == s
    assert parse_ntu_name("S001C002P003R002A013_rgb.avi") == s
    big = parse_ntu_name("S032C003P106R002A120.skeleton")
    assert big.label == 119 and big.is_ntu120_only and not s.is_ntu120_only


@pytest.mark.parametrize(
    "bad",
    [
        "S001C002P003R002",
        "S01C002P003R002A013",
        "foo.skeleton",
        "S001C002P003R002A0134",
        "s001c002p003r002a013",
        "NTU_RGBD_samples_with_missing_skeletons.txt",
        "S000C002P003R002A013",
    ],
)
def test_parse_ntu_name_rejects(bad):
    with pytest.raises(ValueError, match="S001C002P003R002A013|1-based") as err:
        parse_ntu_name(bad)
    assert repr(bad) in str(err.value)


@pytest.mark.parametrize(
    "name, bench, split",
    [
        ("S001C001P001R001A001", "xsub", "train"),
        ("S005C003P003R002A010", "xsub", "test"),
        ("S017C002P038R001A060", "xsub", "train"),
        ("S017C002P040R001A060", "xsub", "test"),
        ("S003C001P025R001A001", "xsub", "train"),
        ("S003C001P026R001A001", "xsub", "test"),
        ("S001C001P001R001A001", "xview", "test"),
        ("S001C002P003R002A013", "xview", "train"),
        ("S009C003P007R001A020", "xview", "train"),
        ("S018C001P045R001A061", "xsub120", "train"),
        ("S018C001P044R001A061", "xsub120", "test"),
        ("S032C001P103R001A120", "xsub120", "train"),
        ("S032C001P106R001A120", "xsub120", "test"),
        ("S001C001P002R001A001", "xsub120", "train"),
        ("S018C001P044R001A061", "xset", "train"),
        ("S019C001P001R001A061", "xset", "test"),
        ("S002C001P003R001A001", "xset", "train"),
        ("S001C001P001R001A001", "xset", "test"),
    ],
)
def test_split_rules(name, bench, split):
    assert ntu_split(name, bench) == split


def test_split_lists_and_refusals():
    assert len(NTU60_XSUB_TRAIN_SUBJECTS) == 20 and len(NTU120_XSUB_TRAIN_SUBJECTS) == 53
    assert NTU60_XSUB_TRAIN_SUBJECTS < NTU120_XSUB_TRAIN_SUBJECTS
    assert max(NTU60_XSUB_TRAIN_SUBJECTS) <= 40 and max(NTU120_XSUB_TRAIN_SUBJECTS) <= 106
    with pytest.raises(ValueError, match="xsub120"):
        ntu_split("S018C001P045R001A061", "xsub")
    with pytest.raises(ValueError, match="unknown NTU benchmark"):
        ntu_split("S001C001P001R001A001", "cross-subject")


def test_skeleton_constants():
    assert len(NTU_JOINT_NAMES) == 25 and NTU_JOINT_NAMES[NTU_CENTER] == "spine shoulder"
    edges = np.array(NTU_EDGES)
    assert edges.shape == (24, 2) and edges.min() == 0 and edges.max() == 24
    # 25 joints, 24 bones, connected -> a tree (union-find over the bones)
    parent = list(range(25))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in NTU_EDGES:
        ri, rj = root(i), root(j)
        assert ri != rj, f"bone {(i, j)} closes a cycle"
        parent[ri] = rj
    assert len({root(i) for i in range(25)}) == 1
    named = {frozenset((NTU_JOINT_NAMES[i], NTU_JOINT_NAMES[j])) for i, j in NTU_EDGES}
    for bone in [
        ("head", "neck"),
        ("left elbow", "left wrist"),
        ("right hip", "spine base"),
        ("left hand tip", "left thumb"),
        ("left thumb", "left hand"),
    ]:  # st-gcn's hand chain
        assert frozenset(bone) in named, bone
    assert len(NTU_CLASS_NAMES) == 120 and len(set(NTU_CLASS_NAMES)) == 120
    assert NTU60_CLASS_NAMES == NTU_CLASS_NAMES[:60]
    assert (
        NTU_CLASS_NAMES[12] == "tear up paper"
        and NTU_CLASS_NAMES[59] == "walking apart from each other"
    )
    assert NTU_CLASS_NAMES[60] == "put on headphone" and NTU_CLASS_NAMES[119].startswith(
        "finger-guessing"
    )


# --------------------------------------------------------------------------- folder loader


def test_load_fixture_folder():
    with pytest.warns(UserWarning, match="1 NTU sample.*S002C003P002R001A060"):
        ds = load_ntu_skeletons(FIX, "xsub", ignore=FIX / "ignore.txt", progress=False)
    assert ds.files == ["S001C001P001R001A001.skeleton", "S001C002P003R002A013.skeleton"]
    assert ds.split.tolist() == ["train", "test"] and ds.labels.tolist() == [0, 12]
    assert ds.subjects.tolist() == [1, 3] and ds.lengths.tolist() == [4, 3]
    assert ds.sequences[1].shape == (3, 2, 25, 3)
    np.testing.assert_array_equal(ds.sequences[1], read_skeleton_file(TWO).positions())
    assert ds.num_classes == 60 and ds.class_names[12] == "tear up paper"
    assert ds.center == 20 and ds.edges.shape == (24, 2) and ds.joint_names == list(NTU_JOINT_NAMES)
    assert (ds.fps, ds.units, ds.up_axis, ds.name) == (30.0, "m", 1, "ntu-rgb+d")
    with pytest.warns(UserWarning):
        xview = load_ntu_skeletons(FIX, "xview", ignore=["S001C003P008R002A002"], progress=False)
    assert xview.split.tolist() == ["test", "train"]


def test_load_options():
    with pytest.warns(UserWarning):
        everything = load_ntu_skeletons(FIX, progress=False)  # no ignore list
    assert "S001C003P008R002A002.skeleton" in everything.files and len(everything) == 3
    one = load_ntu_skeletons(
        FIX,
        files=["S001C002P003R002A013.skeleton"],
        max_bodies=1,
        class_names=[f"c{i}" for i in range(60)],
        progress=False,
    )
    assert len(one) == 1 and one.sequences[0].shape == (3, 1, 25, 3) and one.class_names[0] == "c0"
    with pytest.raises(NtuMissingSkeletonError, match="S002C003P002R001A060"):
        load_ntu_skeletons(FIX, missing="error", progress=False)
    with pytest.raises(FileNotFoundError, match="S009"):
        load_ntu_skeletons(FIX, files=["S009C001P001R001A001.skeleton"], progress=False)
    assert read_ignore_list(FIX / "ignore.txt") == {"S001C003P008R002A002"}
    assert load_ntu_skeletons(FIX, "xset", files=[TWO.name], progress=False).name == "ntu-rgb+d-120"


def test_load_skips_or_raises_on_malformed(tmp_path):
    shutil.copy(TWO, tmp_path / TWO.name)
    (tmp_path / "S001C001P001R001A002.skeleton").write_text("2\n1\n")  # truncated
    with pytest.raises(NtuFormatError, match="S001C001P001R001A002.skeleton, line 3"):
        load_ntu_skeletons(tmp_path, progress=False)
    with pytest.warns(UserWarning, match="1 malformed NTU file.*A002"):
        ds = load_ntu_skeletons(tmp_path, errors="skip", progress=False)
    assert ds.files == [TWO.name]
    (tmp_path / "notes.skeleton").write_text("1\n0\n")
    with pytest.raises(ValueError, match="'notes.skeleton' is not an NTU RGB\\+D sample name"):
        load_ntu_skeletons(tmp_path, progress=False)


def test_ntu120_samples_need_a_120_benchmark(tmp_path):
    shutil.copy(TWO, tmp_path / "S018C001P045R001A061.skeleton")
    with pytest.raises(ValueError, match="xsub120"):
        load_ntu_skeletons(tmp_path, "xsub", progress=False)
    ds = load_ntu_skeletons(tmp_path, "xsub120", progress=False)
    assert ds.num_classes == 120 and ds.split.tolist() == ["train"] and ds.labels.tolist() == [60]


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found.*ROSE Lab"):
        load_ntu_skeletons(tmp_path / "nope", progress=False)
    with pytest.raises(
        FileNotFoundError, match=r"no \.skeleton files.*S001C002P003R002A013\.skeleton.*ROSE Lab"
    ):
        load_ntu_skeletons(tmp_path, progress=False)
    with pytest.raises(ValueError, match="benchmark"):
        load_ntu_skeletons(FIX, "cs", progress=False)


# --------------------------------------------------------------------------- malformed files

LINES = TWO.read_text().splitlines()


def _edit(i, text):  # replace 1-based line i
    out = list(LINES)
    out[i - 1] = text
    return out


def _with_token(i, k, token):  # replace token k of 1-based line i
    toks = LINES[i - 1].split()
    toks[k] = token
    return _edit(i, " ".join(toks))


BROKEN = {
    "empty file": ([], 1, "truncated"),
    "truncated in a joint block": (LINES[:50], 51, "truncated"),
    "truncated before a body": (LINES[:29], 30, "truncated"),
    "frame count not a number": (_edit(1, "three"), 1, "frame count"),
    "frame count too large": (_edit(1, "4"), 140, "truncated"),
    "frame count too small": (_edit(1, "2"), 85, "end of the file"),
    "negative body count": (_edit(2, "-1"), 2, "number of bodies"),
    "short info line": (_edit(3, "72057594037931101 0 1 1 0 0 0 0.25 2"), 3, "10 body values"),
    "non-integer body id": (_with_token(3, 0, "0x1F"), 3, "integer bodyID"),
    "wrong joint count": (_edit(4, "24"), 4, "joint count 25"),
    "non-number in a joint line": (_with_token(10, 5, "abc"), 10, "a number"),
    "missing number in a joint line": (
        _edit(62, " ".join(LINES[61].split()[:11])),
        62,
        "12 numbers",
    ),
    "extra number in a joint line": (_edit(62, LINES[61] + " 7"), 62, "12 numbers"),
    "blank joint line": (_edit(90, ""), 90, "12 numbers"),
    "NaN position": (_with_token(7, 0, "nan"), 7, "finite"),
    "inf position": (_with_token(120, 2, "-inf"), 120, "finite"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_malformed_files_name_file_and_line(tmp_path, case):
    lines, lineno, what = BROKEN[case]
    path = tmp_path / TWO.name
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    with pytest.raises(NtuFormatError) as err:
        read_skeleton_file(path)
    msg = str(err.value)
    assert str(path) in msg and f"line {lineno}:" in msg and what in msg, msg


def test_missing_skeleton_cases(tmp_path):
    path = tmp_path / "S001C001P001R001A001.skeleton"
    path.write_text("0\n")
    with pytest.raises(NtuMissingSkeletonError, match=r"line 1: the file has 0 frames"):
        read_skeleton_file(path)
    with pytest.raises(NtuMissingSkeletonError, match="none of the 2 frames"):
        read_skeleton_file(EMPTY)
    assert issubclass(NtuMissingSkeletonError, NtuFormatError) and issubclass(
        NtuFormatError, ValueError
    )
    with pytest.raises(FileNotFoundError, match="nope.skeleton"):
        read_skeleton_file(tmp_path / "nope.skeleton")


def test_nan_outside_positions_is_kept(tmp_path):
    path = tmp_path / TWO.name
    path.write_text("\n".join(_with_token(7, 5, "nan")) + "\n")  # colorX of one joint
    f = read_skeleton_file(path)
    assert np.isnan(f.bodies[0].color_xy[0, 2, 0]) and np.isfinite(f.positions()).all()


# --------------------------------------------------------------------------- preprocessed arrays

NAMES = [
    "S001C001P001R001A001.skeleton",
    "S001C002P002R001A013.skeleton",
    "S002C003P004R002A060.skeleton",
    "S003C001P005R001A005.skeleton",
]
LENGTHS = [300, 17, 1, 120]


def synthetic(names=NAMES, lengths=LENGTHS, seed=0):
    """(N, 3, 300, 25, 2) float32 with the given valid lengths; body 1 only in some frames."""
    rng = np.random.default_rng(seed)
    x = np.zeros((len(names), 3, 300, 25, 2), dtype=np.float32)
    for i, t in enumerate(lengths):
        x[i, :, :t, :, 0] = rng.normal(size=(3, t, 25))
        x[i, :, : t // 2, :, 1] = rng.normal(size=(3, t // 2, 25))
    x[3, :, 10:20] = 0  # empty frames inside the valid range stay
    x[0, :, 299, :, 0] = 0  # the last frame has only the second body ...
    x[0, 0, 299, 4, 1] = 0.5  # ... at one joint
    return x


def write_pair(folder, part="train", x=None, names=NAMES, labels=None):
    folder.mkdir(parents=True, exist_ok=True)
    x = synthetic() if x is None else x
    labels = [parse_ntu_name(n).label for n in names] if labels is None else labels
    np.save(folder / f"{part}_data_joint.npy", x)
    with open(folder / f"{part}_label.pkl", "wb") as fh:
        pickle.dump((list(names), list(labels)), fh)
    return folder / f"{part}_data_joint.npy", folder / f"{part}_label.pkl"


@pytest.mark.parametrize("mmap", [True, False])
def test_preprocessed_lengths_and_round_trip(tmp_path, mmap):
    data, label = write_pair(tmp_path / "prep")
    ds = load_ntu_preprocessed(data, label, mmap=mmap, progress=False)
    x = synthetic()
    assert ds.lengths.tolist() == LENGTHS
    for i, t in enumerate(LENGTHS):
        np.testing.assert_array_equal(ds.sequences[i], x[i, :, :t].transpose(1, 3, 2, 0))
    padded, lengths = ds.padded(max_len=300)
    np.testing.assert_array_equal(padded, x)
    assert lengths.tolist() == LENGTHS
    assert ds.labels.tolist() == [0, 12, 59, 4] and ds.subjects.tolist() == [1, 2, 4, 5]
    assert ds.split.tolist() == ["train"] * 4 and ds.files == NAMES
    assert (
        ds.num_classes == 60
        and ds.center == 20
        and ds.edges.shape == (24, 2)
        and ds.name == "ntu-rgb+d"
    )
    assert ds.sequences[0].flags.writeable is (not mmap)
    ds.validate()


def test_preprocessed_folder_and_splits(tmp_path):
    folder = tmp_path / "xview"
    write_pair(folder, "train", names=NAMES[1:3], x=synthetic()[1:3])
    write_pair(folder, "val", names=[NAMES[0], NAMES[3]], x=synthetic()[[0, 3]])
    paths = ntu_preprocessed_paths(folder)
    assert (
        paths["train"][0].name == "train_data_joint.npy" and paths["val"][1].name == "val_label.pkl"
    )
    ds = load_ntu_preprocessed_folder(folder, progress=False)
    assert ds.files == [NAMES[1], NAMES[2], NAMES[0], NAMES[3]]
    assert ds.split.tolist() == ["train", "train", "test", "test"]
    assert ds.lengths.tolist() == [17, 1, 300, 120]
    # without a train/val prefix the split comes from the names under the folder's benchmark
    (folder / "val_data_joint.npy").rename(folder / "all_data_joint.npy")
    (folder / "val_label.pkl").rename(folder / "all_label.pkl")
    ds = load_ntu_preprocessed(folder / "all_data_joint.npy", progress=False)  # label path derived
    assert ds.split.tolist() == ["test", "test"]  # camera 1
    with pytest.raises(FileNotFoundError, match="val_data_joint.npy.*val_label.pkl"):
        ntu_preprocessed_paths(folder)


def test_preprocessed_split_disagreement_and_label_mismatch_warn(tmp_path):
    names = [
        "S001C001P001R001A001",
        "S001C002P003R001A013",
        "S002C003P006R002A060",
        "S003C001P005R001A005",
    ]
    data, label = write_pair(tmp_path / "xsub", names=names)  # performers 3 and 6 are xsub test
    with pytest.warns(UserWarning, match="2 of 4 samples belong to 'test'"):
        load_ntu_preprocessed(data, label, benchmark="xsub", progress=False)
    data, label = write_pair(tmp_path / "xsub2", labels=[0, 12, 59, 3])
    with pytest.warns(UserWarning, match="1 label"):
        load_ntu_preprocessed(data, label, progress=False)
    data, label = write_pair(tmp_path / "plain", part="all")
    with pytest.raises(ValueError, match="cannot tell the split"):
        load_ntu_preprocessed(data, label, progress=False)
    assert (
        load_ntu_preprocessed(data, label, split="test", progress=False).split.tolist()
        == ["test"] * 4
    )


class Py2Pickler(pickle._Pickler):
    """Writes bytes the way Python 2 wrote its str (SHORT_BINSTRING / BINSTRING opcodes)."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def test_python2_label_pickle(tmp_path):
    names = [b"S019C001P045R001A001.skeleton", b"S021C002P046R001A101.skeleton"]
    labels = np.array([0.0, 100.0], dtype=np.float32)  # 100.0f has a byte >= 0x80 in its buffer
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump((names, labels))
    with pytest.raises(UnicodeDecodeError):
        pickle.loads(buf.getvalue())  # what a plain Python 3 load does
    folder = tmp_path / "xset"
    data, label = write_pair(folder, "val", x=synthetic()[:2], names=[n.decode() for n in names])
    label.write_bytes(buf.getvalue())
    ds = load_ntu_preprocessed(data, label, progress=False)
    assert ds.labels.tolist() == [0, 100] and ds.files == [n.decode() for n in names]
    assert ds.num_classes == 120 and ds.name == "ntu-rgb+d-120" and ds.subjects.tolist() == [45, 46]


def _dump(path, obj):
    with open(path, "wb") as fh:
        pickle.dump(obj, fh)


def test_preprocessed_bad_input(tmp_path):
    data, label = write_pair(tmp_path / "prep")
    for shape in [(4, 3, 300, 25), (4, 2, 300, 25, 2), (4, 3, 300, 18, 2)]:
        bad = tmp_path / "prep" / "bad_data_joint.npy"
        np.save(bad, np.zeros(shape, np.float32))
        with pytest.raises(
            NtuFormatError,
            match=r"expected \(N, 3, T, 25, M\) array in .*bad_data_joint.npy, got "
            + re.escape(str(shape)),
        ):
            load_ntu_preprocessed(bad, label, split="train", progress=False)
    cases = [
        ((NAMES[:3], [0, 12, 59]), "3 labels but .* holds N=4"),
        ((NAMES, [0, 12, 59]), "4 sample names but 3 labels"),
        ((NAMES, [0, 12, 59, 4], "extra"), "two lists, got a tuple of length 3"),
        ({"split": {}, "annotations": []}, "mmaction2/pyskl"),
        ((list(range(4)), [0, 12, 59, 4]), "sample_names must be strings"),
        ((NAMES, [0, 1.5, 59, 4]), "non-negative integers"),
        ((NAMES[:3] + ["clip_0004"], [0, 12, 59, 4]), "'clip_0004' is not an NTU"),
    ]
    for obj, pattern in cases:
        _dump(label, obj)
        with pytest.raises(NtuFormatError, match=pattern):
            load_ntu_preprocessed(data, label, progress=False)
    label.write_bytes(b"not a pickle")
    with pytest.raises(NtuFormatError, match="not a readable pickle"):
        load_ntu_preprocessed(data, label, progress=False)
    _dump(label, (NAMES, [0, 12, 59, 4]))
    x = synthetic()
    x[2] = 0
    np.save(data, x)
    with pytest.raises(
        NtuFormatError, match=r"sample 2 \(S002C003P004R002A060.skeleton\) is all zeros"
    ):
        load_ntu_preprocessed(data, label, progress=False)
    x = synthetic()
    x[1, 2, 5, 3, 0] = np.nan
    np.save(data, x)
    with pytest.raises(
        NtuFormatError,
        match=r"sample 1 \(S001C002P002R001A013.skeleton\) has NaN or inf at frame 5",
    ):
        load_ntu_preprocessed(data, label, progress=False)
    with pytest.raises(FileNotFoundError, match="expected an .npy array"):
        load_ntu_preprocessed(tmp_path / "nope_data_joint.npy", label, progress=False)
    with pytest.raises(FileNotFoundError, match="label file not found"):
        load_ntu_preprocessed(data, tmp_path / "nope_label.pkl", progress=False)
    with pytest.raises(FileNotFoundError, match="NTU preprocessed folder not found"):
        ntu_preprocessed_paths(tmp_path / "nowhere")
