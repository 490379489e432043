"""The HDM05 loader (on a synthetic HDM05-shaped folder and the real data) and the skeleton plots.

Tests on the real data skip (via the ``hdm05_root`` fixture) when ``$STGCN_DATA_DIR`` is missing;
the synthetic folder is written into ``tmp_path`` so the loader and cache logic are always tested.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

import helpers.data.hdm05 as hdm05
from helpers.data.acclaim import SkeletonFormatError, forward_kinematics, parse_amc, parse_asf
from helpers.data.hdm05 import load_hdm05, read_clip
from helpers.data.resampling import resample_fps
from helpers.data.skeletons import HDM05, HDM05_EDGES, HDM05_JOINT_NAMES, HDM05_PARENTS

from naive import naive_forward_kinematics


def hdm05_edges() -> np.ndarray:
    return HDM05.edge_array()


# ---------------------------------------------------------------------------------- synthetic data
BONES = HDM05_JOINT_NAMES[1:]
NO_DOF = {"lhipjoint", "rhipjoint"}


def _fake_asf(scale: float = 1.0) -> str:
    """An ASF of HDM05's bones and hierarchy; directions spread out, lengths scaled by ``scale``."""
    rng = np.random.default_rng(1)
    out = [
        ":version 1.10",
        ":name VICON",
        ":units",
        "  mass 1.0",
        "  length 0.45",
        "  angle deg",
        ":root",
        "   order TX TY TZ RX RY RZ",
        "   axis XYZ",
        "   position 0 0 0",
        "   orientation 0 0 0",
        ":bonedata",
    ]
    for k, name in enumerate(BONES, 1):
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        out += [
            "  begin",
            f"     id {k}",
            f"     name {name}",
            f"     direction {d[0]:.6f} {d[1]:.6f} {d[2]:.6f}",
            f"     length {scale * (1 + k % 4):.4f}",
            f"     axis {k * 7 % 90} 0 {k * 11 % 90} XYZ",
        ]
        if name not in NO_DOF:
            out += [
                "    dof rx ry rz",
                "    limits (-180.0 180.0)",
                "           (-180.0 180.0)",
                "           (-180.0 180.0)",
            ]
        out.append("  end")
    children: dict[str, list[str]] = {}
    for j, p in enumerate(HDM05_PARENTS):
        if p >= 0:
            children.setdefault(HDM05_JOINT_NAMES[p], []).append(HDM05_JOINT_NAMES[j])
    out += (
        [":hierarchy", "  begin"]
        + [f"    {p} {' '.join(c)}" for p, c in children.items()]
        + ["  end"]
    )
    return "\r\n".join(out) + "\r\n"


def _fake_amc(num_frames: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    lines = ["#!OML:ASF X:\\f\xfcr Bonn\\fake.ASF", ":FULLY-SPECIFIED", ":DEGREES"]
    for f in range(1, num_frames + 1):
        lines.append(str(f))
        root = np.concatenate([rng.normal(0, 5, 3), rng.uniform(-180, 180, 3)])
        lines.append("root " + " ".join(f"{v:.5f}" for v in root))
        for name in BONES:
            if name not in NO_DOF:
                lines.append(name + " " + " ".join(f"{v:.5f}" for v in rng.uniform(-60, 60, 3)))
    return "\r\n".join(lines).encode("latin-1") + b"\r\n"


# (file, actor, motion, class_folder, split, frames): class 2 listed first on purpose
FAKE_CLIPS = [
    ("HDM_aa_jump_001_120.amc", "aa", "jump", 2, "train", 9),
    ("HDM_aa_wave_001_120.amc", "aa", "wave", 1, "train", 13),
    ("HDM_bb_wave_001_120.amc", "bb", "wave", 1, "test", 5),
    ("HDM_bb_jump_001_120.amc", "bb", "jump", 2, "test", 1),
]


@pytest.fixture
def fake_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "hdm05"
    (root / "asf").mkdir(parents=True)
    (root / "amc").mkdir()
    (root / "asf" / "HDM_aa.asf").write_bytes(_fake_asf(1.0).encode())
    (root / "asf" / "HDM_bb.asf").write_bytes(_fake_asf(1.2).encode())
    rows = ["file,actor,motion,class_folder,split"]
    for k, (f, a, m, c, s, t) in enumerate(FAKE_CLIPS):
        (root / "amc" / f).write_bytes(_fake_amc(t, seed=k))
        rows.append(f"{f},{a},{m},{c},{s}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.setenv("STGCN_CACHE_DIR", str(tmp_path / "cache"))
    return root


def _cache_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


# ---------------------------------------------------------------------------------- layout
def test_layout_constants():
    assert len(HDM05_JOINT_NAMES) == 31 and len(HDM05_EDGES) == 30
    e = hdm05_edges()
    assert e.shape == (30, 2) and e.dtype == np.int64
    np.testing.assert_array_equal(e[:, 1], np.arange(1, 31))
    assert (e[:, 0] < e[:, 1]).all()  # parents come first
    named = {(HDM05_JOINT_NAMES[a], HDM05_JOINT_NAMES[b]) for a, b in e}
    assert {
        ("root", "lhipjoint"),
        ("root", "rhipjoint"),
        ("root", "lowerback"),
        ("thorax", "lclavicle"),
        ("lwrist", "lthumb"),
        ("rhand", "rfingers"),
        ("upperneck", "head"),
    } <= named


# ---------------------------------------------------------------------------------- resampling
def test_read_clip_resamples_like_full_rate_then_interpolate(fake_root):
    asf = parse_asf(fake_root / "asf" / "HDM_aa.asf")
    amc = fake_root / "amc" / FAKE_CLIPS[1][0]
    full = read_clip(amc, asf, fps=None)
    assert full.shape == (13, 31, 3) and full.dtype == np.float32
    np.testing.assert_array_equal(read_clip(amc, asf, fps=30), full[::4])
    np.testing.assert_allclose(
        read_clip(amc, asf, fps=50), resample_fps(full.astype(np.float64), 120, 50), atol=1e-6
    )
    # the layout permutation is the identity for an ASF in HDM05 order
    fk = forward_kinematics(asf, parse_amc(amc, asf))
    np.testing.assert_allclose(full, fk, atol=1e-6)


# ---------------------------------------------------------------------------------- loader
def test_load_fake_hdm05(fake_root):
    ds = load_hdm05(fake_root, progress=False)
    assert (
        len(ds) == 4
        and ds.name == "hdm05"
        and ds.units == "m"
        and ds.up_axis == 1
        and ds.center == 0
    )
    assert ds.class_names == ["wave", "jump"]  # class_folder order, not file order
    np.testing.assert_array_equal(ds.labels, [1, 0, 0, 1])
    np.testing.assert_array_equal(ds.subjects, ["aa", "aa", "bb", "bb"])
    np.testing.assert_array_equal(ds.split, ["train", "train", "test", "test"])
    assert ds.files == [c[0] for c in FAKE_CLIPS]
    assert ds.joint_names == list(HDM05_JOINT_NAMES) and ds.fps == 30.0
    np.testing.assert_array_equal(ds.edges, hdm05_edges())
    # frames: 9 -> 3, 13 -> 4, 5 -> 2, 1 -> 1 at 30 fps
    np.testing.assert_array_equal(ds.lengths, [3, 4, 2, 1])
    native = load_hdm05(fake_root, fps=None, progress=False)
    assert native.fps == 120.0
    np.testing.assert_array_equal(native.lengths, [9, 13, 5, 1])
    for a, b in zip(ds.sequences, native.sequences):
        np.testing.assert_array_equal(a, b[::4])
    # bone lengths match the ASF (in metres) in every frame
    asf = parse_asf(fake_root / "asf" / "HDM_bb.asf")
    want = np.array([b.length for b in asf.bones]) * 0.0254 / 0.45
    e = hdm05_edges()
    for seq in native.sequences[2:]:
        got = np.linalg.norm(seq[:, e[:, 1]] - seq[:, e[:, 0]], axis=-1)
        np.testing.assert_allclose(got, np.broadcast_to(want, got.shape), atol=1e-5)


def test_second_load_reads_the_cache(fake_root, tmp_path, monkeypatch):
    first = load_hdm05(fake_root, progress=False)
    assert any(p.suffix == ".npz" for p in _cache_files(tmp_path))

    def boom(*args, **kwargs):
        raise AssertionError("the converter ran although the cache holds the result")

    monkeypatch.setattr(hdm05, "read_clip", boom)
    second = load_hdm05(fake_root, progress=False)
    for a, b in zip(first.sequences, second.sequences):
        np.testing.assert_array_equal(a, b)
    # another fps is another cache entry
    with pytest.raises(AssertionError, match="converter ran"):
        load_hdm05(fake_root, fps=60, progress=False)
    # a changed input file invalidates the entry
    amc = fake_root / "amc" / FAKE_CLIPS[0][0]
    st = amc.stat()
    os.utime(amc, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(AssertionError, match="converter ran"):
        load_hdm05(fake_root, progress=False)


def test_failed_conversion_leaves_no_file(fake_root, tmp_path, monkeypatch):
    real = hdm05.read_clip
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(hdm05, "read_clip", flaky)
    with pytest.raises(RuntimeError, match="disk on fire"):
        load_hdm05(fake_root, progress=False)
    assert _cache_files(tmp_path) == []


def test_no_cache_writes_nothing(fake_root, tmp_path):
    ds = load_hdm05(fake_root, cache=False, progress=False)
    assert len(ds) == 4 and _cache_files(tmp_path) == []


def test_bad_amc_in_the_dataset_names_the_file(fake_root):
    amc = fake_root / "amc" / FAKE_CLIPS[2][0]
    text = amc.read_bytes().decode("latin-1").replace("lradius", "lradius 1", 1)
    amc.write_bytes(text.encode("latin-1"))
    with pytest.raises(SkeletonFormatError, match="lradius") as err:
        load_hdm05(fake_root, progress=False)
    assert FAKE_CLIPS[2][0] in str(err.value) and err.value.line is not None


def test_a_huge_value_raises_and_caches_nothing(fake_root, tmp_path):
    """A root translation of 1e41 is a number, but no finite float32 position: named, not cached."""
    where = "root"
    amc = fake_root / "amc" / FAKE_CLIPS[1][0]
    lines = amc.read_bytes().decode("latin-1").split("\r\n")
    k = next(i for i, line in enumerate(lines) if line.startswith(where + " "))
    toks = lines[k].split()
    toks[1] = "1e41"
    lines[k] = " ".join(toks)
    amc.write_bytes("\r\n".join(lines).encode("latin-1"))
    with pytest.raises(SkeletonFormatError, match="not a finite position") as err:
        load_hdm05(fake_root, progress=False)
    assert FAKE_CLIPS[1][0] in str(err.value)
    assert _cache_files(tmp_path) == []


def test_invalid_arrays_are_never_cached_even_when_the_converter_lets_them_through(
    fake_root, tmp_path, monkeypatch
):
    real = hdm05.read_clip

    def silent_overflow(*args, **kwargs):
        out = real(*args, **kwargs)
        out[0, 0, 0] = np.inf
        return out

    monkeypatch.setattr(hdm05, "read_clip", silent_overflow)
    with pytest.raises(ValueError, match="NaN or inf"):
        load_hdm05(fake_root, progress=False)
    assert _cache_files(tmp_path) == []


def test_forward_kinematics_of_the_hdm05_skeleton_matches_the_naive_oracle(fake_root):
    asf = parse_asf(fake_root / "asf" / "HDM_bb.asf")
    motion = parse_amc(fake_root / "amc" / FAKE_CLIPS[2][0], asf)
    np.testing.assert_allclose(
        forward_kinematics(asf, motion), naive_forward_kinematics(asf, motion), atol=1e-9
    )


def test_missing_data_folder_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("STGCN_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="STGCN_DATA_DIR"):
        load_hdm05(progress=False)


def test_manifest_problems(fake_root):
    manifest = fake_root / "manifest.csv"
    good = manifest.read_text()
    manifest.write_text(good.replace("HDM_bb_wave_001_120.amc", "HDM_bb_wave_009_120.amc"))
    with pytest.raises(FileNotFoundError, match=r"manifest.csv:4 lists HDM_bb_wave_009_120.amc"):
        load_hdm05(fake_root, progress=False)
    manifest.write_text(good.replace(",test\n", ",dev\n", 1))
    with pytest.raises(ValueError, match=r"manifest.csv:4: split must be 'train' or 'test'"):
        load_hdm05(fake_root, progress=False)
    manifest.write_text(good.replace("wave,1,test", "waving,1,test"))
    with pytest.raises(ValueError, match="class_folder 1 is 'waving'"):
        load_hdm05(fake_root, progress=False)
    manifest.write_text(good.replace("class_folder", "label"))
    with pytest.raises(ValueError, match="lacks column"):
        load_hdm05(fake_root, progress=False)


def test_wrong_skeleton_layout(fake_root):
    asf = fake_root / "asf" / "HDM_aa.asf"
    asf.write_text(asf.read_text().replace("rthumb", "rpinky"))
    with pytest.raises(SkeletonFormatError, match="31 HDM05 bones"):
        load_hdm05(fake_root, progress=False)


# ---------------------------------------------------------------------------------- real data
# ``hdm05_root`` (tests/conftest.py) skips with the reason when the data folder is missing.
@pytest.fixture(scope="module")
def real_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hdm05cache")


@pytest.fixture(scope="module")
def real_ds(hdm05_root, real_cache):
    return load_hdm05(hdm05_root, cache_dir=real_cache, progress=False)


@pytest.mark.slow
def test_real_dataset_shape(real_ds):
    ds = real_ds
    assert len(ds) == 287 and ds.num_classes == 11 and ds.num_joints == 31
    assert sorted(set(ds.subjects)) == ["bd", "bk", "dg", "mm", "tr"]
    assert (ds.split == "train").sum() == 188 and (ds.split == "test").sum() == 99
    assert set(ds.subjects[ds.split == "train"]) == {"bd", "bk", "dg"}
    assert set(ds.subjects[ds.split == "test"]) == {"mm", "tr"}
    counts = dict(zip(ds.class_names, ds.class_counts()))
    assert (
        counts["squat1Reps"] == 52
        and counts["throwBasketball"] == 14
        and sum(counts.values()) == 287
    )
    assert ds.class_names[0] == "depositFloorR" and ds.class_names[-1] == "throwBasketball"


@pytest.mark.slow
def test_real_positions_are_metres_with_rigid_bones(real_ds):
    e = hdm05_edges()
    for seq, f in zip(real_ds.sequences, real_ds.files):
        assert np.isfinite(seq).all(), f
        assert np.abs(seq).max() < 20.0, f  # metres, inside a mocap hall
        bones = np.linalg.norm(seq[:, e[:, 1]] - seq[:, e[:, 0]], axis=-1)  # (T, 30)
        assert np.ptp(bones, axis=0).max() < 1e-5, f
    # the femur is 35-55 cm long
    femur = np.linalg.norm(real_ds.sequences[0][0, 2] - real_ds.sequences[0][0, 1])
    assert 0.35 < femur < 0.55


@pytest.mark.slow
def test_real_standing_height_and_upright(real_ds):
    up = real_ds.up_axis
    head, root = HDM05_JOINT_NAMES.index("head"), 0
    for actor in ["bd", "bk", "dg", "mm", "tr"]:
        for cls in ["squat1Reps", "grabHighR"]:
            k = real_ds.class_names.index(cls)
            i = np.flatnonzero((real_ds.subjects == actor) & (real_ds.labels == k))[0]
            first = real_ds.sequences[i][0]
            height = float(np.ptp(first[:, up]))
            assert 1.5 < height < 1.9, (actor, cls, height)
            # the rotation convention puts the head above the pelvis, not tilted
            v = first[head] - first[root]
            tilt = math.degrees(math.acos(v[up] / np.linalg.norm(v)))
            assert tilt < 20, (actor, cls, tilt)
            assert 0.8 < first[root, up] < 1.2  # pelvis height, feet on the floor at y ~ 0


@pytest.mark.slow
def test_real_second_load_uses_cache(real_ds, real_cache, hdm05_root, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("converter ran")

    monkeypatch.setattr(hdm05, "read_clip", boom)
    again = load_hdm05(hdm05_root, cache_dir=real_cache, progress=False)
    np.testing.assert_array_equal(again.sequences[5], real_ds.sequences[5])


# ---------------------------------------------------------------------------------- drawing
def _tiny_dataset():
    from helpers.data.dataset import SkeletonDataset

    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(t, 31, 3)).astype(np.float32) for t in (8, 5)]
    return SkeletonDataset.from_arrays(
        seqs,
        [0, 1],
        class_names=["a", "b"],
        edges=HDM05_EDGES,
        joint_names=list(HDM05_JOINT_NAMES),
        fps=30.0,
        files=["x.amc", "y.amc"],
    )


def test_plot_skeleton_puts_up_axis_vertical_without_mirroring():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plots.skeletons import edge_colors_by_side, plot_skeleton, to_display

    pts = np.eye(3)
    disp = to_display(pts, up_axis=1)
    np.testing.assert_array_equal(disp[:, 2], [0, 1, 0])  # y is drawn vertically
    assert np.linalg.det(disp) == pytest.approx(1.0)  # a rotation: left stays left
    frame = np.random.default_rng(0).normal(size=(31, 3))
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    art = plot_skeleton(
        ax, frame, hdm05_edges(), edge_colors=edge_colors_by_side(HDM05_JOINT_NAMES, hdm05_edges())
    )
    assert len(art.bones) == 30
    xs, ys, zs = art.bones[0].get_data_3d()  # edge root -> lhipjoint
    np.testing.assert_allclose(zs, frame[[0, 1], 1])
    np.testing.assert_allclose(xs, frame[[0, 1], 2])
    colors = edge_colors_by_side(HDM05_JOINT_NAMES, hdm05_edges())
    assert (
        colors[0] != colors[5] and colors[10] == colors[11]
    )  # lhipjoint vs rhipjoint; lowerback/upperback centre
    with pytest.raises(ValueError, match=r"\(V, 3\)"):
        plot_skeleton(ax, frame[:, :2], hdm05_edges())
    plt.close(fig)


def test_skeleton_animation_subsamples_and_exports_html():
    from helpers.plots.skeletons import skeleton_animation

    seq = np.random.default_rng(0).normal(size=(200, 31, 3))
    anim = skeleton_animation(seq, hdm05_edges(), max_frames=12, fps=30, figsize=(2, 2), dpi=30)
    html = anim.to_jshtml()
    assert html.count("frames[") >= 12 and "<script" in html
    assert anim._interval == pytest.approx(1000 * 199 / 30 / 11)  # real-time playback


def test_animation_html_drops_only_the_cdn_stylesheet():
    from helpers.plots.skeletons import animation_html, skeleton_animation

    seq = np.random.default_rng(0).normal(size=(20, 31, 3))
    anim = skeleton_animation(seq, hdm05_edges(), max_frames=4, fps=30, figsize=(2, 2), dpi=30)
    reference = anim.to_jshtml(default_mode="once")
    assert "maxcdn.bootstrapcdn.com" in reference  # what is removed
    html = animation_html(anim, default_mode="once")
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html
    # everything else is matplotlib's player, unchanged (frames embedded, same buttons)
    start = reference.index("<link")
    end = reference.index(">", start) + 1
    assert html == reference[:start] + reference[end:]
    assert html.count("<button") > 0 and html.count("frames[") >= 4
    with pytest.raises(ValueError, match="default_mode"):
        animation_html(anim, default_mode="bounce")


def test_skeleton_player_widgets():
    import ipywidgets as widgets

    from helpers.plots.skeletons import skeleton_player

    ds = _tiny_dataset()
    box = skeleton_player(ds, figsize=(2, 2), dpi=30)
    p = box.player
    assert isinstance(p.play, widgets.Play) and isinstance(p.slider, widgets.IntSlider)
    assert isinstance(p.dropdown, widgets.Dropdown) and isinstance(p.output, widgets.Output)
    assert p.slider.max == 7 and p.play.max == 7
    before = p.output.outputs[0]["data"]["image/png"]
    p.slider.value = 3
    assert p.output.outputs[0]["data"]["image/png"] != before
    assert "frame 3 of sequence 0" in p.output.outputs[0]["data"]["text/plain"]
    p.dropdown.value = 1
    assert p.slider.max == 4 and p.slider.value == 0
    assert "sequence 1" in p.output.outputs[0]["data"]["text/plain"]


def test_manifest_from_file_names_matches_the_shipped_manifest(hdm05_root):
    from helpers.data.hdm05 import manifest_from_files, read_manifest

    shipped = {
        r.file: (r.actor, r.motion, r.class_folder, r.split)
        for r in read_manifest(hdm05_root / "manifest.csv")
    }
    inferred = {
        r.file: (r.actor, r.motion, r.class_folder, r.split)
        for r in manifest_from_files(hdm05_root)
    }
    assert inferred == shipped


def test_load_without_manifest_infers_classes_and_split(hdm05_root, tmp_path):
    from helpers.data.hdm05 import load_hdm05

    (tmp_path / "asf").symlink_to(hdm05_root / "asf")
    amc = tmp_path / "amc" / "some_class_folder"
    amc.mkdir(parents=True)
    names = [
        "HDM_bd_squat1Reps_001_120.amc",
        "HDM_mm_squat1Reps_037_120.amc",
        "HDM_tr_grabHighR_023_120.amc",
    ]
    for n in names:
        (amc / n).symlink_to(hdm05_root / "amc" / n)
    with pytest.warns(UserWarning, match="no manifest.csv"):
        ds = load_hdm05(tmp_path, cache_dir=tmp_path / "cache", progress=False)
    assert ds.class_names == ["grabHighR", "squat1Reps"]
    assert list(ds.split) == ["train", "test", "test"] and list(ds.subjects) == ["bd", "mm", "tr"]
    (amc / "notes.amc").write_text("x")
    with pytest.raises(ValueError, match="notes.amc"):
        load_hdm05(tmp_path, cache=False, progress=False)
