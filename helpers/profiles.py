"""Named experiment profiles: which ST-GCN, trained how, on which split.

``quick``
    A quarter-width ST-GCN (the original 10 blocks with 16 to 64 channels instead of 64 to 256)
    trained for 50 epochs on clips resampled to 32 frames: about two minutes on two CPU cores.
    Its settings (epochs, clip length, learning rate, weight decay, augmentation, class
    balancing, centring, scaling, evaluation by resampling) were chosen on a validation split that
    holds the training actor ``dg`` out (``get_profile('quick', data_split='validation:dg')``); the
    test actors (mm, tr) were never used for a choice.
``paper``
    The full-width ST-GCN of Yan et al. (2018) (64 to 256 channels, dropout 0.5, the reference
    configuration's optimiser: SGD + Nesterov, weight decay 1e-4) on 64-frame clips, 60 epochs.
    st-gcn's step schedule (lr 0.1, divided by 10 at epochs 10 and 50) assumes NTU's hundreds of
    steps per epoch; HDM05's 188 training clips give 12, and with it the full network was still
    at 41% training accuracy after 20 epochs. The schedule is therefore the one chosen for
    ``quick`` on the held-out validation actor (cosine from lr 0.05 after one warm-up epoch,
    +-180 degree rotation about the vertical axis, 80-100% crops). Mixed precision on CUDA.
    Meant for a GPU (about half an hour on 2 CPU cores).

Both train on the HDM05 cross-subject split (train actors bd, bk, dg; test actors mm, tr).

>>> prof = get_profile("quick")
>>> prof.model["width"], prof.train_config().epochs
(0.25, 50)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .training import TrainConfig

__all__ = ["PROFILES", "Profile", "get_profile"]


@dataclass(frozen=True)
class Profile:
    """One experiment setting.

    name : short name
    model : keyword arguments of :class:`helpers.model.STGCN` (``num_classes`` and ``in_channels``
        come from the data)
    train : fields of :class:`helpers.training.TrainConfig`
    data : ``dataset`` (``'hdm05'``), ``fps`` the clips are resampled to when loaded, ``split``
        (``'cross-subject'``, or ``'validation:<actor>'`` to hold a training actor out for model
        selection)
    description : one line for captions
    """

    name: str
    model: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    description: str = ""

    def train_config(self) -> TrainConfig:
        """The :class:`helpers.training.TrainConfig` of this profile."""
        return TrainConfig.from_dict(self.train)

    def to_dict(self) -> dict[str, Any]:
        """Everything that determines the trained model (the description is left out)."""
        return {
            "name": self.name,
            "model": copy.deepcopy(self.model),
            "train": self.train_config().to_dict(),
            "data": copy.deepcopy(self.data),
        }

    def replace(self, **changes: Any) -> "Profile":
        """A copy with some entries of ``model``, ``train`` or ``data`` changed.

        Keyword names pick the section: ``model_width=0.5``, ``train_epochs=10``,
        ``data_split=...``; ``name=...`` renames.
        """
        parts = {
            "model": copy.deepcopy(self.model),
            "train": copy.deepcopy(self.train),
            "data": copy.deepcopy(self.data),
        }
        name = changes.pop("name", self.name)
        for key, value in changes.items():
            section, _, item = key.partition("_")
            if section not in parts or not item:
                raise ValueError(
                    f"Profile.replace: {key!r} must start with 'model_', 'train_' or 'data_'"
                )
            parts[section][item] = value
        return Profile(name=name, description=self.description, **parts)


_HDM05_CROSS_SUBJECT = {"dataset": "hdm05", "fps": 30.0, "split": "cross-subject"}

# Chosen on the validation split that holds training actor dg out.
_QUICK_TRAIN = {
    "epochs": 50,
    "batch_size": 16,
    "lr": 0.05,
    "momentum": 0.9,
    "nesterov": True,
    "weight_decay": 5e-4,
    "schedule": "cosine",
    "warmup_epochs": 1.0,
    "balance": "none",
    "center": "first",
    "scale": None,
    "length": 32,
    "eval_mode": "resample",
    "augment": {"crop": [0.8, 1.0], "rotate_up": 180.0},
}

PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        description="quarter-width ST-GCN, 10 blocks, 50 epochs on 32-frame clips (CPU, about 2 "
        "minutes)",
        model={
            "layout": "hdm05",
            "strategy": "spatial",
            "edge_importance": True,
            "width": 0.25,
            "num_blocks": 10,
            "temporal_kernel": 9,
            "dropout": 0.0,
        },
        train=copy.deepcopy(_QUICK_TRAIN),
        data=dict(_HDM05_CROSS_SUBJECT),
    ),
    "paper": Profile(
        name="paper",
        description="full ST-GCN (64 to 256 channels, dropout 0.5), 60 epochs on 64-frame clips "
        "(GPU)",
        model={
            "layout": "hdm05",
            "strategy": "spatial",
            "edge_importance": True,
            "width": 1.0,
            "num_blocks": 10,
            "temporal_kernel": 9,
            "dropout": 0.5,
        },
        # batch 16 instead of st-gcn's 64: HDM05's 188 training clips would give only 3 steps per
        # epoch
        # the schedule validated for quick (see the module docstring), with st-gcn's weight decay
        train={
            **copy.deepcopy(_QUICK_TRAIN),
            "epochs": 60,
            "weight_decay": 1e-4,
            "length": 64,
            "amp": True,
        },
        data=dict(_HDM05_CROSS_SUBJECT),
    ),
}


def get_profile(name: str, **changes: Any) -> Profile:
    """A copy of the profile called ``name`` (``'quick'`` or ``'paper'``), optionally with changes.

    ``changes`` are passed to :meth:`Profile.replace`, e.g. ``get_profile('quick',
    data_split='validation:dg')``.
    """
    if isinstance(name, Profile):
        prof = name
    elif name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}")
    else:
        prof = PROFILES[name]
    prof = copy.deepcopy(prof)
    return prof.replace(**changes) if changes else prof
