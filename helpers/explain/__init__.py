"""Explanations.

Layerwise spatio-temporal Grad-CAM, its sanity and faithfulness checks, its summaries.

The package map is in the README (Modules).
"""

from helpers.explain.checks import (
    cascading_randomization,
    compare_models,
    curve_areas,
    deletion_insertion,
    map_rank_correlation,
    randomize_from,
    remove_joints,
)
from helpers.explain.gradcam import (
    CapturedOutputs,
    ClassTarget,
    DatasetGradCAM,
    block_outputs,
    cam,
    channel_weights,
    class_average,
    concentration,
    contrastivity,
    dataset_gradcam,
    gradcam_pass,
    joint_importance,
    layer_gradcam,
    layer_strides,
    resolve_layers,
    upsample_time,
)
from helpers.explain.summaries import TOP_FRAMES, TOP_JOINTS, map_summary

__all__ = [
    "CapturedOutputs",
    "ClassTarget",
    "DatasetGradCAM",
    "TOP_FRAMES",
    "TOP_JOINTS",
    "block_outputs",
    "cam",
    "cascading_randomization",
    "channel_weights",
    "class_average",
    "compare_models",
    "concentration",
    "contrastivity",
    "curve_areas",
    "dataset_gradcam",
    "deletion_insertion",
    "gradcam_pass",
    "joint_importance",
    "layer_gradcam",
    "layer_strides",
    "map_rank_correlation",
    "map_summary",
    "randomize_from",
    "remove_joints",
    "resolve_layers",
    "upsample_time",
]
