"""Where the classes separate, measured fairly (claims C1 and C2; chapters 4 and 5).

The protocol, for one dataset and profile:

1. **Held-out subjects.** Every measure is taken on the test subjects' clips; a clip's
   candidate neighbours are clips of *other* subjects (``exclude`` = the subjects), so a
   neighbour is never the same subject repeating himself. The all-neighbours graph of the same
   clips and the other-subjects graph of the training clips are kept as labelled contrasts.
2. **DTW at every layer.** The band is 10% of the layer's median length, at least one step
   (:func:`helpers.geometry.layer_tables.layer_radii`), the same for every model.
3. **Controls.** The untrained network (same architecture and input), a network trained on
   shuffled labels, and, for C2, networks trained on a disjoint set of classes (the transfer
   split's source classes) measured on the target classes' clips beside the networks trained
   on every class, these among them (trained on all 188 HDM05 training clips, not on the
   target classes' 66 alone, which gave networks of 56-88% test accuracy).
4. **Uncertainty.** Seeds, and a bootstrap over clips within subjects with every graph rebuilt
   (:func:`helpers.geometry.bootstrap.bootstrap_layers`); the same resamples for every layer and
   every model, so layer contrasts and model gaps are paired.
5. **Independent readouts.** A cross-subject linear probe and linear CKA per layer
   (:mod:`helpers.geometry.readouts`).

The result is a :class:`SeparationResult` of tidy tables; the verdicts on it are in
:mod:`helpers.report.verdicts` (:func:`~helpers.report.verdicts.depth_verdict`,
:func:`~helpers.report.verdicts.generic_early_verdict`).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from helpers.geometry.bootstrap import (
    bootstrap_layers,
    layer_values,
    paired_contrast,
    percentile_interval,
    slope_over_depth,
)
from helpers.geometry.layer_tables import layer_distances, layer_geometry, layer_radii
from helpers.geometry.readouts import cka_table, probe_table
from helpers.geometry.smoothness import reference_levels
from helpers.studies.context import StudyContext
from helpers.studies.models import get_trained_model, untrained_model
from helpers.training.features import layer_features
from helpers.training.profiles import study_settings
from helpers.training.transfer import default_tasks, split_tasks

__all__ = [
    "EARLY",
    "LATE",
    "SHUFFLED_LABEL_SEED",
    "SeparationResult",
    "separation_study",
]

#: The early and late blocks the contrasts compare (1-based block numbers; layer 0 is the
#: input): the first four blocks keep the full frame rate in ST-GCN, the last three run at a
#: quarter of it, after the second temporal stride.
EARLY: tuple[int, ...] = (1, 2, 3, 4)
LATE: tuple[int, ...] = (8, 9, 10)

#: The seed that shuffles the training labels of the shuffled-label control (any fixed seed:
#: the control only needs labels that carry no class).
SHUFFLED_LABEL_SEED = 12345

#: The measure every interval and contrast is computed on.
MEASURE = "nnk_label_variation"


@dataclass(frozen=True)
class SeparationResult:
    """Everything :func:`separation_study` measured, as tidy tables.

    Attributes
    ----------
    layers : overall rows of :func:`~helpers.geometry.layer_tables.layer_geometry` with the
        columns ``model`` (``'trained'``, ``'untrained'``, ``'shuffled'``), ``seed``,
        ``protocol`` (``'other subjects'``, the verdicts'; ``'all neighbours'`` and
        ``'training clips'``, contrasts for the trained networks), ``layer``, ``graph``,
        ``metric``, ``value``.
    intervals : NNK label variation per ``model`` and ``layer`` on the test subjects (other
        subjects' neighbours): ``estimate`` (the mean over seeds), ``low``, ``high`` (the
        bootstrap interval of that mean over clips), ``seed_low``, ``seed_high`` (the range over
        seeds).
    contrasts : per ``model``: ``name`` (``'late - early'``, ``'early - input'``,
        ``'late - input'``, ``'slope'``) with ``estimate``, ``low``, ``high``.
    generic : the C2 control per ``layer``: ``these`` and ``other`` (NNK label variation on
        the target classes of the networks trained on every class, these among them, and of
        networks trained on the source classes only; seed-matched, the first
        ``settings['control_seeds']``) and the gap
        ``other - these`` with its interval (``estimate``, ``low``, ``high``); its contrasts
        are in ``generic_contrasts`` (``'early gap'``, ``'late gap'``, ``'growth'``). Empty
        when the study ran without it.
    probe : ``model``, ``seed``, ``layer``, ``probe_top1`` (cross-subject linear probe).
    cka : ``seed``, ``layer``, ``cka_input``, ``cka_last`` (trained networks, test clips).
    reference : ``chance``, ``floor`` and ``fewest_same`` of the measures for ``k`` and the
        test clips' classes and subjects, and ``k``.
    radii : the DTW radius of each layer, in steps.
    settings : what the study ran with (seeds, k, resamples, clips).
    inputs : what turning the clips to one heading changes at layer 0 (empty when the
        profile keeps the camera's heading): one row per ``input`` (``'camera heading'``, the
        clips only centred and scaled; ``'one heading'``, the network's input; and
        ``'one heading - camera heading'``) with the NNK label variation ``estimate``, ``low``,
        ``high`` (95% bootstrap interval, the same resamples for both, so the difference is
        paired) and ``one_nn`` (1-NN accuracy from other subjects' clips under layer 0's DTW).
    """

    layers: pd.DataFrame
    intervals: pd.DataFrame
    contrasts: pd.DataFrame
    generic: pd.DataFrame
    generic_contrasts: pd.DataFrame
    probe: pd.DataFrame
    cka: pd.DataFrame
    reference: dict[str, float]
    radii: list[int]
    settings: dict[str, Any] = field(default_factory=dict)
    inputs: pd.DataFrame = field(default_factory=pd.DataFrame)


def _overall(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["class"] == ""].drop(columns="class")


def _nnk_lv(table: pd.DataFrame) -> np.ndarray:
    rows = table[(table.graph == "nnk") & (table.metric == "label_variation")]
    return rows.sort_values("layer").value.to_numpy(float)


def _contrasts(samples: np.ndarray, estimate: np.ndarray, model: str) -> list[dict]:
    late, early = list(LATE), list(EARLY)
    blocks = list(range(1, samples.shape[1]))
    rows = []
    for name, interval in (
        ("late - early", paired_contrast(samples, early, late, estimate=estimate)),
        ("early - input", paired_contrast(samples, [0], early, estimate=estimate)),
        ("late - input", paired_contrast(samples, [0], late, estimate=estimate)),
        ("slope", slope_over_depth(samples, blocks, estimate=estimate)),
    ):
        rows.append({"model": model, "name": name, **interval.as_dict()})
    return rows


def separation_study(
    ctx: StudyContext,
    *,
    seeds: Sequence[int] | None = None,
    k: int = 10,
    fraction: float = 0.1,
    n_boot: int | None = None,
    generic: bool = True,
    control_seeds: int | None = None,
) -> SeparationResult:
    """Per-layer class separation of the profile's networks, with controls and intervals (cached).

    Parameters
    ----------
    ctx : the profile, dataset (with its train/test split and subjects), device and cache.
    seeds : the trained networks' seeds (default: the profile's geometry seeds, at least 3 in
        both profiles); the controls use the first.
    k : candidates per node; a warning says when it exceeds the same-class candidates some test
        clip has (its error then has a floor above 0, reported in ``reference``).
    fraction : the DTW band as a share of each layer's median length (at least one step).
    n_boot : bootstrap resamples (default: the profile's geometry setting).
    generic : also run the C2 control (networks trained on other classes).
    control_seeds : how many of ``seeds`` (the first ones) the C2 control trains networks on
        other classes for and compares (default: the profile's ``control_seeds``; 1 in the
        quick profile, as the untrained and shuffled-label controls).

    Returns
    -------
    :class:`SeparationResult`.
    """
    sets = study_settings(ctx.profile, "geometry")
    seeds = [int(s) for s in (sets["seeds"] if seeds is None else seeds)]
    n_boot = int(sets.get("n_boot", 200) if n_boot is None else n_boot)
    if not seeds:
        raise ValueError("seeds: expected at least one seed")
    if control_seeds is None:
        control_seeds = int(sets.get("control_seeds", len(seeds)))
    control_seeds = min(int(control_seeds), len(seeds))
    if control_seeds < 1:
        raise ValueError(f"control_seeds={control_seeds}: expected at least 1")
    key = ctx.study_key(
        "separation",
        seeds=seeds,
        k=int(k),
        fraction=float(fraction),
        n_boot=n_boot,
        generic=bool(generic),
        control_seeds=control_seeds,
        shuffled_label_seed=SHUFFLED_LABEL_SEED,
        heading_contrast=True,  # results carry `inputs` (layer 0 with and without the turn)
    )

    def compute() -> SeparationResult:
        return _compute(ctx, seeds, int(k), float(fraction), n_boot, bool(generic), control_seeds)

    return ctx.cache.pickle("studies", key, compute)


def _compute(
    ctx: StudyContext,
    seeds: list[int],
    k: int,
    fraction: float,
    n_boot: int,
    generic: bool,
    control_seeds: int,
) -> SeparationResult:
    ds = ctx.dataset
    test, train = ds.split == "test", ds.split == "train"
    if not test.any() or not train.any():
        raise ValueError("separation_study: the dataset needs training and test clips")
    y_test, s_test = ds.labels[test], np.asarray(ds.subjects)[test]
    if np.unique(s_test).size < 2:
        raise ValueError(
            f"separation_study: the test clips of {ds.name!r} come from "
            f"{np.unique(s_test).size} subject(s); neighbours from other subjects need at "
            "least two test subjects (give the dataset's split more test subjects)"
        )
    levels = reference_levels(y_test, k, exclude=s_test)
    if k > levels.fewest_same:
        warnings.warn(
            f"k={k} exceeds the {levels.fewest_same} same-class clips of other subjects that "
            f"some test clip has: its kNN error cannot reach 0 (floor {levels.floor:.3f} over "
            "all test clips)",
            stacklevel=3,
        )
    models: list[tuple[str, int, Any]] = []
    for seed in seeds:
        models.append(("trained", seed, get_trained_model(ctx, seed)[0]))
    models.append(("untrained", seeds[0], untrained_model(ctx, seeds[0])))
    shuffled, _ = get_trained_model(ctx, seeds[0], label_seed=SHUFFLED_LABEL_SEED)
    models.append(("shuffled", seeds[0], shuffled))

    layer_parts, probe_parts, cka_parts = [], [], []
    samples: dict[str, list[np.ndarray]] = {}
    estimates: dict[str, list[np.ndarray]] = {}
    kept: dict[int, tuple[list, list[np.ndarray]]] = {}  # trained seed -> (features, distances)
    radii: list[int] | None = None
    for kind, seed, model in tqdm(models, desc="networks", disable=not ctx.progress):
        feats = layer_features(
            model, ds, device=ctx.device, cache_dir=ctx.cache_dir, progress=False
        )
        if radii is None:
            radii = layer_radii(feats, fraction, subset=test)
        dist = layer_distances(feats, radii, subset=test, cache_dir=ctx.cache_dir)
        common = dict(labels=ds.labels, k=k, class_names=ds.class_names, cache_dir=ctx.cache_dir)
        fair = _overall(
            layer_geometry(feats, subset=test, distances=dist, exclude=ds.subjects, **common)
        )
        layer_parts.append(fair.assign(model=kind, seed=seed, protocol="other subjects"))
        if kind == "trained":
            near = _overall(layer_geometry(feats, subset=test, distances=dist, **common))
            layer_parts.append(near.assign(model=kind, seed=seed, protocol="all neighbours"))
            seen = _overall(
                layer_geometry(feats, subset=train, window=radii, exclude=ds.subjects, **common)
            )
            layer_parts.append(seen.assign(model=kind, seed=seed, protocol="training clips"))
            cka_parts.append(cka_table(feats, index=test).reset_index().assign(seed=seed))
            kept[seed] = (feats, dist)
        boot = bootstrap_layers(dist, y_test, k=k, exclude=s_test, n_boot=n_boot, random_state=0)
        samples.setdefault(kind, []).append(boot)
        estimates.setdefault(kind, []).append(_nnk_lv(fair))
        probe = probe_table(feats, ds.labels, train, test).reset_index()
        probe_parts.append(probe.assign(model=kind, seed=seed))

    interval_rows, contrast_rows = [], []
    for kind in samples:
        mean_samples = np.mean(samples[kind], axis=0)  # the seed mean, resample by resample
        per_seed = np.vstack(estimates[kind])
        estimate = per_seed.mean(axis=0)
        for layer in range(mean_samples.shape[1]):
            iv = percentile_interval(mean_samples[:, layer], estimate=estimate[layer])
            interval_rows.append(
                {
                    "model": kind,
                    "layer": layer,
                    **iv.as_dict(),
                    "seed_low": float(per_seed[:, layer].min()),
                    "seed_high": float(per_seed[:, layer].max()),
                }
            )
        contrast_rows += _contrasts(mean_samples, estimate, kind)

    generic_table, generic_contrasts = pd.DataFrame(), pd.DataFrame()
    if generic:
        paired = {seed: kept[seed] for seed in seeds[:control_seeds]}
        generic_table, generic_contrasts = _generic_control(ctx, paired, k, radii or [], n_boot)

    inputs = pd.DataFrame()
    first_model = models[0][2]
    if getattr(first_model.train_config, "heading", None) is not None:
        canonical = (estimates["trained"][0][0], samples["trained"][0][:, 0], kept[seeds[0]][1][0])
        inputs = _heading_contrast(ctx, first_model, canonical, radii or [], k, n_boot)

    layers = pd.concat(layer_parts, ignore_index=True)
    front = ["model", "seed", "protocol"]
    return SeparationResult(
        layers=layers[front + [c for c in layers.columns if c not in front]],
        intervals=pd.DataFrame(interval_rows),
        contrasts=pd.DataFrame(contrast_rows),
        generic=generic_table,
        generic_contrasts=generic_contrasts,
        probe=pd.concat(probe_parts, ignore_index=True),
        cka=pd.concat(cka_parts, ignore_index=True),
        reference={
            "chance": levels.chance,
            "floor": levels.floor,
            "fewest_same": float(levels.fewest_same),
            "k": float(k),
        },
        radii=list(radii or []),
        settings={
            "seeds": seeds,
            "k": k,
            "fraction": fraction,
            "n_boot": n_boot,
            "control_seeds": seeds[:control_seeds] if generic else [],
            "test_clips": int(test.sum()),
            "training_clips": int(train.sum()),
            "measure": MEASURE,
        },
        inputs=inputs,
    )


def _generic_control(
    ctx: StudyContext,
    kept: dict[int, tuple[list, list[np.ndarray]]],
    k: int,
    radii: list[int],
    n_boot: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """C2 on the target classes' test clips: trained on every class, or on other classes only.

    The networks trained on every class (these among them) against networks trained on the
    source classes only, which never saw these. ``kept`` holds the all-class networks' features
    of every clip and distances between the test clips, per seed: the target clips' share of
    them is taken, not computed again.
    """
    ds = ctx.dataset
    tasks = default_tasks(ds)
    source, target = split_tasks(ds, tasks["source"], tasks["target"])
    test = target.split == "test"
    y, subjects = target.labels[test], np.asarray(target.subjects)[test]
    # select_classes keeps the clips' order: the target clips among all clips, and among the
    # test clips (the rows of the kept distance matrices)
    in_target = np.isin(np.asarray(ds.class_names)[ds.labels], list(tasks["target"]))
    rows_all = np.flatnonzero(in_target)
    rows_test = np.flatnonzero(in_target[ds.split == "test"])
    boots: dict[str, list[np.ndarray]] = {"these": [], "other": []}
    values: dict[str, list[np.ndarray]] = {"these": [], "other": []}
    for seed, (all_feats, all_dist) in kept.items():
        for name in ("these", "other"):
            if name == "these":
                feats = [[layer[i] for i in rows_all] for layer in all_feats]
                dist = [D[np.ix_(rows_test, rows_test)] for D in all_dist]
            else:
                model = get_trained_model(ctx.on(source), seed)[0]
                feats = layer_features(
                    model, target, device=ctx.device, cache_dir=ctx.cache_dir, progress=False
                )
                dist = layer_distances(feats, radii, subset=test, cache_dir=ctx.cache_dir)
            table = layer_geometry(
                feats, target.labels, k=k, subset=test, distances=dist,
                exclude=target.subjects, cache_dir=ctx.cache_dir,
            )  # fmt: skip
            values[name].append(_nnk_lv(_overall(table)))
            boots[name].append(
                bootstrap_layers(dist, y, k=k, exclude=subjects, n_boot=n_boot, random_state=0)
            )
    these, other = np.mean(values["these"], axis=0), np.mean(values["other"], axis=0)
    gap_samples = np.mean(boots["other"], axis=0) - np.mean(boots["these"], axis=0)
    gap = other - these
    rows = []
    for layer in range(len(gap)):
        iv = percentile_interval(gap_samples[:, layer], estimate=gap[layer])
        rows.append({"layer": layer, "these": these[layer], "other": other[layer], **iv.as_dict()})
    early, late = list(EARLY), list(LATE)
    contrasts = []
    for name, interval in (
        ("early gap", paired_contrast(gap_samples, [0], early, estimate=gap)),
        ("late gap", paired_contrast(gap_samples, [0], late, estimate=gap)),
        ("growth", paired_contrast(gap_samples, early, late, estimate=gap)),
    ):
        contrasts.append({"name": name, **interval.as_dict()})
    # the gap at the input is 0 by construction (both see the same clips), so "early gap" and
    # "late gap" are the mean gaps of those blocks
    return pd.DataFrame(rows), pd.DataFrame(contrasts)


def _one_nn(D: np.ndarray, labels: np.ndarray, subjects: np.ndarray) -> float:
    """1-NN accuracy when a clip's neighbour must be another subject's (the diagonal aside)."""
    far = np.where(subjects[:, None] == subjects[None, :], np.inf, D)
    return float(np.mean(labels[np.argmin(far, axis=1)] == labels))


def _heading_contrast(
    ctx: StudyContext,
    model: Any,
    canonical: tuple[float, np.ndarray, np.ndarray],
    radii: list[int],
    k: int,
    n_boot: int,
) -> pd.DataFrame:
    """Layer 0 as the network sees it (one heading) against the clips in the camera's heading.

    ``canonical`` is the network's layer 0 as the study measured it: its NNK label variation,
    its bootstrap samples and its distance matrix between the test clips. The camera-heading
    input is the same clips centred and scaled alike but not turned; it is measured with the
    same radius, ``k`` and resamples.
    """
    ds = ctx.dataset
    test = ds.split == "test"
    y, subjects = ds.labels[test], np.asarray(ds.subjects)[test]
    camera_cfg = dataclasses.replace(model.train_config, heading=None)
    feats = layer_features(
        model, ds, camera_cfg, device=ctx.device, layers=[0], cache_dir=ctx.cache_dir,
        progress=False,
    )  # fmt: skip
    (D_camera,) = layer_distances(feats, radii[:1], subset=test, cache_dir=ctx.cache_dir)
    (camera_value,) = layer_values([D_camera], y, k=k, exclude=subjects, measure=MEASURE)
    camera = bootstrap_layers([D_camera], y, k=k, exclude=subjects, n_boot=n_boot, random_state=0)
    one_value, one_samples, D_one = canonical
    rows = []
    for name, value, boot, D in (
        ("camera heading", camera_value, camera[:, 0], D_camera),
        ("one heading", one_value, one_samples, D_one),
    ):
        iv = percentile_interval(boot, estimate=value)
        rows.append({"input": name, **iv.as_dict(), "one_nn": _one_nn(D, y, subjects)})
    diff = percentile_interval(one_samples - camera[:, 0], estimate=one_value - camera_value)
    rows.append(
        {
            "input": "one heading - camera heading",
            **diff.as_dict(),
            "one_nn": rows[1]["one_nn"] - rows[0]["one_nn"],
        }
    )
    return pd.DataFrame(rows)
