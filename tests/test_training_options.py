"""Every :class:`~helpers.training.config.TrainConfig` option changes training as documented.

The smoke tests in ``test_training.py`` only show that the options run. Here each option gets a
test that fails when :func:`~helpers.training.loop.fit` (or the input pipeline) ignores it or
implements it wrongly:

* optimisation options (``lr``, ``momentum``, ``nesterov``, ``weight_decay``, ``schedule``,
  ``milestones``, ``gamma``, ``warmup_epochs``, ``min_lr``, ``label_smoothing``, ``grad_clip``,
  ``balance='weights'``, ``epochs``): ``fit`` must reproduce, to float precision, the final weights
  and per-epoch losses of the naive full-batch loop in ``naive.py``, and that oracle
  *without* the option (or with a plausible mistake) must give clearly different weights, which
  proves the comparison is sensitive to the option;
* schedules with several steps per epoch: the reported learning rates are checked against
  hand-computed values (milestones and warm-up count epochs, not optimisation steps);
* ``balance='sampler'``, ``batch_size``, ``augment``, ``center``, ``scale``, ``length`` and
  ``eval_mode``: a model that records its inputs shows what ``fit`` fed it; ``model_inputs`` and
  :meth:`SkeletonDataset.normalized` are checked on hand-made skeletons whose extents differ per
  axis, with the vertical axis in different places;
* ``amp``: ignored on CPU; float16 autocast on CUDA (``cuda`` marker, skipped without a device).

Notes
-----
The oracle comparisons use a model without BatchNorm or dropout (the mean of the input over time,
joints and bodies, then ``nn.Linear``) with fixed initial weights, clips whose length equals
``config.length`` (so the training-time resampling is the identity) and ``batch_size >= N`` (one
batch per epoch, so the data order does not matter).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from helpers.data.dataset import SkeletonDataset
from helpers.training.config import TrainConfig
from helpers.training.inputs import model_inputs
from helpers.training.loop import fit

from naive import (
    inverse_frequency_weights,
    lr_at_step,
    naive_full_batch_training,
)

C, V, T, K = 3, 4, 8, 3
TOL = 1e-5  # fit (float32) against the float64 oracle
CLEARLY = 1e-3  # how far the oracle without the option must be from fit (100 x TOL)


# =========================================================================== models and data
class MeanLinear(nn.Module):
    """Deterministic classifier: mean of (N, C, T, V, M) over T, V, M, then ``nn.Linear(C, K)``."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray):
        super().__init__()
        self.fc = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.fc.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
            self.fc.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.mean(dim=(2, 3, 4)))


class Recorder(nn.Module):
    """Records every batch it is given (training and evaluation apart) and its logits' dtype.

    Its logits depend on a bias only, so what it sees does not depend on what it learned.
    """

    def __init__(self, num_classes: int, in_channels: int = C):
        super().__init__()
        self.fc = nn.Linear(in_channels, num_classes)
        self.train_batches: list[np.ndarray] = []
        self.eval_batches: list[np.ndarray] = []
        self.logit_dtypes: list[torch.dtype] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (self.train_batches if self.training else self.eval_batches).append(
            x.detach().float().cpu().numpy().copy()
        )
        logits = self.fc(torch.zeros_like(x.mean(dim=(2, 3, 4))))
        self.logit_dtypes.append(logits.dtype)
        return logits

    def seen(self) -> list[np.ndarray]:
        """Every training clip seen, in order, back in (T, V, C) (or (T, M, V, C)) layout."""
        out = []
        for xb in self.train_batches:
            for x in xb:  # (C, T, V, M)
                s = np.transpose(x, (1, 3, 2, 0))  # (T, M, V, C)
                out.append(s[:, 0] if s.shape[1] == 1 else s)
        return out


def initial_weights(seed: int = 123) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.3, (K, C)), rng.normal(0, 0.3, K)


def linear_dataset(counts=(6, 4, 2), seed: int = 0) -> SkeletonDataset:
    """Clips of ``T`` frames around a class-specific mean position (overlapping classes)."""
    rng = np.random.default_rng(seed)
    seqs, labels = [], []
    for k, n in enumerate(counts):
        for _ in range(n):
            offset = np.eye(C)[k] + rng.normal(0, 0.6, C)
            seqs.append(offset + rng.normal(0, 0.3, (T, V, C)))
            labels.append(k)
    return SkeletonDataset.from_arrays(
        seqs, labels, [f"c{k}" for k in range(K)], edges=[(0, 1), (1, 2), (2, 3)]
    )


def features(ds: SkeletonDataset) -> np.ndarray:
    """(N, C) float64 mean position of every clip: what ``MeanLinear`` feeds its linear layer."""
    return np.stack(
        [np.asarray(s, np.float64).reshape(-1, s.shape[-1]).mean(axis=0) for s in ds.sequences]
    )


BASE = {
    "epochs": 8,
    "batch_size": 64,
    "lr": 0.2,
    "momentum": 0.9,
    "nesterov": True,
    "weight_decay": 0.0,
    "schedule": "cosine",
    "warmup_epochs": 0.0,
    "milestones": (),
    "gamma": 0.1,
    "min_lr": 0.0,
    "label_smoothing": 0.0,
    "grad_clip": None,
    "amp": False,
    "balance": "none",
    "center": None,
    "scale": None,
    "length": T,
    "eval_mode": "resample",
    "augment": {},
}


def oracle_kwargs(cfg: TrainConfig, labels: np.ndarray) -> dict:
    """The oracle's arguments for ``cfg`` (class weights written out, not taken from helpers)."""
    return {
        "epochs": cfg.epochs,
        "lr": cfg.lr,
        "momentum": cfg.momentum,
        "nesterov": cfg.nesterov,
        "weight_decay": cfg.weight_decay,
        "schedule": cfg.schedule,
        "warmup_epochs": cfg.warmup_epochs,
        "milestones": cfg.milestones,
        "gamma": cfg.gamma,
        "min_lr": cfg.min_lr,
        "label_smoothing": cfg.label_smoothing,
        "grad_clip": cfg.grad_clip,
        "class_weights": inverse_frequency_weights(labels, K) if cfg.balance == "weights" else None,
    }


def fit_mean_linear(ds: SkeletonDataset, cfg: TrainConfig, **kw):
    w0, b0 = initial_weights()
    model = MeanLinear(w0, b0)
    result = fit(model, ds, None, cfg, random_state=0, device="cpu", progress=False, **kw)
    return (
        model.fc.weight.detach().double().numpy(),
        model.fc.bias.detach().double().numpy(),
        result,
    )


def max_diff(weight, bias, ref: dict) -> float:
    return float(max(np.abs(weight - ref["weight"]).max(), np.abs(bias - ref["bias"]).max()))


# =========================================================================== fit against the oracle
# (id, changes to BASE, oracle variants that fit's result must clearly differ from)
CASES = [
    ("base", {}, [{"lr": 0.1}]),
    ("lr", {"lr": 0.05}, [{"lr": 0.2}]),
    ("no-momentum", {"momentum": 0.0}, [{"momentum": 0.9}]),
    ("momentum", {"momentum": 0.5}, [{"momentum": 0.9}, {"momentum": 0.0}]),
    ("no-nesterov", {"nesterov": False}, [{"nesterov": True}]),
    ("weight-decay", {"weight_decay": 0.05}, [{"weight_decay": 0.0}, {"decay_bias": True}]),
    (
        "step",
        {"schedule": "step", "milestones": (3, 6), "gamma": 0.2},
        [
            {"schedule": "cosine"},
            {"milestones": ()},
            {"gamma": 0.1},
            {"milestones": (2, 5)},
            {"milestones": (4, 7)},
        ],
    ),
    ("warmup", {"warmup_epochs": 3.0}, [{"warmup_epochs": 0.0}, {"warmup_epochs": 2.0}]),
    (
        "warmup-then-step",
        {"warmup_epochs": 2.0, "schedule": "step", "milestones": (5,), "gamma": 0.1},
        [{"warmup_epochs": 0.0}, {"schedule": "cosine"}],
    ),
    ("min-lr", {"min_lr": 0.15}, [{"min_lr": 0.0}]),
    ("epochs", {"epochs": 5}, [{"epochs": 8}, {"epochs": 4}]),
    ("label-smoothing", {"label_smoothing": 0.3}, [{"label_smoothing": 0.0}]),
    ("grad-clip", {"grad_clip": 0.05}, [{"grad_clip": None}, {"grad_clip": 0.1}]),
    ("balance-weights", {"balance": "weights"}, [{"class_weights": None}]),
    (
        "weights-and-smoothing",
        {"balance": "weights", "label_smoothing": 0.2},
        [{"class_weights": None}, {"label_smoothing": 0.0}],
    ),
    (
        "everything",
        {
            "momentum": 0.8,
            "nesterov": False,
            "weight_decay": 0.02,
            "schedule": "step",
            "milestones": (4,),
            "gamma": 0.3,
            "warmup_epochs": 2.0,
            "label_smoothing": 0.1,
            "grad_clip": 0.3,
            "balance": "weights",
        },
        [{"grad_clip": None}, {"class_weights": None}, {"decay_bias": True}, {"nesterov": True}],
    ),
]


@pytest.fixture(scope="module")
def imbalanced() -> SkeletonDataset:
    return linear_dataset((6, 4, 2))


@pytest.mark.parametrize("changes, variants", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fit_matches_the_naive_full_batch_loop(imbalanced, changes, variants):
    cfg = TrainConfig(**(BASE | changes))
    weight, bias, result = fit_mean_linear(imbalanced, cfg)
    x, y = features(imbalanced), imbalanced.labels
    w0, b0 = initial_weights()
    kwargs = oracle_kwargs(cfg, y)
    ref = naive_full_batch_training(x, y, w0, b0, **kwargs)

    np.testing.assert_allclose(weight, ref["weight"], atol=TOL, rtol=0)
    np.testing.assert_allclose(bias, ref["bias"], atol=TOL, rtol=0)
    np.testing.assert_allclose(result.history["loss"], ref["loss"], atol=TOL, rtol=0)
    expected_lr = [
        lr_at_step(
            e + 1,
            lr=cfg.lr,
            steps_per_epoch=1,
            epochs=cfg.epochs,
            schedule=cfg.schedule,
            warmup_epochs=cfg.warmup_epochs,
            milestones=cfg.milestones,
            gamma=cfg.gamma,
            min_lr=cfg.min_lr,
        )
        for e in range(cfg.epochs)
    ]
    np.testing.assert_allclose(result.history["lr"], expected_lr, rtol=1e-9, atol=1e-12)
    assert result.history["epoch"] == list(range(1, cfg.epochs + 1))
    if cfg.grad_clip:
        assert ref["clipped"].mean() > 0.5, "grad_clip is too large to be active in this test"

    # the comparison is sensitive: the oracle without the option (or with a likely mistake) is far
    # off
    for variant in variants:
        other = naive_full_batch_training(x, y, w0, b0, **(kwargs | variant))
        assert max_diff(weight, bias, other) > CLEARLY, (
            f"fit's result does not tell {changes} from {variant}"
        )


# =========================================================================== several steps per
# epoch
def identical_clips(n: int = 12, k: int = K) -> SkeletonDataset:
    """``n`` copies of one clip (class 0): every mini-batch is the same, whatever the order."""
    rng = np.random.default_rng(7)
    clip = np.array([0.8, -0.5, 0.3]) + rng.normal(0, 0.3, (T, V, C))
    return SkeletonDataset.from_arrays(
        [clip] * n, [0] * n, [f"c{i}" for i in range(k)], edges=[(0, 1)]
    )


# (changes to BASE, steps per epoch, hand-computed lr at each epoch's end)
SCHEDULES = {
    # milestone 2 = after two epochs; counted in steps (6 of them) it would decay within epoch 1
    "step-milestone-2": (
        {
            "schedule": "step",
            "milestones": (2,),
            "gamma": 0.1,
            "lr": 0.1,
            "epochs": 4,
            "batch_size": 4,
        },
        3,
        [0.1, 0.01, 0.01, 0.01],
    ),
    "step-two-milestones": (
        {
            "schedule": "step",
            "milestones": (1, 3),
            "gamma": 0.5,
            "lr": 0.2,
            "epochs": 4,
            "batch_size": 3,
        },
        4,
        [0.1, 0.1, 0.05, 0.05],
    ),
    # cosine over the 9 steps after a one-epoch (3 steps) warm-up, down to min_lr
    "warmup-cosine": (
        {"warmup_epochs": 1.0, "min_lr": 0.01, "lr": 0.1, "epochs": 4, "batch_size": 4},
        3,
        [0.1, 0.01 + 0.09 * 0.75, 0.01 + 0.09 * 0.25, 0.01],
    ),
    # a warm-up of 1.5 epochs = 6 steps of 4: after epoch 1 (4 steps) the rate is 5/6 of the peak
    "fractional-warmup": (
        {"warmup_epochs": 1.5, "lr": 0.1, "epochs": 4, "batch_size": 3},
        4,
        [
            0.1 * 5 / 6,
            0.1 * 0.5 * (1 + math.cos(math.pi * 2 / 10)),
            0.1 * 0.5 * (1 + math.cos(math.pi * 6 / 10)),
            0.0,
        ],
    ),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedules_count_epochs_not_steps(name):
    changes, steps_per_epoch, expected_lr = SCHEDULES[name]
    ds = identical_clips()
    cfg = TrainConfig(**(BASE | changes))
    assert math.ceil(len(ds) / cfg.batch_size) == steps_per_epoch
    weight, bias, result = fit_mean_linear(ds, cfg)
    np.testing.assert_allclose(result.history["lr"], expected_lr, rtol=1e-9, atol=1e-12)
    # the rate of every step, not only the reported ones: the weights follow the oracle
    w0, b0 = initial_weights()
    ref = naive_full_batch_training(
        features(ds),
        ds.labels,
        w0,
        b0,
        steps_per_epoch=steps_per_epoch,
        **oracle_kwargs(cfg, ds.labels),
    )
    np.testing.assert_allclose(weight, ref["weight"], atol=TOL, rtol=0)
    np.testing.assert_allclose(bias, ref["bias"], atol=TOL, rtol=0)
    np.testing.assert_allclose(result.history["loss"], ref["loss"], atol=TOL, rtol=0)
    # ... and they are sensitive to the schedule: one step per epoch (epochs == steps) is far off
    other = naive_full_batch_training(
        features(ds),
        ds.labels,
        w0,
        b0,
        steps_per_epoch=steps_per_epoch,
        **(
            oracle_kwargs(cfg, ds.labels)
            | {"schedule": "cosine", "warmup_epochs": 0, "min_lr": 0.0}
        ),
    )
    assert max_diff(weight, bias, other) > CLEARLY


# =========================================================================== losses by hand
@pytest.mark.parametrize(
    "changes, expected",
    [
        ({}, lambda nl: (6 * nl[0] + 4 * nl[1] + 2 * nl[2]) / 12),
        ({"balance": "weights"}, lambda nl: nl.mean()),  # every class counts the same
        (
            {"label_smoothing": 0.3},
            lambda nl: 0.7 * (6 * nl[0] + 4 * nl[1] + 2 * nl[2]) / 12 + 0.3 * nl.mean(),
        ),
        # torch's convention: the smoothing term of class c carries class c's weight (1/6, 1/4, 1/2
        # here),
        # normalised, like the plain term, by the summed weights of the true classes (12 clips: 3)
        (
            {"balance": "weights", "label_smoothing": 0.3},
            lambda nl: 0.7 * nl.mean() + 0.3 / 3 * 12 * (nl[0] / 6 + nl[1] / 4 + nl[2] / 2) / 3,
        ),
    ],
    ids=["none", "weights", "smoothing", "weights-and-smoothing"],
)
def test_first_epoch_loss_by_hand(imbalanced, changes, expected):
    logits = np.array([2.0, 0.0, -1.0])  # the same logits for every clip (zero weight)
    nl = -(logits - np.log(np.exp(logits).sum()))
    model = MeanLinear(np.zeros((K, C)), logits)
    res = fit(
        model,
        imbalanced,
        None,
        TrainConfig(**(BASE | {"epochs": 1} | changes)),
        device="cpu",
        progress=False,
    )
    assert res.history["loss"][0] == pytest.approx(float(expected(nl)), abs=1e-6)


# =========================================================================== what fit feeds the
# model
def indexed_dataset(counts=(18, 2), up_axis: int = 1) -> SkeletonDataset:
    """Clip ``i`` holds the value ``i`` everywhere, so a recorded input names its clip."""
    labels = np.repeat(np.arange(len(counts)), counts)
    seqs = [np.full((T, V, C), float(i), np.float32) for i in range(len(labels))]
    return SkeletonDataset.from_arrays(
        seqs, labels, [f"c{k}" for k in range(len(counts))], edges=[(0, 1)], up_axis=up_axis
    )


def record(
    ds: SkeletonDataset, val_ds: SkeletonDataset | None = None, **changes
) -> tuple[Recorder, object]:
    model = Recorder(ds.num_classes, ds.num_channels)
    cfg = TrainConfig(**(BASE | {"lr": 0.01} | changes))
    result = fit(model, ds, val_ds, cfg, random_state=3, device="cpu", progress=False)
    return model, result


def seen_indices(model: Recorder) -> list[np.ndarray]:
    return [np.rint(xb[:, 0, 0, 0, 0]).astype(int) for xb in model.train_batches]


@pytest.mark.parametrize("balance", ["none", "weights"])
def test_without_sampler_every_clip_once_per_epoch(balance):
    ds = indexed_dataset()
    model, _ = record(ds, epochs=4, balance=balance)
    epochs = seen_indices(model)
    assert len(epochs) == 4
    for idx in epochs:
        np.testing.assert_array_equal(np.sort(idx), np.arange(len(ds)))


def test_sampler_draws_the_minority_class_as_often_as_the_majority():
    ds = indexed_dataset((18, 2))  # the minority class is 10 % of the clips
    model, _ = record(ds, epochs=5, balance="sampler")
    epochs = seen_indices(model)
    assert len(epochs) == 5 and all(len(idx) == len(ds) for idx in epochs)
    drawn = np.concatenate(epochs)
    minority = (ds.labels[drawn] == 1).mean()
    assert 0.3 < minority < 0.7, (
        f"minority share {minority:.2f}; a class-balanced sampler gives about 0.5"
    )
    assert any(len(np.unique(idx)) < len(idx) for idx in epochs)  # drawn with replacement


@pytest.mark.parametrize("n, batch_size, sizes", [(10, 4, [4, 4, 2]), (9, 4, [4, 5]), (6, 64, [6])])
def test_batch_size(n, batch_size, sizes):
    model, result = record(indexed_dataset((n - 1, 1)), epochs=2, batch_size=batch_size)
    assert [len(xb) for xb in model.train_batches] == sizes * 2
    assert result.history["epoch"] == [1.0, 2.0]


def test_epochs_sets_the_number_of_passes():
    model, result = record(indexed_dataset((5, 3)), epochs=3, batch_size=4)
    assert len(model.train_batches) == 3 * 2
    assert len(result.history["loss"]) == len(result.history["lr"]) == 3


def ramp_dataset(lengths=(5, 9), up_axis: int = 1) -> SkeletonDataset:
    """Clips moving linearly in time: ``x[t, v, c] = a[v, c] + b[v, c] * t``."""
    rng = np.random.default_rng(1)
    seqs = []
    for n in lengths:
        a, b = rng.normal(0, 1, (V, C)), rng.normal(0, 1, (V, C))
        seqs.append(a + b * np.arange(n)[:, None, None])
    return SkeletonDataset.from_arrays(
        seqs, [i % 2 for i in range(len(lengths))], ["a", "b"], edges=[(0, 1)], up_axis=up_axis
    )


def ramp_at(seq: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """A ramp clip evaluated at fractional frame positions (exact, since the clip is linear)."""
    a, b = seq[0].astype(np.float64), (seq[1] - seq[0]).astype(np.float64)
    return a + b * np.asarray(positions, np.float64)[:, None, None]


def test_model_inputs_resample_to_length():
    ds = ramp_dataset((5, 9))
    x, lengths = model_inputs(ds, TrainConfig(center=None, length=7))
    assert x.shape == (2, C, 7, V, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(lengths, [7, 7])
    for i, s in enumerate(ds.sequences):
        expected = ramp_at(s, np.arange(7) * (len(s) - 1) / 6)  # (7, V, C)
        np.testing.assert_allclose(x[i, :, :, :, 0], expected.transpose(2, 0, 1), atol=1e-5)


def test_model_inputs_pad_keeps_frames_and_pads_with_zeros():
    ds = ramp_dataset((5, 9))
    x, lengths = model_inputs(ds, TrainConfig(center=None, length=7, eval_mode="pad"))
    assert x.shape == (2, C, 9, V, 1)
    np.testing.assert_array_equal(lengths, [5, 9])
    np.testing.assert_array_equal(x[0, :, :5, :, 0], ds.sequences[0].transpose(2, 0, 1))
    assert not x[0, :, 5:].any()
    np.testing.assert_array_equal(x[1, :, :, :, 0], ds.sequences[1].transpose(2, 0, 1))
    # index selects clips, and the padding still reaches the longest clip of the dataset
    x0, l0 = model_inputs(ds, TrainConfig(center=None, eval_mode="pad"), index=[0])
    assert x0.shape == (1, C, 9, V, 1) and l0.tolist() == [5]


@pytest.mark.parametrize("eval_mode, val_frames", [("resample", 6), ("pad", 9)])
def test_fit_trains_on_length_frames_and_validates_by_eval_mode(eval_mode, val_frames):
    train, val = ramp_dataset((5, 9, 7, 12)), ramp_dataset((9, 4))
    model, result = record(train, val, epochs=2, length=6, eval_mode=eval_mode)
    seen = model.seen()
    assert all(s.shape == (6, V, C) for s in seen)
    # crop (1, 1): each training clip is the whole clip resampled to `length` frames
    for s in seen:
        i = int(
            np.argmin([np.abs(s[0] - q[0]).sum() for q in train.sequences])
        )  # resampling keeps frame 0
        np.testing.assert_allclose(
            s,
            ramp_at(train.sequences[i], np.linspace(0, len(train.sequences[i]) - 1, 6)),
            atol=1e-5,
        )
    assert len(model.eval_batches) == 2 and all(
        xb.shape[2] == val_frames for xb in model.eval_batches
    )
    assert np.isfinite(result.history["val_loss"]).all()


# =========================================================================== centring and scaling
def hand_skeleton(up_axis: int) -> tuple[SkeletonDataset, np.ndarray]:
    """One clip of 3 frames and 3 joints (root: joint 1) whose first frame spans 1, 2, 4 in x, y, z.

    The second frame is twice as large, so only the first frame gives the documented height, and
    the clip moves, so ``'first'`` and ``'frame'`` centring differ.
    """
    f0 = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 4.0], [0.5, 1.0, 1.0]])
    seq = np.stack([f0, 2 * f0 + [3.0, 5.0, 7.0], f0 + 1.0]) + [10.0, 20.0, 30.0]  # (3, V=3, C)
    ds = SkeletonDataset.from_arrays(
        [seq], [0], ["a"], edges=[(0, 1), (1, 2)], center=1, up_axis=up_axis
    )
    return ds, seq


EXTENT = {0: 1.0, 1: 2.0, 2: 4.0}  # first-frame extent of hand_skeleton along each axis


@pytest.mark.parametrize("up_axis", [1, 2, 0])
@pytest.mark.parametrize("center", [None, "first", "frame"])
@pytest.mark.parametrize("scale", [None, 2.5, "height"])
def test_center_and_scale_by_hand(up_axis, center, scale):
    ds, seq = hand_skeleton(up_axis)
    expected = seq.copy()
    if center == "first":
        expected = expected - seq[0, 1]
    elif center == "frame":
        expected = expected - seq[:, 1:2]
    if scale == "height":
        expected = expected / EXTENT[up_axis]
    elif scale is not None:
        expected = expected / scale
    np.testing.assert_allclose(
        ds.normalized(center=center, scale=scale).sequences[0], expected, atol=1e-5
    )
    x, lengths = model_inputs(ds, TrainConfig(center=center, scale=scale, length=3))
    assert x.shape == (1, C, 3, 3, 1) and lengths.tolist() == [3]
    np.testing.assert_allclose(x[0, :, :, :, 0], expected.transpose(2, 0, 1), atol=1e-5)


def test_height_uses_the_first_body_of_several():
    _, seq = hand_skeleton(up_axis=2)
    other = seq[:, ::-1] * 3.0  # a larger second body
    two = np.stack([seq, other], axis=1)  # (T, M=2, V, C)
    ds = SkeletonDataset.from_arrays([two], [0], ["a"], edges=[(0, 1)], center=1, up_axis=2)
    out = ds.normalized(center="frame", scale="height").sequences[0]
    root = seq[:, 1][:, None, None, :]  # body 0's root joint in every frame
    np.testing.assert_allclose(out, (two - root) / EXTENT[2], atol=1e-5)


@pytest.mark.parametrize("up_axis", [1, 2])
def test_fit_trains_on_centred_and_scaled_clips(up_axis):
    ds, seq = hand_skeleton(up_axis)
    model, _ = record(ds, epochs=1, length=3, center="frame", scale="height")
    (s,) = model.seen()
    np.testing.assert_allclose(s, (seq - seq[:, 1:2]) / EXTENT[up_axis], atol=1e-5)


# =========================================================================== augmentation
def moving_dataset(up_axis: int, n: int = 6) -> SkeletonDataset:
    rng = np.random.default_rng(5)
    seqs = [
        rng.normal(0, 1, (V, C)) + rng.normal(0, 1, (1, C)) * np.arange(T)[:, None, None]
        for _ in range(n)
    ]
    return SkeletonDataset.from_arrays(
        seqs, np.arange(n) % 2, ["a", "b"], edges=[(0, 1)], up_axis=up_axis
    )


def seen_in_order(model: Recorder, ds: SkeletonDataset) -> list[tuple[np.ndarray, np.ndarray]]:
    """(seen, original) pairs for one epoch without sampler, matched by the clips' norms.

    Rotations keep the norms.
    """
    seen = model.seen()
    assert len(seen) == len(ds)
    keys = np.array([float(np.linalg.norm(s)) for s in ds.sequences])
    out = []
    for s in seen:
        i = int(np.argmin(np.abs(keys - float(np.linalg.norm(s)))))
        out.append((s.astype(np.float64), ds.sequences[i].astype(np.float64)))
    return out


def test_no_augmentation_feeds_the_clips_unchanged():
    ds = moving_dataset(1)
    model, _ = record(ds, epochs=1)
    for s, orig in seen_in_order(model, ds):
        np.testing.assert_array_equal(s, orig)


@pytest.mark.parametrize("up_axis", [1, 2])
def test_rotate_up_turns_about_the_datasets_vertical_axis(up_axis):
    ds = moving_dataset(up_axis)
    model, _ = record(ds, epochs=1, augment={"rotate_up": 180.0})
    horizontal = [a for a in range(3) if a != up_axis]
    moved = 0.0
    for s, orig in seen_in_order(model, ds):  # rotations keep norms, so the matching holds
        np.testing.assert_allclose(s[..., up_axis], orig[..., up_axis], atol=1e-5)
        np.testing.assert_allclose(
            np.linalg.norm(s[..., horizontal], axis=-1),
            np.linalg.norm(orig[..., horizontal], axis=-1),
            atol=1e-5,
        )
        moved = max(moved, float(np.abs(s - orig).max()))
    assert moved > 0.1


def test_tilt_moves_the_vertical_coordinate():
    ds = moving_dataset(2)
    model, _ = record(ds, epochs=1, augment={"tilt": 20.0})
    pairs = seen_in_order(model, ds)
    for s, orig in pairs:
        np.testing.assert_allclose(
            np.linalg.norm(s, axis=-1), np.linalg.norm(orig, axis=-1), atol=1e-4
        )
    assert max(float(np.abs(s[..., 2] - orig[..., 2]).max()) for s, orig in pairs) > 0.05


def test_noise_is_gaussian_with_the_given_sigma():
    ds = indexed_dataset((10, 10))
    model, _ = record(ds, epochs=1, augment={"noise": 0.1})
    seen = np.stack(model.seen())  # (N, T, V, C)
    clean = np.stack([ds.sequences[round(float(s.mean()))] for s in seen])
    noise = seen - clean
    assert noise.std() == pytest.approx(0.1, rel=0.15)
    assert abs(noise.mean()) < 0.02


def test_scale_multiplies_the_clip():
    ds = moving_dataset(1)
    model, _ = record(ds, epochs=1, augment={"scale": (2.0, 2.0)})
    keys = np.array([float(np.linalg.norm(s)) for s in ds.sequences])
    for s in model.seen():
        i = int(np.argmin(np.abs(keys - float(np.linalg.norm(s)) / 2.0)))
        np.testing.assert_allclose(s, 2.0 * ds.sequences[i], rtol=1e-6, atol=1e-6)


def test_crop_covers_the_given_share_of_the_clip():
    ds = ramp_dataset((9, 9, 9, 9))
    model, _ = record(ds, epochs=1, length=9, augment={"crop": (0.5, 0.5)})
    spans = []
    for s in model.seen():
        # each seen clip is a ramp over 4 of the clip's 8 frame intervals: its step is half the
        # original
        steps = np.diff(s, axis=0)
        np.testing.assert_allclose(steps, steps[:1].repeat(len(steps), axis=0), atol=1e-5)
        spans.append(np.abs(s[-1] - s[0]).sum())
    full = sorted(np.abs(q[-1] - q[0]).sum() for q in ds.sequences)
    np.testing.assert_allclose(sorted(spans), np.array(full) / 2, rtol=1e-4)


# =========================================================================== mixed precision
def test_amp_is_ignored_on_cpu(imbalanced):
    w1, b1, _ = fit_mean_linear(imbalanced, TrainConfig(**(BASE | {"amp": True, "grad_clip": 0.1})))
    w2, b2, _ = fit_mean_linear(imbalanced, TrainConfig(**(BASE | {"grad_clip": 0.1})))
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(b1, b2)
    model, _ = record(imbalanced, epochs=1, amp=True)
    assert model.logit_dtypes == [torch.float32]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_amp_autocasts_to_float16_on_cuda(imbalanced):
    for amp, dtype in ((True, torch.float16), (False, torch.float32)):
        model = Recorder(K)
        fit(
            model,
            imbalanced,
            None,
            TrainConfig(**(BASE | {"epochs": 1, "amp": amp})),
            device="cuda",
            progress=False,
        )
        assert model.logit_dtypes == [dtype], f"amp={amp}"
    x, y = features(imbalanced), imbalanced.labels
    w0, b0 = initial_weights()
    cfg = TrainConfig(**(BASE | {"grad_clip": 0.3}))
    ref = naive_full_batch_training(x, y, w0, b0, **oracle_kwargs(cfg, y))
    model = MeanLinear(w0, b0)
    fit(model, imbalanced, None, cfg, device="cuda", progress=False)  # full precision on CUDA
    np.testing.assert_allclose(
        model.fc.weight.detach().cpu().double().numpy(), ref["weight"], atol=1e-4
    )
    np.testing.assert_allclose(
        model.fc.bias.detach().cpu().double().numpy(), ref["bias"], atol=1e-4
    )
    # mixed precision (with the gradient scaler unscaling before clipping) still trains
    model = MeanLinear(w0, b0)
    res = fit(
        model,
        imbalanced,
        None,
        TrainConfig(**(BASE | {"grad_clip": 0.3, "amp": True})),
        device="cuda",
        progress=False,
    )
    assert np.isfinite(model.fc.weight.detach().cpu().numpy()).all()
    assert res.history["loss"][-1] < res.history["loss"][0]
