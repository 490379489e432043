"""Named experiment profiles: which ST-GCN, trained how, on which split.

``quick``
    A quarter-width ST-GCN (the original 10 blocks with 16 to 64 channels instead of 64 to 256)
    trained for 60 epochs on whole clips at their natural duration, at 10 frames per second
    (``clip_mode='natural'``: random 80-100% windows played at 0.8 to 1.25 times their speed,
    masked batches; see :mod:`helpers.training.loop`), centred on the root of the first frame and
    divided by the skeleton's height: under a minute on two CPU cores. These are
    the models the layer chapters analyse: each layer's output keeps the clip's own length.
    Its settings were chosen on a validation split that holds the training actor ``dg`` out
    (``get_profile('quick', data_split='validation:dg')``); the test actors (mm, tr) were never
    used for a choice.
``paper``
    The full-width ST-GCN of Yan et al. (2018) (64 to 256 channels, dropout 0.5, the reference
    configuration's optimiser: SGD + Nesterov, weight decay 1e-4), 80 epochs, on the same whole
    clips. st-gcn's step schedule (lr 0.1, divided by 10 at epochs 10 and 50) assumes NTU's
    hundreds of steps per epoch; HDM05's 188 training clips give 12, and with it the full
    network was still at 41% training accuracy after 20 epochs. The schedule is therefore the
    one chosen for ``quick`` on the held-out validation actor (cosine from lr 0.05 after one
    warm-up epoch, +-180 degree rotation about the vertical axis). Mixed precision on CUDA.
    Meant for a GPU.
``smoke``
    A check that every chapter runs on a dataset (``make book PROFILE=smoke DATASET=...``): the
    quick network at 1/16 of its width, 3 epochs, the studies' smallest sizes. Its numbers are
    no result.
``quick-resampled``, ``paper-resampled``
    The same networks trained the earlier way, for comparison: every clip resampled to 32 (64)
    frames from 30 fps, whatever its duration (``clip_mode='resample'``).

All train on the HDM05 cross-subject split (train actors bd, bk, dg; test actors mm, tr).

>>> prof = get_profile("quick")
>>> prof.model["width"], prof.train_config().epochs, prof.train_config().clip_mode
(0.25, 60, 'natural')
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from helpers.training.config import TrainConfig

__all__ = [
    "DATASET_CHANGES",
    "PROFILES",
    "STUDY_SETTINGS",
    "Profile",
    "for_dataset",
    "get_profile",
    "study_settings",
]


@dataclass(frozen=True)
class Profile:
    """One experiment setting.

    Attributes
    ----------
    name : short name
    model : keyword arguments of :class:`~helpers.nets.stgcn.STGCN` (``num_classes`` and
        ``in_channels`` come from the data)
    train : fields of :class:`helpers.training.config.TrainConfig`
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
        """The :class:`helpers.training.config.TrainConfig` of this profile."""
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

# Resampled clips: chosen on the validation split that holds training actor dg out.
_RESAMPLED_TRAIN = {
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

# Natural-length clips at 10 frames per second, chosen on held-out training actors only (top-1,
# seed 0). On actor dg: 10 fps, 40 epochs, speed 0.8-1.25: 98.4% (91.8% with another draw of the
# batches: single runs vary by several points); 10 fps, 60 epochs: 95.1%; 15 fps, 40 epochs:
# 96.7%; 15 fps, 30 epochs: 90.2%; 15 fps with speed 0.5-2: 55.7%; 15 fps with length-bucketed
# batches: 60.7% (see helpers.training.loop). Then over the three training actors (bd / bk / dg held
# out in turn, 10 fps, 40 epochs): no scaling 88.7 / 75.4 / 91.8% (mean 85.3%); scaled by the
# skeleton's height 96.8 / 87.7 / 91.8% (mean 92.1%); random scale 0.85-1.15 instead: 87.1% on bd;
# height and speed 0.67-1.5: 77.4 / 89.2 / 88.5% (85.0%); height and 80 epochs: 100 / 100 /
# 98.4% (99.5%), 128 to 164 s of training on two actors.
_NATURAL_TRAIN = {
    **_RESAMPLED_TRAIN,
    "epochs": 80,
    "scale": "height",
    "clip_mode": "natural",
    "eval_mode": "natural",
    "augment": {"crop": [0.8, 1.0], "speed": [0.8, 1.25], "rotate_up": 180.0},
    # Each clip turned to one heading (its first frames' hip line, helpers.data.canonical), so that
    # layer 0, the network's input, no longer carries the camera heading that the +-180 degree
    # turns teach the network to ignore (the actors face two directions: raw 1-NN from one group
    # to the other is 13-29%). Chosen as above (60 epochs, bd / bk / dg held out, seeds 0 and 1):
    # camera heading 95.5%, one heading with the turns kept 97.4%, one heading without them 94.5%.
    "heading": "first",
}
_NATURAL_DATA = {**_HDM05_CROSS_SUBJECT, "fps": 10.0}
# Epochs of the quick network, chosen on held-out training actors only (bd, bk, dg held out in
# turn, seeds 0 and 1: six runs per setting, top-1 on the held-out actor, packed batches): 80
# epochs 98.1% (100 / 98.5 / 95.1 and 100 / 98.5 / 96.7), 60 epochs 98.4%, 50 epochs 96.7%,
# 40 epochs 94.6%; batch 32 at lr 0.1 for 40 epochs 85.6% (seed 0), 30 epochs 86.7% (seed 0).
# The fewest epochs whose mean is within one point of 80 epochs' is 60.
_QUICK_CHANGES = {"epochs": 60}

_QUICK_MODEL = {
    "layout": "hdm05",
    "strategy": "spatial",
    "edge_importance": True,
    "width": 0.25,
    "num_blocks": 10,
    "temporal_kernel": 9,
    "dropout": 0.0,
}
# the full network of Yan et al. (2018), with the reference configuration's dropout
_PAPER_MODEL = {**_QUICK_MODEL, "width": 1.0, "dropout": 0.5}
# batch 16 instead of st-gcn's 64: HDM05's 188 training clips would give only 3 steps per epoch;
# the schedule validated for quick (see the module docstring), with st-gcn's weight decay
_PAPER_CHANGES = {"weight_decay": 1e-4, "amp": True}

PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        description="quarter-width ST-GCN, 10 blocks, 60 epochs on whole clips at 10 fps (CPU, "
        "under a minute)",
        model=dict(_QUICK_MODEL),
        train={**copy.deepcopy(_NATURAL_TRAIN), **_QUICK_CHANGES},
        data=dict(_NATURAL_DATA),
    ),
    "paper": Profile(
        name="paper",
        description="full ST-GCN (64 to 256 channels, dropout 0.5), 80 epochs on whole clips at "
        "10 fps (GPU)",
        model=dict(_PAPER_MODEL),
        train={**copy.deepcopy(_NATURAL_TRAIN), **_PAPER_CHANGES},
        data=dict(_NATURAL_DATA),
    ),
    # A check that every chapter runs on a dataset, not a result: the quick network at a
    # sixteenth of its width (10 blocks still, so that every block-wise summary has its early
    # and late blocks) trained for 3 epochs, with the studies' smallest sizes (STUDY_SETTINGS).
    "smoke": Profile(
        name="smoke",
        description="a check that the chapters run on your data: a 1/16-width ST-GCN trained "
        "for 3 epochs (its numbers are no result)",
        model={**_QUICK_MODEL, "width": 0.0625},
        train={**copy.deepcopy(_NATURAL_TRAIN), "epochs": 3},
        data=dict(_NATURAL_DATA),
    ),
    "quick-resampled": Profile(
        name="quick-resampled",
        description="quarter-width ST-GCN, 50 epochs on clips resampled to 32 frames (30 fps "
        "source)",
        model=dict(_QUICK_MODEL),
        train=copy.deepcopy(_RESAMPLED_TRAIN),
        data=dict(_HDM05_CROSS_SUBJECT),
    ),
    "paper-resampled": Profile(
        name="paper-resampled",
        description="full ST-GCN, 60 epochs on clips resampled to 64 frames (GPU)",
        model=dict(_PAPER_MODEL),
        train={**copy.deepcopy(_RESAMPLED_TRAIN), **_PAPER_CHANGES, "epochs": 60, "length": 64},
        data=dict(_HDM05_CROSS_SUBJECT),
    ),
}


def get_profile(name: str, **changes: Any) -> Profile:
    """A copy of the profile called ``name`` (``'quick'`` or ``'paper'``), optionally with changes.

    ``changes`` are passed to :meth:`Profile.replace`, e.g.
    ``get_profile('quick', data_split='validation:dg')``.
    """
    if isinstance(name, Profile):
        prof = name
    elif name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}")
    else:
        prof = PROFILES[name]
    prof = copy.deepcopy(prof)
    return prof.replace(**changes) if changes else prof


#: What each profile changes on a dataset other than HDM05, as :meth:`Profile.replace` keywords;
#: chosen on held-out training subjects only (see :func:`for_dataset`).
DATASET_CHANGES: dict[str, dict[str, Any]] = {
    "hdm05": {},
    # UTD-MHAD: the Kinect v1 skeleton and its cross-subject split (subjects 1, 3, 5, 7 train).
    # Chosen on held-out training subjects only (s1 / s3 / s5 / s7 held out in turn, seed 0,
    # quick settings otherwise, 60 epochs at 10 fps): HDM05's settings 81.3 / 48.1 / 55.6 /
    # 69.4% (mean 63.6%); clips turned to one heading, rotation kept 72.0 / 55.6 / 58.3 / 56.5%
    # (60.6%); one heading and no rotation 72.0 / 75.0 / 82.4 / 76.9% (76.6%). Every subject
    # faces the camera, so a random turn of up to 180 degrees only hides the direction of
    # movements that the classes differ by (swipe left and swipe right). With one heading and
    # no rotation: 100 epochs 78.5 / 75.9 / 85.2 / 81.5% (80.3%, 3.7 points above 60 epochs);
    # 15 fps and 60 epochs 89.7 / 79.6 / 44.4 / 86.1% (75.0%). 100 epochs win by 3.7 points,
    # but a quick UTD-MHAD network then trains for ~270 s on 2 cores (2.7 s an epoch), and
    # chapter 4 trains five of them: the profiles keep their own epochs (quick 60, 76.6% on
    # held-out training subjects; paper 80), so that the cold quick book fits its 35 minutes.
    "utd-mhad": {
        "model_layout": "utd-mhad",
        "data_dataset": "utd-mhad",
        "train_heading": "first",
        "train_augment": {"crop": [0.8, 1.0], "speed": [0.8, 1.25]},
    },
}


def for_dataset(profile: str | Profile, dataset: str) -> Profile:
    """The profile's settings for a dataset loaded by name (``'hdm05'`` or ``'utd-mhad'``).

    The profile keeps its name (its study sizes stay the same); its ``data['dataset']``, and so
    every cache key of what it trains, names the dataset. A profile already set for
    ``dataset`` is returned unchanged.
    """
    key = str(dataset).lower()
    if key not in DATASET_CHANGES:
        raise ValueError(
            f"dataset={dataset!r}: no profile settings for it; expected one of "
            f"{sorted(DATASET_CHANGES)} (other data: pass a SkeletonDataset or a saved .npz)"
        )
    prof = get_profile(profile)
    if prof.data.get("dataset", "hdm05") == key:
        return prof
    if prof.data.get("dataset", "hdm05") != "hdm05":
        raise ValueError(
            f"profile {prof.name!r} is already set for dataset {prof.data.get('dataset')!r}; "
            f"start from the profile's name to set it for {key!r}"
        )
    return prof.replace(**DATASET_CHANGES[key]) if DATASET_CHANGES[key] else prof


#: Sizes of the Grad-CAM and transfer studies per profile (see :func:`study_settings`).
STUDY_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "quick": {
        # chapters 4 and 5: the trained networks whose layers are compared (three seeds, the
        # fewest that show a spread; a quick network trains for ~90 s on HDM05, ~160 s on
        # UTD-MHAD, on 2 cores), the bootstrap resamples of the clips behind every interval
        # (200: the 2.5th and 97.5th percentiles rest on 5 resamples each) and the seeds of
        # the other-classes control (C2), which trains its own networks: the first seed only,
        # as the other controls, so that both datasets' chapter 4 fits the cold book's budget
        "geometry": {"seeds": (0, 1, 2), "n_boot": 200, "control_seeds": 1},
        # chapter 6: deletion and insertion over cells, joints and frames on up to
        # `clips_per_class` test clips of every class (8: most of HDM05's test clips, about
        # half of UTD-MHAD's, to fit the cold book's budget; the paper profile takes all),
        # `deletion_steps` points per curve, `random_orders` random orders beside the
        # motion-energy order; the memorising control trains on shuffled labels of
        # `memorise_clips_per_class` training clips per class, without augmentation, for
        # `memorise_epochs` (to fit at least 95% of them); one more real seed gives the
        # seed-to-seed agreement; `n_boot` resamples of the clips behind every interval
        "gradcam": {
            "clips_per_class": 8,
            "deletion_units": ("cell", "joint", "frame"),
            "deletion_steps": 4,
            "random_orders": 1,
            "memorise_clips_per_class": 4,
            "memorise_epochs": 150,
            "control_seed": 1,
            "n_boot": 200,
        },
        # Yosinski et al.'s design (helpers.studies.transfer): every run trains until its
        # validation subject has not improved for `patience` epochs (at most `max_epochs`),
        # AnB+'s learning-rate factor chosen per run from `lr_factors` on that subject. The
        # quick grid is what fits the cold book's budget: one split, one seed, two depths (an
        # early and a late block), all training clips. At most the profile's own 60 epochs:
        # with 40 (patience 8) training from scratch on HDM05's 43 fitting clips still
        # improved at epoch 34, with 30 (patience 6) it stopped at 27% top-1. Measured with
        # k = 2, 5, 8 and 40 epochs: HDM05 254 s, UTD-MHAD 455 s on 2 cores, the deeper k
        # the fastest. Chapter 7 prints what the full grid costs; the paper profile runs it
        "transfer": {
            "splits": 1,
            "seeds": (0,),
            "shots": (None,),
            "ks": (3, 7),
            "lr_factors": (0.1, 1.0),
            "max_epochs": 60,
            "patience": 10,
            "n_boot": 200,
        },
        # kNN-DTW at scale (chapter 8): N augmented clips at the input's width, fewer at a
        # hidden layer's (64 channels x the joints); all pairs runs at every N here
        "scaling": {
            "sizes": (250, 500, 1000, 2000),
            "hidden_sizes": (250, 500, 1000),
            "hidden_channels": 64,
            "all_pairs_max": 2000,
            "bound_pairs": 2000,
        },
    },
    # the smallest sizes at which every study still computes every table (two seeds for the
    # seed-to-seed spreads, 20 resamples for the intervals' code paths): see the "smoke" profile
    "smoke": {
        "geometry": {"seeds": (0, 1), "n_boot": 20, "control_seeds": 1},
        "gradcam": {
            "clips_per_class": 2,
            "deletion_units": ("cell", "joint", "frame"),
            "deletion_steps": 2,
            "random_orders": 1,
            "memorise_clips_per_class": 2,
            "memorise_epochs": 5,
            "control_seed": 1,
            "n_boot": 20,
        },
        "transfer": {
            "splits": 1,
            "seeds": (0,),
            "shots": (None,),
            "ks": (3,),
            "lr_factors": (1.0,),
            "max_epochs": 3,
            "patience": 2,
            "n_boot": 20,
        },
        "scaling": {
            "sizes": (40, 80),
            "hidden_sizes": (40,),
            "hidden_channels": 8,
            "all_pairs_max": 80,
            "bound_pairs": 80,
        },
    },
    "paper": {
        "geometry": {"seeds": (0, 1, 2), "n_boot": 1000, "control_seeds": 3},
        "gradcam": {
            "clips_per_class": None,
            "deletion_units": ("cell", "joint", "frame"),
            "deletion_steps": 10,
            "random_orders": 5,
            "memorise_clips_per_class": None,
            "memorise_epochs": 300,
            "control_seed": 1,
            "n_boot": 1000,
        },
        "transfer": {
            "splits": 3,
            "seeds": (0, 1, 2),
            "shots": (2, 5, None),
            "ks": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
            "lr_factors": (0.01, 0.1, 1.0),
            "max_epochs": 100,
            "patience": 15,
            "n_boot": 1000,
        },
        "scaling": {
            "sizes": (500, 1000, 2000, 5000, 10000, 20000),
            "hidden_sizes": (500, 1000, 2000, 5000),
            "hidden_channels": 64,
            "all_pairs_max": 20000,
            "bound_pairs": 5000,
        },
    },
}


def study_settings(profile: str | Profile, study: str) -> dict[str, Any]:
    """Sizes of ``study`` (``'geometry'``, ``'gradcam'``, ``'transfer'``, ``'scaling'``).

    ``quick``, ``smoke`` and ``paper`` have their own. Profiles without their own entry use
    ``quick``'s when their name starts with ``quick`` and ``paper``'s otherwise. ``None``
    epochs mean the profile's own.
    """
    name = profile.name if isinstance(profile, Profile) else str(profile)
    base = name if name in STUDY_SETTINGS else ("quick" if name.startswith("quick") else "paper")
    if study not in STUDY_SETTINGS[base]:
        raise ValueError(f"unknown study {study!r}; known: {sorted(STUDY_SETTINGS[base])}")
    return copy.deepcopy(STUDY_SETTINGS[base][study])
