"""Tests for helpers.geometry.distances (dataset DTW, padded Euclidean, 1-NN) and plot_dtw_pair."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402

import helpers.geometry.distances as distances  # noqa: E402
from helpers.data.dataset import SkeletonDataset  # noqa: E402
from helpers.data.resampling import resample  # noqa: E402
from helpers.dtw.cpu import dtw_distance, dtw_path, pairwise_dtw  # noqa: E402
from helpers.geometry.distances import (  # noqa: E402
    as_sequence_list,
    data_fingerprint,
    dataset_dtw,
    nearest_neighbor_accuracy,
    nearest_neighbor_predict,
    padded_euclidean,
    sequence_matrix,
)
from helpers.plots.graphs import plot_dtw_pair  # noqa: E402

from naive import naive_padded_euclidean  # noqa: E402


def _random_seqs(rng, n=7, v=4, c=3, tmin=5, tmax=19):
    return [
        rng.normal(size=(int(rng.integers(tmin, tmax)), v, c)).astype(np.float32) for _ in range(n)
    ]


def _dataset(rng, n=8):
    seqs = _random_seqs(rng, n)
    return SkeletonDataset.from_arrays(
        seqs,
        labels=np.arange(n) % 3,
        class_names=["a", "b", "c"],
        split=["train", "test"] * (n // 2),
        edges=[(0, 1), (1, 2), (2, 3)],
        files=[f"clip{i}.amc" for i in range(n)],
    )


# ------------------------------------------------------------------------------ sequence_matrix
def test_sequence_matrix_feature_order():
    seq = np.arange(5 * 4 * 3, dtype=np.float32).reshape(5, 4, 3)
    m = sequence_matrix(seq)
    assert m.shape == (5, 12)
    for v in range(4):
        for c in range(3):
            np.testing.assert_array_equal(m[:, v * 3 + c], seq[:, v, c])
    assert sequence_matrix(np.zeros((6, 2, 4, 3))).shape == (6, 24)  # (T, M, V, C)
    assert sequence_matrix(np.zeros(6)).shape == (6, 1)
    assert sequence_matrix(np.zeros((6, 5))).shape == (6, 5)


def test_as_sequence_list_errors_name_the_clip():
    rng = np.random.default_rng(0)
    ds = _dataset(rng)
    assert [s.shape for s in as_sequence_list(ds)] == [(len(s), 12) for s in ds.sequences]
    bad = [np.zeros((4, 3)), np.zeros((5, 2))]
    with pytest.raises(ValueError, match=r"data\[1\] has 2 features"):
        as_sequence_list(bad)
    nan = [np.zeros((4, 3)), np.ones((5, 3))]
    nan[1][3, 0] = np.nan
    with pytest.raises(ValueError, match=r"data\[1\] has NaN or inf at frame 3"):
        as_sequence_list(nan)
    with pytest.raises(ValueError, match="zero frames"):
        as_sequence_list([np.zeros((0, 3))])


# ------------------------------------------------------------------------------ padded Euclidean


@pytest.mark.parametrize("mode", ["zero-pad", "resample"])
@pytest.mark.parametrize("length", [None, 9, 30])
def test_padded_euclidean_matches_naive_loop(mode, length):
    rng = np.random.default_rng(1)
    seqs = _random_seqs(rng, n=6)
    D = padded_euclidean(seqs, mode=mode, length=length)
    np.testing.assert_allclose(
        D, naive_padded_euclidean(seqs, mode, length), rtol=1e-10, atol=1e-10
    )
    assert np.array_equal(D, D.T) and np.all(np.diag(D) == 0)


def test_padded_euclidean_equals_dtw_without_warping():
    # same length and radius 0: the only DTW path is the diagonal, i.e. the Euclidean distance
    rng = np.random.default_rng(2)
    seqs = [rng.normal(size=(11, 5)) for _ in range(4)]
    np.testing.assert_allclose(padded_euclidean(seqs), pairwise_dtw(seqs, window=0), rtol=1e-12)
    # after resampling to a common length the same holds for clips of different lengths
    clips = [s.reshape(len(s), -1) for s in _random_seqs(rng, n=4)]
    resampled = [resample(s.astype(np.float64), 11) for s in clips]
    np.testing.assert_allclose(
        padded_euclidean(clips, mode="resample", length=11),
        pairwise_dtw(resampled, window=0),
        rtol=1e-12,
    )


def test_padded_euclidean_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        padded_euclidean([np.zeros((3, 2))] * 2, mode="crop")


# ------------------------------------------------------------------------------ 1-NN
def test_nearest_neighbor_accuracy_hand_worked():
    # five points on a line: 0, 1, 3, 7, 8 with labels A A B B A
    x = np.array([0.0, 1.0, 3.0, 7.0, 8.0])
    D = np.abs(x[:, None] - x[None, :])
    y = np.array([0, 0, 1, 1, 0])
    # leave-one-out neighbours: 0->1 (A, ok), 1->0 (A, ok), 2->1 (A, wrong), 3->4 (A, wrong), 4->3
    # (B, wrong)
    q, nn, pred = nearest_neighbor_predict(D, y)
    np.testing.assert_array_equal(nn, [1, 0, 1, 4, 3])
    assert nearest_neighbor_accuracy(D, y) == pytest.approx(2 / 5)
    # train = {0, 2, 3}; test 1 -> 0 (A, ok), test 4 -> 3 (B, wrong)
    train = np.array([True, False, True, True, False])
    q, nn, pred = nearest_neighbor_predict(D, y, train)
    np.testing.assert_array_equal(q, [1, 4])
    np.testing.assert_array_equal(nn, [0, 3])
    assert nearest_neighbor_accuracy(D, y, train) == pytest.approx(1 / 2)


def test_nearest_neighbor_ties_and_duplicates():
    D = np.array([[0.0, 2.0, 2.0], [2.0, 0.0, 0.0], [2.0, 0.0, 0.0]])  # 1 and 2 are duplicates
    q, nn, _ = nearest_neighbor_predict(D, [0, 1, 1])
    np.testing.assert_array_equal(nn, [1, 2, 1])  # tie -> lowest index; a duplicate is a neighbour


def test_nearest_neighbor_errors():
    D = np.zeros((3, 3))
    with pytest.raises(ValueError, match="labels must have shape"):
        nearest_neighbor_accuracy(D, [0, 1])
    with pytest.raises(ValueError, match="boolean"):
        nearest_neighbor_accuracy(D, [0, 1, 0], train_mask=[1, 0, 1])
    with pytest.raises(ValueError, match="at least one training and one test"):
        nearest_neighbor_accuracy(D, [0, 1, 0], train_mask=np.ones(3, bool))
    with pytest.raises(TypeError, match="scipy.sparse.*distance 0"):
        nearest_neighbor_accuracy(sp.csr_matrix(np.ones((3, 3))), [0, 1, 0])
    with pytest.raises(TypeError, match="real-valued"):
        nearest_neighbor_accuracy(np.array([["a", "b"], ["c", "d"]]), [0, 1])


def test_dataset_dtw_names_an_unknown_backend():
    with pytest.raises(ValueError, match="backend='cuda'.*'numba'.*'torch'"):
        dataset_dtw([np.zeros((3, 2)), np.ones((4, 2))], window=1, cache=False, backend="cuda")


# ------------------------------------------------------------------------------ dataset DTW + cache
def test_dataset_dtw_equals_pairwise_and_is_cached(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    ds = _dataset(rng)
    flat = [s.reshape(len(s), -1) for s in ds.sequences]
    expected = pairwise_dtw(flat, window=0.2)
    D1 = dataset_dtw(ds, window=0.2, cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(D1, expected)
    # a list of (T, V, C) arrays is the same data: same result, same cache entry
    assert len(list((tmp_path / "dtw").glob("*.npz"))) == 1

    def fail(*args, **kwargs):
        raise AssertionError("pairwise_dtw was called although the matrix is cached")

    monkeypatch.setattr(distances, "pairwise_dtw", fail)
    D2 = dataset_dtw(list(ds.sequences), window=0.2, cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(D2, expected)
    # other settings are other entries: they must compute
    for kwargs in ({"window": 2}, {"window": 0.2, "normalize": True}, {"window": None}):
        with pytest.raises(AssertionError, match="was called"):
            dataset_dtw(ds, cache_dir=tmp_path, progress=False, **kwargs)


def test_dataset_dtw_recomputes_when_data_changes(tmp_path, monkeypatch):
    rng = np.random.default_rng(4)
    seqs = [s.reshape(len(s), -1) for s in _random_seqs(rng, n=5)]
    calls = []
    real = distances.pairwise_dtw

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(distances, "pairwise_dtw", counting)
    dataset_dtw(seqs, window=3, cache_dir=tmp_path, progress=False)
    dataset_dtw([s.copy() for s in seqs], window=3, cache_dir=tmp_path, progress=False)
    assert len(calls) == 1
    changed = [s.copy() for s in seqs]
    changed[2][0, 0] += 1e-3
    D = dataset_dtw(changed, window=3, cache_dir=tmp_path, progress=False)
    assert len(calls) == 2
    np.testing.assert_allclose(D[2, 3], dtw_distance(changed[2], changed[3], 3))


def test_dataset_dtw_torch_backend_agrees(tmp_path):
    pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    seqs = _random_seqs(rng, n=4, tmax=12)
    D = dataset_dtw(seqs, window=0.3, cache=False, backend="torch", device="cpu", progress=False)
    # float32 sequences: numba sums their frame costs in float32, torch (float64 Gram) not
    np.testing.assert_allclose(
        D, dataset_dtw(seqs, window=0.3, cache=False, progress=False), rtol=1e-6
    )


def test_dataset_dtw_key_skips_fingerprint(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    seqs = [s.reshape(len(s), -1) for s in _random_seqs(rng, n=4)]

    def no_hash(_):
        raise AssertionError("fingerprinted although a key was given")

    monkeypatch.setattr(distances, "data_fingerprint", no_hash)
    D = dataset_dtw(seqs, window=0.5, key="my-clips-v1", cache_dir=tmp_path, progress=False)
    np.testing.assert_allclose(D, pairwise_dtw(seqs, window=0.5))
    # the key names the data; the number of sequences and features still guard against misuse
    D3 = dataset_dtw(seqs[:3], window=0.5, key="my-clips-v1", cache_dir=tmp_path, progress=False)
    np.testing.assert_allclose(D3, D[:3, :3])
    with pytest.raises(ValueError, match="non-empty string"):
        dataset_dtw(seqs, key="", cache_dir=tmp_path, progress=False)


def test_dataset_dtw_without_cache_writes_nothing(tmp_path):
    rng = np.random.default_rng(6)
    seqs = [s.reshape(len(s), -1) for s in _random_seqs(rng, n=3)]
    D = dataset_dtw(seqs, window=None, cache=False, cache_dir=tmp_path, progress=False)
    np.testing.assert_allclose(D, pairwise_dtw(seqs))
    assert not (tmp_path / "dtw").exists()


def test_fingerprint_changes_with_data():
    rng = np.random.default_rng(7)
    seqs = [rng.normal(size=(6, 3)) for _ in range(3)]
    base = data_fingerprint(seqs)
    assert data_fingerprint([s.copy() for s in seqs]) == base
    bumped = [s.copy() for s in seqs]
    bumped[1][5, 2] = np.nextafter(bumped[1][5, 2], np.inf)  # one ulp in one value
    shorter = [s.copy() for s in seqs]
    shorter[0] = shorter[0][:5]
    variants = [
        bumped,
        shorter,
        seqs[::-1],  # order
        [s.astype(np.float32) for s in seqs],  # dtype
        [s.reshape(3, 6) for s in seqs],  # same bytes, other shape
        seqs[:2],  # fewer sequences
        [np.concatenate([seqs[0], seqs[1]])] + seqs[2:],  # same bytes, other split into clips
    ]
    prints = {data_fingerprint(v) for v in variants}
    assert base not in prints and len(prints) == len(variants)


# ------------------------------------------------------------------------------ plot_dtw_pair
def test_plot_dtw_pair_draws_path_band_and_links():
    rng = np.random.default_rng(8)
    a = rng.normal(size=(12, 2, 3))
    b = rng.normal(size=(9, 2, 3))
    fig = plot_dtw_pair(a, b, window=2, feature=4, names=("first", "second"), max_links=100)
    try:
        ax_c, ax_a = fig.axes[0], fig.axes[1]
        path, dist = dtw_path(a.reshape(12, -1), b.reshape(9, -1), 2)
        lines = {ln.get_label(): ln for ln in ax_c.get_lines()}
        np.testing.assert_array_equal(lines["optimal path"].get_xdata(), path[:, 1])
        np.testing.assert_array_equal(lines["optimal path"].get_ydata(), path[:, 0])
        assert len(ax_c.get_lines()) == 3  # two band edges + path
        # band rule for n=12 >= m=9, r=2: row i allows -2 <= i - j <= 3 + 2
        left = lines["band"]
        lo = np.asarray(left.get_xdata())[::2] + 0.5
        np.testing.assert_array_equal(lo, np.maximum(0, np.arange(12) - 5))
        assert len(ax_c.images) == 1
        links = ax_a.collections[0]
        assert len(links.get_segments()) == len(path)  # max_links >= path length: every pair
        np.testing.assert_allclose(ax_a.get_lines()[0].get_ydata(), a.reshape(12, -1)[:, 4])
        assert f"{dist:.3g}" in ax_a.get_title()
    finally:
        plt.close(fig)


def test_plot_dtw_pair_checks_inputs():
    with pytest.raises(ValueError, match="features per frame"):
        plot_dtw_pair(np.zeros((4, 3)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="feature=7"):
        plot_dtw_pair(np.zeros((4, 3)), np.zeros((5, 3)), feature=7)
