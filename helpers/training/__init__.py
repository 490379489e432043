"""Training.

The configuration, the input pipeline, the loop, checkpoints, the book's profiles, transfer
(freezing and fine-tuning) and each layer's output per clip.

The package map is in the README (Modules).
"""

from helpers.training.checkpoints import (
    CheckpointError,
    CheckpointMismatchError,
    load_checkpoint,
    save_checkpoint,
)
from helpers.training.config import EvalResult, TrainConfig, TrainResult
from helpers.training.features import layer_features, model_fingerprint, valid_lengths
from helpers.training.inputs import dataset_fingerprint, model_inputs, prepare_dataset
from helpers.training.loop import WarmupSchedule, evaluate, fit
from helpers.training.profiles import (
    DATASET_CHANGES,
    PROFILES,
    STUDY_SETTINGS,
    Profile,
    for_dataset,
    get_profile,
    study_settings,
)
from helpers.training.transfer import (
    HDM05_TASKS,
    UTD_MHAD_TASKS,
    default_tasks,
    few_shot,
    fine_tune,
    split_tasks,
    transfer_model,
)

__all__ = [
    "DATASET_CHANGES",
    "for_dataset",
    "CheckpointError",
    "CheckpointMismatchError",
    "EvalResult",
    "HDM05_TASKS",
    "UTD_MHAD_TASKS",
    "PROFILES",
    "Profile",
    "STUDY_SETTINGS",
    "TrainConfig",
    "TrainResult",
    "WarmupSchedule",
    "dataset_fingerprint",
    "default_tasks",
    "evaluate",
    "few_shot",
    "fine_tune",
    "fit",
    "get_profile",
    "layer_features",
    "load_checkpoint",
    "model_fingerprint",
    "model_inputs",
    "prepare_dataset",
    "save_checkpoint",
    "split_tasks",
    "study_settings",
    "transfer_model",
    "valid_lengths",
]
