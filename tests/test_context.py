"""StudyContext: made from names or a dataset, frozen, variants leave the original alone."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from helpers.runtime import keys
from helpers.runtime.disk_cache import DiskCache
from helpers.studies import StudyContext
from helpers.training.profiles import Profile, get_profile

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
    with pytest.raises(ValueError, match="expected 'hdm05' or the path of a .npz"):
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
