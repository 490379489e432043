"""Tests for helpers.smoothness: hand-worked graphs, naive loop references, the trace identity."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from helpers.smoothness import (
    ClassScores,
    graph_smoothness,
    interpolation_error,
    label_variation,
)

from naive import naive_interpolation_error, naive_label_variation


def path(weights) -> np.ndarray:
    n = len(weights) + 1
    W = np.zeros((n, n))
    for i, w in enumerate(weights):
        W[i, i + 1] = W[i + 1, i] = w
    return W


def random_graph(rng, n=30, density=0.2, symmetric=True):
    W = rng.uniform(0.1, 2.0, size=(n, n)) * (rng.uniform(size=(n, n)) < density)
    if symmetric:
        W = np.triu(W, 1)
        W = W + W.T
    np.fill_diagonal(W, 0)
    return W


# --------------------------------------------------------------------------- #
# Hand-worked graphs
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("to_matrix", [np.asarray, sp.csr_matrix, sp.coo_matrix])
def test_unit_path_0011(to_matrix):
    # 0 - 1 - 2 - 3 with labels 0 0 1 1: one of three edges crosses.
    W = to_matrix(path([1.0, 1.0, 1.0]))
    y = np.array([0, 0, 1, 1])
    lv = label_variation(W, y)
    assert lv.overall == pytest.approx(1 / 3)
    np.testing.assert_allclose(lv.per_class, [1 / 3, 1 / 3])  # cut 1, vol 1 + 2 for each class
    np.testing.assert_array_equal(lv.classes, [0, 1])
    ie = interpolation_error(W, y)
    # node errors 0, 1/2, 1/2, 0
    assert ie.overall == pytest.approx(1 / 4)
    np.testing.assert_allclose(ie.per_class, [1 / 4, 1 / 4])
    assert ie.n_isolated == 0 and lv.n_isolated == 0


def test_weighted_path_0011():
    # weights 1, 2, 4. Ordered-pair total 14, crossing 4 -> 2/7.
    # class 0: vol 1 + 3 = 4, cut 2 -> 1/2;  class 1: vol 6 + 4 = 10, cut 2 -> 1/5.
    # node errors: 0, 2/3, 1/3, 0 -> overall 1/4, class 0: 1/3, class 1: 1/6.
    W = path([1.0, 2.0, 4.0])
    y = np.array([0, 0, 1, 1])
    lv = label_variation(W, y)
    assert lv.overall == pytest.approx(2 / 7)
    np.testing.assert_allclose(lv.per_class, [1 / 2, 1 / 5])
    # the overall value is the volume-weighted mean of the per-class values
    assert lv.overall == pytest.approx((4 * 1 / 2 + 10 * 1 / 5) / 14)
    ie = interpolation_error(W, y)
    assert ie.overall == pytest.approx(1 / 4)
    np.testing.assert_allclose(ie.per_class, [1 / 3, 1 / 6])
    assert ie.as_dict() == pytest.approx({0: 1 / 3, 1: 1 / 6})


def test_isolated_node_counts_as_error_one():
    W = np.zeros((5, 5))
    W[:4, :4] = path([1.0, 1.0, 1.0])
    y = np.array([0, 0, 1, 1, 1])
    ie = interpolation_error(W, y)
    assert ie.n_isolated == 1
    assert ie.overall == pytest.approx((0 + 0.5 + 0.5 + 0 + 1) / 5)
    np.testing.assert_allclose(ie.per_class, [0.25, (0.5 + 0 + 1) / 3])
    lv = label_variation(W, y)
    assert lv.overall == pytest.approx(1 / 3) and lv.n_isolated == 1


def test_extremes():
    y = np.array([0, 0, 1, 1])
    same = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], float)
    across = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]], float)
    s = graph_smoothness(same, y)
    assert s.label_variation.overall == 0 and s.interpolation_error.overall == 0
    s = graph_smoothness(across, y)
    assert s.label_variation.overall == 1 and s.interpolation_error.overall == 1
    np.testing.assert_array_equal(s.label_variation.per_class, [1, 1])


def test_class_without_edges_is_nan_and_empty_graph():
    y = np.array([0, 0, 1])
    W = np.zeros((3, 3))
    W[0, 1] = W[1, 0] = 1.0
    lv = label_variation(W, y)
    assert lv.per_class[0] == 0 and np.isnan(lv.per_class[1])
    assert np.isnan(label_variation(np.zeros((3, 3)), y).overall)
    assert interpolation_error(np.zeros((3, 3)), y).overall == 1.0


def test_self_loops_are_ignored():
    rng = np.random.default_rng(1)
    W = random_graph(rng)
    y = rng.integers(0, 3, size=len(W))
    loops = W + np.diag(rng.uniform(1, 5, size=len(W)))
    a, b = graph_smoothness(W, y), graph_smoothness(loops, y)
    assert a.label_variation.overall == pytest.approx(b.label_variation.overall)
    assert a.interpolation_error.overall == pytest.approx(b.interpolation_error.overall)


def test_non_contiguous_labels():
    W = path([1.0, 2.0, 4.0])
    a = graph_smoothness(W, np.array([0, 0, 1, 1]))
    b = graph_smoothness(W, np.array([7, 7, -2, -2]))
    np.testing.assert_array_equal(b.label_variation.classes, [-2, 7])
    np.testing.assert_allclose(b.label_variation.per_class, a.label_variation.per_class[::-1])
    assert b.interpolation_error.overall == pytest.approx(a.interpolation_error.overall)


# --------------------------------------------------------------------------- #
# Against naive loops and the trace identity
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("symmetric", [True, False])
def test_against_naive_loops(seed, symmetric):
    rng = np.random.default_rng(seed)
    W = random_graph(rng, symmetric=symmetric)
    y = rng.integers(0, 4, size=len(W))
    lv_ref, lv_per_ref = naive_label_variation(W, y)
    ie_ref, ie_per_ref = naive_interpolation_error(W, y)
    s = graph_smoothness(sp.csr_matrix(W), y)
    assert isinstance(s.label_variation, ClassScores)
    assert s.label_variation.overall == pytest.approx(lv_ref)
    np.testing.assert_allclose(s.label_variation.per_class, lv_per_ref)
    assert s.interpolation_error.overall == pytest.approx(ie_ref)
    np.testing.assert_allclose(s.interpolation_error.per_class, ie_per_ref)
    assert s.interpolation_error.n_isolated == int(np.sum(W.sum(1) == 0))


@pytest.mark.parametrize("seed", range(3))
def test_trace_identity(seed):
    rng = np.random.default_rng(seed)
    W = random_graph(rng, n=40)
    y = rng.integers(0, 3, size=40)
    Y = np.eye(3)[y]
    Dg = np.diag(W.sum(1))
    L = Dg - W
    YLY, YDY = Y.T @ L @ Y, Y.T @ Dg @ Y
    lv = label_variation(W, y)
    assert lv.overall == pytest.approx(np.trace(YLY) / np.trace(YDY))
    np.testing.assert_allclose(lv.per_class, np.diag(YLY) / np.diag(YDY))


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "W, y, match",
    [
        (path([1.0, 1.0]), np.array([0, 1]), "length N = 3"),
        (np.ones((2, 3)), np.array([0, 1]), r"square \(N, N\) matrix, got shape \(2, 3\)"),
        (sp.csr_matrix(np.ones((2, 3))), np.array([0, 1]), "square"),
        (-path([1.0, 1.0]), np.array([0, 1, 1]), "non-negative"),
        (path([np.nan, 1.0]), np.array([0, 1, 1]), "finite"),
        (path([1.0, 1.0]), np.array([0.0, 1.0, 1.0]), "integers"),
        (path([1.0, 1.0]), np.array([[0, 1, 1]]), "1-D"),
    ],
)
def test_bad_input(W, y, match):
    for fn in (label_variation, interpolation_error, graph_smoothness):
        with pytest.raises(ValueError, match=match):
            fn(W, y)
