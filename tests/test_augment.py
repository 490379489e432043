"""Augmentation: geometric invariants, a linear ramp stays a ramp, scipy/np.interp peers agree."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from helpers.data.augment import (
    Augment,
    add_joint_noise,
    random_crop_resample,
    random_rotation_matrix,
    rotate,
    rotation_about_axis,
)

EDGES = np.array([(0, 1), (1, 2), (2, 3), (1, 4), (4, 5)])


def skeleton_clip(t: int = 30, bodies: int | None = None, seed: int = 0) -> np.ndarray:
    """A moving 6-joint skeleton: (T, V, 3), or (T, M, V, 3) when ``bodies`` is given."""
    rng = np.random.default_rng(seed)
    shape = (t, 6, 3) if bodies is None else (t, bodies, 6, 3)
    return rng.normal(size=shape).astype(np.float32)


def bone_lengths(seq: np.ndarray) -> np.ndarray:
    return np.linalg.norm(seq[..., EDGES[:, 0], :] - seq[..., EDGES[:, 1], :], axis=-1)


@pytest.mark.parametrize("axis,name", [(0, "x"), (1, "y"), (2, "z")])
@pytest.mark.parametrize("degrees", [-170.0, -15.0, 0.0, 33.0, 90.0])
def test_rotation_matches_scipy(axis, name, degrees):
    expected = Rotation.from_euler(name, degrees, degrees=True).as_matrix()
    np.testing.assert_allclose(rotation_about_axis(axis, degrees), expected, atol=1e-12)


@pytest.mark.parametrize("up_axis", [0, 1, 2])
@pytest.mark.parametrize("bodies", [None, 2])
def test_rotation_about_up_axis_keeps_bones_and_height(up_axis, bodies):
    seq = skeleton_clip(bodies=bodies)
    rng = np.random.default_rng(1)
    for _ in range(5):
        r = random_rotation_matrix(rng, up_degrees=180.0, tilt_degrees=0.0, up_axis=up_axis)
        out = rotate(seq, r)
        assert out.shape == seq.shape and out.dtype == np.float32
        np.testing.assert_allclose(bone_lengths(out), bone_lengths(seq), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out[..., up_axis], seq[..., up_axis], atol=1e-6)
        assert not np.allclose(out, seq, atol=1e-3)  # it did turn


def test_tilt_keeps_bone_lengths_and_is_a_rotation():
    seq = skeleton_clip()
    r = random_rotation_matrix(
        np.random.default_rng(2), up_degrees=30.0, tilt_degrees=10.0, up_axis=1
    )
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    np.testing.assert_allclose(
        bone_lengths(rotate(seq, r)), bone_lengths(seq), rtol=1e-5, atol=1e-5
    )
    # a tilt of at most 10 degrees moves the up vector by at most 10 degrees
    up = r @ np.array([0.0, 1.0, 0.0])
    assert np.degrees(np.arccos(np.clip(up[1], -1, 1))) <= np.hypot(10.0, 10.0) + 1e-9


@pytest.mark.parametrize("length", [7, 50])
def test_crop_of_a_linear_ramp_is_a_linear_ramp(length):
    t, slope = 40, 0.5
    ramp = (2.0 + slope * np.arange(t, dtype=np.float32))[:, None, None] * np.ones(
        (1, 4, 3), np.float32
    )
    rng = np.random.default_rng(3)
    for _ in range(10):
        out = random_crop_resample(ramp, rng, fraction=(0.5, 0.5), length=length)
        assert out.shape == (length, 4, 3)
        steps = np.diff(out[:, 0, 0])
        # evenly spaced samples of the line, spanning half of the clip's duration
        np.testing.assert_allclose(steps, slope * 0.5 * (t - 1) / (length - 1), rtol=1e-4)
        assert ramp.min() - 1e-5 <= out.min() and out.max() <= ramp.max() + 1e-5


def test_crop_window_position_is_random_and_inside():
    ramp = np.arange(100, dtype=np.float32).reshape(100, 1, 1)
    rng = np.random.default_rng(4)
    starts = [
        random_crop_resample(ramp, rng, fraction=(0.3, 0.6), length=10)[0, 0, 0] for _ in range(200)
    ]
    ends = [
        random_crop_resample(ramp, rng, fraction=(0.3, 0.6), length=10)[-1, 0, 0]
        for _ in range(200)
    ]
    assert min(starts) >= 0 and max(ends) <= 99
    assert np.ptp(starts) > 20  # the window moves around


def test_identity_settings_return_the_input():
    for clip in (skeleton_clip(), skeleton_clip(bodies=2)):
        out = Augment()(clip, np.random.default_rng(0))
        np.testing.assert_array_equal(out, clip)
        assert out is not clip
        out = Augment(
            length=clip.shape[0],
            crop=(1.0, 1.0),
            rotate_up=0.0,
            tilt=0.0,
            scale=(1.0, 1.0),
            noise=0.0,
        )(clip, np.random.default_rng(0))
        np.testing.assert_allclose(out, clip, atol=1e-6)


@pytest.mark.parametrize("bodies", [None, 1, 2])
@pytest.mark.parametrize("length,expect", [(32, (32, 32)), ((10, 20), (10, 20)), (None, (16, 30))])
def test_shapes_for_both_layouts(bodies, length, expect):
    clip = skeleton_clip(t=30, bodies=bodies)
    aug = Augment(
        length=length, crop=(0.5, 1.0), rotate_up=45.0, tilt=5.0, scale=(0.9, 1.1), noise=0.01
    )
    rng = np.random.default_rng(5)
    for _ in range(10):
        out = aug(clip, rng)
        assert out.shape[1:] == clip.shape[1:] and out.dtype == np.float32
        assert expect[0] <= out.shape[0] <= expect[1]


def test_scale_multiplies_every_bone_by_one_factor():
    clip = skeleton_clip()
    out = Augment(scale=(0.8, 1.2))(clip, np.random.default_rng(6))
    ratio = bone_lengths(out) / bone_lengths(clip)
    assert 0.8 <= ratio.mean() <= 1.2
    np.testing.assert_allclose(ratio, ratio.mean(), rtol=1e-5)


def test_joint_noise_statistics_and_reproducibility():
    clip = np.zeros((200, 10, 3), np.float32)
    out = add_joint_noise(clip, 0.05, np.random.default_rng(7))
    assert out.std() == pytest.approx(0.05, rel=0.05)
    assert abs(out.mean()) < 0.005
    np.testing.assert_array_equal(out, add_joint_noise(clip, 0.05, np.random.default_rng(7)))
    np.testing.assert_array_equal(add_joint_noise(clip, 0.0, np.random.default_rng(7)), clip)
    assert not clip.any()  # the input is untouched


def test_augment_pickles_and_is_reproducible():
    aug = Augment(
        length=(20, 30), crop=(0.7, 1.0), rotate_up=180.0, tilt=5.0, scale=(0.9, 1.1), noise=0.01
    )
    twin = pickle.loads(pickle.dumps(aug))
    clip = skeleton_clip()
    np.testing.assert_array_equal(
        aug(clip, np.random.default_rng(8)), twin(clip, np.random.default_rng(8))
    )
    assert Augment.from_dict(aug.to_dict()) == aug


def test_clear_errors():
    with pytest.raises(ValueError, match="C = 2"):
        rotate(np.zeros((5, 4, 2)), np.eye(3))
    with pytest.raises(ValueError, match=r"expected \(T, V, C\)"):
        Augment()(np.zeros((5, 4)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="crop"):
        Augment(crop=(0.0, 1.0))
    with pytest.raises(ValueError, match="unknown settings"):
        Augment.from_dict({"rotate": 10})
    with pytest.raises(ValueError, match="zero frames"):
        Augment(length=4)(np.zeros((0, 3, 3)), np.random.default_rng(0))


def test_speed_changes_the_number_of_frames_log_uniformly():
    ramp = np.arange(101, dtype=np.float32).reshape(101, 1, 1) * np.ones((1, 2, 3), np.float32)
    rng = np.random.default_rng(0)
    aug = Augment(speed=(0.5, 2.0))
    lengths = np.array([len(aug(ramp, rng)) for _ in range(400)])
    # the whole clip (crop 1) played s times as fast has round(101 / s) frames, s in [0.5, 2]
    assert lengths.min() >= 50 and lengths.max() <= 202
    # log-uniform speed: as many clips sped up as slowed down
    assert abs(np.mean(lengths > 101) - 0.5) < 0.08
    out = Augment(speed=(2.0, 2.0))(ramp, rng)
    assert len(out) == round(101 / 2.0) == 50 and out[0, 0, 0] == 0 and out[-1, 0, 0] == 100
    with pytest.raises(ValueError, match="speed applies only with length=None"):
        Augment(length=32, speed=(0.8, 1.2))
    with pytest.raises(ValueError, match="speed must be"):
        Augment(speed=(1.2, 0.8))


def test_joint_noise_is_a_share_of_the_skeleton_height():
    from helpers.data.augment import with_joint_noise
    from helpers.data.dataset import SkeletonDataset, skeleton_height

    rng = np.random.default_rng(1)
    seqs = []
    for height in (1.0, 2.0):
        s = rng.normal(0, 0.01, (200, 6, 3)).astype(np.float32)
        s[:, :, 1] += np.linspace(0, height, 6)  # joints stacked along y: the height
        seqs.append(s)
    ds = SkeletonDataset.from_arrays(seqs, [0, 1], up_axis=1)
    assert [round(skeleton_height(s), 1) for s in seqs] == [1.0, 2.0]
    noisy = with_joint_noise(ds, 0.05, random_state=3)
    for clean, dirty, h in zip(ds.sequences, noisy.sequences, (1.0, 2.0)):
        assert np.std(dirty - clean) == pytest.approx(0.05 * h, rel=0.05)
    again = with_joint_noise(ds, 0.05, random_state=3)
    np.testing.assert_array_equal(noisy.sequences[1], again.sequences[1])
    for a, b in zip(with_joint_noise(ds, 0.0).sequences, ds.sequences):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="noise fraction"):
        with_joint_noise(ds, -0.1)
