"""Exact kNN under DTW: the same neighbours as all pairs, ties included; valid lower bounds."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.dtw.cpu import pairwise_dtw
from helpers.geometry.knn_search import (
    embedding_candidates,
    knn_dtw,
    lb_endpoints,
    lb_envelope,
    recall_at_k,
    segment_embedding,
)

from naive import naive_dtw


def integer_sequences(n=40, seed=0, max_len=18, dims=2):
    """Small integer values: many exactly equal distances, so ties are really tested."""
    rng = np.random.default_rng(seed)
    return [
        rng.integers(-2, 3, size=(int(rng.integers(1, max_len)), dims)).astype(np.float64)
        for _ in range(n)
    ]


def reference(X, k, window, band):
    D = pairwise_dtw(X, window=window, band=band, method="direct")
    np.fill_diagonal(D, np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(len(X)), D.shape), D), axis=1)[:, :k]
    return order, np.take_along_axis(D, order, 1)


@pytest.mark.parametrize("window", [0.1, 2, None])
@pytest.mark.parametrize("band", ["sakoe", "slanted"])
@pytest.mark.parametrize("k", [1, 4, 39])
@pytest.mark.parametrize("envelope", [True, False, None])
def test_same_neighbours_as_all_pairs_with_ties(window, band, k, envelope):
    X = integer_sequences()
    idx, dist, stats = knn_dtw(X, k, window, band=band, envelope=envelope, return_stats=True)
    ref_idx, ref_dist = reference(X, k, window, band)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12, atol=1e-12)
    assert (idx != np.arange(len(X))[:, None]).all()  # self excluded
    assert stats.pairs == stats.stopped + stats.envelope + stats.dtw
    if k == len(X) - 1:
        assert stats.dtw == stats.pairs  # every pair is a neighbour: nothing can be pruned


def test_clustered_data_prunes_most_pairs():
    rng = np.random.default_rng(1)
    centres = rng.normal(0, 10, size=(5, 3))
    X = [centres[i % 5] + rng.normal(0, 0.3, size=(int(rng.integers(8, 20)), 3)) for i in range(80)]
    idx, dist, stats = knn_dtw(X, 5, 0.2, return_stats=True)
    ref_idx, _ = reference(X, 5, 0.2, "sakoe")
    np.testing.assert_array_equal(idx, ref_idx)
    assert stats.pruned > 0.5


@pytest.mark.parametrize("window", [0, 1, 0.25, None])
def test_lower_bounds_never_exceed_the_dtw_cost(window):
    rng = np.random.default_rng(2)
    for _ in range(60):
        a = rng.normal(size=(int(rng.integers(1, 9)), 3))
        b = rng.normal(size=(int(rng.integers(1, 9)), 3))
        cost = naive_dtw(a, b, window)[0] ** 2
        assert lb_endpoints(a, b) <= cost + 1e-12
        assert lb_envelope(a, b, window) <= cost + 1e-12


def test_bounds_hand_cases():
    a = np.array([[0.0], [1.0], [5.0]])
    b = np.array([[2.0], [3.0]])
    assert lb_endpoints(a, b) == pytest.approx(4.0 + 4.0)  # (0-2)^2 + (5-3)^2
    assert lb_endpoints([[1.0]], [[3.0]]) == pytest.approx(4.0)  # one cell, counted once
    # unconstrained band: every row sees b's range [2, 3]
    assert lb_envelope(a, b, None) == pytest.approx(4.0 + 1.0 + 4.0)


def test_errors_name_the_argument():
    X = integer_sequences(5)
    with pytest.raises(ValueError, match="k="):
        knn_dtw(X, 5)
    with pytest.raises(ValueError, match="k="):
        knn_dtw(X, 0)
    with pytest.raises(ValueError, match="mode"):
        knn_dtw(X, 2, mode="approx")
    with pytest.raises(ValueError, match="window"):
        knn_dtw(X, 2, window=-1)
    with pytest.raises(ValueError, match="n_jobs"):
        knn_dtw(X, 2, n_jobs=0)


def test_threads_give_the_same_result():
    X = integer_sequences(30, seed=3)
    one = knn_dtw(X, 3, 0.2, n_jobs=1, return_stats=True)
    two = knn_dtw(X, 3, 0.2, n_jobs=2, return_stats=True)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    assert one[2] == two[2]


@pytest.mark.parametrize("dims", [1, 3, 8])
def test_projected_stage_keeps_the_exact_neighbours(dims):
    X = integer_sequences(45, seed=4, dims=12)
    idx, dist, stats = knn_dtw(X, 4, 0.2, projection_dims=dims, return_stats=True)
    ref_idx, ref_dist = reference(X, 4, 0.2, "sakoe")
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12, atol=1e-12)


def test_projection_spanning_the_data_is_still_exact_with_ties():
    # integer data living in 2 of 6 dimensions, rotated: the 2 principal directions span it,
    # so projected costs equal the full ones up to rounding, ties included
    rng = np.random.default_rng(5)
    rot, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    X = [np.pad(s, ((0, 0), (0, 4))) @ rot.T for s in integer_sequences(40, seed=6)]
    idx, _ = knn_dtw(X, 5, 0.2, projection_dims=2)
    ref_idx, _ = reference(X, 5, 0.2, "sakoe")
    D = pairwise_dtw(X, window=0.2, method="direct")
    np.fill_diagonal(D, np.inf)
    # neighbours whose distances differ only by rounding may swap: compare distances
    got = np.take_along_axis(D, idx, 1)
    want = np.take_along_axis(D, ref_idx, 1)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_projection_dims_is_checked():
    with pytest.raises(ValueError, match="projection_dims"):
        knn_dtw(integer_sequences(6, dims=12), 2, projection_dims=0)


# --------------------------------------------------------------------------------------------
# Approximate mode
# --------------------------------------------------------------------------------------------
def restricted_reference(X, k, window, cand):
    """The k best of each row among its candidates only, from all pairs (ties by index)."""
    D = pairwise_dtw(X, window=window, method="direct")
    allowed = np.zeros(D.shape, bool)
    np.put_along_axis(allowed, cand, True, axis=1)
    np.fill_diagonal(allowed, False)
    D = np.where(allowed, D, np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(len(X)), D.shape), D), axis=1)[:, :k]
    return order, np.take_along_axis(D, order, 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_candidate_arrays_give_the_best_among_candidates_with_ties(seed):
    X = integer_sequences(seed=seed)
    rng = np.random.default_rng(seed)
    n = len(X)
    # 12 random candidates per row, the row itself among them sometimes (it is skipped)
    cand = np.stack([rng.choice(n, 12, replace=False) for _ in range(n)])
    idx, dist, stats = knn_dtw(X, 4, 0.2, mode="approximate", candidates=cand, return_stats=True)
    ref_idx, ref_dist = restricted_reference(X, 4, 0.2, cand)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12, atol=1e-12)
    assert stats.pairs == cand.size


def test_all_candidates_is_exact():
    X = integer_sequences(30, seed=4)
    exact = knn_dtw(X, 5, 0.1)
    approx = knn_dtw(X, 5, 0.1, mode="approximate", candidates=len(X) - 1)
    np.testing.assert_array_equal(approx[0], exact[0])
    np.testing.assert_array_equal(approx[1], exact[1])


def test_approximate_recall_on_clustered_data():
    rng = np.random.default_rng(5)
    centres = rng.normal(0, 5, size=(8, 6))
    X = [
        centres[i % 8] + rng.normal(0, 0.5, size=(int(rng.integers(10, 30)), 6)) for i in range(160)
    ]
    exact, _ = knn_dtw(X, 5, 0.1)
    for index in ("flat", "hnsw"):
        approx, dist = knn_dtw(X, 5, 0.1, mode="approximate", candidates=25, index=index)
        assert recall_at_k(approx, exact) >= 0.9
        assert (np.diff(dist, axis=1) >= 0).all()
        assert (approx != np.arange(len(X))[:, None]).all()


def test_segment_embedding_hand_case():
    x = np.arange(4.0)[:, None]  # frames 0, 1, 2, 3 (D = 1)
    E = segment_embedding([x, x[:1]], segments=2, dims=None)
    np.testing.assert_allclose(E[0], [1.5, 0.5, 2.5])  # mean, then the two halves
    np.testing.assert_allclose(E[1], [0.0, 0.0, 0.0])  # one frame: every stretch holds it
    assert E.dtype == np.float32
    assert segment_embedding(integer_sequences(5, dims=6), 3, dims=2).shape == (5, 8)
    with pytest.raises(ValueError, match="segments="):
        segment_embedding([x], segments=-1)


def test_embedding_candidates_match_brute_force():
    rng = np.random.default_rng(6)
    E = rng.standard_normal((50, 7)).astype(np.float32)
    cand = embedding_candidates(E, 6)
    D = ((E[:, None] - E[None]) ** 2).sum(-1)
    np.fill_diagonal(D, np.inf)
    np.testing.assert_array_equal(np.sort(cand, 1), np.sort(np.argsort(D, 1)[:, :6], 1))
    # duplicates: the query is dropped even where it is not the first hit
    dup = np.repeat(E[:5], 2, axis=0)
    cand = embedding_candidates(dup, 3)
    assert (cand != np.arange(10)[:, None]).all()
    assert all(len(set(row)) == 3 for row in cand)
    with pytest.raises(ValueError, match="n_candidates="):
        embedding_candidates(E, 50)
    with pytest.raises(ValueError, match="index="):
        embedding_candidates(E, 3, index="ivf")


def test_recall_at_k_hand_case():
    assert recall_at_k([[1, 2], [0, 3]], [[2, 1], [0, 2]]) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="same"):
        recall_at_k([[1, 2]], [[1, 2, 3]])


def test_approximate_errors_name_the_argument():
    X = integer_sequences(10)
    with pytest.raises(ValueError, match="candidates="):
        knn_dtw(X, 3, mode="approximate", candidates=2)  # fewer than k
    with pytest.raises(ValueError, match="candidates="):
        knn_dtw(X, 3, candidates=5)  # exact mode takes no candidates
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        knn_dtw(X, 3, mode="approximate", candidates=np.zeros((9, 4), int))
    with pytest.raises(ValueError, match="0..9"):
        knn_dtw(X, 3, mode="approximate", candidates=np.full((10, 4), 10))
    with pytest.raises(ValueError, match="row 0"):
        knn_dtw(X, 3, mode="approximate", candidates=np.tile([0, 1, 2, 2], (10, 1)))


# --------------------------------------------------------------------------------------------
# torch (GPU) variant, checked against the same all-pairs reference
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("window", [0.1, None])
def test_torch_knn_equals_all_pairs(window):
    from helpers.dtw.gpu import knn_dtw_torch

    # continuous values: torch's frame costs (from inner products) round differently from
    # the direct ones, so exact ties would be broken differently (see knn_dtw_torch)
    rng = np.random.default_rng(8)
    X = [rng.standard_normal((int(t), 3)) for t in rng.integers(1, 18, 40)]
    idx, dist = knn_dtw_torch(X, 4, window, device="cpu", query_block=7, batch_cells=300)
    ref_idx, ref_dist = reference(X, 4, window, "sakoe")
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="query_block="):
        knn_dtw_torch(X, 4, device="cpu", query_block=0)
    with pytest.raises(ValueError, match="k="):
        knn_dtw_torch(X, len(X), device="cpu")


@pytest.mark.cuda
def test_torch_knn_on_cuda_equals_the_cpu_kernel():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    from helpers.dtw.gpu import knn_dtw_torch, pairwise_dtw_torch

    rng = np.random.default_rng(3)
    X = [rng.standard_normal((int(t), 16)) for t in rng.integers(10, 60, 300)]
    ref_idx, ref_dist = knn_dtw(X, 5, 0.1)
    idx, dist = knn_dtw_torch(X, 5, 0.1, device="cuda", query_block=64)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-9)
    np.testing.assert_allclose(
        pairwise_dtw_torch(X, window=0.1, device="cuda"), pairwise_dtw(X, window=0.1), rtol=1e-9
    )


def test_wide_frames_use_a_randomised_basis_and_stay_exact():
    from helpers.geometry.knn_search import _principal_basis

    rng = np.random.default_rng(9)
    mixing = rng.standard_normal((6, 300))  # 300 features driven by 6: a low-rank motion
    X = [
        (
            rng.standard_normal((int(t), 6)) @ mixing + 0.01 * rng.standard_normal((int(t), 300))
        ).astype(np.float32)
        for t in rng.integers(5, 25, 40)
    ]
    centre, basis = _principal_basis(np.concatenate(X), 8)
    np.testing.assert_allclose(basis.T @ basis, np.eye(8), atol=1e-10)
    # the 6 driving directions lie in the span of the 8 found
    span = basis @ basis.T
    q, _ = np.linalg.qr(mixing.T)
    assert np.linalg.norm(q - span @ q) / np.linalg.norm(q) < 0.05
    idx, dist = knn_dtw(X, 4, 0.2)
    ref_idx, ref_dist = reference(X, 4, 0.2, "sakoe")
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-5)


def test_approximate_mode_keeps_a_narrow_projection_when_the_embedding_is_wide():
    rng = np.random.default_rng(10)
    mixing = rng.standard_normal((2, 10))  # 2-dimensional motion in 10 features
    X = [rng.standard_normal((int(t), 2)) @ mixing for t in rng.integers(5, 25, 60)]
    _, _, with_proj = knn_dtw(
        X, 3, 0.2, mode="approximate", candidates=30, projection_dims=2, return_stats=True
    )
    _, _, without = knn_dtw(
        X, 3, 0.2, mode="approximate", candidates=30, projection_dims=None, return_stats=True
    )
    assert with_proj.stopped > without.stopped  # the 2-dim projected bound did prune
