"""Readouts without a graph: the cross-subject linear probe and linear CKA."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.geometry.readouts import (
    cka_table,
    linear_cka,
    linear_probe,
    probe_table,
    time_pooled,
)

from naive import naive_linear_cka


def test_cka_matches_the_hsic_form_and_its_invariances():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 7))
    Y = X @ rng.normal(size=(7, 4)) + 0.5 * rng.normal(size=(30, 4))
    assert linear_cka(X, Y) == pytest.approx(naive_linear_cka(X, Y), rel=1e-10)
    Q, _ = np.linalg.qr(rng.normal(size=(7, 7)))
    assert linear_cka(X, 3.0 * X @ Q + 2.0) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(X, Y) == pytest.approx(linear_cka(Y, X), rel=1e-12)
    assert np.isnan(linear_cka(X, np.ones((30, 2))))  # a constant representation
    with pytest.raises(ValueError, match="same N"):
        linear_cka(X, Y[:5])


def test_time_pooling_and_the_tables():
    layer0 = [np.array([[0.0, 2.0], [2.0, 4.0]]), np.array([[1.0, 1.0]])]
    np.testing.assert_array_equal(time_pooled(layer0), [[1.0, 3.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="different feature sizes"):
        time_pooled([np.zeros((2, 2)), np.zeros((2, 3))])
    rng = np.random.default_rng(1)
    features = [[rng.normal(size=(int(t), d)) for t in rng.integers(3, 9, 12)] for d in (3, 5, 4)]
    table = cka_table(features)
    assert table.cka_input[0] == pytest.approx(1.0) and table.cka_last[2] == pytest.approx(1.0)
    assert table.index.tolist() == [0, 1, 2]


def test_probe_scores_test_subjects_only():
    rng = np.random.default_rng(2)
    labels = np.repeat([0, 1, 2], 20)
    pooled = rng.normal(size=(60, 10)) + 8.0 * np.eye(10)[labels]  # separable along 3 axes
    subjects = np.arange(60) % 4
    train, test = subjects < 3, subjects == 3
    assert linear_probe(pooled, labels, train, test) == 1.0
    noise = rng.normal(size=(60, 10))
    assert linear_probe(noise, labels, train, test) < 0.7
    with pytest.raises(ValueError, match="overlap"):
        linear_probe(pooled, labels, train, train)
    features = [[p[None, :] for p in pooled], [n[None, :] for n in noise]]
    series = probe_table(features, labels, train, test)
    assert series[0] == 1.0 and series[1] < 0.7 and series.index.name == "layer"
