"""Transfer: task splits, few-shot subsets, freezing that really freezes, fine-tuning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.nets.stgcn import STGCN
from helpers.training.config import TrainConfig
from helpers.training.transfer import few_shot, fine_tune, split_tasks, transfer_model

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
def test_no_value_of_a_frozen_block_changes_during_fine_tuning(k):
    source = _model()
    before = {n: t.clone() for n, t in source.state_dict().items()}
    target = make_dataset(n_per_class=6, classes=2, seed=1)
    tuned, result = fine_tune(source, target, k, CFG, random_state=0, device="cpu")
    after = tuned.state_dict()
    frozen_prefixes = (
        ("A",)
        + (("data_bn.",) if k else ())
        + tuple(f"st_gcn_networks.{i}." for i in range(k))
        + tuple(f"edge_importance.{i}" for i in range(k))
    )
    for name, value in before.items():
        if name.startswith("fcn."):
            continue
        if name.startswith(frozen_prefixes):
            assert torch.equal(after[name], value), f"{name} changed although frozen (k={k})"
    trainable = [
        n
        for n in before
        if not n.startswith(frozen_prefixes) and not n.startswith("fcn.") and "num_batches" not in n
    ]
    if trainable:
        assert any(not torch.equal(after[n], before[n]) for n in trainable)
    for name, value in source.state_dict().items():  # the source model itself is untouched
        assert torch.equal(value, before[name])
    assert tuned.num_classes == 2 and tuned.fcn.out_channels == 2
    assert tuned.config["num_classes"] == 2
    assert 0.0 <= result.test.accuracy <= 1.0


def test_scratch_and_errors():
    source = _model()
    target = make_dataset(n_per_class=4, classes=2, seed=2)
    model, result = fine_tune(source, target, None, CFG, random_state=0, device="cpu")
    assert model.num_classes == 2 and model.frozen_blocks == 0
    with pytest.raises(ValueError, match="source"):
        fine_tune(None, target, 2, CFG)
    with pytest.raises(TypeError, match="STGCN"):
        transfer_model(torch.nn.Linear(2, 2), 2, 0)


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
