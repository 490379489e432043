"""The cached studies the chapters run, one module per family.

Every study takes one :class:`~helpers.studies.context.StudyContext`.

The package map is in the README (Modules).
"""

from helpers.studies.context import StudyContext, load_dataset, load_profile_dataset
from helpers.studies.geometry import (
    layer_geometry_key,
    layer_geometry_study,
    overall_geometry,
)
from helpers.studies.gradcam import (
    GradcamChecks,
    gradcam_checks_study,
    gradcam_maps,
    gradcam_smoothness_study,
    memorising_control,
)
from helpers.studies.models import (
    build_model,
    cached_training,
    get_trained_model,
    shuffle_labels,
    split_dataset,
    trained_and_untrained,
    untrained_model,
)
from helpers.studies.noise_robustness import (
    NOISE_STUDY_LEVELS,
    NoiseResult,
    noise_robustness_study,
)
from helpers.studies.own_model import own_model_study
from helpers.studies.scaling import scaling_study
from helpers.studies.separation import (
    EARLY,
    LATE,
    SHUFFLED_LABEL_SEED,
    SeparationResult,
    separation_study,
)
from helpers.studies.transfer import TransferResult, first_drop, transfer_study
from helpers.studies.validation import held_out_validation

__all__ = [
    "EARLY",
    "LATE",
    "SHUFFLED_LABEL_SEED",
    "NOISE_STUDY_LEVELS",
    "NoiseResult",
    "SeparationResult",
    "noise_robustness_study",
    "separation_study",
    "StudyContext",
    "build_model",
    "cached_training",
    "get_trained_model",
    "gradcam_checks_study",
    "gradcam_maps",
    "gradcam_smoothness_study",
    "GradcamChecks",
    "memorising_control",
    "held_out_validation",
    "layer_geometry_key",
    "layer_geometry_study",
    "load_dataset",
    "load_profile_dataset",
    "overall_geometry",
    "own_model_study",
    "scaling_study",
    "shuffle_labels",
    "split_dataset",
    "trained_and_untrained",
    "transfer_study",
    "TransferResult",
    "first_drop",
    "untrained_model",
]
