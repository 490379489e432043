"""The results page's numbers: the chapters' defaults, and the reductions on hand-made studies.

The study functions of ``helpers.studies`` are replaced by fakes that return small tables
written here, so every reduction (means over seeds, the layer of separation, the verdicts) is
checked against numbers worked out by hand, in well under a second.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers import report, studies
from helpers.bookrun import read_chapter
from helpers.explain.gradcam import DatasetGradCAM
from helpers.report.numbers import numbers_table
from helpers.studies import StudyContext
from helpers.training.config import EvalResult
from helpers.training.profiles import study_settings

from builders import tiny_profile
from test_training import make_dataset

BOOK = Path(__file__).resolve().parents[1] / "book"
PACKAGE = Path(__file__).resolve().parents[1] / "helpers"


# ------------------------------------------------------------------ the chapters' defaults
def parameters_cell(chapter: Path) -> dict:
    """The assignments of a chapter's ``parameters`` cell, as Python values."""
    nb = read_chapter(chapter)
    cells = [
        c
        for c in nb.cells
        if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    assert len(cells) == 1, f"{chapter.name}: {len(cells)} cells tagged 'parameters'"
    values = {}
    for node in ast.parse(cells[0].source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, (
            f"{chapter.name}: the parameters cell holds something other than assignments"
        )
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def test_every_chapter_from_2_to_9_has_defaults():
    """A new chapter the results page reads must put its defaults in CHAPTER_DEFAULTS."""
    stems = {p.stem for p in BOOK.glob("0[2-9]_*.md")}
    assert stems == set(report.CHAPTER_DEFAULTS)


@pytest.mark.parametrize("stem", sorted(report.CHAPTER_DEFAULTS))
def test_defaults_match_the_chapters_parameters_cells(stem):
    cell = parameters_cell(BOOK / f"{stem}.md")
    assert cell == {**report.COMMON_DEFAULTS, **report.CHAPTER_DEFAULTS[stem]}


@pytest.mark.parametrize("stem", sorted(report.CHAPTER_DEFAULTS))
def test_titles_are_the_chapters_headings(stem):
    text = (BOOK / f"{stem}.md").read_text(encoding="utf-8")
    heading = next(line[2:].strip() for line in text.splitlines() if line.startswith("# "))
    assert report.CHAPTER_TITLES[stem] == heading


RESULTS = [
    report.training_results,
    report.dtw_graphs_results,
    report.separation_results,
    report.noise_results,
    report.gradcam_results,
    report.transfer_results,
    report.scaling_results,
    report.own_model_results,
]


@pytest.mark.parametrize("function", RESULTS, ids=lambda f: f.__name__)
def test_the_results_functions_default_to_the_chapters_parameters(function):
    """Each function's keywords are its chapter's parameters, with the chapter's defaults.

    (Parameters the results do not use, such as chapter 4's ``sensitivity``, may be left out.)
    """
    stem = next(
        s for s in report.CHAPTER_DEFAULTS if function.__name__.split("_results")[0] in NAMES[s]
    )
    params = list(inspect.signature(function).parameters.values())
    assert params[0].name == "ctx"
    keywords = {p.name: p.default for p in params[1:]}
    assert all(p.kind == p.KEYWORD_ONLY for p in params[1:])
    defaults = report.CHAPTER_DEFAULTS[stem]
    assert set(keywords) <= set(defaults)
    for name, value in keywords.items():
        expected = defaults[name]
        got = list(value) if isinstance(value, tuple) else value
        assert got == expected, f"{function.__name__}({name}={value!r}); {stem} has {expected!r}"


NAMES = {
    "02_training": "training",
    "03_dtw_graphs": "dtw_graphs",
    "04_embedding_geometry": "separation",
    "05_noise": "noise",
    "06_gradcam": "gradcam",
    "07_transfer": "transfer",
    "08_scaling": "scaling",
    "09_own_model": "own_model",
}


def test_the_results_page_has_the_common_parameters():
    # and the second dataset of chapters 4 to 7, to measure it beside the page's or not
    second = {"second_dataset": report.CHAPTER_DEFAULTS["04_embedding_geometry"]["second_dataset"]}
    assert parameters_cell(BOOK / "10_results.md") == {**report.COMMON_DEFAULTS, **second}


def test_noise_models_that_need_a_frame_rate_are_left_out_with_a_warning(monkeypatch):
    calls = recorder(monkeypatch, "noise_robustness_study", lambda c, **kw: fake_noise_result())
    ds = make_dataset(n_per_class=8, classes=3, joints=8, edges=[(j, j + 1) for j in range(7)])
    ds.split = np.where(ds.subjects >= 2, "test", "train")
    ds.fps = float("nan")
    ctx = StudyContext.create(tiny_profile(), ds, "cpu", progress=False)
    with pytest.warns(UserWarning, match=r"frame rate is unknown.*\['dropout'\]"):
        res = report.noise_results(ctx, kinds=["gaussian", "dropout"], k=3)
    assert calls[0][1]["kinds"] == ["gaussian"] and res.data["left_out"] == ["dropout"]
    with pytest.raises(ValueError, match=r"kinds=\['correlated'\]: every one needs"):
        report.noise_results(ctx, kinds=["correlated"], k=3)


def test_nothing_in_the_package_imports_results():
    for path in PACKAGE.rglob("*.py"):
        if path.name == "report.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            assert not any(n == "results" or n.endswith(".results") for n in names), path


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def toy():
    """24 clips of 3 classes on an 8-joint chain, train and test actors."""
    return make_dataset(n_per_class=8, classes=3, joints=8, edges=[(j, j + 1) for j in range(7)])


@pytest.fixture(scope="module")
def ctx(toy):
    """The quick profile on the toy clips, on the CPU, without progress bars."""
    return StudyContext.create("quick", toy, "cpu", progress=False)


def recorder(monkeypatch, name, fake):
    """Replace ``helpers.studies.<name>`` by ``fake``; return the list of its calls."""
    calls = []

    def wrapped(*args, **kwargs):
        calls.append((args, kwargs))
        return fake(*args, **kwargs)

    monkeypatch.setattr(studies, name, wrapped)
    return calls


def fake_model(accuracy=0.9):
    def get_trained_model(profile, *, seed=0, **kwargs):
        return None, SimpleNamespace(test=SimpleNamespace(accuracy=accuracy + 0.01 * seed))

    return get_trained_model


# ------------------------------------------------------------------------------ chapter 4
@pytest.fixture
def two_seeds(monkeypatch):
    """The quick profile's geometry on seeds 0 and 1, which the hand-worked numbers below use."""
    from helpers.training import profiles

    quick = {**profiles.STUDY_SETTINGS["quick"]}
    quick["geometry"] = {**quick["geometry"], "seeds": (0, 1)}
    monkeypatch.setitem(profiles.STUDY_SETTINGS, "quick", quick)


def fake_separation(n_layers=11, seeds=(0, 1), generic=True):
    """A hand-made SeparationResult: trained LV falls linearly, probe and CKA rise."""
    trained = np.linspace(0.30, 0.10, n_layers)  # -0.02 per layer
    iv = []
    for model, curve in (
        ("trained", trained),
        ("untrained", np.full(n_layers, 0.30)),
        ("shuffled", np.full(n_layers, 0.50)),
    ):
        for layer, v in enumerate(curve):
            iv.append(
                {
                    "model": model,
                    "layer": layer,
                    "estimate": v,
                    "low": v - 0.01,
                    "high": v + 0.01,
                    "seed_low": v - 0.005,
                    "seed_high": v + 0.005,
                }
            )
    layers = []
    for s in seeds:
        for layer in range(n_layers):
            for protocol, value in (
                ("other subjects", trained[layer]),
                ("all neighbours", 0.01),
                ("training clips", 0.02 * s),
            ):
                layers.append(("trained", s, protocol, layer, "nnk", "label_variation", value))
            layers.append(("trained", s, "other subjects", layer, "nnk", "isolated", 0.01 * s))
            layers.append(("trained", s, "other subjects", layer, "knn", "label_variation", 9.0))
    layers = pd.DataFrame(
        layers, columns=["model", "seed", "protocol", "layer", "graph", "metric", "value"]
    )
    contrasts = pd.DataFrame(
        [
            {"model": "trained", "name": "slope", "estimate": -0.02, "low": -0.03, "high": -0.01},
            {"model": "trained", "name": "late - early", "estimate": -0.1, "low": -0.2, "high": 0},
        ]
    )
    gen = pd.DataFrame(
        [
            {"layer": layer, "these": 0.1, "other": 0.1 + 0.01 * layer, "estimate": 0.01 * layer,
             "low": 0.01 * layer - 0.02, "high": 0.01 * layer + 0.02}
            for layer in range(n_layers)
        ]
    )  # fmt: skip
    gen_c = pd.DataFrame(
        [
            {"name": "early gap", "estimate": 0.025, "low": -0.01, "high": 0.06},
            {"name": "late gap", "estimate": 0.09, "low": 0.05, "high": 0.13},
            {"name": "growth", "estimate": 0.065, "low": 0.03, "high": 0.1},
        ]
    )
    probe = pd.DataFrame(
        [
            {"model": model, "seed": s, "layer": layer, "probe_top1": p}
            for s in seeds
            for layer in range(n_layers)
            for model, p in (("trained", 0.5 + 0.04 * layer + 0.01 * s), ("untrained", 0.5))
        ]
    )
    cka = pd.DataFrame(
        [
            {"seed": s, "layer": layer, "cka_input": 1 - 0.1 * layer, "cka_last": 0.1 * layer}
            for s in seeds
            for layer in range(n_layers)
        ]
    )
    return studies.SeparationResult(
        layers=layers,
        intervals=pd.DataFrame(iv),
        contrasts=contrasts,
        generic=gen if generic else pd.DataFrame(),
        generic_contrasts=gen_c if generic else pd.DataFrame(),
        probe=probe,
        cka=cka,
        reference={"chance": 0.9, "floor": 0.2, "fewest_same": 4.0, "k": 10.0},
        radii=[3] * 5 + [2] * 3 + [1] * 3,
        settings={"seeds": list(seeds)},
        inputs=pd.DataFrame(
            {
                "input": ["camera heading", "one heading", "one heading - camera heading"],
                "estimate": [0.8, 0.3, -0.5],
                "low": [0.7, 0.2, -0.6],
                "high": [0.9, 0.4, -0.4],
                "one_nn": [0.2, 0.9, 0.7],
            }
        )
        if generic
        else pd.DataFrame(),
    )


def test_separation_results_reduce_the_study_and_judge_it(monkeypatch, toy, ctx, two_seeds):
    recorder(monkeypatch, "get_trained_model", fake_model(0.8))
    calls = recorder(monkeypatch, "separation_study", lambda c, **kw: fake_separation())
    res = report.separation_results(ctx)
    ((_, kw),) = calls
    assert kw == {"seeds": [0, 1], "k": 10, "fraction": 0.1}
    assert res.value("test_top1") == pytest.approx(0.805)
    assert res.value("lv_input") == pytest.approx(0.30)
    assert res.value("lv_early") == pytest.approx(0.30 - 0.02 * 2.5)  # layers 1-4
    assert res.value("lv_late") == pytest.approx(0.30 - 0.02 * 9)  # layers 8-10
    assert res.value("lv_last") == pytest.approx(0.10)
    assert res.value("untrained_lv_last") == 0.30 and res.value("shuffled_lv_last") == 0.50
    assert res.value("chance") == 0.9 and res.value("floor") == 0.2
    assert (res.value("slope_low"), res.value("slope_high")) == (-0.03, -0.01)
    assert res.value("growth") == pytest.approx(0.065)
    assert res.value("probe_input") == pytest.approx(0.505)
    assert res.value("isolated_max") == pytest.approx(0.01)  # the larger seed's share
    table = res.data["table"]
    assert table.loc[3, "training clips"] == pytest.approx(0.01)  # mean of 0 and 0.02
    assert table.loc[4, "gap"] == pytest.approx(0.04) and table.loc[0, "radius"] == 3
    assert table.loc[10, "cka last"] == pytest.approx(1.0)
    assert (res.value("lv_input_camera"), res.value("lv_input_canonical")) == (0.8, 0.3)
    assert (res.value("one_nn_camera"), res.value("one_nn_canonical")) == (0.2, 0.9)
    verdicts = res.data["verdicts"]
    assert verdicts["C1"].outcome == "supports"  # slope below 0
    assert verdicts["C2"].outcome == "supports"  # early gap includes 0, late gap and growth > 0
    # half of the drop 0.30 -> 0.10 at layer 5; the probe (0.505 -> 0.905) and CKA at layer 5
    assert [res.value(k) for k in ("layer_lv", "layer_probe", "layer_cka")] == [5, 5, 5]
    assert verdicts["readouts"].outcome == "supports"
    assert all(res.data["dataset"] in q for q in res.numbers.quantity)


def test_separation_results_without_the_c2_control(monkeypatch, toy, ctx, two_seeds):
    recorder(monkeypatch, "get_trained_model", fake_model(0.8))
    recorder(monkeypatch, "separation_study", lambda c, **kw: fake_separation(generic=False))
    res = report.separation_results(ctx)
    assert "C2" not in res.data["verdicts"] and "gap" not in res.data["table"]
    assert "lv_input_camera" not in set(res.numbers.key)  # no heading contrast: no row
    with pytest.raises(KeyError, match="growth"):
        res.value("growth")


def test_separation_rules():
    assert report.separation_layer(pd.Series([0.5, 0.5, 0.2, 0.1])) == 2
    assert report.separation_layer(pd.Series([0.5, 0.4, 0.1]), share=1.0) == 2
    assert report.separation_layer(pd.Series([0.1, 0.2, 0.3])) is None  # never below the input
    assert report.separation_layer(pd.Series([0.3, 0.1], index=[5, 0])) is None  # sorted by layer


def test_separation_layer_errors():
    with pytest.raises(ValueError, match="no values"):
        report.separation_layer(pd.Series([], dtype=float))
    with pytest.raises(ValueError, match="share"):
        report.separation_layer(pd.Series([0.3, 0.1]), share=0)


def test_separation_table_names_a_bad_study():
    bad = fake_separation()
    bad = studies.SeparationResult(**{**bad.__dict__, "intervals": pd.DataFrame({"layer": [0]})})
    with pytest.raises(ValueError, match="separation intervals"):
        report.separation_table(bad)


# ------------------------------------------------------------------------------ chapter 5
def fake_noise_result(kinds=("gaussian", "dropout")):
    """Clean late blocks at 0.1; gaussian noise moves them by [0.02, 0.06], dropout [0.15, 0.3]."""
    acc = [{"kind": "none", "level": 0.0, "noise_seed": -1, "seed": s, "top1": 0.9} for s in (0, 1)]
    att, summary = [], []
    for kind in kinds:
        damped = kind == "gaussian"
        level = 0.05 if damped else 0.2
        for ns in (0, 1, 2):
            acc.append({"kind": kind, "level": level, "noise_seed": ns, "seed": 0, "top1": 0.7})
        ratio = (0.4, 0.2, 0.6) if damped else (2.0, 1.5, 3.0)  # times the input's 0.1
        att.append(
            {
                "kind": kind,
                "level": level,
                "delta_input": 0.1,
                "delta_input_low": 0.05,
                "delta_input_high": 0.15,
                "delta_late": 0.1 * ratio[0],
                "delta_late_low": 0.1 * ratio[1],
                "delta_late_high": 0.1 * ratio[2],
                "ratio": ratio[0],
                "ratio_low": ratio[1],
                "ratio_high": ratio[2],
            }
        )
        for layer in range(11):
            summary.append(
                {"kind": kind, "level": level, "layer": layer, "delta": 0.0, "low": np.nan,
                 "high": np.nan, "stability": 0.8 - 0.02 * layer,
                 "clean": 0.1 if layer >= 8 else 0.3}
            )  # fmt: skip
    return studies.NoiseResult(
        layers=pd.DataFrame(),
        summary=pd.DataFrame(summary),
        attenuation=pd.DataFrame(att),
        accuracy=pd.DataFrame(acc),
    )


def test_noise_results_judge_every_noise_model(monkeypatch, two_seeds):
    calls = recorder(monkeypatch, "noise_robustness_study", lambda c, **kw: fake_noise_result())
    ds = make_dataset(n_per_class=8, classes=3, joints=8, edges=[(j, j + 1) for j in range(7)])
    ds.split = np.where(ds.subjects >= 2, "test", "train")  # two test subjects, 12 clips
    ds.fps = 10.0  # dropout lasts a time: without a frame rate it would be left out
    ctx = StudyContext.create(tiny_profile(), ds, "cpu", progress=False)
    res = report.noise_results(ctx, kinds=["gaussian", "dropout"], k=3)
    ((_, kw),) = calls
    assert kw == {
        "kinds": ["gaussian", "dropout"],
        "noise_seeds": [0, 1, 2],
        "seeds": [0, 1],
        "k": 3,
        "fraction": 0.1,
    }
    assert res.value("accuracy_clean") == pytest.approx(0.9)
    assert res.value("accuracy_dropout") == pytest.approx(0.7)
    assert res.value("ratio_gaussian_high") == pytest.approx(0.6)
    assert res.value("stability_input_gaussian") == pytest.approx(0.8)
    assert res.value("stability_last_gaussian") == pytest.approx(0.6)
    chance = res.value("chance")
    assert 0 < chance < 1
    v = res.data["verdicts"]
    assert v["gaussian"].numbers["clean_late"] == pytest.approx(0.1)  # blocks 8-10
    assert res.value("share_gaussian") == pytest.approx(0.04 / (chance - 0.1))
    expected = [
        "supports" if high / (chance - 0.1) <= 0.25
        else "contradicts" if low / (chance - 0.1) > 0.25
        else "inconclusive"
        for low, high in ((0.02, 0.06), (0.15, 0.3))
    ]  # fmt: skip
    assert [v["gaussian"].outcome, v["dropout"].outcome] == expected
    assert res.data["verdict"] == report.noise_claim_verdict(v)


def test_noise_results_reject_an_empty_study(monkeypatch, toy, ctx):
    empty = studies.NoiseResult(
        layers=pd.DataFrame(),
        summary=pd.DataFrame(),
        attenuation=pd.DataFrame(),
        accuracy=pd.DataFrame(),
    )
    recorder(monkeypatch, "noise_robustness_study", lambda c, **kw: empty)
    with pytest.raises(ValueError, match="lacks the columns"):
        report.noise_results(ctx)


# ------------------------------------------------------------------------------ chapter 7
def fake_transfer_result(ctx, **kwargs):
    """A transfer study's tables for the grid k = 2, 5, 8: AnB falls behind BnB at k = 5."""
    ks = (2, 5, 8)
    acc = [{"shots": 0, "mode": "scratch", "k": 0, "estimate": 0.6, "low": 0.5, "high": 0.7,
            "runs": 2}]  # fmt: skip
    spec = []
    for k in ks:
        for mode, value in (("AnB", 0.9 - 0.05 * k), ("AnB+", 0.9), ("BnB", 0.9)):
            acc.append({"shots": 0, "mode": mode, "k": k, "estimate": value,
                        "low": value - 0.05, "high": value + 0.05, "runs": 2})  # fmt: skip
        d = -0.05 * k
        for split in ("0", "all"):
            spec.append({"split": split, "shots": 0, "k": k, "estimate": d,
                         "low": d - 0.15, "high": d + 0.15})  # fmt: skip
    layers = pd.DataFrame(
        {"split": ["0", "all"], "transfer_layer": [5.0, 5.0], "geometry_layer": [4.0, 4.0]}
    )
    runs = pd.DataFrame({"best_epoch": [10, 20], "mode": ["AnB", "BnB"], "seconds": [2.0, 4.0]})
    networks = pd.DataFrame(
        {"split": [0], "seed": [0], "shots": [0], "A_source_accuracy": [0.95],
         "B_target_accuracy": [0.85]}
    )  # fmt: skip
    return studies.TransferResult(
        runs=runs,
        accuracy=pd.DataFrame(acc),
        specificity=pd.DataFrame(spec),
        geometry=pd.DataFrame(),
        layers=layers,
        networks=networks,
        tasks=[{"source": ("a",), "target": ("b",)}],
        settings={"ks": ks, "seeds": (0, 1)},
    )


def test_transfer_results_read_the_study(monkeypatch, toy, ctx):
    calls = recorder(monkeypatch, "transfer_study", fake_transfer_result)
    res = report.transfer_results(ctx)
    assert (calls[0][1]["fraction"], calls[0][1]["k"]) == (0.1, 10)
    assert res.value("A_top1") == pytest.approx(0.95)
    assert res.value("scratch") == pytest.approx(0.6)
    assert res.value("AnB_k5") == pytest.approx(0.65)
    assert res.value("BnB_k8_low") == pytest.approx(0.85)
    assert res.value("specificity_late") == pytest.approx(-0.4)
    assert res.value("best_epoch") == pytest.approx(15)
    # the paper grid: 3 splits x 3 seeds x 3 clip counts x (scratch + 10 k x (AnB, BnB, 3 AnB+))
    assert res.value("full_grid_runs") == 3 * 3 * 3 * (1 + 10 * 5)
    assert res.value("full_grid_hours") == pytest.approx(3 * 3 * 3 * 51 * 3.0 / 3600)
    assert (res.value("transfer_layer"), res.value("geometry_layer")) == (5, 4)
    # early: -0.1 [-0.25, +0.05] includes 0; late: -0.4 [-0.55, -0.25] below 0
    assert res.data["verdicts"]["specificity"].outcome == "supports"
    # split 0: geometry at block 4 reads as k = 5 on the grid, where transfer falls behind
    assert res.data["verdicts"]["layer"].outcome == "supports"
    table = res.data["table"]
    assert list(table.index) == [("all", m) for m in ("scratch", "AnB", "AnB+", "BnB")]
    assert table.loc[("all", "AnB"), 5] == "65.0% [60.0%, 70.0%]"


# ------------------------------------------------------------------------------ chapter 8
def fake_scaling_study(prof, **kwargs):
    rows = []
    for data, ns in (("input (D=24)", (100, 200)), ("hidden (D=512)", (100, 200))):
        for n in ns:
            base = 0.01 * n
            if not (data.startswith("hidden") and n == 200):  # all pairs capped there
                rows.append((data, n, "all pairs", base, np.nan, np.nan, 1.0))
            rows.append((data, n, "exact kNN", base / 4, 1.0, np.nan, 4.0))
            rows.append((data, n, "approximate kNN", base / 8, np.nan, 0.99 - n / 1e4, 8.0))
    timings = pd.DataFrame(
        rows, columns=["data", "n", "method", "seconds", "same", "recall", "speedup"]
    )
    exponents = pd.DataFrame(
        [
            (d, m, e)
            for d in ("input (D=24)", "hidden (D=512)")
            for m, e in (("all pairs", 2.0), ("exact kNN", 1.1), ("approximate kNN", 0.9))
        ],
        columns=["data", "method", "exponent"],
    )
    machine = pd.DataFrame([{"cores": 2, "date": "2026-01-01", "k": 10}])
    return {"timings": timings, "exponents": exponents, "machine": machine, "bounds": None}


def test_scaling_compares_at_the_largest_n_where_all_pairs_ran(monkeypatch, toy, ctx):
    calls = recorder(monkeypatch, "scaling_study", fake_scaling_study)
    res = report.scaling_results(ctx)
    assert (calls[0][1]["window"], calls[0][1]["k"]) == (0.1, 10)
    assert res.value("n_input") == 200 and res.value("n_hidden") == 100
    assert res.value("all_pairs_s_input") == pytest.approx(2.0)
    assert res.value("exact_speedup_hidden") == 4.0 and res.value("approx_speedup_input") == 8.0
    assert res.value("approx_recall_input") == pytest.approx(0.97)
    assert res.value("recall_min") == pytest.approx(0.97)
    assert res.value("exponent_exact_hidden") == pytest.approx(1.1)
    assert res.value("exact_same_input") == 1.0 and res.value("cores") == 2
    assert res.data["widths"] == {"input": "input (D=24)", "hidden": "hidden (D=512)"}


def test_scaling_needs_an_all_pairs_timing(monkeypatch, toy, ctx):
    def no_all_pairs(prof, **kwargs):
        study = fake_scaling_study(prof)
        study["timings"] = study["timings"][study["timings"].method != "all pairs"]
        return study

    recorder(monkeypatch, "scaling_study", no_all_pairs)
    with pytest.raises(ValueError, match="no all-pairs timing"):
        report.scaling_results(ctx)


# ------------------------------------------------------------------------------ chapter 2
def test_training_reports_the_test_scores_and_skips_the_resampled_variant(monkeypatch, toy, ctx):
    labels = np.array([0, 0, 0, 1, 1, 2])
    preds = np.array([0, 0, 1, 1, 1, 0])
    ev = EvalResult(
        accuracy=float((labels == preds).mean()),
        per_class=np.array([2 / 3, 1.0, 0.0]),
        confusion=np.zeros((3, 3), np.int64),
        predictions=preds,
        labels=labels,
        scores=np.zeros((6, 3), np.float32),
        class_names=["a", "b", "c"],
    )
    result = SimpleNamespace(
        test=ev,
        epochs_done=3,
        train_seconds=12.5,
        history={"epoch": [1, 2, 3], "val_acc": [0.3, 0.5, 0.67]},
    )
    calls = recorder(monkeypatch, "get_trained_model", lambda prof, **kw: (None, result))
    res = report.training_results(ctx)
    assert len(calls) == 1 and calls[0][1]["seed"] == 0  # no resampled network off HDM05
    assert res.value("test_top1") == pytest.approx(4 / 6)
    assert res.value("balanced_top1") == pytest.approx(5 / 9)
    assert res.value("majority") == pytest.approx(0.5)
    assert res.value("test_clips") == 6 and res.value("epochs") == 3
    assert not res.data["resampled"]
    with pytest.raises(KeyError, match="resampled_top1"):
        res.value("resampled_top1")
    assert res.data["history"]["val_acc"].iloc[-1] == pytest.approx(0.67)


# ------------------------------------------------------------------------------ chapter 6
def fake_checks(layers, fit=0.97):
    """A checks study: deletion beats both orders in blocks 3-4; real maps agree 0.5."""
    casc = pd.DataFrame(
        [(step, layer, 0.5 if step == 1 else 0.1 * layer) for step in (1, 2) for layer in layers],
        columns=["step", "layer", "spearman"],
    )
    iv = []
    for layer in layers:
        shuffled = 0.4 - 0.1 * layer
        for other, value, half in (
            ("another seed", 0.5, 0.05),
            ("shuffled labels", shuffled, 0.05),
            ("another seed - shuffled labels", 0.5 - shuffled, 0.08),
            ("every block random", 0.1, 0.05),
            ("another seed - every block random", 0.4, 0.08),
        ):
            iv.append({"other": other, "layer": layer, "estimate": value,
                       "low": value - half, "high": value + half})  # fmt: skip
    gains = []
    for unit in ("cell", "joint"):
        for layer in layers:
            for against in ("random", "motion"):
                g = 0.1 * (layer - 2) if unit == "cell" else -0.1
                gains.append({"unit": unit, "curve": "deletion", "layer": layer,
                              "against": against, "estimate": g, "low": g - 0.05,
                              "high": g + 0.05})  # fmt: skip
    models = pd.DataFrame(
        {
            "model": ["real", "another seed", "memorising"],
            "fit": [1.0, 1.0, fit],
            "test_accuracy": [0.9, 0.9, np.nan],
            "train_clips": [20, 20, 8],
            "epochs": [80, 80, 150],
        }
    )
    return studies.GradcamChecks(
        cascading=casc,
        agreement=pd.DataFrame(),
        agreement_intervals=pd.DataFrame(iv),
        deletion_curves=pd.DataFrame(),
        deletion_areas=pd.DataFrame(),
        gains=pd.DataFrame(gains),
        models=models,
        settings={"clips": 7},
    )


def test_gradcam_reduces_the_checks_and_the_concentration(monkeypatch, toy, ctx):
    n, v = len(toy), toy.num_joints
    layers = [1, 2, 3, 4]
    uniform = [np.ones((1, 6, v), np.float32) for _ in range(n)]
    peaked = [np.zeros((1, 6, v), np.float32) for _ in range(n)]
    for m in peaked:
        m[0, 0, 0] = 1.0
    logits = np.eye(toy.num_classes, dtype=np.float32)[toy.labels]
    logits[np.flatnonzero(toy.split == "test")[0]] = np.roll(logits[0], 1)  # one test clip wrong
    cams = DatasetGradCAM(
        maps={1: uniform, 2: uniform, 3: peaked, 4: peaked},
        logits=logits,
        targets=toy.labels,
        labels=toy.labels,
        lengths=toy.lengths,
    )
    # maps rougher than the features in blocks 3 and 4, smoother in block 1
    sm = pd.DataFrame(
        {"layer": layers, "map": [0.1, 0.2, 0.3, 0.4], "features": [0.2] * 4,
         "estimate": [-0.1, 0.0, 0.1, 0.2], "low": [-0.15, -0.05, 0.05, 0.15],
         "high": [-0.05, 0.05, 0.15, 0.25]}
    )  # fmt: skip
    for col in ("map", "features"):
        sm[f"{col}_low"], sm[f"{col}_high"] = sm[col] - 0.01, sm[col] + 0.01
    maps = recorder(monkeypatch, "gradcam_maps", lambda c, **kw: (c.dataset, cams))
    recorder(monkeypatch, "gradcam_checks_study", lambda c, **kw: fake_checks(layers))
    smooth = recorder(monkeypatch, "gradcam_smoothness_study", lambda c, **kw: sm)
    res = report.gradcam_results(ctx)
    assert maps[0][1]["seed"] == 0 and (smooth[0][1]["window"], smooth[0][1]["k"]) == (0.1, 10)
    n_test = int((toy.split == "test").sum())
    assert res.value("test_top1") == pytest.approx((n_test - 1) / n_test)
    assert res.value("clips") == 7
    assert res.value("cascading_classifier") == pytest.approx(0.5)
    assert res.value("cascading_all") == pytest.approx(0.25)
    assert res.value("memorising_fit") == pytest.approx(0.97)
    assert res.value("seed_late") == pytest.approx(0.5)
    assert res.value("shuffled_late") == pytest.approx(0.05)  # blocks 3-4
    assert res.value("cell_beat_motion") == 2 and res.value("joint_beat_random") == 0
    assert res.value("cell_gain_motion") == pytest.approx(0.2)
    assert res.value("maps_rougher") == 2
    assert res.value("top5_joints_first") == pytest.approx(5 / v)
    assert res.value("uniform_top5") == pytest.approx(5 / v)
    assert res.value("top5_joints_last") == pytest.approx(1.0)
    assert res.value("top20_frames_last") == pytest.approx(1.0)
    assert res.data["blocks"].loc[4, "map_lv"] == pytest.approx(0.4)
    verdicts = {name: v.outcome for name, v in res.data["verdicts"].items()}
    assert verdicts == {
        "faithfulness: cell": "inconclusive",  # beats both in 2 of 4 blocks, behind in 1
        "faithfulness: joint": "contradicts",  # behind both orders in every block
        "cascading": "supports",  # another seed closer in 4 of 4 blocks: [0.32, 0.48]
        "labels": "supports",  # late differences 0.4, 0.5 with intervals above 0
        "smoothness": "inconclusive",  # rougher in 2 of 4 blocks, smoother in 1
    }


def test_a_control_that_did_not_memorise_decides_nothing(monkeypatch, toy, ctx):
    cams = DatasetGradCAM(
        maps={1: [np.ones((1, 6, toy.num_joints), np.float32)] * len(toy)},
        logits=np.eye(toy.num_classes, dtype=np.float32)[toy.labels],
        targets=toy.labels,
        labels=toy.labels,
        lengths=toy.lengths,
    )
    sm = pd.DataFrame({"layer": [1], "map": [0.1], "features": [0.2], "estimate": [-0.1],
                       "low": [-0.2], "high": [0.0]})  # fmt: skip
    recorder(monkeypatch, "gradcam_maps", lambda c, **kw: (c.dataset, cams))
    recorder(monkeypatch, "gradcam_checks_study", lambda c, **kw: fake_checks([1, 2], fit=0.5))
    recorder(monkeypatch, "gradcam_smoothness_study", lambda c, **kw: sm)
    res = report.gradcam_results(ctx)
    assert res.data["verdicts"]["labels"].outcome == "inconclusive"
    assert "fits only 50%" in res.data["verdicts"]["labels"].sentence


def test_gradcam_needs_every_check(monkeypatch, toy, ctx):
    cams = DatasetGradCAM(
        maps={},
        logits=np.zeros((len(toy), 3)),
        targets=toy.labels,
        labels=toy.labels,
        lengths=toy.lengths,
    )
    empty = dataclasses.replace(fake_checks([1]), gains=pd.DataFrame())
    recorder(monkeypatch, "gradcam_maps", lambda c, **kw: (c.dataset, cams))
    recorder(monkeypatch, "gradcam_checks_study", lambda c, **kw: empty)
    recorder(monkeypatch, "gradcam_smoothness_study", lambda c, **kw: pd.DataFrame())
    with pytest.raises(ValueError, match="gains: the table lacks"):
        report.gradcam_results(ctx)


# ------------------------------------------------------------------------------ chapter 3
def test_dtw_graphs_scores_the_three_distances(monkeypatch, toy, ctx):
    def block_distances(ds, window, **kwargs):
        assert window == 0.1
        same = ds.labels[:, None] == ds.labels[None, :]
        rng = np.random.default_rng(0)
        noise = rng.uniform(0, 0.1, same.shape)
        d = np.where(same, 1.0, 5.0) + noise + noise.T
        np.fill_diagonal(d, 0.0)
        return d

    monkeypatch.setattr(report.chapters, "dataset_dtw", block_distances)
    res = report.dtw_graphs_results(ctx)
    assert res.value("nn_dtw") == 1.0 and res.value("loo_dtw") == 1.0
    # 7 clips of one class among k = 10 candidates: little weight leaves the class
    assert res.value("nnk_lv_dtw") < 0.1
    assert 0 <= res.value("nn_zero_pad") <= 1 and res.value("knn_lv_resampled") >= 0
    assert list(res.data["summary"].index)[0] == "DTW"


# ------------------------------------------------------------------------------ chapter 9
def test_own_model_results_is_none_without_the_study(monkeypatch, toy, ctx):
    monkeypatch.delattr(studies, "own_model_study", raising=False)
    assert report.own_model_results(ctx) is None


def test_own_model_results_reduces_the_study(monkeypatch, toy, ctx):
    seen = {}

    def own_model_study(c, *, seed=0, k=10):
        seen.update(ctx=c, seed=seed, k=k)
        rows = [
            (layer, "nnk", "label_variation", "", v) for layer, v in enumerate([0.4, 0.1, 0.05])
        ]
        rows += [(1, "nnk", "label_variation", "act0", 9.0), (2, "knn", "degree", "", 7.0)]
        cols = ["layer", "graph", "metric", "class", "value"]
        geometry = pd.DataFrame(rows, columns=cols)
        stgcn = pd.DataFrame(
            [(0, "nnk", "label_variation", "", 0.4), (10, "nnk", "label_variation", "", 0.02)],
            columns=cols,
        )
        return {
            "test_accuracy": 0.7,
            "stgcn_accuracy": 0.9,
            "geometry": geometry,
            "stgcn_geometry": stgcn,
            "gradcam": pd.DataFrame({"layer": [2, 1], "top5_joint_share": [0.3, 0.6]}),
            "layers": pd.DataFrame({"layer": [0, 1, 2]}),
            "comparison": pd.DataFrame(),
        }

    monkeypatch.setattr(studies, "own_model_study", own_model_study, raising=False)
    res = report.own_model_results(ctx)
    assert seen == {"ctx": ctx, "seed": 0, "k": 10}  # only the keywords it takes
    assert res.value("test_top1") == 0.7 and res.value("stgcn_top1") == 0.9
    assert res.value("blocks") == 2 and res.value("nnk_lv_last") == pytest.approx(0.05)
    assert res.value("separation_layer") == 1  # 0.1 <= 0.4 - 0.5 * 0.35
    assert res.value("stgcn_nnk_lv_last") == pytest.approx(0.02)
    assert res.value("top5_joints_first") == 0.6 and res.value("top5_joints_last") == 0.3


def test_own_model_results_rejects_an_unknown_result(monkeypatch, toy, ctx):
    monkeypatch.setattr(
        studies, "own_model_study", lambda profile, **kw: {"test_accuracy": 1.0}, raising=False
    )
    with pytest.raises(ValueError, match="lacks 'geometry'"):
        report.own_model_results(ctx)


# ------------------------------------------------------------------------------ the page
def test_headline_table_formats_and_stacks(monkeypatch, toy, ctx):
    a = report.ChapterResults(
        "05_noise",
        numbers_table(
            "05_noise", [("x", "a share", 0.256, "share"), ("y", "a layer", None, "layer")]
        ),
    )
    b = report.ChapterResults(
        "08_scaling", numbers_table("08_scaling", [("z", "faster", 3.14, "times")])
    )
    table = report.headline_table([a, None, b])
    assert table["shown"].tolist() == ["25.6%", "none", "3.1x"]
    assert table["chapter"].tolist() == ["Noise on the joints"] * 2 + [
        "Neighbourhood graphs without all pairs"
    ]
    assert a.formatted("x") == "25.6%"
    with pytest.raises(ValueError, match="no results"):
        report.headline_table([None])
    with pytest.raises(TypeError, match="ChapterResults"):
        report.headline_table([table])


def test_format_value_and_numbers_errors():
    assert report.format_value(float("nan"), "share") == "-"
    assert report.format_value(-0.1234, "gain") == "-0.123"
    with pytest.raises(ValueError, match="unknown unit"):
        report.format_value(1.0, "furlongs")
    with pytest.raises(ValueError, match="unit 'furlongs'"):
        numbers_table("02_training", [("a", "b", 1.0, "furlongs")])
    with pytest.raises(ValueError, match="duplicate keys"):
        numbers_table("02_training", [("a", "b", 1.0, "share"), ("a", "c", 2.0, "share")])


def test_the_results_take_a_study_context():
    for function in RESULTS:
        with pytest.raises(TypeError, match="StudyContext"):
            function("quick")  # the old profile-first call


def test_machine_info():
    info = report.machine_info("cpu")
    assert info["device"] == "cpu" and info["gpu"] == "none"
    assert info["cpu cores"] >= 1 and len(info["date"]) == 10


def test_load_measurements(tmp_path):
    assert report.load_measurements(tmp_path / "absent") is None
    assert report.load_measurements(tmp_path) is None
    (tmp_path / "a.json").write_text(json.dumps({"profile": "paper", "gpu": {"name": "H200"}}))
    (tmp_path / "b.json").write_text(json.dumps([{"profile": "quick"}, {"profile": "paper"}]))
    table = report.load_measurements(tmp_path)
    assert table["file"].tolist() == ["a.json", "b.json", "b.json"]
    assert table.loc[0, "gpu.name"] == "H200"
    (tmp_path / "c.json").write_text("{not json")
    with pytest.raises(ValueError, match="c.json"):
        report.load_measurements(tmp_path)
    (tmp_path / "c.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="list of objects"):
        report.load_measurements(tmp_path)


def test_profile_measurement_records_each_seed_and_chapter_4(monkeypatch, ctx):
    import helpers.report.machine as machine

    def get_trained_model(context, *, seed=0, **kwargs):
        ev = SimpleNamespace(accuracy=0.8 + seed / 10, balanced_accuracy=0.7)
        return None, SimpleNamespace(
            test=ev, epochs_done=60, train_seconds=40.0 + seed, device="cpu"
        )

    calls = recorder(monkeypatch, "get_trained_model", get_trained_model)
    numbers = numbers_table(
        "04_embedding_geometry", [("nnk_lv_input_test", "input", 0.02, "measure")]
    )
    geometry = SimpleNamespace(numbers=numbers)
    monkeypatch.setattr(machine, "separation_results", lambda context, seeds: geometry)
    record = report.profile_measurement(ctx, seeds=(0, 1), commit="abc1234")
    assert [c[1]["seed"] for c in calls] == [0, 1]
    assert [r["test_top1"] for r in record["per_seed"]] == pytest.approx([0.8, 0.9])
    assert record["chapter_02"]["test_top1_mean"] == pytest.approx(0.85)
    assert record["chapter_02"]["train_seconds_mean"] == pytest.approx(40.5)
    assert record["chapter_04"] == {"nnk_lv_input_test": pytest.approx(0.02)}
    assert record["commit"] == "abc1234" and record["profile"] == "quick"
    assert json.loads(json.dumps(record)) == record  # plain JSON, as load_measurements reads
    calls.clear()
    report.profile_measurement(ctx)  # no seeds: the profile's geometry seeds, as chapter 4's
    expected = study_settings(ctx.profile, "geometry")["seeds"]
    assert [c[1]["seed"] for c in calls] == list(expected)


def test_profile_comparison_lines_up_this_build_and_the_records():
    headline = pd.DataFrame(
        {
            "chapter": [report.CHAPTER_TITLES["02_training"]]
            + [report.CHAPTER_TITLES["04_embedding_geometry"]] * 2,
            "quantity": ["training time", "input LV", "layer"],
            "shown": ["", "", ""],
            "key": ["train_seconds", "nnk_lv_input_test", "separation_layer_test"],
            "value": [48.0, 0.018, 3.0],
            "unit": ["seconds", "measure", "layer"],
        }
    )
    assert report.profile_comparison(None, headline).empty
    records = pd.json_normalize(
        [
            {
                "profile": "paper",
                "date": "2026-12-05",
                "machine": {"gpu": "none"},
                "chapter_02": {"test_top1_mean": 0.9, "train_seconds_mean": 600.0},
                "chapter_04": {"nnk_lv_input_test": 0.02},
            },
            {"what": "something else"},
        ]
    )
    table = report.profile_comparison(records, headline)
    assert list(table.columns) == ["this build", "paper, CPU, 2026-12-05"]
    assert table["this build"].tolist() == ["48.0 s", "0.018", "3"]
    assert table["paper, CPU, 2026-12-05"].tolist() == ["600.0 s", "0.020", "none"]
