"""The transfer study on a toy: its grid, the chosen factors, intervals and the layer link."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.studies import StudyContext, first_drop, transfer_study
from helpers.training.transfer import fitting_clips, validation_subject_of

from builders import make_dataset, tiny_profile


def toy_with_two_test_subjects():
    """Four toy classes, ten clips each, subjects 0-4 in turn; subjects 3 and 4 are tested."""
    ds = make_dataset(n_per_class=10, classes=4)
    ds.subjects = np.tile(np.arange(10) % 5, 4)
    ds.split = np.where(ds.subjects >= 3, "test", "train")
    return ds


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    ctx = StudyContext.create(
        tiny_profile(), toy_with_two_test_subjects(), "cpu",
        cache_dir=tmp_path_factory.mktemp("c"), progress=False,
    )  # fmt: skip
    return transfer_study(ctx, splits=2, seeds=(0,), ks=(1, 2), k=2), ctx


def test_every_configuration_runs_once_per_split_seed_and_k(result):
    res, _ = result
    runs = res.runs
    # scratch, then per k: AnB, BnB and one AnB+ per learning-rate factor of the grid
    factors = res.settings["lr_factors"]
    assert len(runs) == 2 * (1 + 2 * (2 + len(factors)))
    assert set(runs["mode"]) == {"scratch", "AnB", "AnB+", "BnB"}
    assert (runs.loc[runs["mode"] == "scratch", "k"] == 0).all()
    assert runs["accuracy"].between(0, 1).all()
    assert (runs["best_epoch"] <= runs["epochs"]).all()


def test_one_anb_plus_factor_is_chosen_per_configuration_by_validation(result):
    runs = result[0].runs
    plus = runs[runs["mode"] == "AnB+"]
    chosen = plus[plus["chosen"]]
    assert len(chosen) == len(plus.groupby(["split", "seed", "shots", "k"]))
    for _, group in plus.groupby(["split", "seed", "shots", "k"]):
        best = group.sort_values(["val_acc", "val_loss"], ascending=[False, True]).iloc[0]
        assert group.loc[group["chosen"], "val_acc"].iloc[0] == best["val_acc"]
    assert runs.loc[runs["mode"] != "AnB+", "chosen"].all()


def test_intervals_contain_their_estimates_and_tables_fit(result):
    res, _ = result
    for table in (res.accuracy, res.specificity, res.geometry):
        assert (
            (table["low"] <= table["estimate"] + 1e-9) | (table["estimate"] > table["high"])
        ).all()
        assert (table["low"] <= table["high"]).all()
    assert set(res.specificity["split"]) == {"0", "1", "all"}
    assert set(res.geometry["layer"]) == {0, 1, 2}
    # the input is the same clips for A and B: no gap at layer 0
    assert np.allclose(res.geometry.loc[res.geometry["layer"] == 0, "estimate"], 0)
    assert list(res.layers["split"]) == ["0", "1", "all"]


def test_b_trains_on_the_fitting_clips_only(result):
    res, ctx = result
    ds = ctx.dataset
    val = validation_subject_of(ds)
    assert val == "2"
    mask = fitting_clips(ds, val)
    subjects = np.asarray(ds.subjects).astype(str)
    assert not mask[subjects == val].any() and not mask[ds.split == "test"].any()
    assert mask[(ds.split == "train") & (subjects != val)].all()
    assert res.settings["validation_subjects"] == [val, val]


def test_a_cached_study_is_read_back(result):
    res, ctx = result
    again = transfer_study(ctx, splits=2, seeds=(0,), ks=(1, 2), k=2)
    pd.testing.assert_frame_equal(again.runs, res.runs)


def test_first_drop_is_the_first_interval_below_zero():
    assert first_drop([-0.1, -0.3, -0.2], [0.1, -0.1, -0.05], [2, 5, 8]) == 5
    assert np.isnan(first_drop([-0.1, 0.0], [0.1, 0.2], [2, 5]))
    with pytest.raises(ValueError, match="equal lengths"):
        first_drop([0.0], [0.1, 0.2], [1, 2])


def test_few_shot_sizes_train_on_that_many_clips_per_class(result):
    _, ctx = result
    res = transfer_study(ctx, splits=1, seeds=(0,), ks=(1,), shots=(2, None), k=2)
    assert set(res.runs["shots"]) == {0, 2}
    classes = len(res.tasks[0]["target"])
    few = res.runs[res.runs["shots"] == 2]
    assert (few["train_clips"] == 2 * classes).all()
    everything = int(res.runs.loc[res.runs["shots"] == 0, "train_clips"].iloc[0])
    assert set(res.networks["B_train_clips"]) == {2 * classes, everything}
    # the geometry link uses the networks trained on all clips only
    assert set(res.accuracy["shots"]) == {0, 2}


@pytest.mark.parametrize(
    "shots, message",
    [((0,), "shots"), ((2.5,), "shots"), ((), "at least one"), ((True,), "shots")],
)
def test_bad_few_shot_sizes_are_refused(result, shots, message):
    with pytest.raises(ValueError, match=message):
        transfer_study(result[1], shots=shots)
