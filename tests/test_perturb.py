"""Sensor noise models: correlated jitter, lost joints, and the dataset-level wrapper."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.data import SkeletonDataset, with_joint_noise
from helpers.data.perturb import add_correlated_noise, drop_joints, with_noise


def test_correlated_noise_has_the_asked_spread_and_window():
    rng = np.random.default_rng(0)
    seq = np.zeros((4000, 5, 3), np.float32)
    noise = add_correlated_noise(seq, 0.2, rng, fps=30.0, seconds=0.2)  # window of 6 frames
    assert noise.std() == pytest.approx(0.2, rel=0.03)
    x = noise[:, :, :].reshape(4000, -1)

    def lag(k):
        return float(np.mean([np.corrcoef(x[:-k, j], x[k:, j])[0, 1] for j in range(15)]))

    # a moving average of w = 6 white samples: correlation (w - k) / w at lag k < w, 0 beyond
    assert lag(1) == pytest.approx(5 / 6, abs=0.03)
    assert lag(3) == pytest.approx(3 / 6, abs=0.04)
    assert abs(lag(8)) < 0.05
    np.testing.assert_array_equal(add_correlated_noise(seq[:3], 0.0, rng, 30.0), seq[:3])
    with pytest.raises(ValueError, match="fps"):
        add_correlated_noise(seq, 0.1, rng, fps=float("nan"))


def test_lost_joints_freeze_or_zero_for_their_span():
    rng = np.random.default_rng(1)
    seq = rng.normal(size=(20, 30, 3)).astype(np.float32) + 5.0
    frozen = drop_joints(seq, 0.5, np.random.default_rng(2), fps=10.0, seconds=0.5)
    changed = np.flatnonzero((frozen != seq).any(axis=(0, 2)))
    assert 5 <= changed.size <= 25  # about half of 30 joints
    for j in changed:
        frames = np.flatnonzero((frozen[:, j] != seq[:, j]).any(axis=1))
        assert frames.size <= 5 and np.ptp(frames) <= 4  # one span of at most 5 frames
        assert (frozen[frames, j] == frozen[frames[0], j]).all()  # held still
    zeroed = drop_joints(seq, 0.5, np.random.default_rng(2), fps=10.0, mode="zero")
    lost = (zeroed != seq).any(axis=2)
    assert (zeroed[lost] == 0).all() and lost.any()
    np.testing.assert_array_equal(drop_joints(seq, 0.0, rng, 10.0), seq)
    assert (drop_joints(seq, 1.0, rng, 10.0) != seq).any(axis=(0, 2)).all()
    with pytest.raises(ValueError, match="mode must be"):
        drop_joints(seq, 0.1, rng, 10.0, mode="blur")


def _clips():
    rng = np.random.default_rng(3)
    seqs = [rng.normal(size=(int(t), 4, 3)) for t in (8, 12, 9)]
    return SkeletonDataset.from_arrays(seqs, [0, 1, 0], fps=10.0, name="toy")


def test_with_noise_is_repeatable_and_gaussian_is_the_old_joint_noise():
    ds = _clips()
    old = with_joint_noise(ds, 0.05, random_state=4)
    new = with_noise(ds, "gaussian", 0.05, random_state=4)
    for a, b in zip(old.sequences, new.sequences):
        np.testing.assert_array_equal(a, b)
    for kind in ("correlated", "dropout"):
        a = with_noise(ds, kind, 0.3, random_state=5)
        b = with_noise(ds, kind, 0.3, random_state=5)
        assert all(np.array_equal(x, y) for x, y in zip(a.sequences, b.sequences))
        assert any(not np.array_equal(x, y) for x, y in zip(a.sequences, ds.sequences))
    with pytest.raises(ValueError, match="kind='pink'"):
        with_noise(ds, "pink", 0.1)
    no_rate = SkeletonDataset.from_arrays(ds.sequences, ds.labels, name="anon")
    with pytest.raises(ValueError, match="needs its frame rate"):
        with_noise(no_rate, "correlated", 0.1)
