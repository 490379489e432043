"""The book's headline numbers, chapter by chapter, read from the same cached studies.

The results page (``book/10_results.md``) gathers what chapters 2 to 9 found. It never pastes a
number: each function below calls exactly the cached studies of :mod:`helpers.studies` (and
the cached distances of :mod:`~helpers.geometry.distances`) that its chapter calls, with the
chapter's default parameters, and reduces them to a few numbers. In a build, the chapters run first
and fill the cache, so the page only reads; run on its own, it computes what is missing.

The chapters' defaults live in one place, :data:`CHAPTER_DEFAULTS` (and :data:`COMMON_DEFAULTS`
for the parameters every chapter has); ``tests/test_results.py`` parses the ``parameters`` cell
of every chapter and checks that they agree, so the page cannot silently report other settings
than the chapters show.

Every ``*_results`` function takes one :class:`~helpers.studies.context.StudyContext` (the
profile, dataset, device, cache and progress setting of the page) and its chapter's parameters
as keywords, whose defaults are :data:`CHAPTER_DEFAULTS` (a test checks the signatures against
it), and returns a :class:`ChapterResults`: a tidy table of numbers (``chapter``, ``key``,
``quantity``, ``value``, ``unit``) and the tables its headline figure draws. Its verdicts come
from :mod:`helpers.report.verdicts`, the functions the chapters print, so the page and the
chapters judge alike. :func:`headline_table` stacks the numbers for the page's summary, with
:func:`format_value` for display.

This module sits above :mod:`helpers.studies`; nothing in the package imports it.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from helpers import studies
from helpers.data.dataset import SkeletonDataset
from helpers.data.perturb import NOISE_KINDS, TIMED_NOISE_KINDS
from helpers.explain.summaries import TOP_JOINTS, map_summary
from helpers.geometry.distances import dataset_dtw, padded_euclidean
from helpers.geometry.layer_tables import distance_table, graph_table
from helpers.geometry.smoothness import reference_levels
from helpers.report.numbers import ChapterResults, numbers_table, require_columns
from helpers.report.verdicts import (
    Verdict,
    cascading_verdict,
    depth_verdict,
    faithfulness_verdict,
    generic_early_verdict,
    label_randomisation_verdict,
    map_smoothness_verdict,
    noise_attenuation_verdict,
    noise_claim_verdict,
    readouts_agreement,
    rising_layer,
    separation_layer,
    specificity_verdict,
    transfer_layer_verdict,
)
from helpers.studies.context import StudyContext
from helpers.training.config import TrainConfig
from helpers.training.loop import evaluate
from helpers.training.profiles import PROFILES, Profile, study_settings

__all__ = [
    "CHAPTER_DEFAULTS",
    "COMMON_DEFAULTS",
    "dtw_graphs_results",
    "gradcam_results",
    "noise_results",
    "own_model_results",
    "separation_results",
    "separation_table",
    "separation_verdicts",
    "scaling_results",
    "training_results",
    "transfer_results",
    "transfer_table",
]

#: The parameters every chapter has, with their defaults (the first lines of each ``parameters``
#: cell).
COMMON_DEFAULTS: dict[str, Any] = {
    "profile": "quick",
    "device": "auto",
    "dataset": "hdm05",
    "data_dir": None,
    "cache_dir": None,
}

#: Each chapter's own parameters and their defaults, exactly as in its ``parameters`` cell
#: (``tests/test_results.py`` checks it). The functions below use these and nothing else.
CHAPTER_DEFAULTS: dict[str, dict[str, Any]] = {
    "02_training": {"seed": 0},
    "03_dtw_graphs": {"window": 0.1, "k": 10},
    "04_embedding_geometry": {
        "seeds": None,
        "window": 0.1,
        "k": 10,
        "second_dataset": "utd-mhad",
    },
    "05_noise": {
        "kinds": ["gaussian", "correlated", "dropout"],
        "noise_seeds": [0, 1, 2],
        "seeds": None,
        "window": 0.1,
        "k": 10,
        "second_dataset": "utd-mhad",
    },
    "06_gradcam": {"seed": 0, "window": 0.1, "k": 10, "second_dataset": "utd-mhad"},
    "07_transfer": {"window": 0.1, "k": 10, "second_dataset": "utd-mhad"},
    "08_scaling": {"window": 0.1, "k": 10},
    "09_own_model": {"seed": 0, "epochs": 30, "window": 0.1, "k": 10},
}


def _check_context(ctx: StudyContext) -> StudyContext:
    """``ctx`` itself; a ``TypeError`` for anything else (the old profile-first calls)."""
    if not isinstance(ctx, StudyContext):
        raise TypeError(
            f"expected a StudyContext (StudyContext.create(profile, dataset, device)), got "
            f"{type(ctx).__name__}"
        )
    return ctx


def _is_hdm05(dataset: SkeletonDataset) -> bool:
    """Whether the context's clips are HDM05 (as the chapters test it)."""
    return str(dataset.name).lower() == "hdm05"


def _with_interval(
    key: str, quantity: str, row: Mapping[str, Any], unit: str, name: str
) -> list[tuple[str, str, Any, str]]:
    """Three rows of the numbers table: ``row``'s estimate and its 95% interval's ends."""
    return [
        (f"{key}{suffix}", f"{quantity}{what}, {name}", row[col], unit)
        for suffix, col, what in (
            ("", "estimate", ""),
            ("_low", "low", ", 95% interval low"),
            ("_high", "high", ", 95% interval high"),
        )
    ]


def _seeds(prof: Profile, seeds: Sequence[int] | None) -> list[int]:
    """The chapter's seeds: ``None`` means the profile's (as chapters 4 and 5 resolve them)."""
    return [int(s) for s in (study_settings(prof, "geometry")["seeds"] if seeds is None else seeds)]


# ----------------------------------------------------------------------------- chapter 2
def training_results(ctx: StudyContext, *, seed: int = 0) -> ChapterResults:
    """Chapter 2: the test accuracy of the trained network, and of the resampled variant.

    Calls :func:`helpers.studies.models.get_trained_model` as the chapter does (its ``seed``), and
    for HDM05 the same for the ``<profile>-resampled`` network, scored on resampled and on whole
    test clips.

    Returns
    -------
    :class:`ChapterResults` with ``test_top1``, ``balanced_top1``, ``majority`` (always
    answering the largest test class), ``test_clips``, ``epochs``, ``train_seconds`` and, for
    HDM05, ``resampled_top1`` and ``resampled_on_whole_top1``; ``data``: ``history`` (the
    training curves, a DataFrame by epoch), ``per_class`` (accuracy per test class),
    ``resampled`` (whether the variant was scored).
    """
    chapter = "02_training"
    _check_context(ctx)
    params = {"seed": seed}
    prof = ctx.profile
    _, result = studies.get_trained_model(ctx, seed=seed)
    ev = result.test
    if ev is None:
        raise ValueError(f"{chapter}: the trained model's result has no test evaluation")
    labels = np.asarray(ev.labels)
    if labels.size == 0:
        raise ValueError(f"{chapter}: the test evaluation has no clips")
    rows = [
        ("test_top1", "test top-1 (unseen actors)", ev.accuracy, "share"),
        (
            "balanced_top1",
            "balanced test accuracy (mean over classes)",
            ev.balanced_accuracy,
            "share",
        ),
        (
            "majority",
            "always the largest test class",
            np.bincount(labels).max() / labels.size,
            "share",
        ),
        ("test_clips", "test clips", labels.size, "count"),
        ("epochs", "training epochs", result.epochs_done, "count"),
        (
            "train_seconds",
            "training time (wall, when it was trained)",
            result.train_seconds,
            "seconds",
        ),
    ]
    resampled_name = f"{prof.name}-resampled"
    scored = _is_hdm05(ctx.dataset) and resampled_name in PROFILES
    if scored:  # chapter 2's comparison, on HDM05 at the resampled profile's frame rate
        ds30 = studies.load_profile_dataset(
            resampled_name, ctx.data_dir, ctx.cache_dir, ctx.progress
        )
        res_ctx = ctx.with_profile(resampled_name).on(ds30)
        res_model, res = studies.get_trained_model(res_ctx, seed=seed)
        whole = TrainConfig.from_dict({**res.config.to_dict(), "eval_mode": "natural"})
        on_whole = evaluate(res_model, ds30.test(), whole, device=ctx.device)
        rows += [
            (
                "resampled_top1",
                "resampled network, resampled test clips",
                res.test.accuracy,
                "share",
            ),
            (
                "resampled_on_whole_top1",
                "resampled network, whole test clips",
                on_whole.accuracy,
                "share",
            ),
        ]
    history = pd.DataFrame({key: list(v) for key, v in result.history.items()})
    per_class = pd.Series(
        np.asarray(ev.per_class, float), index=list(ev.class_names), name="accuracy"
    )
    return ChapterResults(
        chapter,
        numbers_table(chapter, rows),
        {"history": history, "per_class": per_class, "resampled": scored},
        {**params, "profile": prof.name},
    )


# ----------------------------------------------------------------------------- chapter 3
def dtw_graphs_results(ctx: StudyContext, *, window: float = 0.1, k: int = 10) -> ChapterResults:
    """Chapter 3: DTW against Euclidean distances on the raw, root-centred joints.

    The chapter's DTW matrix (:func:`~helpers.geometry.distances.dataset_dtw`, cached) and the two
    padded Euclidean ones, scored by :func:`~helpers.geometry.layer_tables.distance_table` and
    :func:`~helpers.geometry.layer_tables.graph_table` with its ``window`` and ``k``. The context's
    device is not used; nothing here runs a network.

    Returns
    -------
    :class:`ChapterResults` with, per distance (``dtw``, ``zero_pad``, ``resampled``), the 1-NN
    train -> test accuracy ``nn_<d>``, the leave-one-out one ``loo_<d>`` and the NNK and kNN
    label variation ``nnk_lv_<d>``, ``knn_lv_<d>``; ``data['summary']``: the table, by distance.
    """
    chapter = "03_dtw_graphs"
    _check_context(ctx)
    params = {"window": window, "k": k}
    prof = ctx.profile
    ds = ctx.dataset.normalized(center="frame")
    train = ds.split == "train"
    if not train.any() or train.all():
        raise ValueError(f"{chapter}: the dataset needs both training and test clips")
    names = {
        "dtw": "DTW",
        "zero_pad": "Euclidean, zero-padded",
        "resampled": "Euclidean, resampled",
    }
    distances = {
        names["dtw"]: dataset_dtw(ds, window, cache_dir=ctx.cache_dir, progress=ctx.progress),
        names["zero_pad"]: padded_euclidean(ds, "zero-pad"),
        names["resampled"]: padded_euclidean(ds, "resample"),
    }
    scores = distance_table(distances, ds.labels, train)
    graphs = graph_table(distances, ds.labels, k)
    lv = graphs.pivot(index="distance", columns="graph", values="label_variation")
    summary = scores.join(lv.add_suffix(" LV")).loc[list(distances)]
    # (key prefix, quantity, column of the summary, unit), once per distance
    measures = [
        ("nn", "1-NN train -> test", "nn_train_test", "share"),
        ("loo", "1-NN leave-one-out", "nn_leave_one_out", "share"),
        ("nnk_lv", "NNK label variation", "NNK LV", "measure"),
        ("knn_lv", "kNN label variation", "kNN LV", "measure"),
    ]
    rows = [
        (f"{prefix}_{slug}", f"{quantity}, {name}", summary.loc[name, column], unit)
        for slug, name in names.items()
        for prefix, quantity, column, unit in measures
    ]
    return ChapterResults(
        chapter,
        numbers_table(chapter, rows),
        {"summary": summary},
        {**params, "profile": prof.name},
    )


# ----------------------------------------------------------------------------- chapter 4
def separation_table(result: studies.SeparationResult) -> pd.DataFrame:
    """One row per layer of what :func:`~helpers.studies.separation.separation_study` measured.

    Parameters
    ----------
    result : the study's result.

    Returns
    -------
    A DataFrame indexed by ``layer`` (0 = the input). NNK label variation on the test
    subjects, neighbours from other subjects: ``trained`` (mean over seeds) with ``low`` and
    ``high`` (95% bootstrap interval over clips), ``seed_low`` and ``seed_high`` (the range over
    seeds), ``untrained`` and ``shuffled`` (the controls); the contrasts ``all neighbours``
    (same clips, neighbours of any subject) and ``training clips`` (the training subjects'
    clips, other subjects' neighbours); the C2 control on the target classes' clips,
    ``these classes`` (networks trained on every class) and ``other classes`` (trained on the
    source classes only), with their gap ``gap`` = other - these, ``gap_low``, ``gap_high``
    (absent without the control); the readouts ``probe`` (cross-subject linear probe top-1,
    mean over seeds), ``probe untrained``, ``probe shuffled``, ``cka input`` and ``cka last``
    (linear CKA with the input and the last block, mean over seeds); ``isolated`` (the largest
    share of test clips the NNK graph leaves without a neighbour, over seeds), ``knn error``,
    ``knn error untrained`` and ``knn error shuffled`` (the authors' kNN error, other subjects'
    neighbours, mean over seeds; absent where the study has no such rows) and ``radius``
    (the DTW band in steps).
    """
    iv = result.intervals
    require_columns(iv, ["model", "layer", "estimate", "low", "high"], "separation intervals")
    trained = iv[iv["model"] == "trained"].set_index("layer")
    out = pd.DataFrame(index=pd.Index(trained.index, name="layer"))
    out["trained"] = trained["estimate"]
    for col in ("low", "high", "seed_low", "seed_high"):
        out[col] = trained[col]
    for model in ("untrained", "shuffled"):
        out[model] = iv[iv["model"] == model].set_index("layer")["estimate"]
    rows = result.layers
    nnk = rows[(rows["graph"] == "nnk") & (rows["metric"] == "label_variation")]
    for protocol in ("all neighbours", "training clips"):
        part = nnk[(nnk["model"] == "trained") & (nnk["protocol"] == protocol)]
        out[protocol] = part.groupby("layer")["value"].mean()
    if not result.generic.empty:
        g = result.generic.set_index("layer")
        out["these classes"], out["other classes"] = g["these"], g["other"]
        out["gap"], out["gap_low"], out["gap_high"] = g["estimate"], g["low"], g["high"]
    probe = result.probe.groupby(["model", "layer"])["probe_top1"].mean()
    out["probe"] = probe.loc["trained"]
    for model in ("untrained", "shuffled"):
        if model in probe.index.get_level_values("model"):
            out[f"probe {model}"] = probe.loc[model]
    cka = result.cka.groupby("layer")[["cka_input", "cka_last"]].mean()
    out["cka input"], out["cka last"] = cka["cka_input"], cka["cka_last"]
    alone = rows[
        (rows["graph"] == "nnk")
        & (rows["metric"] == "isolated")
        & (rows["model"] == "trained")
        & (rows["protocol"] == "other subjects")
    ]
    out["isolated"] = alone.groupby("layer")["value"].max()
    fair = rows[(rows["protocol"] == "other subjects") & (rows["metric"] == "paper_knn_error")]
    for model in ("trained", "untrained", "shuffled"):
        part = fair[fair["model"] == model].groupby("layer")["value"].mean()
        if not part.empty:
            out["knn error" if model == "trained" else f"knn error {model}"] = part
    out["radius"] = pd.Series(result.radii, index=range(len(result.radii)))
    return out


def separation_verdicts(result: studies.SeparationResult) -> dict[str, Verdict]:
    """The verdicts chapter 4 prints for one dataset, from :func:`separation_table`'s study.

    Returns
    -------
    ``'C1'`` (:func:`~helpers.report.verdicts.depth_verdict` on the trained networks' slope
    and late-minus-early contrast), ``'C2'``
    (:func:`~helpers.report.verdicts.generic_early_verdict` on the other-classes control; absent
    when the study ran without it) and ``'readouts'``
    (:func:`~helpers.report.verdicts.readouts_agreement` of the layers where the NNK label
    variation, the linear probe and the CKA with the last block say the classes separate).
    """
    c = result.contrasts.set_index(["model", "name"])
    verdicts = {
        "C1": depth_verdict(c.loc[("trained", "slope")], c.loc[("trained", "late - early")])
    }
    if not result.generic_contrasts.empty:
        g = result.generic_contrasts.set_index("name")
        verdicts["C2"] = generic_early_verdict(
            g.loc["early gap"], g.loc["late gap"], g.loc["growth"]
        )
    table = separation_table(result)
    verdicts["readouts"] = readouts_agreement(
        {
            "NNK label variation": separation_layer(table["trained"]),
            "linear probe": rising_layer(table["probe"]),
            "CKA with the last block": rising_layer(table["cka last"]),
        }
    )
    return verdicts


def separation_results(
    ctx: StudyContext, *, seeds: Sequence[int] | None = None, window: float = 0.1, k: int = 10
) -> ChapterResults:
    """Chapter 4 on one dataset: where the classes separate, with controls and intervals.

    Calls :func:`helpers.studies.separation.separation_study` with the chapter's seeds
    (``None``: the profile's), ``window`` (the DTW band's share of each layer's median length)
    and ``k``, and :func:`helpers.studies.models.get_trained_model` for the test accuracy.

    Returns
    -------
    :class:`ChapterResults`, every quantity named with the dataset: ``test_top1`` (mean over
    seeds), ``seeds``, NNK label variation of the trained networks at the input, in the early
    and late blocks (:data:`~helpers.studies.separation.EARLY`,
    :data:`~helpers.studies.separation.LATE`) and the last block (``lv_input``, ``lv_early``,
    ``lv_late``, ``lv_last``), the controls' last block (``untrained_lv_last``,
    ``shuffled_lv_last``), the reference levels (``chance``, ``floor``), the contrasts
    ``slope`` and ``late_minus_early`` and the C2 gaps (``early_gap``, ``late_gap``,
    ``growth``), each with ``*_low`` and ``*_high``; the linear probe at the input and the last
    block (``probe_input``, ``probe_last``), the largest isolated share (``isolated_max``) and
    the separation layer of each readout (``layer_lv``, ``layer_probe``, ``layer_cka``); when
    the profile turns clips to one heading, layer 0's NNK LV and cross-subject 1-NN top-1 with
    and without the turn (``lv_input_camera``, ``lv_input_canonical``, ``one_nn_camera``,
    ``one_nn_canonical``). ``data``: ``table`` (:func:`separation_table`), ``verdicts``
    (:func:`separation_verdicts`), ``inputs`` (the study's ``inputs``), ``result`` (the study)
    and ``dataset`` (its name).
    """
    chapter = "04_embedding_geometry"
    _check_context(ctx)
    params = {"seeds": seeds, "window": window, "k": k}
    prof = ctx.profile
    seeds = _seeds(prof, seeds)
    accuracies = [studies.get_trained_model(ctx, seed=s)[1].test.accuracy for s in seeds]
    result = studies.separation_study(ctx, seeds=seeds, k=k, fraction=window)
    table = separation_table(result)
    verdicts = separation_verdicts(result)
    name = ctx.dataset_name
    early, late = list(studies.EARLY), list(studies.LATE)
    lv = table["trained"]
    rows: list[tuple[str, str, Any, str]] = [
        ("test_top1", f"test top-1 of the trained networks, {name}", np.mean(accuracies), "share"),
        ("seeds", f"trained networks (seeds), {name}", len(seeds), "count"),
        ("lv_input", f"NNK LV at the input, {name}", lv.iloc[0], "measure"),
        (
            "lv_early",
            f"NNK LV, blocks {early[0]}-{early[-1]}, {name}",
            lv.loc[early].mean(),
            "measure",
        ),
        ("lv_late", f"NNK LV, blocks {late[0]}-{late[-1]}, {name}", lv.loc[late].mean(), "measure"),
        ("lv_last", f"NNK LV, last block, {name}", lv.iloc[-1], "measure"),
        (
            "untrained_lv_last",
            f"NNK LV of the untrained network, last block, {name}",
            table["untrained"].iloc[-1],
            "measure",
        ),
        (
            "shuffled_lv_last",
            f"NNK LV of the shuffled-label network, last block, {name}",
            table["shuffled"].iloc[-1],
            "measure",
        ),
        (
            "chance",
            f"NNK LV of labels drawn at random (chance), {name}",
            result.reference["chance"],
            "measure",
        ),
        (
            "floor",
            f"lowest authors' kNN error the class sizes allow, {name}",
            result.reference["floor"],
            "measure",
        ),
    ]
    c = result.contrasts.set_index(["model", "name"])
    parts = [("slope", c.loc[("trained", "slope")], "per block", "slope")]
    parts.append(
        ("late_minus_early", c.loc[("trained", "late - early")], "blocks 8-10 minus 1-4", "gain")
    )
    if not result.generic_contrasts.empty:
        g = result.generic_contrasts.set_index("name")
        for key, label in (
            ("early gap", "other-classes minus these-classes networks, blocks 1-4"),
            ("late gap", "other-classes minus these-classes networks, blocks 8-10"),
            ("growth", "growth of that gap from blocks 1-4 to 8-10"),
        ):
            parts.append((key.replace(" ", "_"), g.loc[key], label, "gain"))
    for key, row, label, unit in parts:
        rows += _with_interval(key, f"NNK LV change, {label}", row, unit, name)
    rows += [
        (
            "probe_input",
            f"linear probe top-1 at the input, {name}",
            table["probe"].iloc[0],
            "share",
        ),
        ("probe_last", f"linear probe top-1, last block, {name}", table["probe"].iloc[-1], "share"),
        (
            "isolated_max",
            f"largest share of test clips without an NNK neighbour, {name}",
            table["isolated"].max(),
            "share",
        ),
    ]
    inputs = result.inputs
    if not inputs.empty:
        by = inputs.set_index("input")
        for key, row, label in (
            ("camera", "camera heading", "clips in the camera's heading"),
            ("canonical", "one heading", "clips turned to one heading (the network's input)"),
        ):
            rows += [
                (f"lv_input_{key}", f"NNK LV at layer 0, {label}, {name}", by.loc[row, "estimate"],
                 "measure"),
                (f"one_nn_{key}", f"1-NN top-1 from other subjects, {label}, {name}",
                 by.loc[row, "one_nn"], "share"),
            ]  # fmt: skip
    layers = verdicts["readouts"].numbers
    for key, readout in (
        ("layer_lv", "NNK label variation"),
        ("layer_probe", "linear probe"),
        ("layer_cka", "CKA with the last block"),
    ):
        rows.append(
            (key, f"layer where the classes separate ({readout}), {name}", layers[readout], "layer")
        )
    data = {
        "table": table,
        "verdicts": verdicts,
        "inputs": inputs,
        "result": result,
        "dataset": name,
    }
    return ChapterResults(
        chapter,
        numbers_table(chapter, rows),
        data,
        {**params, "seeds": seeds, "profile": prof.name, "dataset": name},
    )


# ----------------------------------------------------------------------------- chapter 5
def noise_results(
    ctx: StudyContext,
    *,
    kinds: Sequence[str] = NOISE_KINDS,
    noise_seeds: Sequence[int] = (0, 1, 2),
    seeds: Sequence[int] | None = None,
    window: float = 0.1,
    k: int = 10,
) -> ChapterResults:
    """Chapter 5 on one dataset: how each noise model moves every layer's label smoothness.

    Calls :func:`helpers.studies.noise_robustness.noise_robustness_study` with the chapter's
    noise models ``kinds`` (at their default levels), ``noise_seeds``, seeds (``None``: the
    profile's), ``window`` and ``k``.

    Returns
    -------
    :class:`ChapterResults`, every quantity named with the dataset: ``accuracy_clean`` and,
    per noise model ``<kind>``, ``accuracy_<kind>`` (test top-1, mean over seeds and draws),
    ``delta_input_<kind>``, ``delta_late_<kind>`` (change of NNK label variation under noise at
    the input and in the late blocks), ``ratio_<kind>`` (late over input, with ``*_low``,
    ``*_high``), ``share_<kind>`` (the late change as a share of the way from the clean late
    blocks to chance, what the verdict judges), ``stability_input_<kind>`` and
    ``stability_last_<kind>`` (share of neighbours kept), and ``chance``. ``data``:
    ``attenuation``, ``summary``, ``accuracy`` (the study's tables), ``verdicts`` (per kind,
    :func:`~helpers.report.verdicts.noise_attenuation_verdict`),
    ``verdict`` (:func:`~helpers.report.verdicts.noise_claim_verdict` of them), ``result``,
    ``dataset`` and ``left_out`` (the noise models left out, with a warning, because they act
    over time and the dataset has no frame rate).
    """
    chapter = "05_noise"
    _check_context(ctx)
    kinds = [str(v) for v in kinds]
    left_out = []
    if not np.isfinite(ctx.dataset.fps):
        # a correlation time or a lasting loss of joints means nothing without a frame rate
        left_out = [v for v in kinds if v in TIMED_NOISE_KINDS]
        kinds = [v for v in kinds if v not in TIMED_NOISE_KINDS]
        if left_out:
            warnings.warn(
                f"{ctx.dataset_name}: the frame rate is unknown, so the noise models "
                f"{left_out}, which act over time, are left out",
                stacklevel=2,
            )
        if not kinds:
            raise ValueError(
                f"kinds={left_out}: every one needs the dataset's frame rate, which "
                f"{ctx.dataset_name} does not give; add 'gaussian' or save the data with fps="
            )
    noise_seeds = [int(s) for s in noise_seeds]
    params = {"kinds": kinds, "noise_seeds": noise_seeds, "seeds": seeds, "window": window, "k": k}
    prof = ctx.profile
    seeds = _seeds(prof, seeds)
    result = studies.noise_robustness_study(
        ctx, kinds=kinds, noise_seeds=noise_seeds, seeds=seeds, k=k, fraction=window
    )
    att = result.attenuation
    require_columns(att, ["kind", "level", "delta_input", "ratio"], "noise study (attenuation)")
    acc = result.accuracy
    name = ctx.dataset_name
    clean = acc[acc["kind"] == "none"]["top1"].mean()
    rows: list[tuple[str, str, Any, str]] = [
        ("accuracy_clean", f"test top-1 without noise, {name}", clean, "share")
    ]
    verdicts = {}
    summary = result.summary
    require_columns(summary, ["kind", "level", "layer", "clean", "stability"], "noise summary")
    ds = ctx.dataset
    test = ds.split == "test"
    chance = reference_levels(ds.labels[test], k, exclude=np.asarray(ds.subjects)[test]).chance
    rows.append(("chance", f"NNK LV of random labels (chance), {name}", chance, "measure"))
    for record in att.to_dict("records"):
        kind, level = record["kind"], record["level"]
        part = summary[(summary["kind"] == kind) & (summary["level"] == level)]
        clean_late = part[part["layer"].isin(list(studies.LATE))]["clean"].mean()
        verdicts[kind] = noise_attenuation_verdict(record, clean_late, chance)
        noisy = acc[(acc["kind"] == kind) & (acc["level"] == level)]["top1"].mean()
        stab = summary[(summary["kind"] == kind) & (summary["level"] == level)].set_index("layer")
        at = f"{kind} noise {level:g}, {name}"
        rows += [
            (f"accuracy_{kind}", f"test top-1, {at}", noisy, "share"),
            (
                f"delta_input_{kind}",
                f"NNK LV change at the input, {at}",
                record["delta_input"],
                "gain",
            ),
            (
                f"delta_late_{kind}",
                f"NNK LV change, blocks 8-10, {at}",
                record["delta_late"],
                "gain",
            ),
            (f"ratio_{kind}", f"late change over input change, {at}", record["ratio"], "times"),
            (
                f"share_{kind}",
                f"late change as a share of the way from clean to chance, {at}",
                verdicts[kind].numbers["share"],
                "share",
            ),
            (f"ratio_{kind}_low", f"its 95% interval, low, {at}", record["ratio_low"], "times"),
            (f"ratio_{kind}_high", f"its 95% interval, high, {at}", record["ratio_high"], "times"),
            (
                f"stability_input_{kind}",
                f"neighbours kept at the input, {at}",
                stab["stability"].iloc[0],
                "share",
            ),
            (
                f"stability_last_{kind}",
                f"neighbours kept, last block, {at}",
                stab["stability"].iloc[-1],
                "share",
            ),
        ]
    data = {
        "attenuation": att,
        "summary": summary,
        "accuracy": acc,
        "verdicts": verdicts,
        "verdict": noise_claim_verdict(verdicts),
        "result": result,
        "dataset": name,
        "left_out": left_out,
    }
    return ChapterResults(
        chapter,
        numbers_table(chapter, rows),
        data,
        {**params, "seeds": seeds, "profile": prof.name, "dataset": name},
    )


# ----------------------------------------------------------------------------- chapter 6
def gradcam_results(
    ctx: StudyContext, *, seed: int = 0, window: float = 0.1, k: int = 10
) -> ChapterResults:
    """Chapter 6 on one dataset: the checks that could show the Grad-CAM maps wrong.

    Calls :func:`~helpers.studies.gradcam.gradcam_maps`,
    :func:`~helpers.studies.gradcam.gradcam_checks_study` and
    :func:`~helpers.studies.gradcam.gradcam_smoothness_study` with the chapter's ``seed``,
    ``window`` and ``k``.

    Returns
    -------
    :class:`ChapterResults`, every quantity named with the dataset: ``test_top1`` (of the
    explained model), ``clips`` (test clips checked), the cascading randomisation's mean rank
    correlation with the trained maps after randomising the classifier
    (``cascading_classifier``) and every block (``cascading_all``), the memorising control's
    fit (``memorising_fit``, ``memorising_clips``), the maps' agreement with another real
    network's (``seed_early``, ``seed_late``) and with the control's (``shuffled_late``); per
    deletion unit the blocks whose map beats the random and the motion-energy order
    (``<unit>_beat_random``, ``<unit>_beat_motion``) and the last block's deletion gain over
    the motion order with its interval (``<unit>_gain_motion``, ``_low``, ``_high``); the blocks
    whose class-independent maps are rougher than the features (``maps_rougher``), and the
    maps' concentration (``top5_joints_first``, ``top5_joints_last``, ``uniform_top5``,
    ``top20_frames_first``, ``top20_frames_last``). ``data``: ``blocks`` (one row per block),
    ``checks`` (the :class:`~helpers.studies.gradcam.GradcamChecks`), ``smoothness``,
    ``verdicts`` (``'faithfulness: <unit>'`` per unit, ``'cascading'``, ``'labels'``,
    ``'smoothness'``) and ``dataset``.
    """
    chapter = "06_gradcam"
    _check_context(ctx)
    params = {"seed": seed, "window": window, "k": k}
    prof = ctx.profile
    ds, cams = studies.gradcam_maps(ctx, seed=seed)
    checks = studies.gradcam_checks_study(ctx, seed=seed)
    smooth = studies.gradcam_smoothness_study(ctx, seed=seed, window=window, k=k)
    require_columns(checks.cascading, ["step", "layer", "spearman"], "cascading randomisation")
    require_columns(checks.agreement_intervals, ["other", "layer", "estimate"], "agreement")
    require_columns(checks.gains, ["unit", "curve", "layer", "against", "low", "high"], "gains")
    require_columns(smooth, ["layer", "map", "features", "estimate", "low", "high"], "smoothness")
    name = ctx.dataset_name
    layers = sorted(cams.maps)
    if not layers:
        raise ValueError(f"{chapter}: no Grad-CAM maps")
    # the first and second half of the blocks (one block: both halves)
    late = layers[len(layers) // 2 :]
    early = layers[: len(layers) // 2] or late
    test = np.flatnonzero(ds.split == "test")
    correct = np.asarray(cams.predictions) == np.asarray(ds.labels)
    casc = checks.cascading
    first = casc[casc["step"] == casc["step"].min()].groupby("layer")["spearman"].mean()
    every = casc[casc["step"] == casc["step"].max()].groupby("layer")["spearman"].mean()
    agree = checks.agreement_intervals.pivot(index="layer", columns="other", values="estimate")
    models = checks.models.set_index("model")
    fit = float(models.loc["memorising", "fit"])
    verdicts: dict[str, Verdict] = {}
    units = list(dict.fromkeys(checks.gains["unit"]))
    for unit in units:
        verdicts[f"faithfulness: {unit}"] = faithfulness_verdict(
            checks.gains[checks.gains["unit"] == unit], unit
        )
    verdicts["cascading"] = cascading_verdict(checks.agreement_intervals)
    verdicts["labels"] = label_randomisation_verdict(checks.agreement_intervals, fit)
    verdicts["smoothness"] = map_smoothness_verdict(smooth)
    spread = map_summary(cams.maps, ds.labels, ds.num_classes)

    def mean_over(series: pd.Series, part: list[int]) -> float:
        return float(series.reindex(part).mean())

    rows: list[tuple[str, str, Any, str]] = [
        ("test_top1", f"test top-1 of the explained model, {name}",
         correct[test].mean() if test.size else np.nan, "share"),
        ("clips", f"test clips checked, {name}", checks.settings["clips"], "count"),
        ("cascading_classifier",
         f"rank correlation with the trained maps, classifier random, {name}", first.mean(),
         "correlation"),
        ("cascading_all",
         f"rank correlation with the trained maps, every block random, {name}", every.mean(),
         "correlation"),
        ("memorising_fit", f"shuffled-label control's fit of its training clips, {name}", fit,
         "share"),
        ("memorising_clips", f"its training clips, {name}",
         models.loc["memorising", "train_clips"], "count"),
        ("seed_early", f"two real networks' maps, rank correlation, blocks {early[0]}-{early[-1]}"
         f", {name}", mean_over(agree["another seed"], early), "correlation"),
        ("seed_late", f"two real networks' maps, rank correlation, blocks {late[0]}-{late[-1]}"
         f", {name}", mean_over(agree["another seed"], late), "correlation"),
        ("shuffled_late", f"real and control maps, rank correlation, blocks {late[0]}-"
         f"{late[-1]}, {name}", mean_over(agree["shuffled labels"], late), "correlation"),
    ]  # fmt: skip
    for unit in units:
        numbers = verdicts[f"faithfulness: {unit}"].numbers
        g = checks.gains
        last = g[(g["unit"] == unit) & (g["curve"] == "deletion") & (g["against"] == "motion")
                 & (g["layer"] == layers[-1])]  # fmt: skip
        rows += [
            (f"{unit}_beat_random", f"blocks whose {unit} order beats random orders (deletion), "
             f"{name}", numbers["beat_random"], "count"),
            (f"{unit}_beat_motion", f"blocks whose {unit} order beats the motion order "
             f"(deletion), {name}", numbers["beat_motion"], "count"),
        ]  # fmt: skip
        if len(last):
            rows += _with_interval(
                f"{unit}_gain_motion",
                f"deletion gain over the motion order, {unit}s, block {layers[-1]}",
                last.iloc[0],
                "gain",
                name,
            )
    rows += [
        ("maps_rougher", f"blocks whose class-independent maps are rougher than the features, "
         f"{name}", verdicts["smoothness"].numbers["maps_rougher"], "count"),
        ("top5_joints_first", f"share of a map on its top 5 joints, block {layers[0]}, {name}",
         spread["top5_joint_share"].iloc[0], "share"),
        ("top5_joints_last", f"share of a map on its top 5 joints, block {layers[-1]}, {name}",
         spread["top5_joint_share"].iloc[-1], "share"),
        ("uniform_top5", f"the same share for a uniform map, {name}",
         min(TOP_JOINTS, ds.num_joints) / ds.num_joints, "share"),
        ("top20_frames_first", f"share on its busiest 20% of frames, block {layers[0]}, {name}",
         spread["top20_frame_share"].iloc[0], "share"),
        ("top20_frames_last", f"share on its busiest 20% of frames, block {layers[-1]}, {name}",
         spread["top20_frame_share"].iloc[-1], "share"),
    ]  # fmt: skip
    blocks = pd.DataFrame(
        {
            "cascading_all_random": every,
            "another_seed": agree["another seed"],
            "shuffled_labels": agree["shuffled labels"],
        }
    ).reindex(layers)
    blocks = blocks.join(spread)
    blocks = blocks.join(
        smooth.set_index("layer")[["map", "features"]].rename(
            columns={"map": "map_lv", "features": "feature_lv"}
        )
    )
    blocks.index.name = "layer"
    data = {
        "blocks": blocks,
        "checks": checks,
        "smoothness": smooth,
        "verdicts": verdicts,
        "dataset": name,
    }
    return ChapterResults(
        chapter,
        numbers_table(chapter, rows),
        data,
        {**params, "profile": prof.name, "dataset": name},
    )


def transfer_table(result: studies.TransferResult) -> pd.DataFrame:
    """Target top-1 by configuration (rows) and k (columns), each cell with its 95% interval.

    One block of rows per number of training clips per class (``clips``: ``'all'`` or the
    count), as text for the chapter's table.
    """
    acc = result.accuracy.assign(
        clips=lambda t: t["shots"].map(lambda v: "all" if v == 0 else str(int(v))),
        cell=lambda t: [
            f"{e:.1%} [{lo:.1%}, {hi:.1%}]" for e, lo, hi in zip(t["estimate"], t["low"], t["high"])
        ],
    )
    order = {"scratch": 0, "AnB": 1, "AnB+": 2, "BnB": 3}

    def sort_key(index: pd.Index) -> pd.Index:
        # configurations in the chapter's order, clip counts as they sort
        return index.map(lambda v: order.get(v, v)) if index.name == "mode" else index

    wide = acc.pivot_table(index=["clips", "mode"], columns="k", values="cell", aggfunc="first")
    return wide.sort_index(key=sort_key).fillna("")


def transfer_results(ctx: StudyContext, *, window: float = 0.1, k: int = 10) -> ChapterResults:
    """Chapter 7 on one dataset: Yosinski et al.'s transfer design and the geometry link.

    Calls :func:`helpers.studies.transfer.transfer_study` with the chapter's ``window`` and
    ``k`` (the geometry link's DTW band and NNK candidates); the grid is the profile's.

    Returns
    -------
    :class:`ChapterResults`, every quantity named with the dataset: ``splits``, ``seeds``,
    ``runs``, the networks' own test top-1 (``A_top1`` on the source task, ``B_top1`` on the
    target task, all clips), ``scratch`` (target top-1 trained from scratch), for every k of
    the grid ``AnB_k<k>``, ``AnB+_k<k>``, ``BnB_k<k>`` (all training clips; ``*_low`` and
    ``*_high`` the 95% interval) and for the smallest and largest k ``specificity_early`` and
    ``specificity_late`` (AnB - BnB) with intervals; the layers of the pooled splits
    (``transfer_layer``, ``geometry_layer``; NaN: none), the mean best epoch
    (``best_epoch``), the mean seconds of a run (``run_seconds``) and what the paper profile's
    full grid would cost at that rate (``full_grid_runs``, ``full_grid_hours``; the networks A
    and B not counted). ``data``: ``result`` (the study), ``table`` (top-1 by configuration and
    k, with intervals, every clip count), ``verdicts`` (``'specificity'``:
    :func:`~helpers.report.verdicts.specificity_verdict`, ``'layer'``:
    :func:`~helpers.report.verdicts.transfer_layer_verdict`) and ``dataset``.
    """
    chapter = "07_transfer"
    _check_context(ctx)
    params = {"window": window, "k": k}
    prof = ctx.profile
    result = studies.transfer_study(ctx, k=k, fraction=window)
    require_columns(result.accuracy, ["shots", "mode", "k", "estimate", "low", "high"], "accuracy")
    require_columns(result.specificity, ["split", "shots", "k", "estimate"], "specificity")
    name = ctx.dataset_name
    acc = result.accuracy.set_index(["shots", "mode", "k"])
    ks = sorted(int(v) for v in result.settings["ks"])
    nets = result.networks[result.networks["shots"] == 0]
    rows: list[tuple[str, str, Any, str]] = [
        ("splits", f"class splits, {name}", len(result.tasks), "count"),
        ("seeds", f"seeds per split, {name}", len(result.settings["seeds"]), "count"),
        ("runs", f"training runs, {name}", len(result.runs), "count"),
        ("A_top1", f"source networks' top-1 on the source task, {name}",
         nets["A_source_accuracy"].mean(), "share"),
        ("B_top1", f"target networks' top-1 on the target task, {name}",
         nets["B_target_accuracy"].mean(), "share"),
        ("best_epoch", f"mean best epoch of the runs, {name}", result.runs["best_epoch"].mean(),
         "count"),
    ]  # fmt: skip
    rows += _with_interval(
        "scratch", "target top-1 trained from scratch", acc.loc[(0, "scratch", 0)], "share", name
    )
    for mode in ("AnB", "AnB+", "BnB"):
        for depth in ks:
            quantity = f"target top-1, {mode}, k = {depth}"
            rows += _with_interval(f"{mode}_k{depth}", quantity, acc.loc[(0, mode, depth)],
                                   "share", name)  # fmt: skip
    spec = result.specificity
    pooled = spec[(spec["split"] == "all") & (spec["shots"] == 0)].set_index("k")
    early, late = pooled.loc[ks[0]], pooled.loc[ks[-1]]
    for key, row, depth in (("early", early, ks[0]), ("late", late, ks[-1])):
        rows += _with_interval(f"specificity_{key}", f"AnB - BnB top-1, k = {depth}", row,
                               "gain", name)  # fmt: skip
    layers = result.layers.set_index("split")
    both = layers.loc["all"] if "all" in layers.index else pd.Series(dtype=float)
    rows += [
        ("transfer_layer", f"first k where AnB falls below BnB (pooled splits), {name}",
         both.get("transfer_layer", np.nan), "layer"),
        ("geometry_layer", f"first block where A's NNK LV is above B's (pooled splits), {name}",
         both.get("geometry_layer", np.nan), "layer"),
    ]  # fmt: skip
    # what the full design (the paper profile's grid) would cost at this build's run times
    full = study_settings("paper", "transfer")
    per_cell = 1 + len(full["ks"]) * (2 + len(full["lr_factors"]))
    full_runs = full["splits"] * len(full["seeds"]) * len(full["shots"]) * per_cell
    run_seconds = float(result.runs["seconds"].mean())
    rows += [
        ("run_seconds", f"mean training time of one run, {name}", run_seconds, "seconds"),
        ("full_grid_runs", f"runs of the full design (paper profile's grid), {name}",
         full_runs, "count"),
        ("full_grid_hours", f"its training time at this build's mean run time (hours), {name}",
         full_runs * run_seconds / 3600, "measure"),
    ]  # fmt: skip
    per_split = result.layers[result.layers["split"] != "all"]
    verdicts = {
        "specificity": specificity_verdict(early, late, ks[0], ks[-1]),
        "layer": transfer_layer_verdict(per_split, ks),
    }
    data = {
        "result": result,
        "table": transfer_table(result),
        "verdicts": verdicts,
        "dataset": name,
    }
    return ChapterResults(
        chapter,
        numbers_table(chapter, rows),
        data,
        {**params, "profile": prof.name, "dataset": name},
    )


# ----------------------------------------------------------------------------- chapter 8
def scaling_results(ctx: StudyContext, *, window: float = 0.1, k: int = 10) -> ChapterResults:
    """Chapter 8: how much exact and approximate kNN-DTW save over all pairs.

    Calls :func:`helpers.studies.scaling.scaling_study` with the chapter's ``window`` and ``k``.
    The context's device is not used (the study runs on the CPU).

    Returns
    -------
    :class:`ChapterResults`; for each width of the study (suffix ``_input``, ``_hidden``), at
    the largest N where all pairs ran (``n``): the seconds of all pairs (``all_pairs_s``), the
    speed-ups of exact and approximate kNN (``exact_speedup``, ``approx_speedup``), the recall
    of approximate kNN (``approx_recall``), the worst share of rows where exact kNN returned the
    neighbours of all pairs (``exact_same``) and the growth exponents (``exponent_all``,
    ``exponent_exact``, ``exponent_approx``); ``recall_min`` over every N and width and
    ``cores``. ``data``: ``timings``, ``exponents``, ``machine`` (cores, date) and ``widths``
    (the study's width labels by suffix).
    """
    chapter = "08_scaling"
    _check_context(ctx)
    params = {"window": window, "k": k}
    prof = ctx.profile
    study = studies.scaling_study(ctx, window=window, k=k)
    for name in ("timings", "exponents", "machine"):
        if name not in study:
            raise ValueError(f"{chapter}: the scaling study lacks {name!r} (has {sorted(study)})")
    timings, exponents = study["timings"], study["exponents"]
    require_columns(
        timings, ["data", "n", "method", "seconds", "same", "recall", "speedup"], "timings"
    )
    require_columns(exponents, ["data", "method", "exponent"], "growth exponents")
    machine = study["machine"].iloc[0].to_dict() if len(study["machine"]) else {}
    rows, widths = [], {}
    for label in dict.fromkeys(timings["data"]):
        slug = str(label).split(" ")[0].lower()
        widths[slug] = label
        part = timings[timings["data"] == label]
        ran = part[part["method"] == "all pairs"]
        if ran.empty:
            raise ValueError(f"{chapter}: no all-pairs timing for {label!r} to compare with")
        n = int(ran["n"].max())
        at = part[part["n"] == n].set_index("method")
        exp = exponents[exponents["data"] == label].set_index("method")["exponent"]
        exact_same = part.loc[part["method"] == "exact kNN", "same"].dropna()
        rows += [
            (f"n_{slug}", f"N of the comparison, {label}", n, "count"),
            (
                f"all_pairs_s_{slug}",
                f"all pairs, {label}",
                at.loc["all pairs", "seconds"],
                "seconds",
            ),
            (
                f"exact_speedup_{slug}",
                f"exact kNN faster than all pairs, {label}",
                at.loc["exact kNN", "speedup"],
                "times",
            ),
            (
                f"approx_speedup_{slug}",
                f"approximate kNN faster than all pairs, {label}",
                at.loc["approximate kNN", "speedup"],
                "times",
            ),
            (
                f"approx_recall_{slug}",
                f"recall@{params['k']} of approximate kNN, {label}",
                at.loc["approximate kNN", "recall"],
                "share",
            ),
            (
                f"exact_same_{slug}",
                f"rows where exact kNN equals all pairs (worst N), {label}",
                exact_same.min() if len(exact_same) else np.nan,
                "share",
            ),
            (
                f"exponent_all_{slug}",
                f"time ~ N^b, all pairs, {label}",
                exp.get("all pairs", np.nan),
                "exponent",
            ),
            (
                f"exponent_exact_{slug}",
                f"time ~ N^b, exact kNN, {label}",
                exp.get("exact kNN", np.nan),
                "exponent",
            ),
            (
                f"exponent_approx_{slug}",
                f"time ~ N^b, approximate kNN, {label}",
                exp.get("approximate kNN", np.nan),
                "exponent",
            ),
        ]
    recall = timings.loc[timings["method"] == "approximate kNN", "recall"].dropna()
    rows += [
        (
            "recall_min",
            "lowest recall of approximate kNN, every N and width",
            recall.min() if len(recall) else np.nan,
            "share",
        ),
        ("cores", "CPU cores of the machine that timed it", machine.get("cores", np.nan), "count"),
    ]
    data = {"timings": timings, "exponents": exponents, "machine": machine, "widths": widths}
    return ChapterResults(
        chapter, numbers_table(chapter, rows), data, {**params, "profile": prof.name}
    )


# ----------------------------------------------------------------------------- chapter 9
def _own_model_chapter() -> str:
    """The stem of chapter 9 among :data:`CHAPTER_DEFAULTS`, or ``'09_own_model'``."""
    return next((c for c in CHAPTER_DEFAULTS if c.startswith("09_")), "09_own_model")


def own_model_results(
    ctx: StudyContext, *, seed: int = 0, epochs: int | None = 30, window: float = 0.1, k: int = 10
) -> ChapterResults | None:
    """Chapter 9: the layer geometry of a network that is not ST-GCN, or ``None`` without it.

    ``helpers.studies.own_model.own_model_study`` is new; where this build does not have it, the
    answer is ``None`` (the page says so). Otherwise it is called with ``ctx`` and those of
    ``seed``, ``epochs``, ``window`` and ``k`` that it takes.

    Returns
    -------
    :class:`ChapterResults` with ``test_top1`` (the other network), ``stgcn_top1`` (the
    ST-GCN it is compared with; NaN when not compared), ``blocks``, its NNK label variation at
    the input and the last block (``nnk_lv_input``, ``nnk_lv_last``), the layer where its
    classes separate (``separation_layer``, :func:`separation_layer`), the ST-GCN's last-block
    value (``stgcn_nnk_lv_last``) and the Grad-CAM concentration of its first and last block
    (``top5_joints_first``, ``top5_joints_last``). ``data``: ``comparison`` (the study's
    overall rows of both networks by ``depth``), ``gradcam``, ``layers``.
    """
    _check_context(ctx)
    study = getattr(studies, "own_model_study", None)
    if study is None:
        return None
    chapter = _own_model_chapter()
    params = {"seed": seed, "epochs": epochs, "window": window, "k": k}
    prof = ctx.profile
    accepted = inspect.signature(study).parameters
    out = study(ctx, **{name: v for name, v in params.items() if name in accepted})
    if not isinstance(out, Mapping):
        raise TypeError(f"own_model_study returned {type(out).__name__}, expected a dict")
    for name in ("test_accuracy", "geometry", "gradcam", "layers"):
        if name not in out:
            raise ValueError(
                f"{chapter}: own_model_study's result lacks {name!r} (has {sorted(out)})"
            )
    geometry = out["geometry"]
    require_columns(geometry, ["layer", "graph", "metric", "class", "value"], "own model geometry")
    require_columns(out["gradcam"], ["layer", "top5_joint_share"], "own model Grad-CAM")

    def nnk_lv(table: pd.DataFrame) -> pd.Series:
        sel = table[
            (table["class"] == "")
            & (table["graph"] == "nnk")
            & (table["metric"] == "label_variation")
        ]
        return sel.groupby("layer")["value"].mean().sort_index()

    lv = nnk_lv(geometry)
    if lv.empty:
        raise ValueError(f"{chapter}: no NNK label variation rows in the own model's geometry")
    stgcn = out.get("stgcn_geometry")
    stgcn_lv = nnk_lv(stgcn) if isinstance(stgcn, pd.DataFrame) and len(stgcn) else None
    cams = out["gradcam"].sort_values("layer")
    accuracy = out.get("stgcn_accuracy")
    rows = [
        ("test_top1", "test top-1 of the other network", out["test_accuracy"], "share"),
        ("stgcn_top1", "test top-1 of the ST-GCN compared", accuracy, "share"),
        ("blocks", "blocks of the other network", int(lv.index.max()), "count"),
        ("nnk_lv_input", "NNK LV at the input", lv.iloc[0], "measure"),
        ("nnk_lv_last", "NNK LV, last block of the other network", lv.iloc[-1], "measure"),
        (
            "separation_layer",
            "layer where its classes separate (NNK LV)",
            separation_layer(lv),
            "layer",
        ),
        (
            "stgcn_nnk_lv_last",
            "NNK LV, last block of the ST-GCN",
            None if stgcn_lv is None else stgcn_lv.iloc[-1],
            "measure",
        ),
        (
            "top5_joints_first",
            "share of a map on its top 5 joints, first block",
            cams["top5_joint_share"].iloc[0],
            "share",
        ),
        (
            "top5_joints_last",
            "share of a map on its top 5 joints, last block",
            cams["top5_joint_share"].iloc[-1],
            "share",
        ),
    ]
    data = {
        "comparison": out.get("comparison"),
        "gradcam": out["gradcam"],
        "layers": out["layers"],
    }
    settings = {**params, "profile": prof.name}
    return ChapterResults(chapter, numbers_table(chapter, rows), data, settings)
