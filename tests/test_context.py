"""StudyContext: made from names or a dataset, frozen, variants leave the original alone."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.io import savemat

from helpers.runtime import keys
from helpers.runtime.disk_cache import DiskCache
from helpers.runtime.folders import data_dir, default_data_dir
from helpers.studies import StudyContext, build_model, held_out_validation
from helpers.training.profiles import Profile, for_dataset, get_profile

from builders import hdm05_toy, make_dataset, synthetic_dataset, tiny_profile


@pytest.fixture
def ctx(tmp_path) -> StudyContext:
    return StudyContext.create(
        tiny_profile(), hdm05_toy(), "cpu", cache_dir=tmp_path, progress=False
    )


def test_create_from_names_and_a_dataset(tmp_path):
    ds = make_dataset(n_per_class=2)
    ctx = StudyContext.create("quick", ds, "cpu", cache_dir=str(tmp_path), progress=False)
    assert isinstance(ctx.profile, Profile) and ctx.profile.name == "quick"
    assert ctx.dataset is ds and ctx.device == torch.device("cpu")
    assert ctx.cache_dir == tmp_path and isinstance(ctx.cache_dir, Path)
    assert ctx.data_dir is None and ctx.progress is False
    assert isinstance(ctx.cache, DiskCache) and ctx.cache.root == tmp_path
    assert ctx.dataset_name == "toy"
    assert "'quick'" in repr(ctx) and "'toy'" in repr(ctx) and f"({len(ds)} clips)" in repr(ctx)


def test_create_from_a_saved_dataset_and_a_profile_object(tmp_path):
    ds = synthetic_dataset(n_per_class=2)
    path = ds.save(tmp_path / "mine.npz")
    prof = tiny_profile()
    ctx = StudyContext.create(prof, path, torch.device("cpu"), data_dir=tmp_path)
    assert ctx.profile == prof and ctx.dataset.fingerprint() == ds.fingerprint()
    assert ctx.dataset_name == "synthetic" and ctx.data_dir == tmp_path
    assert ctx.cache_dir is None and ctx.progress is True


def test_hdm05_is_written_as_the_book_writes_it(tmp_path):
    ds = hdm05_toy()
    ds.name = "hdm05"
    assert StudyContext.create("quick", ds, "cpu").dataset_name == "HDM05"


def test_the_context_is_frozen(ctx):
    for field in ("profile", "dataset", "device", "cache_dir", "data_dir", "progress"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(ctx, field, None)


def test_on_and_with_profile_make_new_contexts(ctx):
    before = (ctx.profile, ctx.dataset, ctx.device, ctx.cache_dir, ctx.progress)
    test = ctx.dataset.test()
    other = ctx.on(test)
    assert other is not ctx and other.dataset is test
    assert (other.profile, other.device, other.cache_dir, other.progress) == (
        ctx.profile,
        ctx.device,
        ctx.cache_dir,
        ctx.progress,
    )
    paper = ctx.with_profile("paper")
    assert paper is not ctx and paper.profile.name == "paper" and paper.dataset is ctx.dataset
    assert ctx.with_profile(get_profile("quick")).profile == get_profile("quick")
    assert (ctx.profile, ctx.dataset, ctx.device, ctx.cache_dir, ctx.progress) == before
    assert other.model_key(0) != ctx.model_key(0) and paper.model_key(0) != ctx.model_key(0)


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("profile", "quick", r"^profile: expected a Profile.*got str"),
        ("dataset", "hdm05", r"^dataset: expected a SkeletonDataset.*got str"),
        ("device", "cpu", r"^device: expected a torch\.device.*'cpu'"),
    ],
)
def test_wrong_types_are_named(ctx, field, value, match):
    fields = {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx)}
    with pytest.raises(TypeError, match=match):
        StudyContext(**{**fields, field: value})
    with pytest.raises(TypeError, match=match):
        dataclasses.replace(ctx, **{field: value})
    with pytest.raises(TypeError, match="dataset: expected a SkeletonDataset"):
        ctx.on(ctx.dataset.sequences)


def test_create_refuses_unknown_names(tmp_path):
    ds = make_dataset(n_per_class=1)
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        StudyContext.create("fast", ds, "cpu")
    with pytest.raises(ValueError, match=r"expected one of \['hdm05', 'utd-mhad'\] or the path"):
        StudyContext.create("quick", "ntu", "cpu")


def test_keys_are_the_runtime_builders(ctx):
    fp, prof = ctx.dataset.fingerprint(), ctx.profile.to_dict()
    assert ctx.model_key(3) == keys.model_key(fp, 3, profile=prof)
    assert ctx.model_key(3, label_seed=7) == keys.model_key(fp, 3, profile=prof, label_seed=7)
    assert ctx.study_key("noise", k=10, window=0.1) == keys.study_key(
        "noise", fp, profile=prof, k=10, window=0.1
    )
    # the device, the cache and the progress bars are not part of any key
    elsewhere = dataclasses.replace(ctx, cache_dir=None, progress=True, device=torch.device("meta"))
    assert elsewhere.model_key(3) == ctx.model_key(3)
    assert elsewhere.study_key("noise", k=10) == ctx.study_key("noise", k=10)


def _fake_utd(root: Path) -> Path:
    """Two actions x subjects 1-4, one trial each: a standing 20-joint body, 12 frames at 30 fps."""
    rng = np.random.default_rng(0)
    (root / "skeleton").mkdir(parents=True)
    for action in (1, 2):
        for subject in (1, 2, 3, 4):
            d = np.zeros((20, 3, 12))
            d[:, 1] = np.linspace(0.8, -0.9, 20)[:, None]
            d[[12, 16], 0] = [[-0.1], [0.1]]
            d += 0.01 * rng.standard_normal(d.shape)
            savemat(root / "skeleton" / f"a{action}_s{subject}_t1_skeleton.mat", {"d_skel": d})
    return root


def test_utd_mhad_by_name_sets_the_profile_for_it(tmp_path, monkeypatch):
    monkeypatch.setenv("STGCN_UTD_MHAD_DIR", str(_fake_utd(tmp_path / "utd")))
    ctx = StudyContext.create("quick", "utd-mhad", "cpu", progress=False)
    assert ctx.dataset_name == "UTD-MHAD" and len(ctx.dataset) == 8
    assert ctx.profile.name == "quick" and ctx.profile.data["dataset"] == "utd-mhad"
    assert ctx.profile.model["layout"] == "utd-mhad"
    assert ctx.dataset.fps == ctx.profile.data["fps"] == 10.0
    assert len(ctx.dataset.sequences[0]) == 4  # 12 frames at 30 fps -> every third
    # a variant by name stays on UTD-MHAD; its cache keys differ from HDM05's
    paper = ctx.with_profile("paper")
    assert paper.profile.data["dataset"] == "utd-mhad" and paper.profile.model["width"] == 1.0
    assert ctx.model_key(0) != StudyContext.create("quick", ctx.dataset, "cpu").model_key(0)
    model = build_model(ctx.profile, ctx.dataset)
    assert model.graph.layout == "utd-mhad" and model.graph.center == 1


def test_for_dataset():
    assert for_dataset("quick", "hdm05") == get_profile("quick")
    utd = for_dataset("quick", "UTD-MHAD")
    assert utd.data["dataset"] == "utd-mhad" and for_dataset(utd, "utd-mhad") == utd
    with pytest.raises(ValueError, match="no profile settings for it"):
        for_dataset("quick", "ntu")
    with pytest.raises(ValueError, match="already set for dataset 'utd-mhad'"):
        for_dataset(utd, "hdm05")


def test_data_folders_per_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("STGCN_UTD_MHAD_DIR", str(tmp_path))
    monkeypatch.delenv("STGCN_DATA_DIR", raising=False)
    assert data_dir(dataset="utd-mhad") == tmp_path.resolve()
    assert data_dir() == default_data_dir() and default_data_dir().name == "hdm05"
    assert default_data_dir("utd-mhad").name == "utd-mhad"
    with pytest.raises(ValueError, match="dataset='ntu': no data folder"):
        data_dir(dataset="ntu")


def test_held_out_validation_holds_out_training_subjects_only(ctx):
    with pytest.raises(ValueError, match=r"subjects=\['mm'\]: not training subjects"):
        held_out_validation(ctx, subjects=["mm"])
    table = held_out_validation(ctx, seeds=(0,), subjects=["bd"])
    assert table.subject.tolist() == ["bd"] and table.seed.tolist() == [0]
    held = (ctx.dataset.split == "train") & (ctx.dataset.subjects == "bd")
    assert table.clips.tolist() == [int(held.sum())]
    assert 0.0 <= table.top1[0] <= 1.0 and table.train_seconds[0] > 0


def test_held_out_validation_refuses_a_profile_at_another_frame_rate(ctx):
    ds = hdm05_toy()
    ds.fps = 10.0
    at_ten = ctx.on(ds)
    with pytest.raises(ValueError, match="asks for clips at 15 fps but the dataset holds 10 fps"):
        held_out_validation(at_ten.with_profile(at_ten.profile.replace(data_fps=15.0)))


def test_a_skeleton_without_hips_keeps_its_heading_and_says_so(tmp_path):
    path = synthetic_dataset(n_per_class=2).save(tmp_path / "chain.npz")
    with pytest.warns(UserWarning, match="names no left/right hip or shoulder joints"):
        ctx = StudyContext.create("quick", path, "cpu", data_dir=tmp_path)
    assert ctx.profile.train["heading"] is None
    assert get_profile("quick").train["heading"] == "first"  # the profile itself is unchanged
