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
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from helpers import studies
from helpers.data.dataset import SkeletonDataset
from helpers.data.perturb import NOISE_KINDS
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
    transfer_geometry_verdict,
    transfer_verdict,
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
    "06_gradcam": {"seed": 0, "window": 0.1, "k": 10},
    "07_transfer": {"window": 0.1, "k": 10, "tasks": None},
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
        for suffix, col in (("", "estimate"), ("_low", "low"), ("_high", "high")):
            what = {"": "", "_low": ", 95% interval low", "_high": ", 95% interval high"}[suffix]
            rows.append((f"{key}{suffix}", f"NNK LV change, {label}{what}, {name}", row[col], unit))
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
    ``verdict`` (:func:`~helpers.report.verdicts.noise_claim_verdict` of them), ``result`` and
    ``dataset``.
    """
    chapter = "05_noise"
    _check_context(ctx)
    kinds = [str(v) for v in kinds]
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
    """Chapter 6: the sanity checks of the Grad-CAM maps, and how concentrated the maps are.

    Calls :func:`~helpers.studies.gradcam.gradcam_maps`,
    :func:`~helpers.studies.gradcam.gradcam_checks_study` and
    :func:`~helpers.studies.gradcam.gradcam_smoothness_study` with the chapter's ``seed``,
    ``window`` and ``k``.

    Returns
    -------
    :class:`ChapterResults` with ``test_top1`` (of the explained model), the cascading
    randomisation's mean rank correlation with the trained maps after randomising the
    classifier (``cascading_classifier``) and every block (``cascading_all``), the label
    randomisation's (``shuffled_labels``, ``other_seed``, and both over the early and late
    half of the blocks), ``shuffled_train_accuracy`` (how much the shuffled-label network
    memorised), the deletion check (``deletion_positive`` of ``blocks`` blocks with a positive
    gain, ``deletion_gain_early``, ``deletion_gain_late``, ``insertion_gain``), the
    concentration (``top5_joints_first``, ``top5_joints_last``, ``uniform_top5``,
    ``top20_frames_first``, ``top20_frames_last``) and the maps' smoothness
    (``maps_less_smooth``: blocks whose maps have a higher kNN label error than the features).
    ``data['blocks']``: one row per block with these measures; ``data['verdicts']``: the
    chapter's :class:`~helpers.report.verdicts.Verdict` objects by name (``faithfulness``,
    ``cascading``, ``labels``, ``smoothness``), from the numbers above.
    """
    chapter = "06_gradcam"
    _check_context(ctx)
    params = {"seed": seed, "window": window, "k": k}
    prof = ctx.profile
    ds, cams = studies.gradcam_maps(ctx, seed=seed)
    checks = studies.gradcam_checks_study(ctx, seed=seed)
    sm = studies.gradcam_smoothness_study(ctx, seed=seed, window=window, k=k)
    for name in ("cascading", "labels", "areas", "models"):
        if name not in checks:
            raise ValueError(f"{chapter}: the checks study lacks {name!r} (has {sorted(checks)})")
    require_columns(checks["cascading"], ["step", "layer", "spearman"], "cascading randomisation")
    require_columns(checks["labels"], ["layer", "other", "spearman"], "label randomisation")
    require_columns(checks["areas"], ["layer", "deletion_gain", "insertion_gain"], "deletion areas")
    require_columns(checks["models"], ["model", "train_accuracy"], "checked models")
    require_columns(
        sm, ["representation", "layer", "graph", "metric", "value"], "Grad-CAM smoothness"
    )

    layers = sorted(cams.maps)
    if not layers:
        raise ValueError(f"{chapter}: no Grad-CAM maps")
    early, late = layers[: len(layers) // 2], layers[len(layers) // 2 :]
    test = np.flatnonzero(ds.split == "test")
    correct = np.asarray(cams.predictions) == np.asarray(ds.labels)
    casc = checks["cascading"]
    first = casc[casc["step"] == casc["step"].min()].groupby("layer")["spearman"].mean()
    every = casc[casc["step"] == casc["step"].max()].groupby("layer")["spearman"].mean()
    lab = checks["labels"].pivot_table(index="layer", columns="other", values="spearman")
    if "shuffled labels" not in lab.columns or len(lab.columns) < 2:
        raise ValueError(
            f"{chapter}: the label check needs 'shuffled labels' and another seed, "
            f"has {list(lab.columns)}"
        )
    shuffled = lab["shuffled labels"]
    other = lab[[c for c in lab.columns if c != "shuffled labels"][0]]
    areas = checks["areas"].set_index("layer")
    gain = areas["deletion_gain"]
    models = checks["models"].set_index("model")
    spread = map_summary(cams.maps, ds.labels, ds.num_classes)
    fe = sm[(sm["graph"] == "knn") & (sm["metric"] == "paper_knn_error")]
    feat_err = fe[fe["representation"] == "features"].groupby("layer")["value"].mean()
    map_err = fe[fe["representation"] == "Grad-CAM map"].groupby("layer")["value"].mean()
    both = feat_err.index.intersection(map_err.index)

    def mean_over(series: pd.Series, part: list[int]) -> float:
        return float(series.reindex(part).mean())

    blocks = pd.DataFrame(
        {
            "cascading_all_random": every,
            "shuffled_labels": shuffled,
            "other_seed": other,
            "deletion_gain": gain,
            "insertion_gain": areas["insertion_gain"],
        }
    ).reindex(layers)
    blocks = blocks.join(spread)
    blocks["map_knn_error"] = map_err.reindex(layers)
    blocks["feature_knn_error"] = feat_err.reindex(layers)
    blocks.index.name = "layer"
    rows = [
        (
            "test_top1",
            "test top-1 of the explained model",
            correct[test].mean() if test.size else np.nan,
            "share",
        ),
        (
            "cascading_classifier",
            "rank correlation with the trained maps, classifier random",
            first.mean(),
            "correlation",
        ),
        (
            "cascading_all",
            "rank correlation with the trained maps, every block random",
            every.mean(),
            "correlation",
        ),
        (
            "shuffled_labels",
            "rank correlation, network trained on shuffled labels",
            shuffled.mean(),
            "correlation",
        ),
        ("other_seed", f"rank correlation, {other.name}", other.mean(), "correlation"),
        (
            "shuffled_early",
            f"shuffled labels, blocks {early[0]}-{early[-1]}",
            mean_over(shuffled, early),
            "correlation",
        ),
        (
            "shuffled_late",
            f"shuffled labels, blocks {late[0]}-{late[-1]}",
            mean_over(shuffled, late),
            "correlation",
        ),
        (
            "other_early",
            f"{other.name}, blocks {early[0]}-{early[-1]}",
            mean_over(other, early),
            "correlation",
        ),
        (
            "other_late",
            f"{other.name}, blocks {late[0]}-{late[-1]}",
            mean_over(other, late),
            "correlation",
        ),
        (
            "shuffled_train_accuracy",
            "training accuracy of the shuffled-label network",
            models.loc["shuffled labels", "train_accuracy"]
            if "shuffled labels" in models.index
            else np.nan,
            "share",
        ),
        (
            "deletion_positive",
            "blocks whose top joints matter more than random ones (deletion)",
            int((gain > 0).sum()),
            "count",
        ),
        ("blocks", "blocks", len(layers), "count"),
        (
            "deletion_gain_early",
            f"deletion gain, blocks {early[0]}-{early[-1]}",
            mean_over(gain, early),
            "gain",
        ),
        (
            "deletion_gain_late",
            f"deletion gain, blocks {late[0]}-{late[-1]}",
            mean_over(gain, late),
            "gain",
        ),
        (
            "insertion_gain",
            "insertion gain, mean over blocks",
            areas["insertion_gain"].mean(),
            "gain",
        ),
        (
            "top5_joints_first",
            f"share of a map on its top 5 joints, block {layers[0]}",
            spread["top5_joint_share"].iloc[0],
            "share",
        ),
        (
            "top5_joints_last",
            f"share of a map on its top 5 joints, block {layers[-1]}",
            spread["top5_joint_share"].iloc[-1],
            "share",
        ),
        (
            "uniform_top5",
            "the same share for a uniform map",
            min(TOP_JOINTS, ds.num_joints) / ds.num_joints,
            "share",
        ),
        (
            "top20_frames_first",
            f"share on its busiest 20% of frames, block {layers[0]}",
            spread["top20_frame_share"].iloc[0],
            "share",
        ),
        (
            "top20_frames_last",
            f"share on its busiest 20% of frames, block {layers[-1]}",
            spread["top20_frame_share"].iloc[-1],
            "share",
        ),
        (
            "maps_less_smooth",
            "blocks whose maps are less label-smooth than the features (kNN error)",
            int((map_err[both] > feat_err[both]).sum()),
            "count",
        ),
    ]
    verdicts = {
        "faithfulness": faithfulness_verdict(gain, areas["insertion_gain"]),
        "cascading": cascading_verdict(float(every.mean()), float(other.mean())),
        "labels": label_randomisation_verdict(
            mean_over(shuffled, late),
            mean_over(other, late),
            mean_over(shuffled, early),
            mean_over(other, early),
        ),
        "smoothness": map_smoothness_verdict(map_err, feat_err),
    }
    return ChapterResults(
        chapter,
        numbers_table(chapter, rows),
        {"blocks": blocks, "verdicts": verdicts},
        {**params, "profile": prof.name},
    )


def transfer_results(
    ctx: StudyContext,
    *,
    window: float = 0.1,
    k: int = 10,
    tasks: Mapping[str, Sequence[str]] | None = None,
) -> ChapterResults:
    """Chapter 7: target accuracy after fine-tuning with the first k blocks frozen.

    Calls :func:`helpers.studies.transfer.transfer_source_model` (the first seed of the profile's
    transfer grid), :func:`~helpers.studies.transfer.transfer_study` and
    :func:`~helpers.studies.transfer.transfer_smoothness_study` with the chapter's ``tasks``,
    ``window`` and ``k``.

    Returns
    -------
    :class:`ChapterResults` with ``source_top1`` and, for every number of training clips per
    target class (suffix ``_2``, ``_5``, ``_all``...): ``scratch`` (trained from scratch),
    ``k0`` (every block fine-tuned), ``half`` (the first half frozen), ``best_k`` and ``best``,
    ``k_max`` (everything but the classifier frozen); with all clips ``few_frozen`` (mean over
    k = 0..K/2), ``many_frozen`` (k = K-2..K), ``seed_spread`` (standard deviation over seeds
    at one k, averaged), and the source models' NNK label variation on the target classes
    (``lv_input``, ``lv_min_layer``, ``lv_min``, ``lv_last``). ``data``: ``curve`` (mean, min,
    max accuracy by clips per class and k; k = -1 is from scratch), ``lv`` (by layer),
    ``verdict`` (:func:`~helpers.report.verdicts.transfer_verdict`), ``geometry_verdict``
    (:func:`~helpers.report.verdicts.transfer_geometry_verdict` of ``lv``).
    """
    chapter = "07_transfer"
    _check_context(ctx)
    params = {"window": window, "k": k, "tasks": tasks}
    prof = ctx.profile
    settings = study_settings(prof, "transfer")
    _, src_result, _, _ = studies.transfer_source_model(ctx, seed=settings["seeds"][0], tasks=tasks)
    runs = studies.transfer_study(ctx, tasks=tasks)
    smooth = studies.transfer_smoothness_study(ctx, window=window, k=k, tasks=tasks)
    require_columns(runs, ["seed", "shots", "start", "frozen", "accuracy"], "transfer study")
    require_columns(smooth, ["seed", "layer", "graph", "metric", "value"], "transfer smoothness")
    rows = [
        (
            "source_top1",
            "source model's test top-1 on the source classes",
            src_result.test.accuracy,
            "share",
        )
    ]
    curve = []
    shots_list = sorted(runs["shots"].unique(), key=lambda s: (s == 0, s))
    for shots in shots_list:
        part = runs[runs["shots"] == shots]
        label = "all" if shots == 0 else str(int(shots))
        tuned = part[part["start"] == "source"].groupby("frozen")["accuracy"]
        scratch = part[part["start"] == "scratch"]["accuracy"]
        if tuned.ngroups == 0 or scratch.empty:
            raise ValueError(f"{chapter}: {label} clips per class lack fine-tuned or scratch runs")
        stats = tuned.agg(["mean", "min", "max"])
        curve.append(stats.reset_index().assign(clips_per_class=label, start="source"))
        curve.append(
            pd.DataFrame(
                [
                    {
                        "frozen": -1,
                        "mean": scratch.mean(),
                        "min": scratch.min(),
                        "max": scratch.max(),
                        "clips_per_class": label,
                        "start": "scratch",
                    }
                ]
            )
        )
        m = stats["mean"]
        k_top = int(m.index.max())
        half = k_top // 2
        per = "all clips" if label == "all" else f"{label} clips per class"
        rows += [
            (f"scratch_{label}", f"from scratch, {per}", scratch.mean(), "share"),
            (f"k0_{label}", f"every block fine-tuned (k=0), {per}", m.get(0, np.nan), "share"),
            (f"half_{label}", f"first {half} blocks frozen, {per}", m.get(half, np.nan), "share"),
            (f"best_k_{label}", f"best number of frozen blocks, {per}", int(m.idxmax()), "count"),
            (f"best_{label}", f"best fine-tuned accuracy, {per}", m.max(), "share"),
            (
                f"k_max_{label}",
                f"all {k_top} blocks frozen (classifier only), {per}",
                m.iloc[-1],
                "share",
            ),
        ]
    curve = pd.concat(curve, ignore_index=True)[
        ["clips_per_class", "start", "frozen", "mean", "min", "max"]
    ]
    full_shots = 0 if 0 in shots_list else max(shots_list)
    tuned_all = runs[(runs["shots"] == full_shots) & (runs["start"] == "source")]
    k_max = int(tuned_all["frozen"].max())
    few = tuned_all[tuned_all["frozen"].between(0, k_max // 2)]["accuracy"].mean()
    many = tuned_all[tuned_all["frozen"].between(k_max - 2, k_max)]["accuracy"].mean()
    spread = tuned_all.groupby("frozen")["accuracy"].std().mean()
    spread = 0.0 if not np.isfinite(spread) else float(spread)
    lv = smooth[(smooth["graph"] == "nnk") & (smooth["metric"] == "label_variation")]
    lv = lv.groupby("layer")["value"].agg(["mean", "min", "max"])
    if lv.empty:
        raise ValueError(f"{chapter}: the smoothness study has no NNK label variation rows")
    rows += [
        ("few_frozen", f"k = 0..{k_max // 2} frozen, mean", few, "share"),
        ("many_frozen", f"k = {k_max - 2}..{k_max} frozen, mean", many, "share"),
        ("seed_spread", "spread over seeds at one k (standard deviation)", spread, "share"),
        (
            "lv_input",
            "source models' NNK LV on the target classes, input",
            lv["mean"].iloc[0],
            "measure",
        ),
        ("lv_min_layer", "layer where it is lowest", int(lv["mean"].idxmin()), "layer"),
        ("lv_min", "its lowest value", lv["mean"].min(), "measure"),
        ("lv_last", "at the last layer", lv["mean"].iloc[-1], "measure"),
    ]
    data = {
        "curve": curve,
        "lv": lv,
        "verdict": transfer_verdict(few, many, spread),
        "geometry_verdict": transfer_geometry_verdict(lv["mean"]),
    }
    return ChapterResults(
        chapter, numbers_table(chapter, rows), data, {**params, "profile": prof.name}
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
