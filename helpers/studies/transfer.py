"""The transfer study (claim C4; chapter 7), after Yosinski et al. (2014).

For every class split (:func:`helpers.training.transfer.class_splits`), seed and number of
training clips per target class:

* **A**, the profile's network trained on the source classes (for the first split the same
  network as chapter 4's other-classes control), and **B**, the profile's network trained on
  the target classes' fitting clips (:func:`~helpers.training.transfer.fitting_clips`: every
  training subject but the validation subject);
* for every k of the grid, **AnB** (A's first k blocks frozen under new ones), **AnB+** (the
  same, fine-tuned at a learning-rate factor chosen per run from a small grid on the
  validation subject) and **BnB** (B's first k blocks frozen under new ones, the self-transfer
  control), and the network trained from **scratch**; every run with early stopping on the
  validation subject (:func:`~helpers.training.transfer.train_transfer`), scored on the
  target's test subjects;
* the link the paper draws: per layer the NNK label variation of A's and of B's features on
  the target's test clips (neighbours from other subjects), with its bootstrap interval.

Every run is cached on its own (an interrupted study resumes), and the result as a whole.
Intervals are percentile bootstraps over the target's test clips, resampled within subjects,
the same resamples for every run of a split, so differences between configurations are
paired. The verdicts on the result are in :mod:`helpers.report.verdicts`
(:func:`~helpers.report.verdicts.specificity_verdict`,
:func:`~helpers.report.verdicts.transfer_layer_verdict`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from helpers.geometry.bootstrap import (
    bootstrap_layers,
    layer_values,
    percentile_interval,
    stratified_resample,
)
from helpers.geometry.layer_tables import layer_distances, layer_radii
from helpers.runtime.arguments import check_int
from helpers.runtime.disk_cache import config_key
from helpers.runtime.keys import transfer_run_key
from helpers.studies.context import StudyContext
from helpers.studies.models import get_trained_model
from helpers.training.features import layer_features, model_fingerprint
from helpers.training.profiles import study_settings
from helpers.training.transfer import (
    class_splits,
    fitting_clips,
    split_tasks,
    train_transfer,
    validation_subject_of,
)

__all__ = ["TransferResult", "first_drop", "transfer_study"]

#: The smoothness measure of the geometry link (as chapter 4's verdicts).
MEASURE = "nnk_label_variation"


@dataclass(frozen=True)
class TransferResult:
    """Everything :func:`transfer_study` measured, as tidy tables.

    Attributes
    ----------
    runs : one row per training run: ``split``, ``seed``, ``shots`` (training clips per
        class; 0 for all), ``mode`` (``'scratch'``, ``'AnB'``, ``'AnB+'``, ``'BnB'``), ``k``
        (transferred blocks; 0 for scratch), ``lr_factor``, ``chosen`` (False for the AnB+
        factors the validation subject did not pick), ``accuracy`` (top-1 on the target's test
        clips), ``val_acc``, ``best_epoch``, ``epochs``, ``train_clips``, ``seconds``.
    accuracy : per ``shots``, ``mode``, ``k`` (chosen runs only): ``estimate`` (mean over splits
        and seeds), ``low``, ``high`` (95% bootstrap interval over test clips), ``runs``.
    specificity : AnB - BnB per ``split`` (``'all'``: pooled), ``shots``, ``k``: ``estimate``,
        ``low``, ``high``; below zero, A's first k blocks are specific to the source task.
    geometry : per ``split`` (``'all'`` pooled) and ``layer``: ``source`` (A's NNK label
        variation on the target's test clips, mean over seeds), ``target`` (B's), and the gap
        ``source - target`` as ``estimate``, ``low``, ``high``.
    layers : per ``split`` (and ``'all'``): ``transfer_layer`` (:func:`first_drop` of the
        specificity over the k grid, all training clips) and ``geometry_layer`` (the first
        block where A's label variation is above B's, the gap's interval above zero); NaN
        where there is none.
    networks : per ``split``, ``seed``, ``shots``: the test accuracy of A on the source task
        and of B on the target task, and the training clips each was trained on
        (``A_train_clips``, ``B_train_clips``).
    tasks : the splits, ``{'source': names, 'target': names}`` each.
    settings : what the study ran with.
    """

    runs: pd.DataFrame
    accuracy: pd.DataFrame
    specificity: pd.DataFrame
    geometry: pd.DataFrame
    layers: pd.DataFrame
    networks: pd.DataFrame
    tasks: list[dict[str, tuple[str, ...]]]
    settings: dict[str, Any] = field(default_factory=dict)


def first_drop(low: Sequence[float], high: Sequence[float], depths: Sequence[int]) -> float:
    """The first depth whose interval lies wholly below zero, NaN if none.

    Parameters
    ----------
    low, high : (D,) interval ends per depth (a difference such as AnB - BnB, or minus a
        label-variation gap).
    depths : (D,) the depths, increasing.
    """
    lo, hi, d = (np.asarray(x, dtype=np.float64).reshape(-1) for x in (low, high, depths))
    if not lo.shape == hi.shape == d.shape:
        raise ValueError(
            f"low, high, depths: expected equal lengths, got {lo.size}, {hi.size}, {d.size}"
        )
    below = np.flatnonzero(hi < 0)
    return float(d[below[0]]) if below.size else float("nan")


def _one_run(ctx, base, target, mode, k, lr_factor, cfg, sets, seed, shots, val_subject) -> dict:
    """One cached training run: its scores and per-clip correctness on the target's test clips."""
    freeze = mode in ("AnB", "BnB")
    key = transfer_run_key(
        model_fingerprint(base) if mode != "scratch" else _architecture(base),
        target.fingerprint(),
        mode,
        k,
        {
            "config": cfg.to_dict(),
            "lr_factor": float(lr_factor),
            "patience": int(sets["patience"]),
            "validation_subject": str(val_subject),
            "per_class": shots,
            "seed": int(seed),
        },
    )

    def run() -> dict:
        start = time.perf_counter()
        _, result = train_transfer(
            base, target, k, cfg, freeze=freeze, lr_factor=float(lr_factor),
            validation_subject=val_subject, patience=int(sets["patience"]), per_class=shots,
            random_state=int(seed), device=ctx.device,
        )  # fmt: skip
        return {
            "accuracy": float(result.test.accuracy),
            "correct": np.asarray(result.test.predictions == result.test.labels),
            "val_acc": float(result.extra["val_acc"]),
            "val_loss": float(result.extra["val_loss"]),
            "best_epoch": int(result.extra["best_epoch"]),
            "epochs": int(result.epochs_done),
            "train_clips": int(result.extra["train_clips"]),
            "seconds": time.perf_counter() - start,
        }

    return ctx.cache.pickle("transfer-runs", key, run)


def _architecture(base) -> str:
    """The key of training from scratch: the architecture, not the weights."""
    return "scratch:" + config_key({k: v for k, v in base.config.items() if k != "graph"})


def transfer_study(
    ctx: StudyContext,
    *,
    splits: int | None = None,
    seeds: Sequence[int] | None = None,
    ks: Sequence[int] | None = None,
    shots: Sequence[int | None] | None = None,
    k: int = 10,
    fraction: float = 0.1,
) -> TransferResult:
    """Yosinski et al.'s transfer design on ``ctx``'s dataset, with the geometry link (cached).

    Parameters
    ----------
    ctx : the profile, dataset (with training and test subjects), device and cache.
    splits : how many class splits (:func:`~helpers.training.transfer.class_splits`; default
        the profile's ``'transfer'`` settings, as every other size: ``seeds``, ``ks`` (the
        transferred depths), ``shots``, ``lr_factors``, ``max_epochs``, ``patience``,
        ``n_boot``).
    seeds, ks : override the profile's.
    shots : override the profile's training clips per target class (None in it: all of
        them), e.g. ``(2, 5, None)`` for the few-shot sizes.
    k : candidates per clip of the geometry link's NNK graphs.
    fraction : the DTW band, a share of each layer's median length (at least one step).

    Returns
    -------
    :class:`TransferResult`.
    """
    sets = study_settings(ctx.profile, "transfer")
    if splits is not None:
        sets["splits"] = splits
    if seeds is not None:
        sets["seeds"] = tuple(seeds)
    if ks is not None:
        sets["ks"] = tuple(ks)
    if shots is not None:
        sets["shots"] = tuple(shots)
    for name in ("splits", "max_epochs", "patience", "n_boot"):
        sets[name] = check_int(name, sets[name], low=1)
    sets["seeds"] = tuple(check_int(f"seeds[{i}]", v) for i, v in enumerate(sets["seeds"]))
    if not sets["seeds"]:
        raise ValueError("seeds: expected at least one seed")
    if not sets["shots"]:
        raise ValueError("shots: expected at least one size (None: all training clips)")
    sets["shots"] = tuple(
        None if v is None else check_int(f"shots[{i}]", v, low=1)
        for i, v in enumerate(sets["shots"])
    )
    key = ctx.study_key("transfer", settings=sets, k=int(k), fraction=float(fraction))

    def compute() -> TransferResult:
        return _compute(ctx, sets, int(k), float(fraction))

    return ctx.cache.pickle("studies", key, compute)


def _compute(ctx: StudyContext, sets: dict, k: int, fraction: float) -> TransferResult:
    ds, prof = ctx.dataset, ctx.profile
    tasks = class_splits(ds, int(sets["splits"]))
    cfg = replace(prof.train_config(), epochs=int(sets["max_epochs"]))
    n_boot = int(sets["n_boot"])
    rows, network_rows = [], []
    correct: dict[tuple, np.ndarray] = {}
    boot_index: dict[int, np.ndarray] = {}
    geometry_parts: dict[int, dict[str, list[np.ndarray]]] = {}
    bar = tqdm(
        total=len(tasks) * len(sets["seeds"]) * len(sets["shots"]),
        desc="transfer (split, seed, clips)",
        disable=not ctx.progress,
    )
    for split, task in enumerate(tasks):
        source, target = split_tasks(ds, task["source"], task["target"])
        val_subject = validation_subject_of(target)
        test = target.split == "test"
        y, subjects = target.labels[test], np.asarray(target.subjects)[test]
        rng = np.random.default_rng(split)
        boot_index[split] = np.stack([stratified_resample(subjects, rng) for _ in range(n_boot)])
        radii = None
        for seed in sets["seeds"]:
            a_net, a_result = get_trained_model(ctx.on(source), seed)
            for shots in sets["shots"]:
                mask = fitting_clips(target, val_subject, shots, random_state=seed)
                b_net, b_result = get_trained_model(ctx.on(target.subset(mask | test)), seed)
                network_rows.append(
                    {
                        "split": split,
                        "seed": seed,
                        "shots": 0 if shots is None else int(shots),
                        "A_source_accuracy": float(a_result.test.accuracy),
                        "B_target_accuracy": float(b_result.test.accuracy),
                        "A_train_clips": int((source.split == "train").sum()),
                        "B_train_clips": int(mask.sum()),
                    }
                )
                grid = [("scratch", 0, 1.0)]
                for depth in sets["ks"]:
                    grid += [("AnB", int(depth), 1.0), ("BnB", int(depth), 1.0)]
                    grid += [("AnB+", int(depth), float(f)) for f in sets["lr_factors"]]
                for mode, depth, factor in grid:
                    base = b_net if mode == "BnB" else a_net
                    out = _one_run(
                        ctx, base, target, mode, depth, factor, cfg, sets, seed, shots, val_subject
                    )
                    correct[(split, seed, shots, mode, depth, factor)] = out.pop("correct")
                    rows.append(
                        {
                            "split": split,
                            "seed": seed,
                            "shots": 0 if shots is None else int(shots),
                            "mode": mode,
                            "k": depth,
                            "lr_factor": factor,
                            **out,
                        }
                    )
                if shots is None:  # the geometry link: A and B on the target's test clips
                    feats = {
                        name: layer_features(
                            net,
                            target,
                            device=ctx.device,
                            cache_dir=ctx.cache_dir,
                            progress=False,
                        )  # fmt: skip
                        for name, net in (("source", a_net), ("target", b_net))
                    }
                    if radii is None:
                        radii = layer_radii(feats["source"], fraction, subset=test)
                    parts = geometry_parts.setdefault(split, {})
                    for name, f in feats.items():
                        dist = layer_distances(f, radii, subset=test, cache_dir=ctx.cache_dir)
                        value = layer_values(dist, y, k=k, exclude=subjects, measure=MEASURE)
                        boot = bootstrap_layers(
                            dist, y, k=k, exclude=subjects, n_boot=n_boot, random_state=split
                        )
                        parts.setdefault(name, []).append(value)
                        parts.setdefault(name + "_boot", []).append(boot)
                bar.update()
    bar.close()
    runs = _choose_factors(pd.DataFrame(rows))
    accuracy = _accuracy_table(runs, correct, boot_index)
    specificity = _specificity_table(runs, correct, boot_index)
    geometry = _geometry_table(geometry_parts)
    layers = _layers_table(specificity, geometry)
    return TransferResult(
        runs=runs,
        accuracy=accuracy,
        specificity=specificity,
        geometry=geometry,
        layers=layers,
        networks=pd.DataFrame(network_rows),
        tasks=tasks,
        settings={
            **sets,
            "k": k,
            "fraction": fraction,
            "validation_subjects": [
                validation_subject_of(split_tasks(ds, t["source"], t["target"])[1]) for t in tasks
            ],
            "radii": list(radii or []),
        },
    )


def _choose_factors(runs: pd.DataFrame) -> pd.DataFrame:
    """Mark, per AnB+ configuration, the factor with the best validation score as chosen."""
    runs = runs.assign(chosen=True)
    plus = runs["mode"] == "AnB+"
    for _, group in runs[plus].groupby(["split", "seed", "shots", "k"]):
        # highest validation accuracy, then lowest loss, then the smaller factor
        best = group.sort_values(
            ["val_acc", "val_loss", "lr_factor"], ascending=[False, True, True]
        ).index[0]
        runs.loc[group.index.difference([best]), "chosen"] = False
    return runs


def _key(row: pd.Series) -> tuple:
    shots = None if int(row["shots"]) == 0 else int(row["shots"])
    return (
        int(row["split"]),
        int(row["seed"]),
        shots,
        row["mode"],
        int(row["k"]),
        float(row["lr_factor"]),
    )


def _samples(row, correct, boot_index) -> np.ndarray:
    """(B,) the run's accuracy on each resample of its split's test clips."""
    return correct[_key(row)][boot_index[int(row["split"])]].mean(axis=1)


def _accuracy_table(runs, correct, boot_index) -> pd.DataFrame:
    out = []
    chosen = runs[runs["chosen"]]
    for (shots, mode, k), group in chosen.groupby(["shots", "mode", "k"], sort=True):
        # the mean over splits of the mean over seeds, resample by resample
        per_split = [
            np.mean([_samples(r, correct, boot_index) for _, r in g.iterrows()], axis=0)
            for _, g in group.groupby("split")
        ]
        estimate = group.groupby("split")["accuracy"].mean().mean()
        iv = percentile_interval(np.mean(per_split, axis=0), estimate=estimate)
        out.append({"shots": shots, "mode": mode, "k": k, **iv.as_dict(), "runs": len(group)})
    return pd.DataFrame(out)


def _specificity_table(runs, correct, boot_index) -> pd.DataFrame:
    chosen = runs[runs["chosen"] & runs["mode"].isin(["AnB", "BnB"])]
    out = []
    for (shots, k), group in chosen.groupby(["shots", "k"], sort=True):
        per_split, estimates = {}, {}
        for split, g in group.groupby("split"):
            diffs, values = [], []
            for seed, pair in g.groupby("seed"):
                a = pair[pair["mode"] == "AnB"].iloc[0]
                b = pair[pair["mode"] == "BnB"].iloc[0]
                diffs.append(_samples(a, correct, boot_index) - _samples(b, correct, boot_index))
                values.append(a["accuracy"] - b["accuracy"])
            per_split[split] = np.mean(diffs, axis=0)
            estimates[split] = float(np.mean(values))
        for split in per_split:
            iv = percentile_interval(per_split[split], estimate=estimates[split])
            out.append({"split": str(split), "shots": shots, "k": k, **iv.as_dict()})
        pooled = percentile_interval(
            np.mean(list(per_split.values()), axis=0), estimate=np.mean(list(estimates.values()))
        )
        out.append({"split": "all", "shots": shots, "k": k, **pooled.as_dict()})
    return pd.DataFrame(out)


def _gap_rows(split: str, source, target, gap_boot) -> list[dict]:
    """Per layer: A's and B's label variation and the gap's interval, (B, L) resamples."""
    return [
        {
            "split": split,
            "layer": layer,
            "source": source[layer],
            "target": target[layer],
            **percentile_interval(
                gap_boot[:, layer], estimate=source[layer] - target[layer]
            ).as_dict(),
        }
        for layer in range(len(source))
    ]


def _geometry_table(parts: dict[int, dict[str, list[np.ndarray]]]) -> pd.DataFrame:
    """Per split (mean over seeds) and pooled over splits: A's and B's values and their gap."""
    out, per_split = [], []
    for split, p in parts.items():
        source, target = np.mean(p["source"], axis=0), np.mean(p["target"], axis=0)
        gap_boot = np.mean(p["source_boot"], axis=0) - np.mean(p["target_boot"], axis=0)
        per_split.append((source, target, gap_boot))
        out += _gap_rows(str(split), source, target, gap_boot)
    if per_split:
        source, target, gap_boot = (np.mean(x, axis=0) for x in zip(*per_split))
        out += _gap_rows("all", source, target, gap_boot)
    return pd.DataFrame(out)


def _layers_table(specificity: pd.DataFrame, geometry: pd.DataFrame) -> pd.DataFrame:
    out = []
    for split in geometry["split"].unique() if len(geometry) else []:
        spec = specificity[(specificity["split"] == split) & (specificity["shots"] == 0)]
        spec = spec.sort_values("k")
        geo = geometry[(geometry["split"] == split) & (geometry["layer"] >= 1)].sort_values("layer")
        out.append(
            {
                "split": split,
                "transfer_layer": first_drop(spec["low"], spec["high"], spec["k"]),
                # A's label variation above B's: minus the gap has its interval below zero
                "geometry_layer": first_drop(-geo["high"], -geo["low"], geo["layer"]),
            }
        )
    return pd.DataFrame(out)
