"""Bootstrap intervals of per-layer measures: resamples, copies, intervals and contrasts."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.geometry.bootstrap import (
    bootstrap_layers,
    paired_contrast,
    percentile_interval,
    slope_over_depth,
    stratified_resample,
)

from naive import euclidean, naive_knn_label_error


def test_stratified_resample_keeps_each_subject_and_its_size():
    subjects = np.array(["b", "a", "b", "b", "a"])
    idx = stratified_resample(subjects, np.random.default_rng(0))
    assert sorted(subjects[idx].tolist()) == sorted(subjects.tolist())
    assert subjects[idx].tolist() == ["a", "a", "b", "b", "b"]


def test_each_resample_is_the_measure_of_the_resampled_clips():
    rng = np.random.default_rng(3)
    X = np.concatenate([rng.normal(c, 1.0, (12, 2)) for c in (0.0, 2.5)])
    labels = np.repeat([0, 1], 12)
    subjects = np.arange(24) % 3
    D1, D2 = euclidean(X), euclidean(2.0 * X[::-1])[::-1, ::-1]  # two "layers"
    values = bootstrap_layers(
        [D1, D2],
        labels,
        k=3,
        exclude=subjects,
        measure="paper_knn_error",
        n_boot=5,
        random_state=7,
    )
    assert values.shape == (5, 2)
    again = np.random.default_rng(7)
    for b in range(5):
        idx = stratified_resample(subjects, again)
        for layer, D in enumerate((D1, D2)):
            expected, _, _ = naive_knn_label_error(
                D[np.ix_(idx, idx)], labels[idx], 3, groups=subjects[idx]
            )
            assert values[b, layer] == pytest.approx(expected, abs=1e-12)


def test_copies_of_a_clip_are_never_its_neighbours():
    # every clip is its own class, so any neighbour but a copy (distance 0, same label) is wrong:
    # the error of k = 1 stays 1 on every resample
    X = np.arange(8.0)[:, None]
    values = bootstrap_layers(
        [euclidean(X)], np.arange(8), k=1, measure="paper_knn_error", n_boot=30
    )
    assert np.all(values == 1.0)


def test_graph_measures_on_resamples():
    rng = np.random.default_rng(4)
    X = np.concatenate([rng.normal(c, 1.0, (15, 2)) for c in (0.0, 4.0)])
    labels, subjects = np.repeat([0, 1], 15), np.arange(30) % 3
    for measure in ("nnk_label_variation", "knn_label_variation"):
        values = bootstrap_layers(
            [euclidean(X), euclidean(X * [1.0, 0.0])],
            labels,
            k=4,
            exclude=subjects,
            measure=measure,
            n_boot=10,
        )
        assert values.shape == (10, 2) and np.all((values >= 0) & (values <= 1))
        # two well-separated clusters: little weight crosses them on any resample
        assert values[:, 0].max() < 0.2


def test_percentile_interval_by_hand():
    interval = percentile_interval(np.arange(101.0), level=0.95, estimate=50.0)
    assert interval.low == pytest.approx(2.5) and interval.high == pytest.approx(97.5)
    assert interval.estimate == 50.0
    assert interval.excludes_zero
    with_nan = percentile_interval([np.nan, 1.0, 3.0], level=0.5)
    assert (with_nan.low, with_nan.high, with_nan.estimate) == (1.5, 2.5, 2.0)
    assert np.isnan(percentile_interval([np.nan]).low)
    with pytest.raises(ValueError, match="level=1.5"):
        percentile_interval([1.0], level=1.5)


def test_paired_contrast_and_slope_by_hand():
    samples = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0], [3.0, 2.0, 1.0]])
    diff = paired_contrast(samples, first=[0], second=[2], level=0.5)
    # differences 2, 0, -2 per resample: median 0, quartiles -1 and 1
    assert (diff.low, diff.high, diff.estimate) == (-1.0, 1.0, 0.0)
    assert (
        paired_contrast(samples, [0], [1, 2], estimate=np.array([1.0, 0.0, 1.0])).estimate == -0.5
    )
    slope = slope_over_depth(samples, [0, 1, 2], level=0.5, estimate=np.array([0.0, 1.0, 2.0]))
    assert (slope.low, slope.high, slope.estimate) == (-0.5, 0.5, 1.0)
    with pytest.raises(ValueError, match="two or more"):
        slope_over_depth(samples, [1])
    with pytest.raises(ValueError, match="first=\\[5\\]"):
        paired_contrast(samples, [5], [0])


def test_bad_inputs_are_named():
    D = euclidean(np.arange(6.0)[:, None])
    with pytest.raises(ValueError, match="measure='lv'"):
        bootstrap_layers([D], np.zeros(6), measure="lv")
    with pytest.raises(ValueError, match=r"distances\[1\] has shape \(3, 3\)"):
        bootstrap_layers([D, D[:3, :3]], np.zeros(6))
    with pytest.raises(ValueError, match="n_boot=0"):
        bootstrap_layers([D], np.zeros(6), n_boot=0)


def test_layer_values_are_the_measure_on_the_clips_themselves():
    from helpers.geometry.bootstrap import BOOTSTRAP_MEASURES, layer_values
    from helpers.geometry.neighbours import NeighbourSets

    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    y = np.repeat([0, 1, 2], 4)
    groups = np.tile([0, 1], 6)
    got = layer_values([D, 2 * D], y, k=3, exclude=groups)
    want = [
        BOOTSTRAP_MEASURES["nnk_label_variation"](
            NeighbourSets.from_matrix(M, 3, exclude=groups), y, 3
        )
        for M in (D, 2 * D)
    ]
    np.testing.assert_allclose(got, want)
