"""The UTD-MHAD loader, on tiny .mat files the tests write, and on the real folder when present.

Nothing from the real dataset is written anywhere by these tests (its NOTICE.md forbids
redistributing it or anything derived from it).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import savemat

from helpers.data import (
    UTD_MHAD,
    UTD_MHAD_CLASS_NAMES,
    UTD_MHAD_TRAIN_SUBJECTS,
    get_layout,
    load_utd_mhad,
    parse_utd_name,
    read_utd_clip,
)
from helpers.nets.skeleton_graph import SkeletonGraph


def _standing(frames: int, rng: np.random.Generator) -> np.ndarray:
    """(20, 3, frames) Kinect-like positions: a 1.7 m body 2.9 m from the camera, jittering."""
    pose = np.zeros((20, 3))
    pose[:, 1] = np.linspace(0.8, -0.9, 20)  # spread over the height
    pose[[4, 12], 0], pose[[8, 16], 0] = -0.18, 0.18  # left and right shoulders, hips
    pose[:, 2] = 2.9
    return pose[:, :, None] + 0.01 * rng.standard_normal((20, 3, frames))


@pytest.fixture
def fake_utd(tmp_path):
    """A folder with 2 actions x 4 subjects x 1-2 trials, clip lengths 31 to 46 frames."""
    rng = np.random.default_rng(0)
    skel = tmp_path / "skeleton"
    skel.mkdir()
    made = {}
    for action in (1, 27):
        for subject in (1, 2, 3, 4):
            for trial in (1, 2) if subject == 1 else (1,):
                frames = 30 + action % 7 + subject * 3 + trial
                d = _standing(frames, rng)
                name = f"a{action}_s{subject}_t{trial}_skeleton.mat"
                savemat(skel / name, {"d_skel": d})
                made[name] = d
    return tmp_path, made


def test_layout_is_the_kinect_v1_tree():
    assert get_layout("utd-mhad") is UTD_MHAD
    assert UTD_MHAD.num_joints == 20 and len(UTD_MHAD.edges) == 19
    names = UTD_MHAD.joint_names
    assert names[UTD_MHAD.root] == "hip center" and names[UTD_MHAD.center] == "shoulder center"
    assert [names[i] for i in UTD_MHAD.hips] == ["left hip", "right hip"]
    assert [names[i] for i in UTD_MHAD.shoulders] == ["left shoulder", "right shoulder"]
    assert UTD_MHAD.sides[4] == "L" and UTD_MHAD.sides[8] == "R" and UTD_MHAD.sides[0] == "C"
    graph = SkeletonGraph.from_layout("utd-mhad")  # raises when a joint is unreachable
    assert graph.num_nodes == 20
    # every bone joins a joint to its parent in the tree, so the bones form one tree
    assert sorted(c for _, c in UTD_MHAD.edges) == [j for j in range(20) if j != 3]


def test_names_parse_and_bad_names_are_named():
    assert parse_utd_name("a27_s8_t4_skeleton.mat") == (27, 8, 4)
    assert parse_utd_name("/x/y/A1_S2_T3_skeleton.mat").subject == 2
    with pytest.raises(ValueError, match="a1_s1_t1_skeleton.mat"):
        parse_utd_name("clip1.mat")
    with pytest.raises(ValueError, match="action 28"):
        parse_utd_name("a28_s1_t1_skeleton.mat")
    with pytest.raises(ValueError, match="subject 9"):
        parse_utd_name("a1_s9_t1_skeleton.mat")


def test_load_fake_folder(fake_utd):
    root, made = fake_utd
    ds = load_utd_mhad(root, fps=None, progress=False)
    assert len(ds) == len(made) == 10
    assert ds.num_joints == 20 and ds.name == "UTD-MHAD" and ds.units == "m"
    assert ds.class_names == list(UTD_MHAD_CLASS_NAMES)
    assert set(ds.labels.tolist()) == {0, 26}
    for seq, file, label, subject, split in zip(
        ds.sequences, ds.files, ds.labels, ds.subjects, ds.split
    ):
        expected = np.transpose(made[file], (2, 0, 1)).astype(np.float32)
        np.testing.assert_array_equal(seq, expected)
        clip = parse_utd_name(file)
        assert label == clip.action - 1 and subject == f"s{clip.subject}"
        assert split == ("train" if clip.subject in UTD_MHAD_TRAIN_SUBJECTS else "test")
    assert ds.center == 3 and {tuple(e) for e in ds.edges} == set(UTD_MHAD.edges)


def test_lower_frame_rate_takes_every_third_frame(fake_utd):
    root, _ = fake_utd
    full = load_utd_mhad(root, fps=None, progress=False)
    ten = load_utd_mhad(root, fps=10.0, progress=False)
    assert ten.fps == 10.0 and full.fps == 30.0
    for a, b in zip(full.sequences, ten.sequences):
        np.testing.assert_allclose(b, a[::3][: len(b)], atol=1e-6)
        assert len(b) == (len(a) - 1) // 3 + 1


def test_missing_folder_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("STGCN_UTD_MHAD_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="STGCN_UTD_MHAD_DIR") as err:
        load_utd_mhad(progress=False)
    assert "utdallas.edu" in str(err.value) and "Skeleton.zip" in str(err.value)
    (tmp_path / "empty" / "skeleton").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no .mat files"):
        load_utd_mhad(tmp_path / "empty", progress=False)


@pytest.mark.parametrize(
    "content, message",
    [
        ({"skel": np.zeros((20, 3, 5))}, "expected the variable 'd_skel'"),
        ({"d_skel": np.zeros((25, 3, 5))}, r"shape \(25, 3, 5\)"),
        ({"d_skel": np.full((20, 3, 5), np.nan)}, "frame 0 holds a non-finite"),
        ({"d_skel": np.full((20, 3, 5), 1e4)}, "implausible"),
    ],
)
def test_bad_files_are_named(tmp_path, content, message):
    path = tmp_path / "a1_s1_t1_skeleton.mat"
    savemat(path, content)
    with pytest.raises(ValueError, match=message) as err:
        read_utd_clip(path)
    assert str(path) in str(err.value)


def test_a_damaged_file_in_the_folder_is_named(fake_utd):
    root, _ = fake_utd
    (root / "skeleton" / "a1_s1_t1_skeleton.mat").write_bytes(b"not a MATLAB file")
    with pytest.raises(ValueError, match="a1_s1_t1_skeleton.mat"):
        load_utd_mhad(root, progress=False)


def test_real_dataset(utd_mhad_root):
    ds = load_utd_mhad(utd_mhad_root, fps=None, progress=False)
    # 27 actions x 8 subjects x 4 trials, less the 3 trials absent from the release
    assert len(ds) == 861 and ds.num_classes == 27
    lengths = ds.lengths
    assert lengths.min() == 41 and lengths.max() == 125
    assert sorted(set(ds.subjects[ds.split == "train"])) == ["s1", "s3", "s5", "s7"]
    assert sorted(set(ds.subjects[ds.split == "test"])) == ["s2", "s4", "s6", "s8"]
    assert "a8_s1_t4_skeleton.mat" not in ds.files
    # metres, y up: a standing body is 1.3 to 2.1 m tall in its first frame
    heights = np.array([np.ptp(s[0, :, 1]) for s in ds.sequences])
    assert np.median(heights) == pytest.approx(1.6, abs=0.3)
    head_above_feet = [s[0, 0, 1] > s[0, [15, 19], 1].max() for s in ds.sequences]
    assert np.mean(head_above_feet) > 0.95
