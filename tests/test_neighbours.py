"""Neighbour sets in place of full distance matrices: the same graphs, measures and tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.dtw.cpu import pairwise_dtw
from helpers.geometry.knn_search import neighbour_sets
from helpers.geometry.layer_tables import layer_geometry, neighbourhood_graphs
from helpers.geometry.neighbours import NeighbourSets
from helpers.geometry.nnk import KNNGraph, NNKGraph
from helpers.geometry.smoothness import knn_label_error, reference_levels

from naive import euclidean, naive_knn_label_error


@pytest.fixture
def points():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 1.0, (25, 3)) for c in (0.0, 3.0, 6.0)])
    return euclidean(X), np.repeat([0, 1, 2], 25)


def assert_same_sparse(a, b):
    assert (a != b).nnz == 0 or np.allclose((a - b).data, 0, atol=1e-12)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("sigma", ["mean_kth", "local", 0.7])
@pytest.mark.parametrize("edge_rule", ["reference", "either"])
def test_graphs_on_sets_equal_graphs_on_the_matrix(points, sigma, edge_rule):
    D, _ = points
    sets = NeighbourSets.from_matrix(D, 12)  # more than the graphs use: they take the first k
    for k in (5, 12):
        full = NNKGraph(k, sigma=sigma, edge_rule=edge_rule).fit(D)
        local = NNKGraph(k, sigma=sigma, edge_rule=edge_rule).fit(sets)
        assert_same_sparse(full.adjacency_, local.adjacency_)
        np.testing.assert_allclose(full.reconstruction_error_, local.reconstruction_error_)
        np.testing.assert_array_equal(full.candidates_, local.candidates_)
        assert_same_sparse(
            KNNGraph(k, sigma=sigma).fit(D).adjacency_,
            KNNGraph(k, sigma=sigma).fit(sets).adjacency_,
        )


def test_knn_label_error_and_neighbourhood_graphs_on_sets(points):
    D, y = points
    sets = NeighbourSets.from_matrix(D, 10)
    a, b = knn_label_error(D, y, k=7), knn_label_error(sets, y, k=7)
    assert a.overall == pytest.approx(b.overall, abs=1e-15)
    np.testing.assert_allclose(a.per_class, b.per_class)
    full, local = neighbourhood_graphs(D, y, 10), neighbourhood_graphs(sets, y, 10)
    for kind in full:
        assert full[kind].label_variation == pytest.approx(local[kind].label_variation, abs=1e-12)


def test_errors_name_what_is_wrong(points):
    D, _ = points
    sets = NeighbourSets.from_matrix(D, 4, among=False)
    with pytest.raises(ValueError, match="among"):
        NNKGraph(4).fit(sets)  # NNK needs the distances among neighbours
    KNNGraph(4).fit(sets)  # kNN does not
    with pytest.raises(ValueError, match="1..4"):
        KNNGraph(5).fit(sets)
    with pytest.raises(ValueError, match="precomputed_distance"):
        KNNGraph(3, metric="precomputed_kernel").fit(sets)
    idx, dist = sets.indices, sets.distances
    with pytest.raises(ValueError, match="itself"):
        NeighbourSets(np.zeros_like(idx), dist)
    with pytest.raises(ValueError, match="not sorted"):
        NeighbourSets(idx, dist[:, ::-1])
    with pytest.raises(ValueError, match=r"distances: shape"):
        NeighbourSets(idx, dist[:, :2])
    with pytest.raises(ValueError, match=r"among: shape"):
        NeighbourSets(idx, dist, np.zeros((len(idx), 4, 3)))
    with pytest.raises(ValueError, match="0..74"):
        NeighbourSets(idx + 100, dist)


def sequences(n=60, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((int(t), 4)) for t in rng.integers(5, 25, n)]


@pytest.mark.parametrize("window", [0.2, None])
def test_dtw_neighbour_sets_are_those_of_all_pairs(window):
    X = sequences()
    sets = neighbour_sets(X, 6, window)
    ref = NeighbourSets.from_matrix(pairwise_dtw(X, window=window, method="direct"), 6)
    np.testing.assert_array_equal(sets.indices, ref.indices)
    np.testing.assert_allclose(sets.distances, ref.distances, rtol=1e-12)
    np.testing.assert_allclose(sets.among, ref.among, rtol=1e-12, atol=1e-12)
    assert neighbour_sets(X, 6, window, among=False).among is None


def _layers(rng, n_per=15):
    labels = np.repeat([0, 1, 2], n_per)
    layers = [[], []]
    for c in labels:
        t = int(rng.integers(6, 14))
        layers[0].append(rng.normal(c, 0.6, (t, 3)).astype(np.float32))
        layers[1].append(rng.normal(0, 1.0, (t, 5)).astype(np.float32))
    return layers, labels


def test_layer_geometry_on_neighbour_sets_equals_all_pairs(tmp_path):
    layers, labels = _layers(np.random.default_rng(2))
    full = layer_geometry(layers, labels, window=0.2, k=6, cache_dir=tmp_path)
    exact = layer_geometry(layers, labels, window=0.2, k=6, neighbours="exact")
    pd.testing.assert_frame_equal(full.drop(columns="value"), exact.drop(columns="value"))
    # float32 features: pairwise_dtw sums their frame costs in float32, knn_dtw in float64
    np.testing.assert_allclose(exact["value"], full["value"], rtol=1e-6, atol=1e-9)
    sets = [neighbour_sets(layer, 8, 0.2) for layer in layers]  # more than k: truncated
    given = layer_geometry(layers, labels, window=0.2, k=6, distances=sets)
    np.testing.assert_allclose(given["value"], full["value"], rtol=1e-6, atol=1e-9)
    approx = layer_geometry(
        layers, labels, window=0.2, k=6, neighbours="approximate", candidates=30
    )
    assert approx.shape == full.shape
    with pytest.raises(ValueError, match="neighbours="):
        layer_geometry(layers, labels, k=6, neighbours="all")
    with pytest.raises(ValueError, match="not both"):
        layer_geometry(layers, labels, k=6, neighbours="exact", distances=sets)


# ---------------------------------------------------------------------------------------------
# Neighbours from other subjects only
# ---------------------------------------------------------------------------------------------
def test_excluded_groups_are_never_candidates(points):
    D, y = points
    groups = np.arange(len(y)) % 5  # five "subjects", each in every class
    sets = NeighbourSets.from_matrix(D, 8, exclude=groups)
    for i in range(len(y)):
        expected = sorted(
            (j for j in range(len(y)) if groups[j] != groups[i]), key=lambda j: (D[i, j], j)
        )[:8]
        assert sets.indices[i].tolist() == expected
        np.testing.assert_array_equal(sets.among[i], D[np.ix_(expected, expected)])
    for kind in ("kNN", "NNK"):
        W = neighbourhood_graphs(sets, y, 8, kinds=[kind])[kind].graph.adjacency_.tocoo()
        assert W.nnz > 0 and not np.any(groups[W.row] == groups[W.col])  # no same-subject edge
    ours = knn_label_error(sets, y, k=8)
    overall, per_class, _ = naive_knn_label_error(D, y, 8, groups=groups)
    assert ours.overall == pytest.approx(overall, abs=1e-12)
    np.testing.assert_allclose(ours.per_class, per_class, atol=1e-12)


def test_exclusion_needs_enough_candidates(points):
    D, y = points
    groups = np.where(np.arange(len(y)) < 70, 0, 1)  # node 0 has only 5 others outside group 0
    with pytest.raises(ValueError, match="node 0 has only 5 candidates outside its group 0"):
        NeighbourSets.from_matrix(D, 6, exclude=groups)
    with pytest.raises(ValueError, match=r"shape \(75,\)"):
        NeighbourSets.from_matrix(D, 6, exclude=groups[:10])


def test_layer_geometry_excluding_subjects(points):
    D, y = points
    groups = np.arange(len(y)) % 5
    rng = np.random.default_rng(1)
    features = [[rng.normal(size=(3, 2)) for _ in y]]  # placeholders: distances are given
    table = layer_geometry(features, y, k=6, distances=[D], exclude=groups, cache=False)
    sets = NeighbourSets.from_matrix(D, 6, exclude=groups)
    direct = layer_geometry(features, y, k=6, distances=[sets], cache=False)
    pd.testing.assert_frame_equal(table, direct)
    plain = layer_geometry(features, y, k=6, distances=[D], cache=False)
    assert not table.equals(plain)
    with pytest.raises(ValueError, match="cannot be combined"):
        layer_geometry(features, y, k=6, distances=[sets], exclude=groups, cache=False)
    # a subset: the groups are given for all sequences and cut with it
    half = np.arange(0, len(y), 2)
    sub = layer_geometry(
        features,
        y,
        k=4,
        distances=[D[np.ix_(half, half)]],
        subset=half,
        exclude=groups,
        cache=False,
    )
    ref = layer_geometry(
        features,
        y,
        k=4,
        subset=half,
        cache=False,
        distances=[NeighbourSets.from_matrix(D[np.ix_(half, half)], 4, exclude=groups[half])],
    )
    pd.testing.assert_frame_equal(sub, ref)


def test_reference_levels_by_hand():
    labels, subjects = [0, 0, 1, 1], ["a", "b", "a", "b"]
    # each node's candidates are the two nodes of the other subject: one of its class, one not
    one = reference_levels(labels, 1, exclude=subjects)
    assert (one.chance, one.floor, one.fewest_same) == (0.5, 0.0, 1)
    two = reference_levels(labels, 2, exclude=subjects)
    assert two.floor == 0.5  # two neighbours, only one of them can share the class
    # without exclusion: 3 candidates each, 1 of the same class
    free = reference_levels(labels, 2)
    assert free.chance == pytest.approx(2 / 3) and free.floor == 0.5
    with pytest.raises(ValueError, match="k=4"):
        reference_levels(labels, 4)


def test_overlap_of_neighbour_sets(points):
    D, _ = points
    sets = NeighbourSets.from_matrix(D, 5, among=False)
    np.testing.assert_array_equal(sets.overlap(sets), np.ones(len(D)))
    # swap two neighbours of node 0 for others: 3 of 5 kept
    idx = sets.indices.copy()
    outside = [j for j in range(1, len(D)) if j not in idx[0]][:2]
    idx[0, 3:] = outside
    other = NeighbourSets(idx, sets.distances)
    assert other.overlap(sets)[0] == pytest.approx(3 / 5)
    with pytest.raises(ValueError, match="shape"):
        sets.overlap(NeighbourSets.from_matrix(D, 4, among=False))


def test_k_smallest_is_the_stable_sort_with_ties_and_infinities():
    from helpers.geometry.neighbours import k_smallest

    rng = np.random.default_rng(5)
    for trial in range(100):
        n = int(rng.integers(2, 30))
        k = int(rng.integers(1, n + 1))
        key = rng.integers(0, 4, size=(6, n)).astype(float)  # many ties
        if trial % 2:
            key = rng.normal(size=(6, n))
        key[rng.random(key.shape) < 0.1] = np.inf
        expected = np.argsort(key, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(k_smallest(key, k), expected)
