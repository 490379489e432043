"""Canonical clips: centred, scaled and turned to one heading, for the model and for layer 0."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from helpers.data import (
    HDM05,
    NTU_RGBD,
    UTD_MHAD,
    SkeletonDataset,
    rotate,
    rotation_about_axis,
)
from helpers.data.canonical import (
    HEADING_SECONDS,
    canonical_clip,
    heading_angle,
    heading_joints,
    turn_about_up,
)
from helpers.nets.stgcn import STGCN
from helpers.training.config import TrainConfig
from helpers.training.features import layer_features
from helpers.training.inputs import model_inputs


def _walk(rng: np.random.Generator, frames: int, layout=UTD_MHAD) -> np.ndarray:
    """(T, V, 3) a body of the layout's joints moving about, hips and shoulders 0.3 m apart."""
    v = layout.num_joints
    pose = rng.normal(0.0, 0.3, size=(v, 3))
    pose[:, 1] = np.linspace(1.7, 0.0, v)
    for left, right in (layout.hips, layout.shoulders):
        pose[left] = (-0.15, pose[left, 1], 0.02)
        pose[right] = (0.15, pose[right, 1], -0.02)
    drift = np.cumsum(rng.normal(0, 0.01, size=(frames, v, 3)), axis=0)
    return (pose + drift + np.array([1.0, 0.0, 3.0])).astype(np.float32)


def _turned(seq: np.ndarray, degrees: float, shift=(0.4, 0.0, -1.2)) -> np.ndarray:
    """The clip turned about the vertical (y) axis through the camera and moved elsewhere."""
    return rotate(seq, rotation_about_axis(1, degrees)) + np.asarray(shift, np.float32)


def _dataset(seqs, layout=UTD_MHAD, fps=10.0) -> SkeletonDataset:
    return SkeletonDataset.from_arrays(
        seqs,
        labels=[i % 2 for i in range(len(seqs))],
        edges=layout.edges,
        center=layout.root,
        joint_names=layout.joint_names,
        fps=fps,
        name="toy",
    )


def test_hand_worked_heading_and_turn():
    clip = np.zeros((3, 20, 3), np.float32)
    clip[:, 12] = (0.0, 1.0, 0.0)  # left hip
    clip[:, 16] = (1.0, 1.0, 1.0)  # right hip: the line runs at 45 degrees from +x toward +z
    clip[0, 0, 1] = 2.0  # a head, for a height
    angle = heading_angle(clip, UTD_MHAD.hips, UTD_MHAD.shoulders)
    assert angle == pytest.approx(math.pi / 4)
    out = turn_about_up(clip, angle)
    np.testing.assert_allclose(out[0, 16] - out[0, 12], [math.sqrt(2), 0.0, 0.0], atol=1e-6)
    np.testing.assert_array_equal(out[..., 1], clip[..., 1])  # heights are untouched


@pytest.mark.parametrize("degrees", [0.0, 37.0, -90.0, 150.0, 180.0])
def test_a_turned_and_moved_clip_becomes_the_same_clip(degrees):
    rng = np.random.default_rng(1)
    clip = _walk(rng, 12)
    kwargs = dict(root=UTD_MHAD.root, hips=UTD_MHAD.hips, shoulders=UTD_MHAD.shoulders)
    a = canonical_clip(clip, scale="height", heading_frames=2, **kwargs)
    b = canonical_clip(_turned(clip, degrees), scale="height", heading_frames=2, **kwargs)
    np.testing.assert_allclose(a, b, atol=1e-5)
    # and the canonical hip line points along +x
    line = a[:2, UTD_MHAD.hips[1]].mean(0) - a[:2, UTD_MHAD.hips[0]].mean(0)
    assert line[0] > 0 and abs(line[2]) < 1e-5


def test_without_a_heading_normalised_clips_are_what_they_were():
    rng = np.random.default_rng(2)
    clip = _walk(rng, 8)
    ds = _dataset([clip])
    out = ds.normalized("first", "height").sequences[0]
    centred = clip - clip[0, UTD_MHAD.root]
    np.testing.assert_array_equal(out, centred / float(np.ptp(centred[0, :, 1])))


def test_shoulders_stand_in_for_hips_and_no_line_warns():
    rng = np.random.default_rng(3)
    clip = _walk(rng, 6)
    clip[:, UTD_MHAD.hips[1]] = clip[:, UTD_MHAD.hips[0]]  # hips at one point
    turned = _turned(clip, 70.0)
    kwargs = dict(root=UTD_MHAD.root, hips=UTD_MHAD.hips, shoulders=UTD_MHAD.shoulders)
    np.testing.assert_allclose(
        canonical_clip(clip, **kwargs), canonical_clip(turned, **kwargs), atol=1e-5
    )
    clip[:, UTD_MHAD.shoulders[1]] = clip[:, UTD_MHAD.shoulders[0]]
    with pytest.warns(UserWarning, match="clip 7: no heading"):
        out = canonical_clip(clip, name="clip 7", **kwargs)
    np.testing.assert_allclose(out, clip - clip[0, UTD_MHAD.root], atol=1e-6)


def test_several_bodies_turn_with_body_zero():
    rng = np.random.default_rng(4)
    two = np.stack([_walk(rng, 5, NTU_RGBD), _walk(rng, 5, NTU_RGBD)], axis=1)  # (T, 2, V, 3)
    kwargs = dict(root=NTU_RGBD.root, hips=NTU_RGBD.hips, shoulders=NTU_RGBD.shoulders)
    a = canonical_clip(two, **kwargs)
    b = canonical_clip(np.stack([_turned(two[:, 0], 55.0), _turned(two[:, 1], 55.0)], 1), **kwargs)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_heading_joints_from_layouts_and_names():
    assert heading_joints(HDM05.joint_names) == (HDM05.hips, HDM05.shoulders)
    assert [HDM05.joint_names[i] for i in HDM05.hips] == ["lhipjoint", "rhipjoint"]
    assert heading_joints(["Left Hip", "Right Hip", "neck"]) == ((0, 1), None)
    assert heading_joints(["a", "b"]) == (None, None)


def test_dataset_heading_uses_the_first_fifth_of_a_second_and_refuses_unknown_joints():
    rng = np.random.default_rng(5)
    clip = _walk(rng, 20)
    # at 30 fps the heading is averaged over the first 6 frames
    frames = round(HEADING_SECONDS * 30)
    ds = _dataset([clip], fps=30.0)
    out = ds.normalized("first", None, heading="first").sequences[0]
    hips = UTD_MHAD.hips
    line = (out[:frames, hips[1]] - out[:frames, hips[0]]).mean(0)
    assert abs(line[2]) < 1e-5 and line[0] > 0
    anonymous = SkeletonDataset.from_arrays([clip], [0], name="anon")
    with pytest.raises(ValueError, match="heading='first'.*'anon'"):
        anonymous.normalized(heading="first")
    with pytest.raises(ValueError, match="heading must be None or 'first'"):
        ds.normalized(heading="last")


def test_model_input_and_every_layer_ignore_the_heading():
    rng = np.random.default_rng(6)
    clips = [_walk(rng, t) for t in (9, 12, 15)]
    ds = _dataset(clips)
    angles = [25.0, -120.0, 170.0]
    turned = _dataset([_turned(c, a) for c, a in zip(clips, angles)])
    cfg = TrainConfig(center="first", scale="height", heading="first", **_natural())
    xa, la = model_inputs(ds, cfg)
    xb, lb = model_inputs(turned, cfg)
    np.testing.assert_allclose(xa, xb, atol=1e-5)
    model = STGCN(num_classes=2, layout="utd-mhad", width=0.125, num_blocks=4, random_state=0)
    fa = layer_features(model, ds, cfg, device="cpu", cache=False, progress=False)
    fb = layer_features(model, turned, cfg, device="cpu", cache=False, progress=False)
    for layer_a, layer_b in zip(fa, fb):
        for a, b in zip(layer_a, layer_b):
            np.testing.assert_allclose(a, b, atol=1e-4)
    # without the heading, layer 0 keeps the turn: the check above can fail
    plain = TrainConfig(center="first", scale="height", **_natural())
    assert not np.allclose(model_inputs(ds, plain)[0], model_inputs(turned, plain)[0], atol=1e-3)


def _natural() -> dict:
    return {"clip_mode": "natural", "eval_mode": "natural"}


def test_train_config_heading():
    assert "heading" not in TrainConfig().to_dict()  # the old cache keys stay valid
    assert TrainConfig(heading="first").to_dict()["heading"] == "first"
    assert TrainConfig.from_dict(TrainConfig(heading="first").to_dict()).heading == "first"
    with pytest.raises(ValueError, match="heading must be None or 'first'"):
        TrainConfig(heading="north")


def test_no_heading_warning_for_real_bodies():
    rng = np.random.default_rng(7)
    ds = _dataset([_walk(rng, 5) for _ in range(4)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds.normalized(heading="first")
