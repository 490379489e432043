"""helpers.geometry.smoothness: hand-worked graphs, naive loop references, the trace identity."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from helpers.geometry.smoothness import (
    ClassScores,
    graph_smoothness,
    interpolation_error,
    knn_label_error,
    label_variation,
)

from naive import naive_interpolation_error, naive_knn_label_error, naive_label_variation


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


# --------------------------------------------------------------------------- #
# kNN label error (Das, Shekkizhar & Ortega 2024)
# --------------------------------------------------------------------------- #
def line_distances(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return np.abs(x[:, None] - x[None, :])


def test_knn_label_error_hand_worked():
    # Points 0, 1, 3, 4, 10 with labels 0 0 1 1 1, k = 2, weights 1/d normalised:
    #   node 0: neighbours 1 (d 1), 2 (d 3): w = (1, 1/3) / (4/3) = (3/4, 1/4); own label 3/4
    #   node 1: neighbours 0 (d 1), 2 (d 2): w = (2/3, 1/3);  own label 2/3
    #   node 2: neighbours 3 (d 1), 1 (d 2): w = (2/3, 1/3);  own label 2/3
    #   node 3: neighbours 2 (d 1), 1 (d 3): w = (3/4, 1/4);  own label 3/4
    #   node 4: neighbours 3 (d 6), 2 (d 7): both label 1;    own label 1
    # errors 1/4, 1/3, 1/3, 1/4, 0: overall 7/6 / 5 = 7/30, class 0: 7/24, class 1: 7/36.
    D = line_distances([0, 1, 3, 4, 10])
    y = np.array([0, 0, 1, 1, 1])
    s = knn_label_error(D, y, k=2)
    assert isinstance(s, ClassScores)
    assert s.overall == pytest.approx(7 / 30)
    np.testing.assert_allclose(s.per_class, [7 / 24, 7 / 36])
    np.testing.assert_array_equal(s.classes, [0, 1])
    assert s.n_isolated == 0
    # k = 1: each node takes its nearest neighbour's label (node 2's nearest is node 3), and
    # every nearest neighbour has the same label.
    assert knn_label_error(D, y, k=1).overall == 0
    # k = 4 = N - 1, weights 1/d over all other nodes; own-label weights:
    #   node 0: 1 / (1 + 1/3 + 1/4 + 1/10) = 60/101
    #   node 1: 1 / (1 + 1/2 + 1/3 + 1/9) = 18/35
    #   node 2: (1 + 1/7) / (1/3 + 1/2 + 1 + 1/7) = 48/83
    #   node 3: (1 + 1/6) / (1/4 + 1/3 + 1 + 1/6) = 2/3
    #   node 4: (1/7 + 1/6) / (1/10 + 1/9 + 1/7 + 1/6) = (195/630) / (328/630) = 195/328
    own = np.array([60 / 101, 18 / 35, 48 / 83, 2 / 3, 195 / 328])
    s4 = knn_label_error(D, y, k=4)
    assert s4.overall == pytest.approx(np.mean(1 - own))
    np.testing.assert_allclose(s4.per_class, [np.mean(1 - own[:2]), np.mean(1 - own[2:])])


def test_knn_label_error_zero_distances_and_ties():
    # Points 0, 0, 1, 5 with labels 0 1 0 0, k = 2.
    #   node 0: neighbours 1 (d 0) and 2 (d 1): the zero-distance neighbour takes all the
    #           weight (the 1/d limit): label 1, error 1. Likewise node 1 -> node 0: error 1.
    #   node 2: neighbours 0 and 1, both at d 1: weights 1/2, 1/2, error 1/2.
    #   node 3: nearest 2 (d 4), then 0 and 1 tie at d 5 -> the lower index, 0:
    #           w = (1/4, 1/5) / (9/20) = (5/9, 4/9), both label 0: error 0 (with node 1
    #           instead it would be 4/9).
    D = line_distances([0, 0, 1, 5])
    y = np.array([0, 1, 0, 0])
    s = knn_label_error(D, y, k=2)
    assert s.overall == pytest.approx((1 + 1 + 0.5 + 0) / 4)
    np.testing.assert_allclose(s.per_class, [(1 + 0.5 + 0) / 3, 1.0])
    # Three copies: two zero-distance neighbours of different labels share the weight equally.
    D = line_distances([0, 0, 0, 3])
    y = np.array([0, 1, 0, 1])
    ref = naive_knn_label_error(D, y, 2)
    np.testing.assert_allclose(ref[2], [0.5, 1.0, 0.5, 0.5])  # node 3: 0 and 1 at d 3
    s = knn_label_error(D, y, k=2)
    assert s.overall == pytest.approx(ref[0])
    np.testing.assert_allclose(s.per_class, ref[1])
    assert np.isfinite(knn_label_error(np.zeros((4, 4)), y, k=3).overall)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("k", [1, 5, 10])
def test_knn_label_error_against_naive_loops(seed, k):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 3))
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    D[:3, :3] = 0.0  # three duplicates, to exercise the zero-distance rule
    y = rng.integers(0, 4, size=40)
    D = np.round(D, 1)  # many ties in the k-th distance
    np.fill_diagonal(D, 0)
    ref_overall, ref_per_class, _ = naive_knn_label_error(D, y, k)
    s = knn_label_error(D, y, k=k)
    assert s.overall == pytest.approx(ref_overall)
    np.testing.assert_allclose(s.per_class, ref_per_class)


def test_knn_label_error_is_interpolation_error_of_inverse_distance_knn_graph():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 2))
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    y = rng.integers(0, 3, size=30)
    k = 6
    W = np.zeros_like(D)
    for i in range(30):
        order = [j for j in np.argsort(D[i], kind="stable") if j != i][:k]
        W[i, order] = 1.0 / D[i, order]
    a, b = knn_label_error(D, y, k=k), interpolation_error(W, y)
    assert a.overall == pytest.approx(b.overall)
    np.testing.assert_allclose(a.per_class, b.per_class)


def test_knn_label_error_bad_input():
    D = line_distances([0, 1, 3, 4])
    y = np.array([0, 0, 1, 1])
    with pytest.raises(TypeError, match="scipy.sparse.*distance 0"):
        knn_label_error(sp.csr_matrix(D), y, k=2)
    with pytest.raises(ValueError, match="length N = 4 to match the distances"):
        knn_label_error(D, y[:3], k=2)
    with pytest.raises(ValueError, match="integers"):
        knn_label_error(D, y.astype(float), k=2)
    with pytest.raises(ValueError, match=r"1 <= k <= N - 1 = 3"):
        knn_label_error(D, y, k=4)
    with pytest.raises(ValueError, match="non-negative"):
        knn_label_error(-D, y, k=2)
    with pytest.raises(ValueError, match="square"):
        knn_label_error(D[:3], y, k=2)
