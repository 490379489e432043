"""helpers.geometry.embedding (classical MDS) and the graph drawings of helpers.plots.graphs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.spatial.distance import pdist, squareform  # noqa: E402

from helpers.data.dataset import SkeletonDataset  # noqa: E402
from helpers.geometry.embedding import classical_mds, double_center  # noqa: E402
from helpers.plots.graphs import dtw_pair_explorer, plot_distance_matrix, plot_graph_embedding  # noqa: E402


# ------------------------------------------------------------------------------ classical MDS
def test_mds_recovers_planar_point_cloud():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2)) * [3.0, 1.0] + [5.0, -2.0]
    D = squareform(pdist(X))
    res = classical_mds(D, 2, return_result=True)
    Y = res.embedding
    # pairwise distances are reproduced exactly
    np.testing.assert_allclose(squareform(pdist(Y)), D, atol=1e-10)
    # Y is the centred cloud up to an orthogonal map: Y = (X - mean) Q with Q'Q = I
    Xc = X - X.mean(axis=0)
    Q, *_ = np.linalg.lstsq(Xc, Y, rcond=None)
    np.testing.assert_allclose(Q.T @ Q, np.eye(2), atol=1e-10)
    np.testing.assert_allclose(Xc @ Q, Y, atol=1e-10)
    # Euclidean input: two components hold the whole positive spectrum, nothing is negative
    np.testing.assert_allclose(res.explained.sum(), 1.0, atol=1e-12)
    assert res.negative_share < 1e-12
    assert res.eigenvalues.shape == (40,) and np.all(np.diff(res.eigenvalues) <= 1e-9)


def test_mds_matches_pca_scores_and_signs():
    # classical MDS of Euclidean distances equals PCA of the centred data (same axes, same scale)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(25, 4)) * [4.0, 2.0, 1.0, 0.5]
    Y = classical_mds(squareform(pdist(X)), 3)
    Xc = X - X.mean(axis=0)
    U, S, _ = np.linalg.svd(Xc, full_matrices=False)
    np.testing.assert_allclose(np.abs(Y), np.abs(U[:, :3] * S[:3]), atol=1e-9)
    # sign convention: the largest-magnitude entry of every column is positive
    idx = np.argmax(np.abs(Y), axis=0)
    assert np.all(Y[idx, np.arange(3)] > 0)
    # and it does not depend on the order of the points
    perm = rng.permutation(25)
    Yp = classical_mds(squareform(pdist(X[perm])), 3)
    np.testing.assert_allclose(Yp, Y[perm], atol=1e-9)


def test_mds_hand_worked_line():
    # three points at 0, 1, 3 on a line: centred at 4/3, so coordinates -4/3, -1/3, 5/3
    D = np.array([[0.0, 1.0, 3.0], [1.0, 0.0, 2.0], [3.0, 2.0, 0.0]])
    Y = classical_mds(D, 1)
    np.testing.assert_allclose(Y[:, 0], [-4 / 3, -1 / 3, 5 / 3], atol=1e-12)
    B = double_center(D**2)
    np.testing.assert_allclose(B, np.outer(Y[:, 0], Y[:, 0]), atol=1e-12)


def test_mds_reports_negative_eigenvalues_for_non_euclidean_distances():
    # violates the triangle inequality: d(0, 2) > d(0, 1) + d(1, 2)
    D = np.array(
        [[0.0, 1.0, 5.0, 1.0], [1.0, 0.0, 1.0, 1.0], [5.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0]]
    )
    res = classical_mds(D, 2, return_result=True)
    assert res.eigenvalues.min() < 0
    expected = -res.eigenvalues[res.eigenvalues < 0].sum() / np.abs(res.eigenvalues).sum()
    assert res.negative_share == pytest.approx(expected)
    assert 0 < res.negative_share < 1
    pos = res.eigenvalues[res.eigenvalues > 0].sum()
    np.testing.assert_allclose(res.explained, np.clip(res.eigenvalues[:2], 0, None) / pos)


def test_mds_warns_when_too_few_positive_directions():
    D = squareform(pdist(np.array([[0.0], [1.0], [2.5]])))  # 1-D data, 2 components asked for
    with pytest.warns(RuntimeWarning, match="only 1 of the 2"):
        Y = classical_mds(D, 2)
    np.testing.assert_allclose(Y[:, 1], 0.0)


@pytest.mark.parametrize(
    "D, match",
    [
        (np.ones((2, 3)), "square"),
        (np.array([[0.0, 1.0], [2.0, 0.0]]), "symmetric"),
        (np.array([[0.0, -1.0], [-1.0, 0.0]]), "non-negative"),
        (np.array([[0.0, np.nan], [np.nan, 0.0]]), "finite"),
        (np.array([[1.0, 1.0], [1.0, 0.0]]), "zero diagonal"),
    ],
)
def test_mds_input_errors(D, match):
    with pytest.raises(ValueError, match=match):
        classical_mds(D)


def test_mds_refuses_sparse_distances():
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="scipy.sparse"):
        classical_mds(sp.csr_matrix(np.ones((3, 3)) - np.eye(3)))


def test_mds_n_components_checked():
    with pytest.raises(ValueError, match="n_components"):
        classical_mds(np.zeros((3, 3)), 4)


# ------------------------------------------------------------------------------ graph drawing
def test_plot_graph_embedding_edges_by_label_agreement():
    Y = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    labels = np.array([0, 0, 1, 1, 2])
    # directed weights: 0->1 and 1->0 are one undirected edge; self-loop on 4 is not drawn
    rows = [0, 1, 0, 2, 1, 3, 4]
    cols = [1, 0, 2, 3, 3, 4, 4]
    vals = [1.0, 0.5, 0.2, 0.8, 0.4, 0.6, 9.0]
    W = sp.csr_matrix((vals, (rows, cols)), shape=(5, 5))
    fig, ax = plt.subplots()
    try:
        art = plot_graph_embedding(ax, Y, W, labels, ["a", "b", "c"])
        # undirected edges: (0,1) same, (0,2) cross, (2,3) same, (1,3) cross, (3,4) cross
        assert (art.n_same, art.n_cross) == (2, 3)
        assert len(art.same_edges.get_segments()) == 2
        assert len(art.cross_edges.get_segments()) == 3
        seg = {tuple(map(tuple, s)) for s in art.same_edges.get_segments()}
        assert ((0.0, 0.0), (1.0, 0.0)) in seg and ((0.0, 1.0), (1.0, 1.0)) in seg
        # opacity grows with the weight: the strongest same-class edge (0,1), w=1, is most opaque
        alphas = art.same_edges.get_colors()[:, 3]
        assert alphas.max() > alphas.min()
        assert len(art.nodes) == 3 and sum(len(n.get_offsets()) for n in art.nodes) == 5
        texts = [t.get_text() for t in art.legend.get_texts()]
        assert texts[:3] == ["a", "b", "c"]
        assert "same class (2 edges)" in texts and "different class (3 edges)" in texts
    finally:
        plt.close(fig)


def test_plot_graph_embedding_dense_and_empty():
    Y = np.zeros((3, 2)) + np.arange(3)[:, None]
    fig, ax = plt.subplots()
    try:
        art = plot_graph_embedding(ax, Y, np.zeros((3, 3)), np.array([0, 1, 1]), legend=False)
        assert art.n_same == art.n_cross == 0 and art.legend is None
        with pytest.raises(ValueError, match="shape"):
            plot_graph_embedding(ax, Y, np.zeros((4, 4)), np.array([0, 1, 1]))
        with pytest.raises(ValueError, match="class_names"):
            plot_graph_embedding(ax, Y, np.zeros((3, 3)), np.array([0, 1, 2]), ["a"])
    finally:
        plt.close(fig)


def test_dtw_pair_explorer_builds_and_redraws():
    ipywidgets = pytest.importorskip("ipywidgets")
    rng = np.random.default_rng(2)
    seqs = [rng.normal(size=(t, 3, 3)).astype(np.float32) for t in (6, 9, 7)]
    ds = SkeletonDataset.from_arrays(
        seqs, [0, 1, 0], class_names=["x", "y"], joint_names=["root", "knee", "foot"]
    )
    ui = dtw_pair_explorer(ds, first=0, second=2, window=0.3, joint="knee", axis=1)
    assert isinstance(ui, ipywidgets.VBox)
    dd_a, dd_b = ui.children[0].children
    slider, joint, axis = ui.children[1].children
    assert (dd_a.value, dd_b.value, joint.value, axis.value) == (0, 2, 1, 1)
    slider.value = 0.0  # radius 0 frames
    dd_b.value = 1  # redraws without error
    assert len(plt.get_fignums()) == 0  # every drawn figure was closed again
    with pytest.raises(ValueError, match="joint="):
        dtw_pair_explorer(ds, joint="elbow")
    # an int window is a radius in frames: an IntSlider up to the longest clip
    ui = dtw_pair_explorer(ds, window=2)
    slider = ui.children[1].children[0]
    assert isinstance(slider, ipywidgets.IntSlider) and (slider.value, slider.max) == (2, 9)
    slider.value = 5
    assert dtw_pair_explorer(ds, window=None).children[1].children[0].value == 1.0


def test_plot_distance_matrix_orders_by_class():
    labels = np.array([2, 0, 1, 0, 2, 1])
    x = np.arange(6.0)
    D = np.abs(x[:, None] - x[None, :])
    fig, ax = plt.subplots()
    try:
        im = plot_distance_matrix(ax, D, labels, ["p", "q", "r"])
        np.testing.assert_array_equal(im.order, [1, 3, 2, 5, 0, 4])  # stable within a class
        np.testing.assert_array_equal(im.get_array(), D[np.ix_(im.order, im.order)])
        assert [t.get_text() for t in ax.get_yticklabels()] == ["p", "q", "r"]
        np.testing.assert_allclose(ax.get_yticks(), [0.5, 2.5, 4.5])
        assert len(ax.get_lines()) == 4  # two class boundaries, horizontal and vertical
    finally:
        plt.close(fig)
