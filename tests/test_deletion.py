"""Deletion and insertion over cells, joints and frames, against the naive oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from helpers.explain.deletion import (
    deletion_areas,
    deletion_gains,
    motion_energy,
    remove_cells,
    unit_ranks,
)
from helpers.nets.skeleton_graph import SkeletonGraph
from helpers.nets.stgcn import STGCN

from builders import CHAIN
from naive import naive_deletion_area, naive_motion


@pytest.fixture(scope="module")
def setup():
    """A small random ST-GCN (eval mode) and three padded clips of 9, 12 and 7 frames."""
    graph = SkeletonGraph(5, CHAIN, center=0)
    model = STGCN(3, graph=graph, width=0.25, num_blocks=3, random_state=0).eval()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 3, 12, 5, 1)).astype(np.float32)
    lengths = np.array([9, 12, 7])
    for i, length in enumerate(lengths):
        x[i, :, length:] = 0
    return model, x, lengths


def test_remove_cells_replaces_exactly_the_chosen_cells():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 6, 5, 2)).astype(np.float32)
    lengths = np.array([6, 4])
    x[1, :, 4:] = 0
    removed = np.zeros((2, 6, 5), bool)
    removed[0, 2, 3] = removed[0, 5, 0] = removed[1, 1, 4] = True
    removed[1, 5, 1] = True  # a padded cell: ignored
    out = remove_cells(x, lengths, removed)
    for i, t, v in ((0, 2, 3), (0, 5, 0), (1, 1, 4)):
        mean = x[i, :, : lengths[i], v].mean(axis=1)  # (C, M)
        np.testing.assert_allclose(out[i, :, t, v], mean, rtol=1e-5)
    keep = ~removed[:, None, :, :, None].repeat(3, 1).repeat(2, 4)
    np.testing.assert_array_equal(out[keep], x[keep])
    assert np.all(out[1, :, 4:] == 0)  # padding stays zero
    assert np.all(remove_cells(x, lengths, removed, "zero")[0, :, 2, 3] == 0)
    with pytest.raises(ValueError, match="baseline"):
        remove_cells(x, lengths, removed, "noise")
    with pytest.raises(ValueError, match="removed must be"):
        remove_cells(x, lengths, removed[:, :, :4])


def test_motion_energy_matches_the_oracle(setup):
    _, x, lengths = setup
    got = motion_energy(x, lengths)
    for i, length in enumerate(lengths):
        np.testing.assert_allclose(got[i], naive_motion(x[i], int(length)), rtol=1e-6)


@pytest.mark.parametrize("unit", ["cell", "joint", "frame"])
def test_unit_ranks_group_cells_into_units(unit):
    rng = np.random.default_rng(0)
    scores = rng.random((2, 6, 4))
    lengths = np.array([6, 3])
    ranks, counts = unit_ranks(scores, lengths, unit, rng)
    expected = {"cell": [24, 12], "joint": [4, 4], "frame": [6, 3]}[unit]
    assert list(counts) == expected
    for i in range(2):
        valid = ranks[i, : lengths[i]]
        assert sorted(np.unique(valid)) == list(range(counts[i]))
        assert np.all(ranks[i, lengths[i] :] == counts[i])
        top = valid == 0
        if unit == "joint":
            assert top.all(axis=0).sum() == 1
            assert np.argmax(scores[i, : lengths[i]].mean(axis=0)) == np.flatnonzero(top[0])[0]
        if unit == "frame":
            assert np.argmax(scores[i, : lengths[i]].sum(axis=1)) == np.flatnonzero(top[:, 0])[0]
        if unit == "cell":
            assert scores[i][: lengths[i]][top].item() == scores[i, : lengths[i]].max()


@pytest.mark.parametrize("unit", ["cell", "joint", "frame"])
def test_areas_match_the_naive_oracle(setup, unit):
    model, x, lengths = setup
    res = deletion_areas(model, x, lengths=lengths, unit=unit, steps=4, random_orders=1,
                         layer=[2, 3])  # fmt: skip
    _, classes = None, None
    with torch.no_grad():
        logits = model(torch.from_numpy(x), lengths=torch.as_tensor(lengths))
    classes = logits.argmax(1).numpy()
    for i, length in enumerate(lengths):

        def probability(clip, i=i, length=length):
            with torch.no_grad():
                out = model(torch.from_numpy(clip[None]), lengths=torch.as_tensor([length]))
            return float(torch.softmax(out, 1)[0, classes[i]])

        for curve in ("deletion", "insertion"):
            want = naive_deletion_area(probability, x[i], int(length),
                                       naive_motion(x[i], int(length)), unit, 4, curve)  # fmt: skip
            got = res.areas.query("ranking == 'motion' and curve == @curve and clip == @i")[
                "area"
            ].item()
            assert got == pytest.approx(want, abs=1e-5)
    assert set(res.areas["ranking"]) == {"gradcam", "random", "motion"}
    assert set(res.areas.loc[res.areas.ranking == "gradcam", "layer"]) == {2, 3}
    assert res.unit == unit


def test_gains_are_paired_differences_with_intervals():
    rows = []
    for clip, (g, r, m) in enumerate([(0.2, 0.5, 0.3), (0.1, 0.4, 0.1), (0.3, 0.6, 0.2)]):
        for ranking, layer, area in (("gradcam", 1, g), ("random", 0, r), ("motion", 0, m)):
            rows.append({"ranking": ranking, "layer": layer, "curve": "deletion", "clip": clip,
                         "area": area})  # fmt: skip
    gains = deletion_gains(pd.DataFrame(rows), n_boot=200).set_index("against")
    assert gains.loc["random", "estimate"] == pytest.approx(0.3)
    assert gains.loc["random", "low"] == pytest.approx(0.3)  # every clip gains 0.3
    assert gains.loc["motion", "estimate"] == pytest.approx(0.0)
    assert gains.loc["motion", "low"] < 0 < gains.loc["motion", "high"]
    assert (gains["clips"] == 3).all()
