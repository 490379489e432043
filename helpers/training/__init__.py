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
from helpers.training.early_stopping import EarlyStopping, best_epoch
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
    HDM05_PAIRS,
    HDM05_TASKS,
    TRANSFER_MODES,
    UTD_MHAD_PAIRS,
    UTD_MHAD_TASKS,
    class_splits,
    default_tasks,
    few_shot,
    fitting_clips,
    split_tasks,
    train_transfer,
    transfer_model,
    transferred_parameters,
    validation_subject_of,
)

__all__ = [
    "DATASET_CHANGES",
    "for_dataset",
    "CheckpointError",
    "CheckpointMismatchError",
    "EvalResult",
    "EarlyStopping",
    "HDM05_PAIRS",
    "HDM05_TASKS",
    "TRANSFER_MODES",
    "UTD_MHAD_PAIRS",
    "UTD_MHAD_TASKS",
    "PROFILES",
    "Profile",
    "STUDY_SETTINGS",
    "TrainConfig",
    "TrainResult",
    "WarmupSchedule",
    "best_epoch",
    "class_splits",
    "dataset_fingerprint",
    "default_tasks",
    "evaluate",
    "few_shot",
    "fit",
    "fitting_clips",
    "get_profile",
    "layer_features",
    "load_checkpoint",
    "model_fingerprint",
    "model_inputs",
    "prepare_dataset",
    "save_checkpoint",
    "split_tasks",
    "study_settings",
    "train_transfer",
    "transfer_model",
    "transferred_parameters",
    "valid_lengths",
    "validation_subject_of",
]
