"""The separation study on a toy dataset: its tables, controls and intervals fit together."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from helpers.nets.skeleton_graph import SkeletonGraph
from helpers.studies import StudyContext
from helpers.studies.separation import LATE, separation_study

from builders import make_dataset, tiny_profile


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    layout = SkeletonGraph.from_layout("hdm05")
    ds = make_dataset(
        n_per_class=8, classes=4, joints=layout.num_nodes, edges=[tuple(e) for e in layout.edges]
    )
    ds.subjects = np.array(["bd", "bk", "dg", "mm"])[ds.subjects]
    ds.split = np.where(np.isin(ds.subjects, ["dg", "mm"]), "test", "train")
    prof = tiny_profile().replace(model_schedule=[[4, 1]] * 4 + [[4, 2]] * 3 + [[4, 2]] * 3)
    ctx = StudyContext.create(
        prof, ds, "cpu", cache_dir=tmp_path_factory.mktemp("c"), progress=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return separation_study(ctx, seeds=(0, 1), k=2, n_boot=20), ds


def test_tables_cover_models_protocols_and_layers(result):
    res, ds = result
    layers = res.layers
    assert set(layers.model) == {"trained", "untrained", "shuffled"}
    assert set(layers[layers.model == "trained"].protocol) == {
        "other subjects",
        "all neighbours",
        "training clips",
    }
    assert set(layers[layers.model != "trained"].protocol) == {"other subjects"}
    n_layers = 11
    assert sorted(set(layers.layer)) == list(range(n_layers))
    assert len(res.radii) == n_layers and min(res.radii) >= 1
    iv = res.intervals
    assert set(iv.model) == {"trained", "untrained", "shuffled"}
    assert (iv.low <= iv.high).all() and (iv.seed_low <= iv.seed_high).all()
    trained = iv[iv.model == "trained"].set_index("layer")
    # the estimate is the mean over seeds of the fair protocol's NNK label variation
    fair = layers[(layers.protocol == "other subjects") & (layers.model == "trained")]
    lv = fair[(fair.graph == "nnk") & (fair.metric == "label_variation")]
    np.testing.assert_allclose(
        trained.estimate.to_numpy(), lv.groupby("layer").value.mean().to_numpy()
    )
    names = set(res.contrasts.name)
    assert names == {"late - early", "early - input", "late - input", "slope"}
    assert set(res.probe.model) == {"trained", "untrained", "shuffled"}
    assert res.probe.probe_top1.between(0, 1).all()
    assert set(res.cka.seed) == {0, 1}
    first = res.cka[res.cka.layer == 0]
    np.testing.assert_allclose(first.cka_input, 1.0)
    assert 0 <= res.reference["floor"] <= res.reference["chance"] <= 1
    assert res.settings["test_clips"] == int((ds.split == "test").sum())


def test_generic_control(result):
    res, _ = result
    gen = res.generic.set_index("layer")
    assert gen.loc[0, "estimate"] == pytest.approx(0.0, abs=1e-12)  # the same input for both
    np.testing.assert_allclose(gen.estimate, gen.other - gen.these)
    assert set(res.generic_contrasts.name) == {"early gap", "late gap", "growth"}
    late = res.generic_contrasts.set_index("name").loc["late gap", "estimate"]
    assert late == pytest.approx(gen.loc[list(LATE), "estimate"].mean())


def test_noise_robustness_on_the_toy(result, tmp_path):
    from helpers.studies.noise_robustness import noise_robustness_study

    _, ds = result
    prof = tiny_profile().replace(model_schedule=[[4, 1]] * 4 + [[4, 2]] * 3 + [[4, 2]] * 3)
    ds.fps = 10.0
    ctx = StudyContext.create(prof, ds, "cpu", cache_dir=tmp_path, progress=False)
    res = noise_robustness_study(
        ctx,
        levels={"gaussian": (0.05,), "correlated": (0.05,), "dropout": (0.3,)},
        noise_seeds=(0, 1),
        seeds=(0,),
        k=2,
        n_boot=5,
    )
    assert set(res.attenuation.kind) == {"gaussian", "correlated", "dropout"}
    s = res.summary
    np.testing.assert_allclose(s.delta, s.noisy - s.clean)
    assert s[s.layer == 0].low.notna().all() and s[s.layer == 5].low.isna().all()
    assert s.stability.between(0, 1).all()
    assert len(res.layers) == 3 * 2 * 11  # kinds x draws x layers, one seed
    assert set(res.accuracy.kind) == {"none", "gaussian", "correlated", "dropout"}


def test_one_test_subject_is_refused_by_name(tmp_path):
    ds = make_dataset(n_per_class=4, classes=2, joints=5, edges=[(j, j + 1) for j in range(4)])
    ds.split = np.where(ds.subjects == ds.subjects[ds.split == "test"][0], "test", "train")
    ctx = StudyContext.create(tiny_profile(), ds, "cpu", cache_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="least two test subjects"):
        separation_study(ctx, seeds=(0,), k=2, n_boot=2)


def test_the_heading_contrast_measures_layer_0_with_and_without_the_turn(tmp_path):
    from helpers.data.skeletons import LAYOUTS

    layout = SkeletonGraph.from_layout("hdm05")
    ds = make_dataset(
        n_per_class=8, classes=3, joints=layout.num_nodes, edges=[tuple(e) for e in layout.edges]
    )
    ds.joint_names = list(LAYOUTS["hdm05"].joint_names)
    ds.subjects = np.array(["bd", "bk", "dg", "mm"])[ds.subjects]
    ds.split = np.where(np.isin(ds.subjects, ["dg", "mm"]), "test", "train")
    prof = tiny_profile().replace(
        model_schedule=[[4, 1]] * 4 + [[4, 2]] * 3 + [[4, 2]] * 3, train_heading="first"
    )
    ctx = StudyContext.create(prof, ds, "cpu", cache_dir=tmp_path, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = separation_study(ctx, seeds=(0,), k=2, n_boot=10, generic=False)
    rows = res.inputs.set_index("input")
    assert list(rows.index) == ["camera heading", "one heading", "one heading - camera heading"]
    trained0 = res.intervals.query("model == 'trained' and layer == 0").iloc[0]
    assert rows.loc["one heading", "estimate"] == pytest.approx(trained0.estimate)
    assert rows.loc["one heading", "low"] == pytest.approx(trained0.low)  # one seed: same samples
    diff = rows.loc["one heading", "estimate"] - rows.loc["camera heading", "estimate"]
    assert rows.loc["one heading - camera heading", "estimate"] == pytest.approx(diff)
    assert rows.one_nn.iloc[:2].between(0, 1).all()
