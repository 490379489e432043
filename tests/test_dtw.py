"""Tests for helpers.dtw.cpu (numba) and helpers.dtw.gpu (run on the CPU here).

Everything is compared with ``naive_dtw`` below: a plain-Python O(n m) DTW that spells out
the conventions (squared Euclidean frame cost, sum along the path, square root; band rule;
ties in cost go to the shorter path for ``normalize``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.dtw.core import band_mask, window_radius
from helpers.dtw.cpu import GRAM_MIN_DIM, dtw_cost_matrix, dtw_distance, dtw_path, pairwise_dtw
from helpers.dtw.gpu import pairwise_dtw_torch

from naive import naive_allowed, naive_dtw

# ---------------------------------------------------------------------------------------------
# Reference implementation
# ---------------------------------------------------------------------------------------------


def rand_seqs(rng, count, lo, hi, D, dtype=np.float64):
    return [rng.standard_normal((int(t), D)).astype(dtype) for t in rng.integers(lo, hi + 1, count)]


@pytest.fixture
def rng():
    return np.random.default_rng(20240521)


# ---------------------------------------------------------------------------------------------
# Hand-worked cases
# ---------------------------------------------------------------------------------------------
def test_hand_shift_needs_window_one():
    # a = 0 0 1 2 and b = 0 1 2 2 (equal lengths).
    # r = 0 allows only the diagonal: (0-0)^2 + (0-1)^2 + (1-2)^2 + (2-2)^2 = 2  -> sqrt(2).
    # r = 1 allows (0,0) (1,0) (2,1) (3,2) (3,3), |i - j| <= 1, all costs 0 -> 0.
    a, b = [0, 0, 1, 2], [0, 1, 2, 2]
    assert dtw_distance(a, b, 0) == pytest.approx(math.sqrt(2), rel=1e-15)
    assert dtw_distance(a, b, 1) == 0.0
    assert dtw_distance(a, b) == 0.0
    assert naive_dtw(a, b, 0)[0] == pytest.approx(math.sqrt(2))


def test_hand_unequal_lengths_and_normalize():
    # a = 0 0 0 (n = 3), b = 1 2 (m = 2): frame costs are 1 against b0 and 4 against b1.
    # Paths: (0,0)(1,0)(2,1) = 1+1+4 = 6;  (0,0)(1,1)(2,1) = 1+4+4 = 9;
    #        (0,0)(1,0)(2,0)(2,1) = 1+1+1+4 = 7;  (0,0)(0,1)(1,1)(2,1) = 1+4+4+4 = 13.
    # The best is 6 over 3 cells: distance sqrt(6), normalised sqrt(6 / 3) = sqrt(2).
    a, b = [0.0, 0.0, 0.0], [1.0, 2.0]
    assert dtw_distance(a, b) == pytest.approx(math.sqrt(6), rel=1e-15)
    assert dtw_distance(b, a) == pytest.approx(math.sqrt(6), rel=1e-15)
    assert dtw_distance(a, b, normalize=True) == pytest.approx(math.sqrt(2), rel=1e-15)
    path, d = dtw_path(a, b)
    assert path.tolist() == [[0, 0], [1, 0], [2, 1]]
    assert d == pytest.approx(math.sqrt(6), rel=1e-15)
    assert naive_dtw(a, b) == (pytest.approx(math.sqrt(6)), 3)


def test_hand_multivariate_stretch_in_narrow_band():
    # a = (0,0) (1,1); b = (0,0) (1,1) (1,1). With r = 0 and n = 2 < m = 3 the band is
    # j in {i, i+1}; the path (0,0) (1,1) (1,2) lies in it and costs 0.
    a = [[0, 0], [1, 1]]
    b = [[0, 0], [1, 1], [1, 1]]
    assert dtw_distance(a, b, 0) == 0.0
    # a single frame against two: (0,0) then (1,0) costs 0 + (3^2 + 4^2) = 25 -> 5
    assert dtw_distance([[0, 0], [3, 4]], [[0, 0]]) == pytest.approx(5.0, rel=1e-15)


def test_window_radius_rule():
    assert window_radius(None, 80, 20) == 80
    assert window_radius(3, 80, 20) == 3
    assert window_radius(0.1, 80, 20) == 8  # a fraction of the longer length
    assert window_radius(0.1, 20, 80) == 8
    assert window_radius(0.29, 100, 7) == 29  # 0.29 * 100 = 28.999999999999996 in floats
    assert window_radius(1.0, 13, 4) == 13


# ---------------------------------------------------------------------------------------------
# Against the reference
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("band", ["sakoe", "slanted"])
@pytest.mark.parametrize("normalize", [False, True])
def test_dtw_distance_matches_naive(rng, band, normalize):
    for n, m in [(1, 1), (1, 5), (6, 1), (7, 7), (9, 4), (4, 11), (12, 10)]:
        a = rng.standard_normal((n, 2))
        b = rng.standard_normal((m, 2))
        for window in [None, 0, 1, 3, 0.25, 1.0]:
            want = naive_dtw(a, b, window, band, normalize)[0]
            got = dtw_distance(a, b, window, band=band, normalize=normalize)
            assert got == pytest.approx(want, rel=1e-12), (n, m, window)
            # symmetric in its arguments
            assert dtw_distance(b, a, window, band=band, normalize=normalize) == pytest.approx(
                got, rel=1e-12
            )


@pytest.mark.parametrize("method", ["direct", "gram"])
def test_pairwise_matches_naive(rng, method):
    X = rand_seqs(rng, 7, 1, 12, 3)
    for window in [None, 2, 0.3]:
        M = pairwise_dtw(X, window=window, method=method)
        assert M.shape == (7, 7) and M.dtype == np.float64
        want = np.array([[naive_dtw(x, y, window)[0] for y in X] for x in X])
        np.testing.assert_allclose(M, want, rtol=1e-9, atol=1e-9)
        assert np.array_equal(M, M.T)
        assert np.all(np.diag(M) == 0.0)


@pytest.mark.parametrize("method", ["direct", "gram"])
def test_pairwise_with_Y(rng, method):
    X = rand_seqs(rng, 5, 2, 10, 4)
    Y = rand_seqs(rng, 3, 2, 14, 4)
    M = pairwise_dtw(X, Y, window=2, method=method)
    assert M.shape == (5, 3)
    want = np.array([[naive_dtw(x, y, 2)[0] for y in Y] for x in X])
    np.testing.assert_allclose(M, want, rtol=1e-9, atol=1e-9)
    # the transpose problem gives the transposed matrix
    np.testing.assert_allclose(pairwise_dtw(Y, X, window=2, method=method), M.T, rtol=1e-12)


@pytest.mark.parametrize("band", ["sakoe", "slanted"])
def test_pairwise_normalize_and_band(rng, band):
    X = rand_seqs(rng, 6, 2, 11, 2)
    Y = rand_seqs(rng, 4, 2, 11, 2)
    for method in ["direct", "gram"]:
        M = pairwise_dtw(X, Y, window=0.2, band=band, normalize=True, method=method)
        want = [[naive_dtw(x, y, 0.2, band, True)[0] for y in Y] for x in X]
        np.testing.assert_allclose(M, want, rtol=1e-9, atol=1e-9)


def test_gram_equals_direct_across_blocks_and_tiles(rng):
    # tiny block_frames forces several stacked blocks and tiles
    X = rand_seqs(rng, 23, 3, 30, 7)
    Y = rand_seqs(rng, 9, 3, 30, 7)
    for Yarg in (None, Y):
        direct = pairwise_dtw(X, Yarg, window=4, method="direct")
        for bf in (None, 40, 1):
            gram = pairwise_dtw(X, Yarg, window=4, method="gram", block_frames=bf)
            np.testing.assert_allclose(gram, direct, rtol=1e-9, atol=1e-9)
    # "auto" picks direct for small D or narrow bands, gram for large D without a band
    assert np.array_equal(pairwise_dtw(X, window=4), pairwise_dtw(X, window=4, method="direct"))
    big = [x.repeat(GRAM_MIN_DIM // 7 + 1, axis=1) for x in X[:5]]
    assert np.array_equal(pairwise_dtw(big, window=2), pairwise_dtw(big, window=2, method="direct"))
    assert np.array_equal(pairwise_dtw(big), pairwise_dtw(big, method="gram"))


def test_threads_and_progress_do_not_change_results(rng):
    X = rand_seqs(rng, 12, 2, 20, 3)
    ref = pairwise_dtw(X, window=3)
    np.testing.assert_array_equal(pairwise_dtw(X, window=3, n_jobs=1), ref)
    np.testing.assert_array_equal(pairwise_dtw(X, window=3, n_jobs=-1, progress=True), ref)
    np.testing.assert_allclose(
        pairwise_dtw(X, window=3, method="gram", progress=True), ref, rtol=1e-9, atol=1e-9
    )


def test_array_collections(rng):
    X3 = rng.standard_normal((4, 6, 2))  # (N, T, D)
    M = pairwise_dtw(X3, window=1)
    np.testing.assert_allclose(M, pairwise_dtw(list(X3), window=1), rtol=0, atol=0)
    X2 = rng.standard_normal((4, 6))  # (N, T): univariate sequences
    M2 = pairwise_dtw(X2)
    assert M2[0, 1] == pytest.approx(dtw_distance(X2[0], X2[1]), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Dtypes
# ---------------------------------------------------------------------------------------------
def test_float32_inputs_accumulate_in_float64(rng):
    X = rand_seqs(rng, 6, 3, 15, 20, dtype=np.float32)
    X64 = [x.astype(np.float64) for x in X]  # the same values, exactly
    ref = pairwise_dtw(X64, window=3, method="direct")
    # float32 frames: float32 frame costs, summed along the path in float64
    direct = pairwise_dtw(X, window=3, method="direct")
    assert direct.dtype == np.float64
    np.testing.assert_allclose(direct, ref, rtol=1e-5)
    # mixed dtypes are computed in float64
    np.testing.assert_allclose(pairwise_dtw(X[:3] + X64[3:], window=3), ref, rtol=1e-13)
    np.testing.assert_allclose(pairwise_dtw(X, window=3, method="gram"), ref, rtol=1e-9)
    fast = pairwise_dtw(X, window=3, method="gram", gram_dtype=np.float32)
    np.testing.assert_allclose(fast, ref, rtol=1e-5)
    assert fast.dtype == np.float64
    assert dtw_distance(X[0], X[1], 3) == pytest.approx(ref[0, 1], rel=1e-13)
    # integers are accepted as numbers
    assert dtw_distance(np.array([0, 0, 1, 2]), np.array([0, 1, 2, 2]), 0) == pytest.approx(
        math.sqrt(2)
    )


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-9), (np.float32, 1e-5)])
@pytest.mark.parametrize("D", [1, 3, 48, 75, 600])
@pytest.mark.parametrize("band", ["sakoe", "slanted"])
def test_equal_lengths_match_naive(rng, dtype, tol, D, band):
    # equal lengths take the lockstep kernel (D <= LOCKSTEP_MAX_DIM) or the 4 x 4 one; odd
    # counts leave lane groups partly empty, T = 1 and 7 leave row groups partly empty
    for N, T, window in [(11, 7, 2), (9, 1, None), (10, 13, 0), (3, 9, 0.3)]:
        X = [rng.standard_normal((T, D)).astype(dtype) for _ in range(N)]
        Y = [rng.standard_normal((T, D)).astype(dtype) for _ in range(5)]
        M = pairwise_dtw(X, window=window, band=band)
        want = np.array([[naive_dtw(x, y, window, band)[0] for y in X] for x in X])
        np.testing.assert_allclose(M, want, rtol=tol, atol=tol)
        assert np.array_equal(M, M.T) and np.all(np.diag(M) == 0.0)
        M = pairwise_dtw(X, Y, window=window, band=band, block_frames=2 * T)
        want = np.array([[naive_dtw(x, y, window, band)[0] for y in Y] for x in X])
        np.testing.assert_allclose(M, want, rtol=tol, atol=tol)
        M = pairwise_dtw(X, Y, window=window, band=band, normalize=True)
        want = np.array([[naive_dtw(x, y, window, band, True)[0] for y in Y] for x in X])
        np.testing.assert_allclose(M, want, rtol=tol, atol=tol)


def test_lockstep_equals_one_pair_at_a_time(rng, monkeypatch):
    import helpers.dtw.cpu as dtw_module

    X = [rng.standard_normal((20, 5)) for _ in range(21)]
    lockstep = pairwise_dtw(X, window=3)
    monkeypatch.setattr(dtw_module, "LOCKSTEP_MAX_DIM", 0)
    np.testing.assert_allclose(pairwise_dtw(X, window=3), lockstep, rtol=1e-13)


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------
def test_identical_sequences_have_distance_zero(rng):
    x = rng.standard_normal((17, 5))
    for window in [None, 0, 3]:
        assert dtw_distance(x, x.copy(), window) == 0.0
    M = pairwise_dtw([x, x.copy(), x[::-1]], method="direct")
    assert M[0, 1] == 0.0 and M[0, 2] > 0
    # the Gram method has cancellation error ~1e-7 * ||x|| instead of exactly 0
    G = pairwise_dtw([x, x.copy(), x[::-1]], method="gram")
    assert G[0, 1] < 1e-6 * np.linalg.norm(x)


def test_wide_window_equals_unconstrained(rng):
    for n, m in [(9, 9), (13, 5), (4, 10)]:
        a, b = rng.standard_normal((n, 3)), rng.standard_normal((m, 3))
        free = dtw_distance(a, b)
        assert dtw_distance(a, b, max(n, m)) == free
        assert dtw_distance(a, b, 1.0) == free
        assert dtw_distance(a, b, max(n, m), band="slanted") == free
        # widening the band never increases the distance
        ds = [dtw_distance(a, b, r) for r in range(max(n, m) + 1)]
        assert all(x >= y for x, y in zip(ds, ds[1:]))


def test_time_stretched_copy_has_distance_zero(rng):
    x = rng.standard_normal((10, 4))
    stretched = np.repeat(x, rng.integers(1, 4, size=10), axis=0)  # each frame 1-3 times
    assert dtw_distance(x, stretched) == 0.0
    assert pairwise_dtw([x, stretched])[0, 1] == 0.0
    # The standard band keeps the whole offset range 0..m-n even for r = 0, so a copy that
    # only lingers still aligns perfectly; the slanted band (r = 0 follows the rectangle's
    # diagonal) does not allow lingering on the first frame for three steps.
    front = np.repeat(x, [4] + [1] * 9, axis=0)
    assert dtw_distance(x, front, 0) == 0.0
    assert dtw_distance(x, front, 0, band="slanted") > 0.0


def test_band_masks(rng):
    for n, m in [(1, 1), (1, 6), (7, 1), (8, 8), (11, 4), (4, 11), (20, 13)]:
        for r in [0, 1, 3]:
            for band in ["sakoe", "slanted"]:
                mask = band_mask(n, m, r, band=band)
                want = np.array(
                    [[naive_allowed(i, j, n, m, r, band) for j in range(m)] for i in range(n)]
                )
                np.testing.assert_array_equal(mask, want)
                np.testing.assert_array_equal(band_mask(m, n, r, band=band), mask.T)
                assert mask[0, 0] and mask[-1, -1] and mask.any(axis=1).all()
            if n == m:
                np.testing.assert_array_equal(
                    band_mask(n, m, r, band="slanted"), band_mask(n, m, r)
                )
    # the slanted band follows the diagonal of the rectangle
    assert band_mask(10, 4, 0, band="slanted").sum() == 10


# ---------------------------------------------------------------------------------------------
# Paths and cost matrices
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("band", ["sakoe", "slanted"])
def test_dtw_path(rng, band):
    for n, m in [(1, 1), (1, 4), (8, 8), (12, 5), (5, 13)]:
        a, b = rng.standard_normal((n, 2)), rng.standard_normal((m, 2))
        for window in [None, 0, 2]:
            path, d = dtw_path(a, b, window, band=band)
            assert d == dtw_distance(a, b, window, band=band)
            assert path.dtype.kind == "i" and path.shape[1] == 2
            assert path[0].tolist() == [0, 0] and path[-1].tolist() == [n - 1, m - 1]
            steps = np.diff(path, axis=0)
            assert {tuple(s) for s in steps} <= {(1, 0), (0, 1), (1, 1)}
            mask = band_mask(n, m, window, band=band)
            assert mask[path[:, 0], path[:, 1]].all()
            cost = ((a[path[:, 0]] - b[path[:, 1]]) ** 2).sum()
            assert math.sqrt(cost) == pytest.approx(d, rel=1e-12)
            ref, length = naive_dtw(a, b, window, band)
            assert d == pytest.approx(ref, rel=1e-12) and len(path) == length
            _, dn = dtw_path(a, b, window, band=band, normalize=True)
            assert dn == pytest.approx(math.sqrt(cost / len(path)), rel=1e-12)
            assert dn == pytest.approx(
                dtw_distance(a, b, window, band=band, normalize=True), rel=1e-12
            )


def test_dtw_cost_matrix(rng):
    a, b = rng.standard_normal((9, 3)), rng.standard_normal((6, 3))
    acc, mask = dtw_cost_matrix(a, b, 1)
    assert acc.shape == mask.shape == (9, 6)
    np.testing.assert_array_equal(mask, band_mask(9, 6, 1))
    assert np.isinf(acc[~mask]).all() and np.isfinite(acc[mask]).all()
    assert math.sqrt(acc[-1, -1]) == dtw_distance(a, b, 1)
    assert acc[0, 0] == pytest.approx(((a[0] - b[0]) ** 2).sum())


# ---------------------------------------------------------------------------------------------
# Other libraries' conventions
# ---------------------------------------------------------------------------------------------
def test_matches_dtaidistance(rng):
    dtw_ndim = pytest.importorskip("dtaidistance.dtw_ndim")
    dtw_1d = pytest.importorskip("dtaidistance.dtw")
    for n, m in [(8, 8), (11, 6), (5, 12), (1, 4)]:
        a, b = rng.standard_normal((n, 3)), rng.standard_normal((m, 3))
        for r in [0, 1, 3, None]:
            want = dtw_ndim.distance(a, b, window=None if r is None else r + 1)
            assert dtw_distance(a, b, r) == pytest.approx(want, rel=1e-12), (n, m, r)
        a1, b1 = a[:, 0].copy(), b[:, 0].copy()
        assert dtw_distance(a1, b1, 2) == pytest.approx(
            dtw_1d.distance(a1, b1, window=3), rel=1e-12
        )


def test_matches_tslearn(rng):
    metrics = pytest.importorskip("tslearn.metrics")
    torch = pytest.importorskip("torch")
    # tslearn's PyTorch backend runs the same band and recurrence as its numba one, without
    # the ~15 s of numba compilation that tslearn does not cache
    for n, m in [(9, 9), (12, 7), (6, 10)]:  # tslearn's band also matches for n != m
        a, b = rng.standard_normal((n, 2)), rng.standard_normal((m, 2))
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        for r in [0, 2, 5]:
            want = metrics.dtw(
                ta, tb, global_constraint="sakoe_chiba", sakoe_chiba_radius=r, be="pytorch"
            )
            assert dtw_distance(a, b, r) == pytest.approx(float(want), rel=1e-12)
        assert dtw_distance(a, b) == pytest.approx(
            float(metrics.dtw(ta, tb, be="pytorch")), rel=1e-12
        )


def test_matches_aeon_equal_lengths(rng):
    distances = pytest.importorskip("aeon.distances")
    T, r = 10, 2
    a, b = rng.standard_normal((T, 3)), rng.standard_normal((T, 3))
    # aeon: (channels, time) layout, window = fraction of the length (int(window * T) = r),
    # and no square root
    got = distances.dtw_distance(a.T.copy(), b.T.copy(), window=(r + 0.5) / T)
    assert math.sqrt(got) == pytest.approx(dtw_distance(a, b, r), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Torch backend (CPU here; the same code runs on CUDA)
# ---------------------------------------------------------------------------------------------
def _naive_matrix(X, Y=None, **kw):
    Y = X if Y is None else Y
    return np.array([[naive_dtw(a, b, **kw)[0] for b in Y] for a in X])


@pytest.mark.parametrize(
    "kw",
    [
        dict(window=None),
        dict(window=2),
        dict(window=0.3, band="slanted"),
        dict(window=1, normalize=True),
        dict(window=0.2, band="slanted", normalize=True),
    ],
)
def test_both_backends_match_the_same_naive_oracle(rng, kw):
    """numba and torch are checked against naive_dtw, not only against each other."""
    X = rand_seqs(rng, 9, 1, 14, 3)
    Y = rand_seqs(rng, 4, 2, 14, 3)
    ref, refY = _naive_matrix(X, **kw), _naive_matrix(X, Y, **kw)
    for name, fn in (
        ("numba", pairwise_dtw),
        ("torch", lambda *a, **k: pairwise_dtw_torch(*a, device="cpu", **k)),
    ):
        got = fn(X, **kw)
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9, err_msg=name)
        assert np.array_equal(got, got.T) and np.all(np.diag(got) == 0)
        np.testing.assert_allclose(fn(X, Y, **kw), refY, rtol=1e-9, atol=1e-9, err_msg=name)
    # small blocks and batches exercise the torch blocking
    gotY = pairwise_dtw_torch(X, Y, device="cpu", block_frames=20, batch_cells=200, **kw)
    np.testing.assert_allclose(gotY, refY, rtol=1e-9, atol=1e-9)


def test_torch_float32_inner_products(rng):
    torch = pytest.importorskip("torch")
    X = rand_seqs(rng, 9, 1, 14, 3)
    # float32 inner products (the fast setting on GPUs): ~1e-6 relative error
    fast = pairwise_dtw_torch(X, window=2, device="cpu", gram_dtype=torch.float32)
    np.testing.assert_allclose(fast, _naive_matrix(X, window=2), rtol=1e-5, atol=1e-5)


def test_torch_bad_options_are_named(rng):
    X = rand_seqs(rng, 3, 2, 5, 2)
    with pytest.raises(ValueError, match="block_frames=0"):
        pairwise_dtw_torch(X, block_frames=0, device="cpu")
    with pytest.raises(ValueError, match="batch_cells=0"):
        pairwise_dtw_torch(X, batch_cells=0, device="cpu")
    with pytest.raises(ValueError, match="Y\\[0\\] has D=3"):
        pairwise_dtw_torch(X, [np.zeros((3, 3))], device="cpu")


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
def test_bad_sequences_name_the_index(rng):
    good = [rng.standard_normal((5, 3)) for _ in range(4)]
    nan = [g.copy() for g in good]
    nan[2][3, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"X\[2\] contains NaN or inf \(first at frame 3, feature 1\)"
    ):
        pairwise_dtw(nan)
    inf = [g.copy() for g in good]
    inf[1][0, 0] = np.inf
    with pytest.raises(ValueError, match=r"Y\[1\] contains NaN or inf"):
        pairwise_dtw(good, inf)
    with pytest.raises(ValueError, match=r"X\[1\] is empty"):
        pairwise_dtw([good[0], np.zeros((0, 3))])
    with pytest.raises(ValueError, match=r"X\[3\] has D=2 features but X\[0\] has D=3"):
        pairwise_dtw(good[:3] + [np.zeros((4, 2))])
    with pytest.raises(ValueError, match=r"Y\[0\] has D=2 features but X\[0\] has D=3"):
        pairwise_dtw(good, [np.zeros((4, 2))])
    with pytest.raises(
        ValueError, match=r"X\[0\] has shape \(2, 3, 4\); expected \(T,\) or \(T, D\)"
    ):
        pairwise_dtw([np.zeros((2, 3, 4))])
    with pytest.raises(ValueError, match="X holds no sequences"):
        pairwise_dtw([])
    with pytest.raises(TypeError, match=r"X\[0\] has dtype"):
        pairwise_dtw([np.array(["a", "b"])])
    with pytest.raises(ValueError, match=r"X\[1\] could not be read"):
        pairwise_dtw([[1.0, 2.0], [[1.0], [2.0, 3.0]]])


def test_bad_pair_inputs():
    with pytest.raises(ValueError, match="a contains NaN"):
        dtw_distance([0.0, np.nan], [1.0])
    with pytest.raises(ValueError, match="b is empty"):
        dtw_distance([0.0], [])
    with pytest.raises(ValueError, match="a has D=2 features but b has D=3"):
        dtw_path(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="a has D=0 features"):
        dtw_cost_matrix(np.zeros((3, 0)), np.zeros((3, 0)))


def test_bad_options():
    a, b = [0.0, 1.0], [1.0, 2.0]
    with pytest.raises(ValueError, match=r"window=-1 is negative; expected a radius >= 0"):
        dtw_distance(a, b, -1)
    with pytest.raises(ValueError, match=r"window=-2 is negative"):
        pairwise_dtw([a, b], window=-2)
    for w in (0.0, 1.5, -0.1, float("nan")):
        with pytest.raises(ValueError, match=r"must lie in \(0, 1\]"):
            dtw_distance(a, b, w)
    with pytest.raises(ValueError, match="pass the int 5"):
        dtw_distance(a, b, 5.0)
    for w in ("3", True, [1]):
        with pytest.raises(TypeError, match="window="):
            dtw_distance(a, b, w)
    with pytest.raises(ValueError, match="band='diagonal'"):
        dtw_distance(a, b, band="diagonal")
    with pytest.raises(ValueError, match="method='fast'"):
        pairwise_dtw([a, b], method="fast")
    with pytest.raises(ValueError, match="n_jobs=0"):
        pairwise_dtw([a, b], n_jobs=0)
    with pytest.raises(ValueError, match="block_frames=0"):
        pairwise_dtw([a, b], block_frames=0)
    with pytest.raises(ValueError, match="positive int length"):
        band_mask(0, 3)
