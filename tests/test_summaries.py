"""The Grad-CAM summary per block, against numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.explain.gradcam import DatasetGradCAM, class_average, contrastivity
from helpers.explain.summaries import map_summary

V = 6  # joints


def map_of(frames: list[list[float]]) -> np.ndarray:
    """An (M=1, T, V) map from rows of V values per frame."""
    return np.asarray(frames, np.float32)[None]


def test_map_summary_hand_worked_case():
    # block 1: three clips of 5 frames
    #   clip 0: all weight (10) on joint 0 at frame 0 -> top-5 joints 1, top-20% (1 frame) 1
    #   clip 1: uniform 1 everywhere (total 30) -> top-5 joints 25/30, busiest frame 6/30
    #   clip 2: all zero -> counted in zero_maps, left out of both means
    peak = np.zeros((5, V))
    peak[0, 0] = 10.0
    block1 = [map_of(peak), map_of(np.ones((5, V))), map_of(np.zeros((5, V)))]
    # block 2: two clips of 10 frames (top 20% = 2 frames), and the zero clip again
    #   clip 0: joint v gets v + 1 at every frame (total 10 * 21 = 210): the 5 top joints hold
    #           10 * (2 + 3 + 4 + 5 + 6) = 200; each frame holds 21, two frames 42
    #   clip 1: frame t gets t + 1 on joint 0 only (total 55): top-5 joints 1; two frames 10 + 9
    ramp_joints = np.tile(np.arange(1.0, V + 1), (10, 1))
    ramp_frames = np.zeros((10, V))
    ramp_frames[:, 0] = np.arange(1.0, 11)
    block2 = [map_of(ramp_joints), map_of(ramp_frames), map_of(np.zeros((10, V)))]
    labels = np.array([0, 1, 1])

    table = map_summary({2: block2, 1: block1}, labels, 2)

    assert list(table.index) == [1, 2] and table.index.name == "layer"
    assert list(table.columns) == [
        "top5_joint_share",
        "top20_frame_share",
        "zero_maps",
        "class_correlation",
    ]
    assert table.loc[1, "top5_joint_share"] == pytest.approx((1 + 25 / 30) / 2)
    assert table.loc[1, "top20_frame_share"] == pytest.approx((1 + 6 / 30) / 2)
    assert table.loc[2, "top5_joint_share"] == pytest.approx((200 / 210 + 1) / 2)
    assert table.loc[2, "top20_frame_share"] == pytest.approx((42 / 210 + 19 / 55) / 2)
    assert table.loc[1, "zero_maps"] == pytest.approx(1 / 3)
    assert table.loc[2, "zero_maps"] == pytest.approx(1 / 3)
    # class correlation, block 2: class 0's joint importance is joint v -> v + 1 (a ramp over
    # joints); class 1's is the mean of clip 1 (5.5 on joint 0, else 0) and the zero clip:
    # (2.75, 0, 0, 0, 0, 0). Centred, the ramp is r = (-2.5, -1.5, ..., 2.5) and the spike is
    # proportional to s = (5/6, -1/6, ..., -1/6): r.s = -2.5 (r sums to 0), r.r = 17.5,
    # s.s = 5/6, so the correlation is -2.5 / sqrt(17.5 * 5/6) = -sqrt(3/7) (one pair of classes)
    assert table.loc[2, "class_correlation"] == pytest.approx(-np.sqrt(3 / 7))
    # block 1: class 0 is a spike on joint 0 (10 / 5 frames = 2), class 1 is (1 + 0) / 2 on every
    # joint: a constant vector has no correlation, so the mean over no defined pair is NaN
    assert np.isnan(table.loc[1, "class_correlation"])


def test_map_summary_names_follow_the_settings_and_labels_are_optional():
    maps = {3: [map_of(np.ones((10, V)))]}
    table = map_summary(maps, top_joints=2, top_frames=0.5)
    assert list(table.columns) == [
        "top2_joint_share",
        "top50_frame_share",
        "zero_maps",
        "class_correlation",
    ]
    assert table.loc[3, "top2_joint_share"] == pytest.approx(2 / V)
    assert table.loc[3, "top50_frame_share"] == pytest.approx(0.5)
    assert np.isnan(table.loc[3, "class_correlation"])  # no labels given
    with pytest.raises(ValueError, match="2 labels for 1 maps"):
        map_summary(maps, [0, 1])


def test_map_summary_matches_the_dataset_gradcam_importance():
    # the class correlation uses each clip's map averaged over bodies and frames, exactly as
    # DatasetGradCAM.importance does (so chapter 6's table and the summary agree)
    rng = np.random.default_rng(0)
    maps = [rng.random((2, t, V)).astype(np.float32) for t in (4, 7, 5, 9)]
    labels = np.array([0, 1, 2, 1])
    cams = DatasetGradCAM(
        maps={1: maps},
        logits=np.zeros((4, 3), np.float32),
        targets=labels,
        labels=labels,
        lengths=np.array([4, 7, 5, 9]),
    )
    per_class = class_average(cams.importance(1), labels, 3)
    corr = contrastivity(per_class)[~np.eye(3, dtype=bool)]
    table = map_summary(cams.maps, labels, 3)
    assert table.loc[1, "class_correlation"] == pytest.approx(float(np.mean(corr)), rel=1e-12)
    assert isinstance(table, pd.DataFrame) and table.loc[1, "zero_maps"] == 0.0
