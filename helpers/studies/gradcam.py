"""The Grad-CAM studies (chapter 6).

The maps of a trained network (:func:`gradcam_maps`), the checks that could show them to be
wrong (:func:`gradcam_checks_study`) and the label smoothness of the maps beside that of the
features (:func:`gradcam_smoothness_study`), all on the test subjects' clips:

* **faithfulness**: deletion and insertion over joint x time cells, joints and frames
  (:mod:`helpers.explain.deletion`), each block's map against random orders and the
  motion-energy order, with bootstrap intervals over clips;
* **cascading randomisation** (Adebayo et al. 2018): the classifier, then block 10, 9, ...
  re-initialised; with every block re-initialised, the maps' agreement with the trained ones,
  clip by clip, against that of a second real network;
* **label randomisation**, with a control that memorises: a network trained on shuffled labels
  of a few training clips per class, without augmentation, until it fits them (its fit is
  reported); its maps' agreement with the real network's beside the agreement of two real
  networks (another seed), the reference for what "agree" means in each block;
* **smoothness without the label**: maps of the class-independent mean logit
  (:func:`helpers.explain.gradcam.mean_logit`), not of the predicted class, so that no label
  enters the maps through the choice of target; their NNK label variation per block (neighbours
  from other subjects, as chapter 4) beside the features', with a paired interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from helpers.data.dataset import SkeletonDataset
from helpers.explain.checks import cascading_randomization, map_agreement, randomize_from
from helpers.explain.deletion import deletion_areas, deletion_gains
from helpers.explain.gradcam import DatasetGradCAM, dataset_gradcam
from helpers.geometry.bootstrap import (
    bootstrap_layers,
    layer_values,
    percentile_interval,
)
from helpers.geometry.layer_tables import layer_distances, layer_radii
from helpers.runtime.keys import study_key
from helpers.studies.context import StudyContext
from helpers.studies.models import get_trained_model, shuffle_labels
from helpers.training.features import layer_features, model_fingerprint
from helpers.training.inputs import model_inputs
from helpers.training.loop import evaluate
from helpers.training.profiles import study_settings
from helpers.training.transfer import few_shot

__all__ = [
    "GradcamChecks",
    "gradcam_checks_study",
    "gradcam_maps",
    "gradcam_smoothness_study",
    "memorising_control",
]

#: The seed that shuffles the memorising control's labels (any fixed seed will do).
MEMORISING_LABEL_SEED = 0
#: The smoothness measure of the map-against-features comparison (as chapter 4's verdicts).
MEASURE = "nnk_label_variation"
#: The networks whose maps are compared with the real network's, clip by clip: a second real
#: network (the reference), the memorising control (label randomisation) and the real network
#: with every block re-initialised (the last step of cascading randomisation).
AGREEMENT_OTHERS = ("another seed", "shuffled labels", "every block random")
#: Bumped when what the checks study computes changes (2: the every-block-random agreement
#: per clip, for the cascading verdict's intervals).
CHECKS_VERSION = 2


def _stratified(ds: SkeletonDataset, per_class: int | None, random_state: int = 0) -> np.ndarray:
    """Indices of ``per_class`` clips of every class (all if None or fewer), sorted."""
    if per_class is None:
        return np.arange(len(ds))
    rng = np.random.default_rng(random_state)
    out = []
    for c in range(ds.num_classes):
        idx = np.flatnonzero(ds.labels == c)
        out.extend(rng.choice(idx, min(len(idx), int(per_class)), replace=False).tolist())
    return np.sort(np.asarray(out, np.int64))


def gradcam_maps(
    ctx: StudyContext,
    *,
    seed: int = 0,
    target: str | None = None,
) -> tuple[SkeletonDataset, DatasetGradCAM]:
    """Every clip's Grad-CAM maps, every block, for the profile's trained model (cached).

    ``target``: None (each clip's predicted class), ``'label'`` (its true class) or
    ``'mean logit'`` (the class-independent score). Returns the dataset and its
    :class:`~helpers.explain.gradcam.DatasetGradCAM` (maps at each block's resolution).
    """
    ds = ctx.dataset
    model, _ = get_trained_model(ctx, seed)
    # keyed by the model's weights, not the profile: any network with these weights has these maps
    key = study_key("gradcam-maps", ds.fingerprint(), model=model_fingerprint(model), target=target)

    def compute() -> DatasetGradCAM:
        return dataset_gradcam(model, ds, "all", target, progress=ctx.progress)

    return ds, ctx.cache.pickle("studies", key, compute)


def memorising_control(
    ctx: StudyContext,
    *,
    seed: int = 0,
    clips_per_class: int | None | str = "profile",
    epochs: int | None = None,
) -> tuple[Any, dict[str, float]]:
    """The label-randomisation control of Adebayo et al. (2018), made to memorise (cached).

    The profile's network trained on shuffled labels (:data:`MEMORISING_LABEL_SEED`) of
    ``clips_per_class`` training clips per class (None: all), without augmentation, for
    ``epochs`` epochs (by default the profile's ``'gradcam'`` settings
    ``memorise_clips_per_class`` and ``memorise_epochs``).

    Returns
    -------
    ``(model, info)``: ``info`` holds ``fit`` (top-1 on its training clips against the shuffled
    labels it was trained on), ``clips`` and ``epochs``.
    """
    sets = study_settings(ctx.profile, "gradcam")
    if clips_per_class == "profile":
        clips_per_class = sets["memorise_clips_per_class"]
    epochs = int(sets["memorise_epochs"] if epochs is None else epochs)
    prof = ctx.profile.replace(train_epochs=epochs, train_augment={}, name=ctx.profile.name)
    subset = few_shot(ctx.dataset, clips_per_class, random_state=seed)
    mctx = ctx.with_profile(prof).on(subset)
    model, result = get_trained_model(mctx, seed, label_seed=MEMORISING_LABEL_SEED)
    fitted = shuffle_labels(subset.train(), MEMORISING_LABEL_SEED)
    fit = evaluate(model, fitted, model.train_config, device=ctx.device).accuracy
    return model, {"fit": float(fit), "clips": len(fitted), "epochs": int(result.epochs_done)}


@dataclass(frozen=True)
class GradcamChecks:
    """What :func:`gradcam_checks_study` measured, as tidy tables.

    Attributes
    ----------
    cascading : :func:`~helpers.explain.checks.cascading_randomization`.
    agreement : per clip the rank correlation of the real network's maps with another
        network's: ``other`` (one of :data:`AGREEMENT_OTHERS`), ``layer``, ``clip``,
        ``spearman``.
    agreement_intervals : per ``other`` and ``layer``: ``estimate`` (mean over clips),
        ``low``, ``high``; beside every ``other`` the paired differences
        ``'another seed - shuffled labels'`` (label randomisation) and
        ``'another seed - every block random'`` (cascading randomisation).
    deletion_curves, deletion_areas : :class:`~helpers.explain.deletion.DeletionResult`'s
        tables with a ``unit`` column.
    gains : :func:`~helpers.explain.deletion.deletion_gains` per unit.
    models : one row per network (``'real'``, ``'another seed'``, ``'memorising'``):
        ``fit`` (top-1 on its own training clips, with the labels it was trained on),
        ``test_accuracy``, ``train_clips``, ``epochs``.
    settings : what the study ran with (clips, units, steps, resamples).
    """

    cascading: pd.DataFrame
    agreement: pd.DataFrame
    agreement_intervals: pd.DataFrame
    deletion_curves: pd.DataFrame
    deletion_areas: pd.DataFrame
    gains: pd.DataFrame
    models: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)


def _agreement_intervals(table: pd.DataFrame, n_boot: int, random_state: int) -> pd.DataFrame:
    """Mean agreement per (other, layer) with a bootstrap over clips, and the paired differences.

    Every row resamples the same clips, so that a difference between two others is paired.
    """
    wide = table.pivot_table(index="clip", columns=["other", "layer"], values="spearman",
                             dropna=False)  # fmt: skip
    n = len(wide)
    idx = np.random.default_rng(random_state).integers(0, n, size=(int(n_boot), n))
    rows = []
    layers = sorted({layer for _, layer in wide.columns})
    for layer in layers:
        series = {
            other: wide[(other, layer)].to_numpy()
            for other in AGREEMENT_OTHERS
            if (other, layer) in wide.columns
        }
        if "another seed" in series:
            for other in AGREEMENT_OTHERS[1:]:
                if other in series:
                    series[f"another seed - {other}"] = series["another seed"] - series[other]
        for other, r in series.items():
            with np.errstate(all="ignore"):
                samples = np.nanmean(r[idx], axis=1)
            iv = percentile_interval(samples, estimate=float(np.nanmean(r)))
            rows.append({"other": other, "layer": int(layer), **iv.as_dict()})
    return pd.DataFrame(rows)


def gradcam_checks_study(ctx: StudyContext, *, seed: int = 0) -> GradcamChecks:
    """The checks that could show the trained model's Grad-CAM maps to be wrong (cached).

    On the test clips (``clips_per_class`` of every class, None: all; the profile's
    ``'gradcam'`` settings give every size): deletion and insertion per unit of
    ``deletion_units``; cascading randomisation; the agreement of the maps with those of
    another real network (``control_seed``) and of the memorising control
    (:func:`memorising_control`), per clip and with intervals.

    Returns
    -------
    :class:`GradcamChecks`.
    """
    ds = ctx.dataset
    sets = study_settings(ctx.profile, "gradcam")
    control_seed = int(sets["control_seed"])
    if control_seed == int(seed):
        raise ValueError(f"seed={seed}: the control network needs another seed than {control_seed}")
    key = ctx.study_key(
        "gradcam-checks",
        settings=sets,
        seed=int(seed),
        label_seed=MEMORISING_LABEL_SEED,
        version=CHECKS_VERSION,
    )

    def compute() -> GradcamChecks:
        model, res = get_trained_model(ctx, seed)
        control, res_c = get_trained_model(ctx, control_seed)
        memorising, info = memorising_control(ctx, seed=seed)
        test = ds.subset(ds.split == "test")
        idx = _stratified(test, sets["clips_per_class"], random_state=seed)
        x, lengths = model_inputs(test, model.train_config, index=idx)
        cascading = cascading_randomization(
            model, x, lengths=lengths, random_state=seed, progress=ctx.progress
        )
        # the last cascading step again (the same re-initialisation), clip by clip
        every_random = randomize_from(model, 1, random_state=seed + model.num_blocks + 1)
        others = dict(zip(AGREEMENT_OTHERS, (control, memorising, every_random)))
        agreement = pd.concat(
            [
                map_agreement(model, other, x, lengths=lengths).assign(other=name)
                for name, other in others.items()
            ],
            ignore_index=True,
        )
        curves, areas = [], []
        for unit in tqdm(sets["deletion_units"], desc="deletion units", disable=not ctx.progress):
            out = deletion_areas(
                model, x, lengths=lengths, unit=unit, steps=int(sets["deletion_steps"]),
                random_orders=int(sets["random_orders"]), random_state=seed,
            )  # fmt: skip
            curves.append(out.curves.assign(unit=unit))
            areas.append(out.areas.assign(unit=unit))
        areas_table = pd.concat(areas, ignore_index=True)
        train = ds.train()
        models = pd.DataFrame(
            [
                {"model": "real", "fit": res.history["train_acc"][-1],
                 "test_accuracy": res.test.accuracy, "train_clips": len(train),
                 "epochs": res.epochs_done},
                {"model": "another seed", "fit": res_c.history["train_acc"][-1],
                 "test_accuracy": res_c.test.accuracy, "train_clips": len(train),
                 "epochs": res_c.epochs_done},
                {"model": "memorising", "fit": info["fit"], "test_accuracy": np.nan,
                 "train_clips": info["clips"], "epochs": info["epochs"]},
            ]
        )  # fmt: skip
        return GradcamChecks(
            cascading=cascading,
            agreement=agreement[["other", "layer", "clip", "spearman"]],
            agreement_intervals=_agreement_intervals(agreement, int(sets["n_boot"]), seed),
            deletion_curves=pd.concat(curves, ignore_index=True),
            deletion_areas=areas_table,
            gains=deletion_gains(areas_table, int(sets["n_boot"]), random_state=seed),
            models=models,
            settings={**sets, "seed": int(seed), "clips": len(idx)},
        )

    return ctx.cache.pickle("studies", key, compute)


def gradcam_smoothness_study(
    ctx: StudyContext,
    *,
    seed: int = 0,
    window: float = 0.1,
    k: int = 10,
) -> pd.DataFrame:
    """NNK label variation of every block's class-independent maps beside its features' (cached).

    The maps of the mean logit (no class chosen for the clip) and the block's features, on the
    test clips, neighbours from other subjects only (as chapter 4): each clip's map of block
    ``l`` (T_l x V, cropped to the clip) is a sequence compared by windowed DTW (``window``:
    the band as a share of the block's median length, at least one step).

    Returns
    -------
    One row per block ``layer``: ``map``, ``features`` (NNK label variation), ``estimate``
    (map minus features), ``low``, ``high`` (its 95% interval, the same resamples of the clips
    for both), ``map_low``, ``map_high``, ``features_low``, ``features_high``.
    """
    ds = ctx.dataset
    n_boot = int(study_settings(ctx.profile, "gradcam")["n_boot"])
    key = ctx.study_key(
        "gradcam-smoothness", seed=int(seed), window=float(window), k=int(k), n_boot=n_boot,
        target="mean logit", measure=MEASURE,
    )  # fmt: skip

    def compute() -> pd.DataFrame:
        test = ds.split == "test"
        y, subjects = ds.labels[test], np.asarray(ds.subjects)[test]
        _, maps = gradcam_maps(ctx, seed=seed, target="mean logit")
        blocks = sorted(maps.maps)
        model, _ = get_trained_model(ctx, seed)
        feats = layer_features(
            model, ds, device=ctx.device, cache_dir=ctx.cache_dir, progress=False
        )
        measured = {}
        for name, seqs in (
            ("map", [maps.flattened(block) for block in blocks]),
            ("features", [feats[block] for block in blocks]),
        ):
            radii = layer_radii(seqs, float(window), subset=test)
            dist = layer_distances(seqs, radii, subset=test, cache_dir=ctx.cache_dir)
            value = layer_values(dist, y, k=k, exclude=subjects, measure=MEASURE)
            boot = bootstrap_layers(dist, y, k=k, exclude=subjects, n_boot=n_boot, random_state=0)
            measured[name] = (value, boot)
        rows = []
        for i, block in enumerate(blocks):
            (m, mb), (f, fb) = measured["map"], measured["features"]
            diff = percentile_interval(mb[:, i] - fb[:, i], estimate=m[i] - f[i])
            mi, fi = (
                percentile_interval(mb[:, i], estimate=m[i]),
                percentile_interval(fb[:, i], estimate=f[i]),
            )
            rows.append(
                {"layer": int(block), "map": m[i], "features": f[i], **diff.as_dict(),
                 "map_low": mi.low, "map_high": mi.high, "features_low": fi.low,
                 "features_high": fi.high}
            )  # fmt: skip
        return pd.DataFrame(rows)

    return ctx.cache.pickle("studies", key, compute)
