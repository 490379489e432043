"""Training loop, evaluation, checkpoints and the trained-model cache, on tiny synthetic data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from helpers.data.dataset import SkeletonDataset
from helpers.training.checkpoints import (
    CheckpointError,
    CheckpointMismatchError,
    load_checkpoint,
    save_checkpoint,
)
from helpers.training.config import TrainConfig
from helpers.training.inputs import model_inputs
from helpers.training.loop import WarmupSchedule, _class_weights, _epoch_order, evaluate, fit

from builders import hdm05_toy, make_dataset


class TinyNet(nn.Module):
    """Stand-in classifier: temporal conv per joint, pooling, linear layer (with dropout and BN)."""

    def __init__(
        self, num_classes: int, in_channels: int = 3, num_joints: int = 5, hidden: int = 8
    ):
        super().__init__()
        self.config = {
            "num_classes": num_classes,
            "in_channels": in_channels,
            "num_joints": num_joints,
            "hidden": hidden,
        }
        self.bn = nn.BatchNorm2d(in_channels)
        self.conv = nn.Conv2d(in_channels, hidden, kernel_size=(5, 1), padding=(2, 0))
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(hidden * num_joints, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v, m = x.shape
        h = x.permute(0, 4, 1, 2, 3).reshape(n * m, c, t, v)
        h = torch.relu(self.conv(self.bn(h))).mean(dim=2)  # (N*M, hidden, V)
        return self.fc(self.drop(h.flatten(1))).view(n, m, -1).mean(dim=1)


FAST = TrainConfig(
    epochs=3,
    batch_size=4,
    lr=0.05,
    length=16,
    warmup_epochs=0.5,
    augment={"crop": [0.8, 1.0], "rotate_up": 20.0},
)


def tiny_model(seed: int = 0, **kw) -> TinyNet:
    torch.manual_seed(seed)
    return TinyNet(3, **kw)


@pytest.fixture(scope="module")
def toy() -> SkeletonDataset:
    return make_dataset()


def test_same_seed_same_first_epoch_loss(toy):
    runs = [
        fit(
            tiny_model(),
            toy.train(),
            None,
            FAST.to_dict() | {"epochs": 1},
            random_state=s,
            progress=False,
        )
        for s in (7, 7, 8)
    ]
    assert runs[0].history["loss"][0] == runs[1].history["loss"][0]
    assert runs[0].history["loss"][0] != runs[2].history["loss"][0]


def test_fit_restores_the_global_rng(toy):
    model = tiny_model()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    fit(model, toy.train(), None, FAST.to_dict() | {"epochs": 1}, progress=False)
    torch.testing.assert_close(torch.rand(3), expected)


def test_learns_separable_toy_actions(toy):
    cfg = FAST.to_dict() | {"epochs": 12}
    model = tiny_model()
    result = fit(model, toy.train(), toy.test(), cfg, random_state=0, progress=False)
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.history["val_acc"][-1] >= 0.99
    ev = evaluate(model, toy.test(), cfg)
    assert ev.accuracy == pytest.approx(result.history["val_acc"][-1])
    assert len(result.history["epoch"]) == 12 and result.epochs_done == 12


def test_resume_gives_the_uninterrupted_weights(toy, tmp_path):
    cfg = FAST.to_dict() | {"epochs": 4}
    ref_model = tiny_model(0)
    ref = fit(ref_model, toy.train(), toy.test(), cfg, random_state=3, progress=False)

    def interrupt(epoch, history):
        if epoch == 2:
            raise KeyboardInterrupt

    ckpt = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        fit(
            tiny_model(0),
            toy.train(),
            toy.test(),
            cfg,
            random_state=3,
            checkpoint=ckpt,
            progress=False,
            on_epoch_end=interrupt,
        )
    assert load_checkpoint(ckpt, tiny_model())[1].epochs_done == 2
    # resume into a differently initialised model: the checkpoint overrides it
    model = tiny_model(99)
    res = fit(model, toy.train(), toy.test(), cfg, random_state=3, checkpoint=ckpt, progress=False)
    for (name, a), b in zip(ref_model.state_dict().items(), model.state_dict().values()):
        assert torch.equal(a, b), name
    for key in ("loss", "train_acc", "val_acc", "lr"):
        assert res.history[key] == ref.history[key]
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary files left behind


def test_eval_every_scores_only_some_epochs_and_trains_the_same(toy):
    cfg = FAST.to_dict() | {"epochs": 5}
    every = fit(tiny_model(0), toy.train(), toy.test(), cfg, random_state=3, progress=False)
    model = tiny_model(0)
    some = fit(model, toy.train(), toy.test(), cfg, random_state=3, progress=False, eval_every=2)
    scored = [not np.isnan(v) for v in some.history["val_acc"]]
    assert scored == [False, True, False, True, True]  # epochs 2, 4 and the last
    assert some.history["loss"] == every.history["loss"]  # monitoring changes no training
    assert some.history["val_acc"][-1] == every.history["val_acc"][-1]
    with pytest.raises(ValueError, match="eval_every"):
        fit(tiny_model(0), toy.train(), None, cfg, progress=False, eval_every=0)


def test_checkpoint_seconds_skips_writes_but_keeps_the_last(toy, tmp_path, monkeypatch):
    import helpers.training.loop as loop

    writes = []
    real = loop.save_checkpoint
    monkeypatch.setattr(
        loop, "save_checkpoint", lambda *a, **k: (writes.append(k["epoch"]), real(*a, **k))
    )
    cfg = FAST.to_dict() | {"epochs": 4}
    ckpt = tmp_path / "run.pt"
    fit(
        tiny_model(0),
        toy.train(),
        None,
        cfg,
        checkpoint=ckpt,
        progress=False,
        checkpoint_seconds=1e6,
    )
    assert writes == [4]  # none was due before the end; the last epoch is always written
    writes.clear()
    ckpt.unlink()
    fit(tiny_model(0), toy.train(), None, cfg, checkpoint=ckpt, progress=False)
    assert writes == [1, 2, 3, 4]


def test_corrupt_checkpoint_gives_a_clear_error(toy, tmp_path):
    good = tmp_path / "good.pt"
    model = tiny_model()
    save_checkpoint(
        good, model, config=FAST, history={}, epoch=0, random_state=0, dataset_fingerprint="x"
    )
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    for bad in (truncated, garbage):
        with pytest.raises(CheckpointError, match=f"{bad.name}.*corrupt"):
            load_checkpoint(bad, tiny_model())
        with pytest.raises(CheckpointError, match=bad.name):
            fit(tiny_model(), toy.train(), None, FAST, checkpoint=bad, progress=False)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="not a stgcn-geometry-checkpoint"):
        load_checkpoint(foreign, tiny_model())
    pickled = tmp_path / "pickled.pt"
    torch.save({"obj": TinyNet}, pickled)  # arbitrary Python objects are refused, not unpickled
    with pytest.raises(CheckpointError, match="Python objects"):
        load_checkpoint(pickled, tiny_model())


def test_mismatched_checkpoint_gives_a_clear_error(toy, tmp_path):
    ckpt = tmp_path / "run.pt"
    cfg = FAST.to_dict() | {"epochs": 1}
    fit(tiny_model(), toy.train(), None, cfg, random_state=0, checkpoint=ckpt, progress=False)
    with pytest.raises(
        CheckpointMismatchError, match=r"training config lr: checkpoint has 0.05, this run has 0.1"
    ):
        fit(tiny_model(), toy.train(), None, cfg | {"lr": 0.1}, checkpoint=ckpt, progress=False)
    with pytest.raises(CheckpointMismatchError, match="dataset fingerprint"):
        fit(tiny_model(), make_dataset(seed=1).train(), None, cfg, checkpoint=ckpt, progress=False)
    with pytest.raises(CheckpointMismatchError, match="random_state"):
        fit(tiny_model(), toy.train(), None, cfg, random_state=5, checkpoint=ckpt, progress=False)
    with pytest.raises(CheckpointMismatchError, match="hidden"):
        load_checkpoint(ckpt, tiny_model(hidden=4))


class OracleNet(nn.Module):
    """Predicts the class written in coordinate 0 of joint 0 in frame 0 (for hand-worked scores)."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.num_classes = num_classes
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return (
            nn.functional.one_hot(x[:, 0, 0, 0, 0].round().long(), self.num_classes).float()
            + 0 * self.dummy
        )


def test_evaluate_hand_worked_confusion():
    labels = [0, 0, 0, 1, 1, 2]
    said = [0, 0, 1, 1, 1, 0]  # two mistakes: a 0 called 1, a 2 called 0
    seqs = [np.full((5 + i, 2, 3), p, np.float32) for i, p in enumerate(said)]
    ds = SkeletonDataset.from_arrays(seqs, labels, ["a", "b", "c", "d"], edges=[(0, 1)])
    ev = evaluate(OracleNet(4), ds, TrainConfig(center=None, length=8))
    assert ev.accuracy == pytest.approx(4 / 6)
    np.testing.assert_array_equal(
        ev.confusion, [[2, 1, 0, 0], [0, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    )
    np.testing.assert_allclose(ev.per_class[:3], [2 / 3, 1.0, 0.0])
    assert math.isnan(ev.per_class[3])  # no clip of class d
    np.testing.assert_array_equal(ev.predictions, said)
    np.testing.assert_allclose(ev.scores.sum(axis=1), 1.0, rtol=1e-6)
    assert ev.balanced_accuracy == pytest.approx((2 / 3 + 1 + 0) / 3)


def test_model_inputs_resample_and_pad(toy):
    x, lengths = model_inputs(toy, TrainConfig(length=24))
    assert x.shape == (len(toy), 3, 24, 5, 1) and (lengths == 24).all()
    # centred on the root joint of the first frame
    np.testing.assert_allclose(x[:, :, 0, 0, 0], 0.0, atol=1e-6)
    x, lengths = model_inputs(toy, TrainConfig(eval_mode="pad", center=None), index=[0, 1])
    assert x.shape[2] == toy.lengths.max()
    np.testing.assert_array_equal(lengths, toy.lengths[:2])
    np.testing.assert_array_equal(x[0, :, : lengths[0], :, 0], toy.sequences[0].transpose(2, 0, 1))
    assert not x[0, :, lengths[0] :].any()


def test_warmup_schedule_hand_worked():
    cos = WarmupSchedule(total_steps=12, warmup_steps=4, kind="cosine", min_factor=0.1)
    np.testing.assert_allclose([cos(s) for s in range(4)], [0.25, 0.5, 0.75, 1.0])
    assert cos(4) == pytest.approx(1.0)
    assert cos(8) == pytest.approx(0.1 + 0.9 * 0.5)  # half-way through the decay
    assert cos(12) == pytest.approx(0.1)
    step = WarmupSchedule(
        total_steps=100, warmup_steps=0, kind="step", milestones=[10, 50], gamma=0.1
    )
    assert [step(s) for s in (0, 9, 10, 49, 50, 99)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])


def test_class_balancing():
    labels = np.array([0] * 60 + [1] * 30 + [2] * 10)
    w = _class_weights(labels, 3)
    np.testing.assert_allclose(w, [100 / 180, 100 / 90, 100 / 30])
    assert (w[labels]).sum() == pytest.approx(len(labels))  # the average clip keeps weight 1
    order = np.concatenate(
        [_epoch_order(labels, 3, "sampler", np.random.default_rng(s)) for s in range(50)]
    )
    share = np.bincount(labels[order], minlength=3) / len(order)
    np.testing.assert_allclose(share, 1 / 3, atol=0.02)
    perm = _epoch_order(labels, 3, "none", np.random.default_rng(0))
    np.testing.assert_array_equal(np.sort(perm), np.arange(100))


@pytest.mark.parametrize("balance", ["weights", "sampler"])
def test_balanced_training_runs(toy, balance):
    res = fit(
        tiny_model(),
        toy.train(),
        None,
        FAST.to_dict() | {"epochs": 1, "balance": balance},
        progress=False,
    )
    assert np.isfinite(res.history["loss"]).all()


def test_wrong_number_of_classes_is_named(toy):
    with pytest.raises(ValueError, match=r"logits \(4, 5\); expected \(4, 3\)"):
        fit(TinyNet(5), toy.train(), None, FAST, progress=False)


def test_bad_configs_are_named():
    with pytest.raises(ValueError, match="schedule must be 'cosine' or 'step'"):
        TrainConfig(schedule="linear")
    with pytest.raises(ValueError, match="unknown settings"):
        TrainConfig.from_dict({"epoch": 3})
    with pytest.raises(ValueError, match="must not set"):
        TrainConfig(augment={"length": 10})
    with pytest.raises(ValueError, match="augment settings are invalid"):
        TrainConfig(augment={"crop": [0, 1]})


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("grad_clip", -1.0, r"grad_clip=-1.0: expected a finite number > 0"),
        ("grad_clip", 0.0, r"grad_clip=0.0: expected a finite number > 0"),
        ("momentum", 1.0, r"momentum=1.0: expected a finite number in \[0, 1\)"),
        ("weight_decay", -1e-4, "weight_decay=-0.0001: expected a finite number >= 0"),
        ("label_smoothing", 1.0, r"label_smoothing=1.0: expected a finite number in \[0, 1\)"),
        ("gamma", 0.0, "gamma=0.0: expected a finite number > 0"),
        ("min_lr", 1.0, "min_lr=1.0: expected at most lr=0.05"),
        ("epochs", 2.5, "epochs=2.5: expected an integer >= 1"),
        ("epochs", 0, "epochs=0: expected an integer >= 1"),
        ("batch_size", True, "batch_size=True: expected an integer >= 1"),
        ("lr", "0.1", "lr='0.1': expected a finite number > 0"),
        ("lr", float("nan"), "lr=nan: expected a finite number > 0"),
        ("nesterov", "yes", "nesterov='yes': expected True or False"),
        ("milestones", [10, 2.5], r"milestones=2.5: expected an integer >= 1 \(each\)"),
        ("augment", "crop", "augment='crop': expected a dict"),
    ],
)
def test_out_of_range_options_are_named(field, value, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**{field: value})


# --------------------------------------------------------------------------- with the real ST-GCN
model_mod = pytest.importorskip("helpers.nets.stgcn")


def test_paper_profile_smoke_on_cpu():
    """The full-width paper network and schedule run a couple of iterations on CPU (no full run)."""
    from helpers.training.profiles import get_profile

    # the toy names no hips, so its clips keep their heading
    prof = get_profile("paper", train_epochs=1, train_batch_size=2, train_heading=None)
    ds = hdm05_toy(n_per_class=1)
    model = model_mod.STGCN(num_classes=ds.num_classes, in_channels=3, **prof.model)
    before = [p.detach().clone() for p in model.parameters()]
    result = fit(model, ds, None, prof.train_config(), device="cpu", progress=False)
    assert np.isfinite(result.history["loss"]).all()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_unknown_profile_is_named():
    from helpers.training.profiles import get_profile

    names = r"'paper', 'paper-resampled', 'quick', 'quick-resampled'"
    with pytest.raises(ValueError, match=rf"unknown profile 'fast'.*{names}"):
        get_profile("fast")
    with pytest.raises(ValueError, match="must start with"):
        get_profile("quick", epochs=3)


# --------------------------------------------------------------------------- natural-length clips
class LengthRecorder(nn.Module):
    """Mean pooling over valid frames; records the lengths it is given."""

    def __init__(self, num_classes: int = 3):
        super().__init__()
        self.fc = nn.Linear(3, num_classes)
        self.seen: list[tuple[int, list[int]]] = []

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        assert lengths is not None, "natural-length batches must come with their lengths"
        self.seen.append((x.shape[2], lengths.tolist()))
        mask = (torch.arange(x.shape[2])[None, :] < lengths[:, None]).float()
        pooled = (x.mean(dim=(3, 4)) * mask[:, None]).sum(2) / lengths[:, None]
        return self.fc(pooled)


def test_natural_mode_keeps_durations_and_passes_lengths(toy):
    cfg = TrainConfig(
        epochs=1,
        batch_size=4,
        clip_mode="natural",
        eval_mode="natural",
        augment={"crop": [1.0, 1.0]},
    )
    model = LengthRecorder()
    fit(model, toy.train(), toy.test(), cfg, device="cpu", progress=False)
    train_lengths = sorted(toy.train().lengths.tolist())
    seen_train = sorted(v for t, ls in model.seen[: len(model.seen) - 1] for v in ls)
    # crop 1 and no speed change: every training clip whole, at its own length, padded per batch
    assert seen_train == train_lengths
    assert all(t == max(ls) for t, ls in model.seen)
    x, lengths = model_inputs(toy.test(), cfg)
    np.testing.assert_array_equal(lengths, toy.test().lengths)
    assert x.shape[2] == toy.test().lengths.max()
    ev = evaluate(model, toy.test(), cfg)
    assert ev.confusion.sum() == len(toy.test())


def test_natural_mode_speed_jitter_changes_the_lengths(toy):
    cfg = TrainConfig(
        epochs=1,
        batch_size=4,
        clip_mode="natural",
        eval_mode="natural",
        augment={"speed": [0.5, 0.5]},
    )  # twice as slow: twice the frames
    model = LengthRecorder()
    fit(model, toy.train(), None, cfg, device="cpu", progress=False)
    seen = sorted(v for _, ls in model.seen for v in ls)
    assert seen == sorted(2 * t for t in toy.train().lengths.tolist())


def test_clip_mode_settings_are_checked():
    with pytest.raises(ValueError, match="set eval_mode='natural'"):
        TrainConfig(clip_mode="natural")
    with pytest.raises(ValueError, match="clip_mode must be"):
        TrainConfig(clip_mode="cropped")
    with pytest.raises(ValueError, match="speed applies only"):
        TrainConfig(augment={"speed": [0.8, 1.2]})  # a resampled clip has no speed of its own
    assert TrainConfig(eval_mode="natural").eval_mode == "natural"  # whole clips, resampled model
