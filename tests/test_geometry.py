"""helpers.geometry.layer_tables: the summaries of a distance matrix, by hand and against parts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from helpers.geometry.distances import nearest_neighbor_accuracy
from helpers.geometry.layer_tables import (
    GRAPH_KINDS,
    class_curves,
    distance_table,
    graph_table,
    halving_layer,
    layer_distances,
    layer_geometry,
    neighbourhood_graphs,
    sensitivity_grid,
    within_between_ratio,
)
from helpers.geometry.nnk import KNNGraph, NNKGraph
from helpers.geometry.smoothness import graph_smoothness

from naive import euclidean


@pytest.fixture(scope="module")
def clusters():
    rng = np.random.default_rng(7)
    X = np.concatenate(
        [rng.normal(0, 1, (15, 2)), rng.normal(4, 1, (15, 2)), rng.normal((0, 6), 1, (10, 2))]
    )
    y = np.repeat([0, 1, 2], [15, 15, 10])
    return euclidean(X), y


def test_within_between_by_hand():
    # points 0, 1 (class a) and 10, 12 (class b) on a line
    x = np.array([0.0, 1.0, 10.0, 12.0])
    D = np.abs(x[:, None] - x[None, :])
    within = (1 + 2) / 2  # |0-1|, |10-12|
    between = (10 + 12 + 9 + 11) / 4
    assert within_between_ratio(D, [0, 0, 1, 1]) == pytest.approx(within / between)
    with pytest.raises(ValueError, match="same class"):
        within_between_ratio(D, [0, 1, 2, 3])
    with pytest.raises(ValueError, match="labels must have shape"):
        within_between_ratio(D, [0, 1])
    with pytest.raises(TypeError, match="scipy.sparse"):
        within_between_ratio(sp.csr_matrix(D), [0, 0, 1, 1])


def test_neighbourhood_graphs_are_the_graphs_and_measures_of_their_modules(clusters):
    D, y = clusters
    scores = neighbourhood_graphs(D, y, k=6)
    assert list(scores) == list(GRAPH_KINDS)
    for kind, cls in (("kNN", KNNGraph), ("NNK", NNKGraph)):
        s = scores[kind]
        ref = cls(6).fit(D)
        assert (s.graph.adjacency_ != ref.adjacency_).nnz == 0
        assert s.edges == sp.triu(ref.adjacency_, 1).nnz
        assert s.neighbours == pytest.approx(ref.n_neighbors_.mean())
        sm = graph_smoothness(ref.adjacency_, y)
        assert s.label_variation == pytest.approx(sm.label_variation.overall)
        assert s.interpolation_error == pytest.approx(sm.interpolation_error.overall)
    assert scores["NNK"].edges <= scores["kNN"].edges
    with pytest.raises(ValueError, match="unknown graph kind"):
        neighbourhood_graphs(D, y, 6, kinds=["kNN", "epsilon"])


def test_graph_table_is_tidy(clusters):
    D, y = clusters
    table = graph_table({"a": D, "b": D * 2}, y, k=[3, 6])
    assert list(table.columns) == [
        "distance",
        "graph",
        "k",
        "edges",
        "neighbours",
        "label_variation",
        "interpolation_error",
    ]
    assert len(table) == 2 * 2 * len(GRAPH_KINDS)
    # scaling all distances changes neither the candidates nor the Gaussian kernel of mean_kth sigma
    a = table[table.distance == "a"].drop(columns="distance").reset_index(drop=True)
    b = table[table.distance == "b"].drop(columns="distance").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    row = table[(table.distance == "a") & (table.graph == "NNK") & (table.k == 6)].iloc[0]
    assert row.label_variation == pytest.approx(
        neighbourhood_graphs(D, y, 6)["NNK"].label_variation
    )


def test_distance_table(clusters):
    D, y = clusters
    train = np.arange(len(y)) % 3 != 0
    table = distance_table({"euclid": D}, y, train)
    assert table.index.tolist() == ["euclid"]
    assert table.loc["euclid", "nn_train_test"] == nearest_neighbor_accuracy(D, y, train)
    assert table.loc["euclid", "nn_leave_one_out"] == nearest_neighbor_accuracy(D, y)
    assert table.loc["euclid", "within_between"] == within_between_ratio(D, y)
    assert "nn_train_test" not in distance_table({"euclid": D}, y).columns


# ------------------------------------------------------------------------------ layer by layer
def _two_cluster_layers(rng, n_per=20):
    """Two layers of variable-length sequences: layer 0 separates the classes, layer 1 not."""
    labels = np.repeat([0, 1], n_per)
    layer0, layer1 = [], []
    for c in labels:
        t = int(rng.integers(8, 15))
        layer0.append((rng.normal(0, 0.1, (t, 3)) + (0.0 if c == 0 else 20.0)).astype(np.float32))
        layer1.append(rng.normal(0, 1.0, (t, 3)).astype(np.float32))
    return [layer0, layer1], labels


def test_layer_geometry_on_clusters_with_a_known_answer(tmp_path):
    rng = np.random.default_rng(0)
    layers, labels = _two_cluster_layers(rng)
    table = layer_geometry(
        layers, labels, window=0.2, k=5, cache_dir=tmp_path, class_names=["near", "far"]
    )
    assert list(table.columns) == ["layer", "graph", "metric", "class", "value"]
    overall = table[table["class"] == ""].set_index(["layer", "graph", "metric"])["value"]
    for graph in ("knn", "nnk"):
        assert overall[(0, graph, "label_variation")] < 1e-6  # far-apart clusters: no cross edges
        # the only interpolation errors are nodes left without neighbours (error 1 each)
        assert overall[(0, graph, "interpolation_error")] == pytest.approx(
            overall[(0, graph, "isolated")], abs=1e-9
        )
    assert overall[(0, "knn", "isolated")] == 0
    assert overall[(0, "knn", "paper_knn_error")] < 1e-6
    # pure noise in layer 1: about half of each node's neighbours are of the other class
    assert 0.3 < overall[(1, "knn", "label_variation")] < 0.7
    assert 0.3 < overall[(1, "knn", "paper_knn_error")] < 0.7
    assert overall[(0, "knn", "degree")] >= 5
    assert set(table["class"]) == {"", "near", "far"}
    assert len(table) == 2 * (2 * 4 + 1) * 3  # layers x (graphs x 4 metrics + paper) x (all + 2)


def test_shuffled_labels_give_one_minus_one_over_classes(tmp_path):
    rng = np.random.default_rng(1)
    C, n_per = 4, 30
    labels = rng.permutation(np.repeat(np.arange(C), n_per))
    seqs = [rng.normal(0, 1, (int(rng.integers(6, 10)), 2)).astype(np.float32) for _ in labels]
    table = layer_geometry([seqs], labels, window=0.25, k=10, cache_dir=tmp_path)
    overall = table[table["class"] == ""].set_index(["graph", "metric"])["value"]
    for key in (("knn", "label_variation"), ("knn", "paper_knn_error"), ("nnk", "label_variation")):
        assert abs(overall[key] - (1 - 1 / C)) < 0.12, (key, overall[key])


def test_layer_geometry_subset_and_precomputed_distances(tmp_path):
    rng = np.random.default_rng(2)
    layers, labels = _two_cluster_layers(rng, n_per=12)
    test = np.arange(len(labels)) % 2 == 0
    D = layer_distances(layers, 0.2, subset=test, cache_dir=tmp_path)
    assert [d.shape for d in D] == [(12, 12), (12, 12)]
    a = layer_geometry(layers, labels, window=0.2, k=4, subset=test, cache_dir=tmp_path)
    b = layer_geometry(layers, labels, k=4, subset=test, distances=D)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="labels must have shape"):
        layer_geometry(layers, labels[:-1], distances=D)


def _study_rows():
    """A small layer study: two trained seeds and one untrained, two classes, three layers."""
    rows = []
    values = {"a": [0.4, 0.3, 0.1], "b": [0.2, 0.2, 0.15]}
    for model, seeds in (("trained", (0, 1)), ("untrained", (0,))):
        for seed in seeds:
            for name, vs in values.items():
                for layer, v in enumerate(vs):
                    value = v + 0.01 * seed if model == "trained" else 0.5
                    rows.append(
                        {
                            "model": model,
                            "seed": seed,
                            "layer": layer,
                            "graph": "nnk",
                            "metric": "label_variation",
                            "class": name,
                            "value": value,
                        }
                    )
            rows.append(
                {
                    "model": model,
                    "seed": seed,
                    "layer": 0,
                    "graph": "nnk",
                    "metric": "label_variation",
                    "class": "",
                    "value": 0.3,
                }
            )
    return pd.DataFrame(rows)


def test_class_curves_average_the_trained_seeds_per_class():
    curves = class_curves(_study_rows())
    assert list(curves.index) == ["a", "b"] and list(curves.columns) == [0, 1, 2]
    np.testing.assert_allclose(curves.loc["a"], [0.405, 0.305, 0.105])
    np.testing.assert_allclose(class_curves(_study_rows(), model="untrained").loc["b"], 0.5)
    with pytest.raises(ValueError, match="no per-class rows"):
        class_curves(_study_rows(), metric="degree")


def test_halving_layer():
    assert halving_layer(pd.Series([0.4, 0.3, 0.2, 0.1])) == 2
    assert halving_layer(pd.Series([0.4, 0.3, 0.25])) is None
    assert halving_layer(pd.Series([0.0, 0.0])) is None  # nothing to remove
    assert halving_layer(pd.Series([0.4, 0.39, 0.1]), share=0.25) == 2
    with pytest.raises(ValueError, match="share"):
        halving_layer(pd.Series([1.0]), share=0)


def test_sensitivity_grid_is_layer_geometry_at_each_setting(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 8)
    seqs = [rng.normal(size=(6, 2)) + 3 * c for c in labels]
    feats = [seqs, [s * 2 for s in seqs]]
    grid = sensitivity_grid(
        {"trained": feats},
        labels,
        windows=[0.2],
        ks=[3, 4],
        sigmas=("mean_kth", "local"),
        other_sigmas_at=(0.2, 4),
        layers={"input": 0, "last": -1},
        cache_dir=tmp_path,
    )
    assert len(grid) == 3  # local only at k = 4
    assert list(grid.columns) == ["window", "k", "bandwidth", "model", "input", "last"]
    t = layer_geometry(feats, labels, window=0.2, k=3, cache_dir=tmp_path)
    lv = t[(t["class"] == "") & (t.graph == "nnk") & (t.metric == "label_variation")]
    row = grid[(grid.k == 3)].iloc[0]
    assert row["input"] == pytest.approx(lv.set_index("layer").value[0])
    assert row["last"] == pytest.approx(lv.set_index("layer").value[1])


def test_layer_radii_keep_one_step_at_least():
    from helpers.geometry.layer_tables import layer_distances, layer_radii

    rng = np.random.default_rng(0)
    features = [
        [rng.normal(size=(t, 2)) for t in (30, 40, 50)],  # median 40: 10% is 4 steps
        [rng.normal(size=(t, 2)) for t in (3, 5, 8)],  # median 5: 10% rounds down to 0
    ]
    assert layer_radii(features) == [4, 1]
    assert layer_radii(features, fraction=0.5, minimum=0) == [20, 2]
    assert layer_radii(features, subset=[0, 1]) == [3, 1]
    from helpers.dtw.cpu import pairwise_dtw

    per_layer = layer_distances(features, [4, 1], cache=False)
    np.testing.assert_allclose(per_layer[1], pairwise_dtw(features[1], window=1))
    with pytest.raises(ValueError, match="2 windows given for 1 layers"):
        layer_distances(features[:1], [1, 2], cache=False)
