"""Grad-CAM sanity checks on a small trained ST-GCN: the checks must pass where they should."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.explain.checks import (
    cascading_randomization,
    compare_models,
    map_agreement,
    map_rank_correlation,
    randomize_from,
)
from helpers.explain.deletion import deletion_areas, deletion_gains
from helpers.explain.gradcam import layer_gradcam
from helpers.nets.skeleton_graph import SkeletonGraph
from helpers.nets.stgcn import STGCN
from helpers.training.config import TrainConfig
from helpers.training.inputs import model_inputs
from helpers.training.loop import fit

from builders import CHAIN, make_dataset

CFG = TrainConfig(
    clip_mode="natural",
    eval_mode="natural",
    center="first",
    epochs=60,
    batch_size=8,
    lr=0.05,
    augment={},
)


def _train(ds, seed: int) -> STGCN:
    graph = SkeletonGraph(5, CHAIN, center=0)
    model = STGCN(
        ds.num_classes, graph=graph, width=0.25, num_blocks=4, random_state=seed, init="pytorch"
    )
    fit(model, ds.train(), None, CFG, random_state=seed, device="cpu", progress=False)
    return model.eval()


@pytest.fixture(scope="module")
def trained():
    """A model that solves the toy task (the tip joint's swing frequency is the class)."""
    ds = make_dataset(n_per_class=12, classes=3, seed=0)
    # seed 2: with packed training batches seed 0 misses one of the 9 test clips (seeds 1 and
    # 2 get all 9); the checks need a model that solves the task, not a particular seed
    model = _train(ds, 2)
    test = ds.test()
    x, lengths = model_inputs(test, CFG)
    with torch.no_grad():
        acc = (
            model(torch.from_numpy(x), lengths=torch.as_tensor(lengths)).argmax(1).numpy()
            == test.labels
        ).mean()
    assert acc >= 0.9, f"the toy model must learn its task to test explanations (top-1 {acc})"
    return ds, model, x, lengths


def test_rank_correlation_hand_cases():
    a = np.arange(6, dtype=float).reshape(1, 1, 3, 2)
    assert map_rank_correlation(a, a)[0] == pytest.approx(1.0)
    assert map_rank_correlation(a, -a)[0] == pytest.approx(-1.0)
    assert map_rank_correlation(a, a**3)[0] == pytest.approx(1.0)  # ranks only
    # only the valid frames count: frame 2 differs but is beyond length 2
    b = a.copy()
    b[0, 0, 2] = [100.0, -100.0]
    assert map_rank_correlation(a, b, lengths=[2])[0] == pytest.approx(1.0)
    assert np.isnan(map_rank_correlation(np.zeros_like(a), a)[0])  # constant map


@pytest.mark.slow  # the toy model that solves its task trains 60 epochs
def test_randomize_from_keeps_lower_blocks_and_the_original(trained):
    _, model, _, _ = trained
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rand = randomize_from(model, 4, random_state=1)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])  # the original is untouched
    rs = rand.state_dict()
    for k in before:
        kept = k.startswith(
            (
                "st_gcn_networks.0.",
                "st_gcn_networks.1.",
                "st_gcn_networks.2.",
                "data_bn.",
                "A",
                "edge_importance.0",
                "edge_importance.1",
                "edge_importance.2",
            )
        )
        if kept:
            assert torch.equal(rs[k], before[k]), k
    changed = [
        k
        for k in before
        if k.startswith(("fcn.", "st_gcn_networks.3.", "st_gcn_networks.5."))
        and "num_batches" not in k
        and not torch.equal(rs[k], before[k])
    ]
    assert changed
    with pytest.raises(ValueError, match="block"):
        randomize_from(model, 0)


@pytest.mark.slow  # the toy model that solves its task trains 60 epochs
def test_cascading_randomisation_destroys_the_maps(trained):
    _, model, x, lengths = trained
    table = cascading_randomization(model, x, lengths=lengths, random_state=0)
    steps = table.step.max()
    assert steps == model.num_blocks + 1
    last = table[table.step == steps]
    # with every block re-initialised no layer's map keeps its ranks
    assert (last.spearman.abs() < 0.6).all(), last
    mean_by_step = table.groupby("step").spearman.mean()
    assert mean_by_step.iloc[-1] < 0.5


@pytest.mark.slow  # the toy model that solves its task trains 60 epochs
def test_label_randomisation_gives_other_maps(trained):
    ds, model, x, lengths = trained
    rng = np.random.default_rng(0)
    shuffled = ds.train()
    shuffled.labels = rng.permutation(shuffled.labels)
    permuted = _train(shuffled, 0)
    control = _train(ds, 1)
    vs_perm = compare_models(model, permuted, x, lengths=lengths)
    vs_ctrl = compare_models(model, control, x, lengths=lengths)
    last = model.num_blocks
    r_perm = vs_perm.set_index("layer").spearman
    r_ctrl = vs_ctrl.set_index("layer").spearman
    # the last block explains the decision: a real second model agrees more than a memoriser
    assert r_ctrl.loc[last] > r_perm.loc[last]
    assert r_perm.loc[last] < 0.6


@pytest.mark.slow  # the toy model that solves its task trains 60 epochs
def test_deletion_falls_faster_than_random(trained):
    _, model, x, lengths = trained
    last = model.num_blocks
    for unit in ("joint", "cell"):
        res = deletion_areas(model, x, lengths=lengths, unit=unit, steps=5, random_orders=4)
        gains = deletion_gains(res.areas, n_boot=200)
        mine = gains[(gains.layer == last) & (gains.against == "random")].set_index("curve")
        assert mine.loc["deletion", "estimate"] > 0, gains
        assert mine.loc["insertion", "estimate"] > 0, gains
        # the endpoints are shared: nothing removed is the clean clip, everything removed the same
        d = res.curves[res.curves.curve == "deletion"]
        ends = d[d.fraction.isin([0.0, 1.0])].groupby("fraction").score.nunique()
        assert (ends == 1).all()
    # the toy task lives in the tip joint: the last block's map ranks it first on average
    maps = layer_gradcam(model, x, last, lengths=lengths)
    imp = maps.sum(axis=2).mean(axis=(0, 1))
    assert int(np.argmax(imp)) in (3, 4)


def test_map_agreement_per_clip_averages_to_compare_models():
    graph = SkeletonGraph(5, CHAIN, center=0)
    a = STGCN(3, graph=graph, width=0.25, num_blocks=3, random_state=0).eval()
    b = STGCN(3, graph=graph, width=0.25, num_blocks=3, random_state=1).eval()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3, 10, 5, 1)).astype(np.float32)
    lengths = np.array([10, 8, 9, 6])
    per_clip = map_agreement(a, b, x, lengths=lengths)
    assert sorted(per_clip.columns) == ["clip", "layer", "spearman"]
    assert len(per_clip) == 3 * 4
    summary = compare_models(a, b, x, lengths=lengths).set_index("layer")
    for layer, part in per_clip.groupby("layer"):
        r = part.spearman.to_numpy()
        want = np.nanmean(r) if np.isfinite(r).any() else np.nan
        assert summary.loc[layer, "spearman"] == pytest.approx(want, nan_ok=True)
        assert summary.loc[layer, "constant_maps"] == pytest.approx(np.mean(~np.isfinite(r)))
