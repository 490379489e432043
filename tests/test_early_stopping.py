"""Early stopping: the best epoch of a hand-made curve, and fit() ending on its weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from helpers.training.config import TrainConfig
from helpers.training.early_stopping import EarlyStopping, best_epoch
from helpers.training.loop import fit

from builders import make_dataset, small_model

# a hand-made validation curve: accuracy peaks at epoch 4 (0.8) and again at epoch 6 (0.8,
# lower loss), then falls off
ACC = [0.4, 0.6, 0.6, 0.8, 0.7, 0.8, 0.7, 0.6, 0.6, 0.5]
LOSS = [1.2, 1.0, 0.9, 0.7, 0.8, 0.6, 0.9, 1.0, 1.1, 1.2]


def test_best_epoch_of_a_hand_made_curve():
    # epoch 6 ties epoch 4 on accuracy and has the lower loss
    assert best_epoch(ACC, LOSS) == 6
    assert best_epoch([0.5, 0.5], [0.3, 0.3]) == 1  # a full tie keeps the first
    with pytest.raises(ValueError, match="one length"):
        best_epoch([0.5], [0.3, 0.2])
    with pytest.raises(ValueError, match="finite"):
        best_epoch([0.5, math.nan], [0.3, 0.2])


class _Scalar(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))


@pytest.mark.parametrize("patience, stop_at", [(1, 5), (2, 8), (4, 10)])
def test_early_stopping_stops_after_patience_and_restores_the_best(patience, stop_at):
    model = _Scalar()
    stopper = EarlyStopping(patience)
    stopped = None
    for epoch, (a, loss) in enumerate(zip(ACC, LOSS), start=1):
        with torch.no_grad():
            model.w.fill_(epoch)  # the weights say which epoch they are from
        if stopper.update(epoch, a, loss, model):
            stopped = epoch
            break
    # patience 1: epoch 5 does not beat 4; patience 2: epoch 6 beats 4, 7 and 8 do not;
    # patience 4: 7 to 10 do not beat 6
    assert stopped == stop_at
    expected_best = 4 if patience == 1 else 6
    assert stopper.best_epoch == expected_best
    stopper.restore(model)
    assert float(model.w.detach()) == expected_best


def test_early_stopping_arguments():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(0)
    with pytest.raises(TypeError, match="patience"):
        EarlyStopping(2.5)
    with pytest.raises(ValueError, match="finite"):
        EarlyStopping(2).update(1, math.nan, 1.0, _Scalar())


CFG = TrainConfig(
    clip_mode="natural", eval_mode="natural", center="first", epochs=6, batch_size=4, lr=0.1
)


def test_fit_ends_on_the_best_validation_epoch():
    ds = make_dataset(n_per_class=6, classes=3, seed=3)
    train, val = ds.hold_out(2)
    model = small_model(seed=0, num_blocks=3)
    snapshots = {}

    def keep(epoch, history):
        snapshots[epoch] = {n: t.clone() for n, t in model.state_dict().items()}

    result = fit(
        model, train, val, CFG, random_state=0, device="cpu", progress=False, patience=2,
        on_epoch_end=keep,
    )  # fmt: skip
    h = result.history
    best = best_epoch(h["val_acc"], h["val_loss"])
    assert result.extra["best_epoch"] == best
    # it stopped at the end or two epochs after the best
    assert result.epochs_done in (CFG.epochs, best + 2)
    for name, value in model.state_dict().items():
        assert torch.equal(value, snapshots[best][name]), name
    assert np.isfinite(h["val_acc"]).all()  # scored after every epoch


def test_fit_patience_needs_validation_and_no_checkpoint(tmp_path):
    ds = make_dataset(n_per_class=4, classes=3)
    model = small_model(seed=0, num_blocks=3)
    with pytest.raises(ValueError, match="needs val_ds"):
        fit(model, ds, None, CFG, patience=2, progress=False)
    with pytest.raises(ValueError, match="checkpoint"):
        fit(model, ds, ds, CFG, patience=2, progress=False, checkpoint=tmp_path / "c.pt")


def test_fit_lr_factors_are_checked():
    ds = make_dataset(n_per_class=4, classes=3)
    model = small_model(seed=0, num_blocks=3)
    with pytest.raises(ValueError, match="does not have"):
        fit(model, ds, None, CFG, lr_factors={"nope": 0.1}, progress=False)
    with pytest.raises(ValueError, match=">= 0"):
        fit(model, ds, None, CFG, lr_factors={"fcn.weight": -1.0}, progress=False)
    with pytest.raises(ValueError, match="no trainable"):
        for p in model.parameters():
            p.requires_grad_(False)
        fit(model, ds, None, CFG, progress=False)
