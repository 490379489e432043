"""The scaling measurements: test collections, the all-pairs reference, tables and exponents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.dtw.cpu import pairwise_dtw
from helpers.geometry.knn_search import lower_bounds
from helpers.geometry.scaling import (
    METHODS,
    all_pairs_knn,
    augmented_clips,
    growth_exponents,
    hidden_width,
    measure,
    same_neighbours,
    scaling_table,
)

from builders import hdm05_toy


def test_augmented_clips_are_reproducible_and_shaped():
    ds = hdm05_toy()
    a = augmented_clips(ds, 30, random_state=3)
    b = augmented_clips(ds, 30, random_state=3)
    assert len(a) == 30 and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(x.shape[1] == ds.num_joints * 3 and x.dtype == np.float64 for x in a)
    # without noise, a turn about the vertical axis keeps every joint's height
    clean = augmented_clips(ds, 5, noise=0.0, speed=(1.0, 1.0), random_state=1)
    for x in clean:
        y = x.reshape(len(x), -1, 3)[:, :, 1]
        assert any(
            s.shape[0] == len(x) and np.allclose(np.asarray(s)[:, :, 1], y, atol=1e-5)
            for s in ds.sequences
        )
    with pytest.raises(ValueError, match="n="):
        augmented_clips(ds, 0)
    with pytest.raises(ValueError, match="speed="):
        augmented_clips(ds, 3, speed=(1.2, 0.8))


def test_hidden_width_is_a_fixed_relu_layer():
    rng = np.random.default_rng(0)
    X = [rng.standard_normal((int(t), 6)) for t in (3, 7)]
    H = hidden_width(X, 40, random_state=2)
    assert [h.shape for h in H] == [(3, 40), (7, 40)]
    assert all(h.dtype == np.float32 and (h >= 0).all() for h in H)
    # one layer for all: the first sequence alone gives the same features
    np.testing.assert_array_equal(hidden_width(X[:1], 40, random_state=2)[0], H[0])
    with pytest.raises(ValueError, match="width="):
        hidden_width(X, 0)


def test_all_pairs_knn_is_the_sorted_rows_of_the_matrix():
    rng = np.random.default_rng(1)
    X = [rng.integers(-1, 2, (int(t), 2)).astype(float) for t in rng.integers(1, 9, 25)]
    idx, dist = all_pairs_knn(X, 4, 0.2, rows=7)  # blocks of rows, ties among integers
    D = pairwise_dtw(X, window=0.2)
    for i in range(len(X)):
        row = [(D[i, j], j) for j in range(len(X)) if j != i]
        best = sorted(row)[:4]
        assert list(idx[i]) == [j for _, j in best]
        np.testing.assert_allclose(dist[i], [d for d, _ in best])


def test_same_neighbours_forgives_only_ties():
    ref = (np.array([[1, 2, 3]]), np.array([[1.0, 2.0, 2.0]]))
    assert same_neighbours(ref, ref) == 1.0
    assert same_neighbours((np.array([[1, 3, 2]]), ref[1]), ref) == 1.0  # a tie swapped
    assert same_neighbours((np.array([[2, 1, 3]]), np.array([[1.0, 2.0, 2.0]])), ref) == 0.0
    assert same_neighbours((np.array([[1, 2, 4]]), np.array([[1.0, 2.0, 2.5]])), ref) == 0.0


def test_measure_reports_time_and_memory():
    # 64 MiB: above glibc's largest mmap threshold (32 MiB), so the pages are always new and
    # counted, even after earlier tests have left freed memory in the heap
    out, seconds, mib = measure(lambda: np.ones((4096, 2048)).sum())
    assert out == 4096 * 2048 and seconds >= 0
    assert np.isnan(mib) or mib >= 32


def test_scaling_table_and_exponents():
    rng = np.random.default_rng(2)
    centres = rng.normal(0, 4, (6, 3))
    X = [centres[i % 6] + rng.normal(0, 0.5, (int(rng.integers(8, 20)), 3)) for i in range(90)]
    table = scaling_table(X, [40, 90], k=3, window=0.2, all_pairs_max=40, label="toy")
    assert list(table["method"]) == ["all pairs", *METHODS[1:], *METHODS[1:]]
    exact = table[table.method == "exact kNN"]
    assert exact["same"].iloc[0] == 1.0 and np.isnan(exact["same"].iloc[1])  # no all pairs
    approx = table[table.method == "approximate kNN"]
    assert (approx["recall"] > 0.8).all()
    assert (table["pairs_dtw"] <= 1).all() and (table["seconds"] > 0).all()
    assert table.loc[table.method == "all pairs", "speedup"].iloc[0] == 1.0
    exps = growth_exponents(table)
    assert set(exps.method) == set(METHODS)
    assert np.isnan(exps.set_index("method").loc["all pairs", "exponent"])  # one N only
    with pytest.raises(ValueError, match="sizes="):
        scaling_table(X, [100], k=3)
    with pytest.raises(ValueError, match="methods"):
        scaling_table(X, [40], k=3, methods=["brute force"])


def test_growth_exponent_hand_case():
    t = pd.DataFrame(
        {"data": "d", "method": "m", "n": [10, 100, 1000], "seconds": [1.0, 100.0, 10000.0]}
    )
    assert growth_exponents(t)["exponent"].iloc[0] == pytest.approx(2.0)


@pytest.mark.parametrize("window", [0.1, 3, None])
def test_lower_bounds_are_below_the_dtw_cost(window):
    rng = np.random.default_rng(4)
    X = [rng.standard_normal((int(t), 12)) for t in rng.integers(2, 30, 40)]
    pairs = rng.integers(0, 40, (200, 2))
    b = lower_bounds(X, pairs, window)
    D = pairwise_dtw(X, window=window)
    np.testing.assert_allclose(np.sqrt(b["dtw"]), D[pairs[:, 0], pairs[:, 1]], rtol=1e-9)
    for name in ("endpoints", "envelope", "projected"):
        assert (b[name] <= b["dtw"] * (1 + 1e-9) + 1e-12).all(), name
    assert np.isnan(lower_bounds(X, pairs[:3], window, projection_dims=None)["projected"]).all()
    with pytest.raises(ValueError, match="pairs"):
        lower_bounds(X, pairs[:, :1], window)
    with pytest.raises(ValueError, match="0..39"):
        lower_bounds(X, pairs + 40, window)
