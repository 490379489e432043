"""Transfer: task splits, few-shot subsets, freezing that really freezes, fine-tuning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.data.dataset import SkeletonDataset
from helpers.nets.stgcn import STGCN
from helpers.training.config import TrainConfig
from helpers.training.transfer import (
    class_splits,
    few_shot,
    split_tasks,
    train_transfer,
    transfer_model,
    transferred_parameters,
)

from builders import make_dataset, small_model

CFG = TrainConfig(
    clip_mode="natural",
    eval_mode="natural",
    center="first",
    epochs=3,
    batch_size=4,
    lr=0.1,
    augment={"crop": [0.8, 1.0]},
)


def _model(seed=0) -> STGCN:
    """Six blocks (so that 0, 3 and 6 of them can be frozen), a few training steps behind it."""
    return small_model(seed=seed, num_blocks=6)


def test_select_classes_relabels_in_the_given_order():
    ds = make_dataset(n_per_class=4, classes=4)
    sub = ds.select_classes(["act2", 0])
    assert sub.class_names == ["act2", "act0"]
    assert sorted(set(sub.labels.tolist())) == [0, 1]
    assert len(sub) == 8
    orig = [ds.class_names[v] for v in ds.labels[(ds.labels == 2) | (ds.labels == 0)]]
    assert sorted(orig) == sorted(sub.class_names[v] for v in sub.labels)
    with pytest.raises(ValueError, match="unknown class"):
        ds.select_classes(["nope"])
    with pytest.raises(ValueError, match="distinct"):
        ds.select_classes([1, 1])


def test_split_tasks_are_disjoint():
    ds = make_dataset(n_per_class=4, classes=4)
    src, tgt = split_tasks(ds, ["act0", "act1"], ["act2", "act3"])
    assert src.num_classes == tgt.num_classes == 2 and len(src) + len(tgt) == len(ds)
    with pytest.raises(ValueError, match="share"):
        split_tasks(ds, ["act0", "act1"], ["act1", "act3"])


def test_few_shot_thins_only_the_training_split():
    ds = make_dataset(n_per_class=8, classes=3)
    sub = few_shot(ds, 2, random_state=0)
    tr = sub.train()
    assert np.bincount(tr.labels).tolist() == [2, 2, 2]
    assert len(sub.test()) == len(ds.test())
    assert few_shot(ds, None) is ds
    again = few_shot(ds, 2, random_state=0)
    assert [s.tobytes() for s in again.sequences] == [s.tobytes() for s in sub.sequences]
    with pytest.raises(ValueError, match="fewer"):
        few_shot(ds, 100)


def test_freeze_blocks_keeps_frozen_batchnorm_in_eval_mode():
    model = _model().freeze_blocks(2)
    model.train()
    assert not model.data_bn.training
    assert not any(m.training for b in model.st_gcn_networks[:2] for m in b.modules())
    assert all(m.training for b in model.st_gcn_networks[2:] for m in b.modules())
    assert not any(p.requires_grad for p in model.st_gcn_networks[:2].parameters())
    assert not model.edge_importance[1].requires_grad and model.edge_importance[2].requires_grad
    model.freeze_blocks(0)
    model.train()
    assert all(m.training for m in model.modules())
    assert all(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="count"):
        model.freeze_blocks(7)


@pytest.mark.parametrize("k", [0, 3, 6])
@pytest.mark.parametrize("freeze", [True, False])
def test_transfer_model_copies_k_blocks_and_renews_the_rest(k, freeze):
    base = _model()
    before = {n: t.clone() for n, t in base.state_dict().items()}
    model = transfer_model(base, 2, k, freeze=freeze, random_state=5)
    copied = set(transferred_parameters(base, k))
    state = model.state_dict()
    for name, value in before.items():
        if name in copied:
            assert torch.equal(state[name], value), f"{name} was not copied (k={k})"
        elif (
            name.startswith(("st_gcn_networks.", "edge_importance."))
            and value.dtype.is_floating_point
        ):
            if "running" in name or name.startswith("edge_importance"):
                continue  # new BatchNorm statistics and edge importance start at 0/1 everywhere
            assert not torch.equal(state[name], value), f"{name} was copied although k={k}"
    # the new part is what a new network of the same seed gets: seeded, not left over
    again = transfer_model(base, 2, k, freeze=freeze, random_state=5)
    for name, value in again.state_dict().items():
        assert torch.equal(value, state[name])
    assert model.num_classes == 2 and model.fcn.out_channels == 2
    assert model.frozen_blocks == (k if freeze else 0)
    for name, value in base.state_dict().items():  # the base itself is untouched
        assert torch.equal(value, before[name])


@pytest.mark.parametrize("k", [0, 3, 6])
def test_no_value_of_a_frozen_block_changes_during_training(k):
    base = _model()
    target = make_dataset(n_per_class=8, classes=2, seed=1)
    model, result = train_transfer(
        base, target, k, CFG, freeze=True, patience=2, random_state=0, device="cpu"
    )
    start = transfer_model(base, 2, k, freeze=True, random_state=0).state_dict()
    after = model.state_dict()
    frozen = set(transferred_parameters(base, k)) | {"A"}
    for name in frozen:
        assert torch.equal(after[name], start[name]), f"{name} changed although frozen (k={k})"
    trainable = [
        n for n in start if n not in frozen and not n.startswith("fcn.") and "num_batches" not in n
    ]
    if trainable:
        assert any(not torch.equal(after[n], start[n]) for n in trainable)
    assert 1 <= result.extra["best_epoch"] <= result.epochs_done
    assert result.extra["validation_subject"] == "2"
    assert 0.0 <= result.test.accuracy <= 1.0


def test_fine_tuned_blocks_learn_at_their_factor():
    base = _model()
    target = make_dataset(n_per_class=8, classes=2, seed=1)
    cfg = TrainConfig(**{**CFG.to_dict(), "epochs": 1, "augment": {}, "momentum": 0.0})
    start = transfer_model(base, 2, 3, freeze=False, random_state=0).state_dict()
    moved = {}
    for factor in (0.0, 1.0):
        model, _ = train_transfer(
            base, target, 3, cfg, freeze=False, lr_factor=factor, patience=1, random_state=0,
            device="cpu",
        )  # fmt: skip
        moved[factor] = model.state_dict()
    name = "st_gcn_networks.0.gcn.conv.weight"
    assert torch.equal(moved[0.0][name], start[name])  # factor 0: the block does not learn
    assert not torch.equal(moved[1.0][name], start[name])
    top = "st_gcn_networks.5.gcn.conv.weight"
    assert not torch.equal(moved[0.0][top], start[top])  # the new blocks learn either way


def test_transfer_errors():
    base = _model()
    target = make_dataset(n_per_class=4, classes=2, seed=2)
    with pytest.raises(TypeError, match="STGCN"):
        transfer_model(torch.nn.Linear(2, 2), 2, 0)
    with pytest.raises(ValueError, match="k must be in 0..6"):
        transfer_model(base, 2, 7)
    with pytest.raises(ValueError, match="lr_factor"):
        train_transfer(base, target, 2, CFG, freeze=False, lr_factor=-1.0)
    with pytest.raises(ValueError, match="not among the training subjects"):
        train_transfer(base, target, 2, CFG, validation_subject="nobody")


def test_class_splits_keep_every_pair_apart():
    from helpers.training.transfer import HDM05_PAIRS, HDM05_TASKS

    names = sorted({c for pair in HDM05_PAIRS for c in pair} | set(HDM05_TASKS["source"]))
    seqs = [np.zeros((4, 5, 3), np.float32)] * len(names)
    ds = SkeletonDataset.from_arrays(seqs, range(len(names)), names, edges=[(0, 1)])
    splits = class_splits(ds, 3, random_state=0)
    assert splits[0] == HDM05_TASKS and len({str(s) for s in splits}) == 3
    for split in splits:
        assert "elbowToKnee1RepsLelbowStart" in split["source"]
        for a, b in HDM05_PAIRS:
            assert (a in split["source"]) != (b in split["source"])
            assert (a in split["target"]) != (b in split["target"])
    assert class_splits(ds, 3, random_state=0) == splits
    other = SkeletonDataset.from_arrays(seqs[:6], range(6), list("abcdef"), edges=[(0, 1)])
    parts = class_splits(other, 3, random_state=1)
    assert parts[0] == {"source": ("a", "c", "e"), "target": ("b", "d", "f")}
    for split in parts:
        assert sorted(split["source"] + split["target"]) == list("abcdef")
    with pytest.raises(ValueError, match="count"):
        class_splits(other, 0)


def test_hold_out_keeps_test_clips_out():
    ds = make_dataset(n_per_class=8, classes=2)
    rest, held = ds.hold_out(2)
    assert set(map(str, held.subjects)) == {"2"} and "2" not in set(map(str, rest.subjects))
    assert set(rest.split) == {"train"} and set(held.split) == {"train"}
    assert len(rest) + len(held) == len(ds.train())
    with pytest.raises(ValueError, match="not among the training subjects"):
        ds.hold_out(3)  # subject 3 has only test clips


def test_replace_classifier_is_seeded():
    a = _model().replace_classifier(4, random_state=3)
    b = _model().replace_classifier(4, random_state=3)
    assert torch.equal(a.fcn.weight, b.fcn.weight)
    assert a(torch.randn(2, 3, 10, 5, 1)).shape == (2, 4)


def test_default_tasks_hdm05_pairs_or_alternating_classes():
    from helpers.data.dataset import SkeletonDataset
    from helpers.training.transfer import HDM05_TASKS, default_tasks

    names = list(HDM05_TASKS["source"]) + list(HDM05_TASKS["target"])
    seqs = [np.zeros((3, 2, 3))] * len(names)
    ds = SkeletonDataset.from_arrays(seqs, range(len(names)), names, edges=[(0, 1)])
    assert default_tasks(ds) == {k: tuple(v) for k, v in HDM05_TASKS.items()}
    other = SkeletonDataset.from_arrays(seqs[:5], range(5), list("abcde"), edges=[(0, 1)])
    assert default_tasks(other) == {"source": ("a", "c", "e"), "target": ("b", "d")}
    with pytest.raises(ValueError, match="at least 2 source and 2 target"):
        default_tasks(SkeletonDataset.from_arrays(seqs[:3], range(3), list("abc"), edges=[(0, 1)]))
