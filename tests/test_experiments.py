"""Cached studies: a profile's model is trained once, loaded after, and a bad cache never hurts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import studies
from helpers.nets.skeleton_graph import SkeletonGraph
from helpers.runtime.disk_cache import CacheWarning, DiskCache
from helpers.studies import get_trained_model, split_dataset
from helpers.training.loop import evaluate
from helpers.training.profiles import get_profile

from test_training import make_dataset


def hdm05_toy(n_per_class: int = 4):
    layout = SkeletonGraph.from_layout("hdm05")
    ds = make_dataset(
        n_per_class=n_per_class, joints=layout.num_nodes, edges=[tuple(e) for e in layout.edges]
    )
    # synthetic actors: three training actors and one test actor, as in HDM05's split
    ds.subjects = np.array(["bd", "bk", "dg", "mm"])[ds.subjects]
    return ds


def tiny_profile():
    return get_profile(
        "quick",
        model_schedule=[[4, 1], [4, 2]],
        train_epochs=2,
        train_length=12,
        train_batch_size=8,
    )


def train(tmp_path, seed=1, **kw):
    return get_trained_model(
        tiny_profile(),
        device="cpu",
        cache_dir=tmp_path,
        seed=seed,
        progress=False,
        dataset=hdm05_toy(),
        **kw,
    )


def _no_training(*args, **kwargs):
    raise AssertionError("the cached model should have been loaded")


def test_get_trained_model_trains_once_then_loads(tmp_path, monkeypatch):
    ds = hdm05_toy()
    model, result = train(tmp_path)
    assert result.epochs_done == 2 and result.test is not None
    assert result.test.confusion.sum() == (ds.split == "test").sum()
    assert not list((tmp_path / "training-runs").glob("*.pt"))  # resume point removed when done

    monkeypatch.setattr(studies.models, "fit", _no_training)
    again, cached = train(tmp_path)
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    assert cached.history == result.history
    np.testing.assert_array_equal(cached.test.confusion, result.test.confusion)
    ev = evaluate(again, ds.test(), cached.config)
    assert ev.accuracy == pytest.approx(result.test.accuracy)
    with pytest.raises(
        AssertionError, match="should have been loaded"
    ):  # another seed: another model
        train(tmp_path, seed=2)


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
    prof = tiny_profile()
    ds = hdm05_toy()
    key = {"profile": prof.to_dict(), "dataset": ds.fingerprint(), "seed": 1}
    resume = DiskCache(tmp_path).path("training-runs", key, ".pt")
    resume.parent.mkdir(parents=True)
    resume.write_bytes(b"PK\x03\x04 not a checkpoint")
    with pytest.warns(CacheWarning, match="training starts from scratch"):
        _, result = train(tmp_path)
    assert result.epochs_done == 2 and not resume.exists()


def test_without_a_writable_cache_the_model_is_trained_and_not_stored(tmp_path, monkeypatch):
    from helpers import cache as cache_module

    monkeypatch.setattr(
        cache_module, "_probe_writable", lambda root: PermissionError(13, "read-only")
    )
    monkeypatch.setattr(cache_module, "_WARNED_UNWRITABLE", set())
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
def test_layer_geometry_study_and_noise_study(tmp_path, monkeypatch):
    ds = hdm05_toy(n_per_class=12)  # 9 test clips
    kw = dict(
        seeds=(1,),
        untrained_seeds=(0,),
        k=4,
        window=0.2,
        device="cpu",
        cache_dir=tmp_path,
        dataset=ds,
        progress=False,
    )
    study = studies.layer_geometry_study(tiny_profile(), subset="test", **kw)
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

    monkeypatch.setattr(studies.geometry, "layer_geometry", no_recomputing)
    again = studies.layer_geometry_study(tiny_profile(), subset="test", **kw)
    pd.testing.assert_frame_equal(study, again)
    monkeypatch.undo()

    acc, smooth = studies.noise_study(tiny_profile(), levels=(0.0, 0.2), noise_seeds=(0,), **kw)
    assert sorted(acc.level) == [0.0, 0.2] and set(acc.seed) == {1}
    model, result = get_trained_model(
        tiny_profile(), device="cpu", cache_dir=tmp_path, seed=1, progress=False, dataset=ds
    )
    assert acc[acc.level == 0.0].accuracy.iloc[0] == pytest.approx(result.test.accuracy)
    # without noise, the test-clip smoothness is exactly the layer study's on the test subset
    clean = smooth[smooth.level == 0.0].drop(columns=["level", "noise_seed"])
    ref = study[study["class"] == ""].drop(columns="class")
    merged = clean.merge(ref, on=["model", "seed", "layer", "graph", "metric"])
    assert len(merged) == len(ref)
    np.testing.assert_allclose(merged.value_x, merged.value_y, atol=1e-12)
    noisy = smooth[smooth.level == 0.2]
    assert not np.allclose(noisy.value.to_numpy(), clean.value.to_numpy())


def test_scaling_study_is_cached(tmp_path, monkeypatch):
    from helpers import profiles

    small = {
        "sizes": (30, 60),
        "hidden_sizes": (30,),
        "hidden_channels": 2,
        "all_pairs_max": 60,
        "bound_pairs": 50,
    }
    monkeypatch.setitem(profiles.STUDY_SETTINGS["quick"], "scaling", small)
    kw = dict(k=3, window=0.2, cache_dir=tmp_path, dataset=hdm05_toy(), progress=False)
    out = studies.scaling_study(tiny_profile(), **kw)
    assert set(out) == {"timings", "exponents", "bounds", "machine"}
    t = out["timings"]
    assert set(t["data"]) == {"input (D=93)", "hidden (D=62)"}
    assert (t.loc[t.method == "exact kNN", "same"] == 1.0).all()
    assert (out["bounds"]["projected"] <= out["bounds"]["dtw"] * (1 + 1e-9)).all()

    def no_recomputing(*args, **kwargs):
        raise AssertionError("the study should come from the cache")

    monkeypatch.setattr(studies.scaling, "scaling_table", no_recomputing)
    again = studies.scaling_study(tiny_profile(), **kw)
    pd.testing.assert_frame_equal(out["timings"], again["timings"])


def test_build_model_uses_the_profile_layout_or_the_datasets_skeleton():
    from test_book_on_other_data import synthetic_dataset

    from helpers.nets.skeleton_graph import SkeletonGraph

    hdm = studies.build_model(tiny_profile(), hdm05_toy())
    ref = SkeletonGraph.from_layout("hdm05")
    assert hdm.graph.num_nodes == 31 and hdm.graph.center == ref.center
    other = synthetic_dataset(n_per_class=2)
    net = studies.build_model(tiny_profile(), other, seed=3)
    assert net.graph.num_nodes == 6 and net.graph.center == other.center
    again = studies.build_model(tiny_profile(), other, seed=3)
    pairs = zip(net.state_dict().values(), again.state_dict().values())
    assert all(torch.equal(a, b) for a, b in pairs)  # the seed fixes the initial weights
    assert net.eval()(torch.zeros(2, 3, 10, 6, 1)).shape == (2, 4)


def test_load_dataset_reads_hdm05_or_a_saved_file(tmp_path):
    from test_book_on_other_data import synthetic_dataset

    ds = synthetic_dataset(n_per_class=2)
    path = ds.save(tmp_path / "mine.npz")
    assert studies.load_dataset(path).fingerprint() == ds.fingerprint()
    assert studies.load_dataset(ds) is ds
    with pytest.raises(ValueError, match="expected 'hdm05' or the path of a .npz"):
        studies.load_dataset("ntu")
    with pytest.raises(FileNotFoundError, match="no such file"):
        studies.load_dataset(tmp_path / "missing.npz")
