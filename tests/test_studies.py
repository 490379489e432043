"""Cached studies: a profile's model is trained once, loaded after, and a bad cache never hurts.

Every study takes a :class:`~helpers.studies.StudyContext`; a rerun of a cached study must
compute nothing, which the tests check by patching the computation where the study module
uses it (``helpers.studies.models.fit``, ``helpers.studies.geometry.layer_geometry``, ...).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from helpers.runtime.disk_cache import CacheWarning
from helpers.studies import (
    StudyContext,
    build_model,
    get_trained_model,
    layer_geometry_study,
    load_dataset,
    scaling_study,
    split_dataset,
    untrained_model,
)
from helpers.training.loop import evaluate

from builders import hdm05_toy, synthetic_dataset, tiny_profile

#: Relative tolerance between two computations of one measure from float32 features and DTW.
FLOAT32_MEASURES = 1e-4


def toy_context(cache_dir, dataset=None, profile=None) -> StudyContext:
    """The tiny profile on the HDM05-shaped toy clips, on CPU, caching into ``cache_dir``."""
    return StudyContext.create(
        profile or tiny_profile(),
        hdm05_toy() if dataset is None else dataset,
        "cpu",
        cache_dir=cache_dir,
        progress=False,
    )


def train(tmp_path, seed=1, **kw):
    return get_trained_model(toy_context(tmp_path), seed=seed, **kw)


def _no_training(*args, **kwargs):
    raise AssertionError("the cached model should have been loaded")


def test_get_trained_model_trains_once_then_loads(tmp_path, monkeypatch):
    ds = hdm05_toy()
    model, result = train(tmp_path)
    assert result.epochs_done == 2 and result.test is not None
    assert result.test.confusion.sum() == (ds.split == "test").sum()
    assert not list((tmp_path / "training-runs").glob("*.pt"))  # resume point removed when done

    monkeypatch.setattr("helpers.studies.models.fit", _no_training)
    again, cached = train(tmp_path)
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    # the held-out clips are scored every MONITOR_EVERY epochs: nan between, equal as nan
    np.testing.assert_equal(cached.history, result.history)
    np.testing.assert_array_equal(cached.test.confusion, result.test.confusion)
    ev = evaluate(again, ds.test(), cached.config)
    assert ev.accuracy == pytest.approx(result.test.accuracy)
    with pytest.raises(AssertionError, match="should have been loaded"):  # another seed
        train(tmp_path, seed=2)


def test_the_model_is_stored_under_the_contexts_key(tmp_path):
    ctx = toy_context(tmp_path)
    get_trained_model(ctx, seed=1)
    (entry,) = (tmp_path / "models").glob("*.pt")
    assert entry == ctx.cache.path("models", ctx.model_key(1), ".pt")


def test_untrained_model_is_the_seeds_initial_network(tmp_path):
    ctx = toy_context(tmp_path)
    net = untrained_model(ctx, seed=3)
    assert not net.training and net.train_config == ctx.profile.train_config()
    ref = build_model(ctx.profile, ctx.dataset, 3)
    pairs = zip(net.state_dict().values(), ref.state_dict().values())
    assert all(torch.equal(a, b) for a, b in pairs)
    assert not list(tmp_path.rglob("*.pt"))  # nothing trained, nothing stored


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_cached_model_is_reported_and_retrained(tmp_path, damage):
    model, _ = train(tmp_path)
    (entry,) = (tmp_path / "models").glob("*.pt")
    data = bytearray(entry.read_bytes())
    if damage == "truncate":
        entry.write_bytes(bytes(data[: len(data) // 2]))
    else:
        data[len(data) // 2] ^= 0x40
        entry.write_bytes(bytes(data))
    with pytest.warns(CacheWarning, match=str(entry.name)):
        again, result = train(tmp_path)
    assert result.epochs_done == 2
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)  # same seed, same thread count: the same model again
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        train(tmp_path)  # the entry is sound again: no warning


def test_an_unreadable_resume_point_costs_only_its_epochs(tmp_path):
    ctx = toy_context(tmp_path)
    resume = ctx.cache.path("training-runs", ctx.model_key(1), ".pt")
    resume.parent.mkdir(parents=True)
    resume.write_bytes(b"PK\x03\x04 not a checkpoint")
    with pytest.warns(CacheWarning, match="training starts from scratch"):
        _, result = get_trained_model(ctx, seed=1)
    assert result.epochs_done == 2 and not resume.exists()


def test_without_a_writable_cache_the_model_is_trained_and_not_stored(tmp_path, monkeypatch):
    from helpers.runtime import disk_cache

    monkeypatch.setattr(
        disk_cache, "_probe_writable", lambda root: PermissionError(13, "read-only")
    )
    monkeypatch.setattr(disk_cache, "_WARNED_UNWRITABLE", set())
    with pytest.warns(CacheWarning, match="not writable"):
        _, result = train(tmp_path)
    assert result.epochs_done == 2
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_validation_split_holds_out_a_training_actor():
    ds = hdm05_toy()
    tr, va = split_dataset(ds, "validation:dg")
    assert set(va.subjects) == {"dg"} and "dg" not in set(tr.subjects)
    assert set(tr.split) == {"train"} and set(va.split) == {"train"}
    with pytest.raises(ValueError, match="not among the training subjects"):
        split_dataset(ds, "validation:mm")
    with pytest.raises(ValueError, match="unknown split"):
        split_dataset(ds, "random")


# ------------------------------------------------------------------------------ the studies
@pytest.mark.slow
def test_layer_geometry_study_is_cached(tmp_path, monkeypatch):
    ctx = toy_context(tmp_path, hdm05_toy(n_per_class=12))  # 9 test clips
    kw = dict(seeds=(1,), untrained_seeds=(0,), k=4, window=0.2)
    study = layer_geometry_study(ctx, subset="test", **kw)
    assert list(study.columns[:2]) == ["model", "seed"]
    assert set(zip(study.model, study.seed)) == {("trained", 1), ("untrained", 0)}
    assert set(study.layer) == set(range(3))  # input + the tiny profile's two blocks
    assert set(study.metric) == {
        "label_variation",
        "interpolation_error",
        "paper_knn_error",
        "degree",
        "isolated",
    }

    def no_recomputing(*args, **kwargs):
        raise AssertionError("the study should come from the cache")

    monkeypatch.setattr("helpers.studies.geometry.layer_geometry", no_recomputing)
    again = layer_geometry_study(ctx, subset="test", **kw)
    pd.testing.assert_frame_equal(study, again)
    monkeypatch.undo()


@pytest.mark.slow
def test_scaling_study_is_cached(tmp_path, monkeypatch):
    from helpers.training import profiles

    small = {
        "sizes": (30, 60),
        "hidden_sizes": (30,),
        "hidden_channels": 2,
        "all_pairs_max": 60,
        "bound_pairs": 50,
    }
    monkeypatch.setitem(profiles.STUDY_SETTINGS["quick"], "scaling", small)
    ctx = toy_context(tmp_path)
    out = scaling_study(ctx, k=3, window=0.2)
    assert set(out) == {"timings", "exponents", "bounds", "machine"}
    t = out["timings"]
    assert set(t["data"]) == {"input (D=93)", "hidden (D=62)"}
    assert (t.loc[t.method == "exact kNN", "same"] == 1.0).all()
    assert (out["bounds"]["projected"] <= out["bounds"]["dtw"] * (1 + 1e-9)).all()

    def no_recomputing(*args, **kwargs):
        raise AssertionError("the study should come from the cache")

    monkeypatch.setattr("helpers.studies.scaling.scaling_table", no_recomputing)
    again = scaling_study(ctx, k=3, window=0.2)
    pd.testing.assert_frame_equal(out["timings"], again["timings"])


def test_build_model_uses_the_profile_layout_or_the_datasets_skeleton():
    from helpers.nets.skeleton_graph import SkeletonGraph

    hdm = build_model(tiny_profile(), hdm05_toy())
    ref = SkeletonGraph.from_layout("hdm05")
    assert hdm.graph.num_nodes == 31 and hdm.graph.center == ref.center
    other = synthetic_dataset(n_per_class=2)
    net = build_model(tiny_profile(), other, seed=3)
    assert net.graph.num_nodes == 6 and net.graph.center == other.center
    again = build_model(tiny_profile(), other, seed=3)
    pairs = zip(net.state_dict().values(), again.state_dict().values())
    assert all(torch.equal(a, b) for a, b in pairs)  # the seed fixes the initial weights
    assert net.eval()(torch.zeros(2, 3, 10, 6, 1)).shape == (2, 4)


def test_load_dataset_reads_hdm05_or_a_saved_file(tmp_path):
    ds = synthetic_dataset(n_per_class=2)
    path = ds.save(tmp_path / "mine.npz")
    assert load_dataset(path).fingerprint() == ds.fingerprint()
    assert load_dataset(ds) is ds
    with pytest.raises(ValueError, match=r"expected one of \['hdm05', 'utd-mhad'\] or the path"):
        load_dataset("ntu")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_dataset(tmp_path / "missing.npz")
