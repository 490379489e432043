"""The one resampler: by frame count, by window, by frame rate; against np.interp and by hand."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.data.resampling import (
    crop_resample,
    fps_positions,
    frame_positions,
    interpolate_frames,
    resample,
    resample_fps,
)

from naive import naive_interp


def _clip(t: int = 23, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(t, 5, 3)).astype(np.float32)


# ------------------------------------------------------------------------------ by frame count
def test_resample_hand_worked_and_identity():
    seq = np.array([0.0, 10.0], dtype=np.float32).reshape(2, 1, 1)
    np.testing.assert_allclose(resample(seq, 3).ravel(), [0.0, 5.0, 10.0])
    clip = _clip(17)
    np.testing.assert_array_equal(resample(clip, 17), clip)


def test_crop_resample_matches_np_interp():
    clip = _clip(23)
    out = crop_resample(clip, 3.25, 18.5, 40)
    np.testing.assert_allclose(
        out, naive_interp(clip, np.linspace(3.25, 18.5, 40)), rtol=1e-5, atol=1e-5
    )


def test_resample_keeps_end_points_and_lines():
    x = np.stack([np.arange(5.0), 2 * np.arange(5.0) + 1], axis=1)  # straight lines in time
    y = resample(x, 9)
    np.testing.assert_allclose(y[:, 0], np.linspace(0, 4, 9))
    np.testing.assert_allclose(y[:, 1], 2 * np.linspace(0, 4, 9) + 1)
    np.testing.assert_allclose(resample(x, 2), x[[0, -1]])


def test_one_frame_conventions():
    x = np.arange(10.0).reshape(5, 2)
    # a one-frame input is repeated
    np.testing.assert_array_equal(resample(x[:1], 3), np.repeat(x[:1], 3, axis=0))
    # a single output frame is the window's time centre (the same for every entry point)
    np.testing.assert_allclose(resample(x, 1), naive_interp(x, np.array([2.0])))
    np.testing.assert_allclose(crop_resample(x, 1.0, 2.0, 1), naive_interp(x, np.array([1.5])))
    np.testing.assert_array_equal(frame_positions(1.0, 2.0, 1), [1.5])


def test_dtype_is_kept_and_integers_widen():
    assert resample(_clip(), 7).dtype == np.float32
    assert resample(_clip().astype(np.float64), 7).dtype == np.float64
    assert resample(np.arange(6).reshape(3, 2), 5).dtype == np.float64
    assert resample_fps(_clip(), 120, 30).dtype == np.float32


def test_whole_number_positions_return_stored_frames_exactly():
    clip = _clip(40)
    np.testing.assert_array_equal(
        interpolate_frames(clip, np.array([0.0, 3.0, 39.0])), clip[[0, 3, 39]]
    )


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="zero frames"):
        resample(np.zeros((0, 3, 3)), 4)
    with pytest.raises(ValueError, match="length"):
        resample(_clip(), 0)
    with pytest.raises(ValueError, match="inside frames"):
        crop_resample(_clip(10), 2.0, 12.0, 4)
    with pytest.raises(TypeError, match="dtype"):
        resample(np.array([["a"], ["b"]]), 3)


# ------------------------------------------------------------------------------ by frame rate
def test_fps_positions_integer_ratio_is_decimation():
    np.testing.assert_array_equal(fps_positions(9, 120, 30), [0, 4, 8])
    np.testing.assert_array_equal(fps_positions(11, 120, 30), [0, 4, 8])
    np.testing.assert_array_equal(fps_positions(1, 120, 30), [0])
    np.testing.assert_array_equal(fps_positions(5, 120, 120), np.arange(5))
    with pytest.raises(ValueError, match="positive"):
        fps_positions(5, 120, 0)


def test_resample_fps_matches_naive_interpolation_in_time():
    rng = np.random.default_rng(3)
    seq = rng.normal(size=(37, 4, 3))
    for fps in (25.0, 30.0, 7.0, 200.0):
        out = resample_fps(seq, 120.0, fps)
        t_src = np.arange(37) / 120.0
        t_new = np.arange(0, t_src[-1] + 1e-12, 1.0 / fps)
        ref = np.empty((len(t_new), 4, 3))
        for v in range(4):
            for c in range(3):
                ref[:, v, c] = np.interp(t_new, t_src, seq[:, v, c])
        assert out.shape == ref.shape
        np.testing.assert_allclose(out, ref, atol=1e-12)
    np.testing.assert_array_equal(resample_fps(seq, 120, 30), seq[::4])
