"""The Grad-CAM studies (chapter 6).

The maps of a trained network, their sanity and faithfulness checks, and the smoothness of the
maps layer by layer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.dataset import SkeletonDataset
from helpers.explain.checks import (
    cascading_randomization,
    compare_models,
    curve_areas,
    deletion_insertion,
)
from helpers.explain.gradcam import DatasetGradCAM, dataset_gradcam
from helpers.geometry.layer_tables import layer_geometry
from helpers.runtime.keys import study_key
from helpers.studies.context import StudyContext
from helpers.studies.geometry import layer_geometry_study
from helpers.studies.models import get_trained_model
from helpers.training.features import model_fingerprint
from helpers.training.inputs import model_inputs
from helpers.training.profiles import study_settings

__all__ = [
    "gradcam_checks_study",
    "gradcam_maps",
    "gradcam_smoothness_study",
]


# =========================================================================== Grad-CAM
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

    ``target``: None (each clip's predicted class) or ``'label'`` (its true class). Returns the
    dataset and its :class:`~helpers.explain.gradcam.DatasetGradCAM` (maps at each block's
    resolution).
    """
    ds = ctx.dataset
    model, _ = get_trained_model(ctx, seed)
    # keyed by the model's weights, not the profile: any network with these weights has these maps
    key = study_key("gradcam-maps", ds.fingerprint(), model=model_fingerprint(model), target=target)

    def compute() -> DatasetGradCAM:
        return dataset_gradcam(model, ds, "all", target, progress=ctx.progress)

    return ds, ctx.cache.pickle("studies", key, compute)


def gradcam_checks_study(
    ctx: StudyContext,
    *,
    seed: int = 0,
    control_seed: int = 1,
    label_seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """The sanity and faithfulness checks of the trained model's Grad-CAM, per layer (cached).

    On a stratified sample of test clips (:func:`helpers.training.profiles.study_settings`):

    ``cascading``
        :func:`helpers.explain.checks.cascading_randomization`;
    ``labels``
        rank correlation of the maps of the model (``seed``) with those of a model trained on
        shuffled labels (``label_seed``; for the settings' ``permuted_epochs``, with the
        ``permuted_augment`` augmentation, none by default, so that it can memorise) and, as the
        yardstick, with another real model (``control_seed``); column ``other`` names which;
    ``deletion``, ``areas``
        :func:`~helpers.explain.checks.deletion_insertion` and
        :func:`~helpers.explain.checks.curve_areas`;
    ``models``
        one row per model: training accuracy of its last epoch and test accuracy.
    """
    prof, ds = ctx.profile, ctx.dataset
    sets = study_settings(prof, "gradcam")
    key = ctx.study_key(
        "gradcam-checks", settings=sets, seeds=[int(seed), int(control_seed), int(label_seed)]
    )

    def compute() -> dict[str, pd.DataFrame]:
        model, res = get_trained_model(ctx, seed)
        control, res_c = get_trained_model(ctx, control_seed)
        permuted_prof = prof
        if sets["permuted_epochs"] is not None:
            permuted_prof = permuted_prof.replace(train_epochs=int(sets["permuted_epochs"]))
        if sets.get("permuted_augment") is not None:
            permuted_prof = permuted_prof.replace(train_augment=dict(sets["permuted_augment"]))
        permuted, res_p = get_trained_model(
            ctx.with_profile(permuted_prof), seed, label_seed=label_seed
        )
        test = ds.subset(ds.split == "test")
        idx = _stratified(test, sets["clips_per_class"], random_state=seed)
        x, lengths = model_inputs(test, model.train_config, index=idx)
        cascading = cascading_randomization(
            model, x, lengths=lengths, random_state=seed, progress=ctx.progress
        )
        labels = pd.concat(
            [
                compare_models(model, permuted, x, lengths=lengths).assign(other="shuffled labels"),
                compare_models(model, control, x, lengths=lengths).assign(
                    other=f"another seed ({control_seed})"
                ),
            ],
            ignore_index=True,
        )
        curves = deletion_insertion(
            model,
            x,
            lengths=lengths,
            steps=sets["deletion_steps"],
            random_orders=sets["random_orders"],
            random_state=seed,
            progress=ctx.progress,
        )
        models = pd.DataFrame(
            [
                {
                    "model": name,
                    "epochs": r.epochs_done,
                    "train_accuracy": r.history["train_acc"][-1],
                    "test_accuracy": r.test.accuracy,
                }
                for name, r in (("real", res), ("control", res_c), ("shuffled labels", res_p))
            ]
        )
        return {
            "cascading": cascading,
            "labels": labels,
            "deletion": curves,
            "areas": curve_areas(curves),
            "models": models,
            "clips": pd.DataFrame({"clip": idx, "label": test.labels[idx]}),
        }

    return ctx.cache.pickle("studies", key, compute)


def gradcam_smoothness_study(
    ctx: StudyContext,
    *,
    seed: int = 0,
    window: int | float | None = 0.1,
    k: int = 10,
) -> pd.DataFrame:
    """Label smoothness of every block's Grad-CAM maps beside that of its features (cached).

    Each clip's map of block ``l`` (T_l x V at the block's resolution, cropped to the clip) is
    a sequence; windowed DTW between them, the kNN and NNK graphs and the smoothness measures
    are those of :func:`~helpers.geometry.layer_tables.layer_geometry`, as for the features of
    chapter 4. Returns its overall rows (``layer`` = block, ``graph``, ``metric``, ``value``) with a
    column ``representation``: ``'Grad-CAM map'`` or ``'features'``.
    """
    ds = ctx.dataset
    key = ctx.study_key("gradcam-smoothness", seed=int(seed), window=window, k=int(k))

    def compute() -> pd.DataFrame:
        _, maps = gradcam_maps(ctx, seed=seed)
        layers = sorted(maps.maps)
        table = layer_geometry(
            [maps.flattened(layer) for layer in layers],
            ds.labels,
            window=window,
            k=k,
            class_names=ds.class_names,
            cache_dir=ctx.cache_dir,
            progress=ctx.progress,
        )
        table["layer"] = np.asarray(layers)[table["layer"].to_numpy()]
        feats = layer_geometry_study(ctx, seeds=(seed,), untrained_seeds=(), window=window, k=k)
        feats = feats[feats.layer >= 1].drop(columns=["model", "seed"])
        out = pd.concat(
            [table.assign(representation="Grad-CAM map"), feats.assign(representation="features")],
            ignore_index=True,
        )
        out = out[out["class"] == ""].drop(columns="class")
        return out[["representation", "layer", "graph", "metric", "value"]].reset_index(drop=True)

    return ctx.cache.pickle("studies", key, compute)
