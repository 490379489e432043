"""Plausible mistakes at the training subpackage's door get one error that names the argument.

Each case is ``(call, error type, pattern)``: the pattern must be found in the message and
names the user's argument (or the file, or the task), so that the message can be acted on.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.data import SkeletonDataset
from helpers.runtime.arguments import check_choice, check_int, check_number
from helpers.studies.models import build_model
from helpers.training import (
    TrainConfig,
    class_splits,
    evaluate,
    few_shot,
    fit,
    for_dataset,
    get_profile,
    split_tasks,
    study_settings,
    train_transfer,
    transfer_model,
)

from builders import make_dataset, tiny_profile

TOY = make_dataset(n_per_class=6, classes=4)
PROFILE = tiny_profile()
MODEL = build_model(PROFILE, TOY, 0)
CONFIG = PROFILE.train_config()


def _empty():
    """A dataset of no clips, as the constructor (not ``subset``, which refuses) allows."""
    return SkeletonDataset(
        sequences=[], labels=np.zeros(0, np.int64), class_names=list(TOY.class_names),
        subjects=np.zeros(0), split=np.zeros(0, str), edges=TOY.edges,
    )  # fmt: skip


def _test_only_classes():
    """The toy with classes 1 and 3 in the test split only."""
    ds = make_dataset(n_per_class=6, classes=4)
    ds.split = np.where(np.isin(ds.labels, [1, 3]), "test", ds.split)
    return ds


CASES = [
    # ---------------------------------------------------------------- shared argument checks
    ("int: a float", lambda: check_int("k", 2.5, low=1), TypeError, r"k=2.5: expected an integer"),
    ("int: a bool", lambda: check_int("k", True), TypeError, r"k=True"),
    ("int: a string", lambda: check_int("k", "3"), TypeError, r"k='3'"),
    ("int: below", lambda: check_int("k", 0, low=1), ValueError, r"k=0: expected an integer >= 1"),
    ("number: nan", lambda: check_number("lr", np.nan), ValueError, r"lr=nan"),
    ("number: open end", lambda: check_number("lr", 0, low=0, low_open=True), ValueError,
     r"lr=0.0: expected a finite number > 0"),
    ("choice", lambda: check_choice("unit", "cells", ("cell", "joint")), ValueError,
     r"unit='cells': expected one of"),
    # ---------------------------------------------------------------- the training loop
    ("fit: no training clips",
     lambda: fit(MODEL, _empty(), None, CONFIG, progress=False),
     ValueError, r"train_ds holds no clips"),
    ("fit: empty val_ds",
     lambda: fit(MODEL, TOY.train(), _empty(), CONFIG, progress=False),
     ValueError, r"val_ds holds no clips"),
    ("fit: train_ds an array", lambda: fit(MODEL, np.zeros((3, 4)), None, CONFIG), TypeError,
     r"train_ds: expected a SkeletonDataset"),
    ("fit: eval_every float", lambda: fit(MODEL, TOY.train(), None, CONFIG, eval_every=1.5),
     TypeError, r"eval_every=1.5"),
    ("fit: patience 0", lambda: fit(MODEL, TOY.train(), TOY.test(), CONFIG, patience=0),
     ValueError, r"patience=0"),
    ("fit: random_state string", lambda: fit(MODEL, TOY.train(), None, CONFIG, random_state="0"),
     TypeError, r"random_state='0'"),
    ("fit: num_threads 0", lambda: fit(MODEL, TOY.train(), None, CONFIG, num_threads=0),
     ValueError, r"num_threads=0"),
    ("fit: checkpoint_seconds negative",
     lambda: fit(MODEL, TOY.train(), None, CONFIG, checkpoint_seconds=-1), ValueError,
     r"checkpoint_seconds=-1.0"),
    ("fit: epochs as a float", lambda: fit(MODEL, TOY.train(), None, {**CONFIG.to_dict(),
                                                                     "epochs": 2.5}),
     ValueError, r"epochs=2.5: expected an integer >= 1"),
    ("evaluate: no clips", lambda: evaluate(MODEL, _empty(), CONFIG),
     ValueError, r"dataset holds no clips"),
    ("evaluate: batch_size 0", lambda: evaluate(MODEL, TOY.test(), CONFIG, batch_size=0),
     ValueError, r"batch_size=0"),
    ("evaluate: not a dataset", lambda: evaluate(MODEL, [np.zeros((5, 5, 3))], CONFIG),
     TypeError, r"dataset: expected a SkeletonDataset"),
    ("config: unknown setting", lambda: TrainConfig.from_dict({"epoch": 3}), ValueError,
     r"unknown settings \['epoch'\]"),
    # ---------------------------------------------------------------- transfer
    ("split_tasks: empty target", lambda: split_tasks(TOY, TOY.class_names[:2], []), ValueError,
     r"target=\[\]: expected a list of one or more class names"),
    ("split_tasks: a string", lambda: split_tasks(TOY, "c0", TOY.class_names[1:]), ValueError,
     r"source='c0'"),
    ("split_tasks: no training clips",
     lambda: split_tasks(_test_only_classes(), [0, 2], [1, 3]), ValueError,
     r"target task .*no training clips"),
    ("class_splits: count float", lambda: class_splits(TOY, 2.5), TypeError, r"count=2.5"),
    ("class_splits: count 0", lambda: class_splits(TOY, 0), ValueError, r"count=0"),
    ("few_shot: per_class float", lambda: few_shot(TOY, 2.5), TypeError, r"per_class=2.5"),
    ("few_shot: per_class 0", lambda: few_shot(TOY, 0), ValueError, r"per_class=0"),
    ("few_shot: too many", lambda: few_shot(TOY, 50), ValueError, r"fewer than per_class=50"),
    ("transfer_model: k too deep", lambda: transfer_model(MODEL, 2, 5), ValueError,
     r"k must be in 0\.\.2"),
    ("transfer_model: k float", lambda: transfer_model(MODEL, 2, 1.5), TypeError, r"k must be"),
    ("train_transfer: lr_factor string",
     lambda: train_transfer(MODEL, TOY, 1, CONFIG, lr_factor="0.1"), TypeError,
     r"lr_factor='0.1'"),
    ("train_transfer: lr_factor negative",
     lambda: train_transfer(MODEL, TOY, 1, CONFIG, lr_factor=-1), ValueError,
     r"lr_factor=-1.0"),
    ("train_transfer: patience float",
     lambda: train_transfer(MODEL, TOY, 1, CONFIG, patience=2.5), TypeError, r"patience=2.5"),
    ("train_transfer: freeze string",
     lambda: train_transfer(MODEL, TOY, 1, CONFIG, freeze="yes"), TypeError, r"freeze='yes'"),
    ("train_transfer: base not a network",
     lambda: train_transfer("model.pt", TOY, 1, CONFIG), TypeError, r"base must be an STGCN"),
    # ---------------------------------------------------------------- profiles
    ("profile: unknown", lambda: get_profile("fast"), ValueError, r"unknown profile 'fast'"),
    ("profile: bad change", lambda: get_profile("quick", epochs=3), ValueError,
     r"'epochs' must start with 'model_', 'train_' or 'data_'"),
    ("profile: unknown dataset", lambda: for_dataset("quick", "ntu"), ValueError,
     r"dataset='ntu'"),
    ("study settings: unknown study", lambda: study_settings("quick", "noise"), ValueError,
     r"unknown study 'noise'"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_mistake_gets_an_error_that_names_it(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_the_checks_return_the_value_they_accept():
    assert check_int("k", np.int64(3), low=1) == 3 and isinstance(check_int("k", 3), int)
    assert check_number("lr", 1) == 1.0 and check_number("x", 0, low=0) == 0.0
    assert check_choice("unit", "cell", ("cell",)) == "cell"
