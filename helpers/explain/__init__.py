"""Explanations.

Layerwise spatio-temporal Grad-CAM, its sanity checks, deletion and insertion, its summaries.

The package map is in the README (Modules).
"""

from helpers.explain.checks import (
    cascading_randomization,
    compare_models,
    map_agreement,
    map_rank_correlation,
    randomize_from,
)
from helpers.explain.deletion import (
    BASELINES,
    DELETION_UNITS,
    DeletionResult,
    deletion_areas,
    deletion_gains,
    motion_energy,
    remove_cells,
    unit_ranks,
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
    mean_logit,
    resolve_layers,
    upsample_time,
)
from helpers.explain.summaries import TOP_FRAMES, TOP_JOINTS, map_summary

__all__ = [
    "BASELINES",
    "CapturedOutputs",
    "DELETION_UNITS",
    "DeletionResult",
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
    "dataset_gradcam",
    "deletion_areas",
    "deletion_gains",
    "gradcam_pass",
    "joint_importance",
    "layer_gradcam",
    "layer_strides",
    "map_agreement",
    "map_rank_correlation",
    "map_summary",
    "mean_logit",
    "motion_energy",
    "randomize_from",
    "remove_cells",
    "resolve_layers",
    "unit_ranks",
    "upsample_time",
]
