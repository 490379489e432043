"""The layer geometry studies (chapters 4 and 5).

Label smoothness of every layer of the trained networks and of the untrained baseline, on clean
clips and on clips with joint noise.
"""

from __future__ import annotations

import inspect
from typing import Any, Sequence

import numpy as np
import pandas as pd

from helpers.data.dataset import SkeletonDataset
from helpers.geometry.layer_tables import layer_geometry
from helpers.studies.context import StudyContext
from helpers.studies.models import trained_and_untrained
from helpers.training.features import layer_features
from helpers.training.profiles import study_settings

__all__ = [
    "layer_geometry_key",
    "layer_geometry_study",
    "overall_geometry",
]


def overall_geometry(feats, labels, class_names, window, k, cache_dir) -> pd.DataFrame:
    """The overall rows of the per-layer table :func:`~helpers.geometry.layer_geometry`."""
    table = layer_geometry(
        feats, labels, window=window, k=k, class_names=class_names, cache_dir=cache_dir
    )
    return table[table["class"] == ""].drop(columns="class")


def _subset_mask(ds: SkeletonDataset, subset: str) -> np.ndarray:
    if subset == "all":
        return np.ones(len(ds), bool)
    if subset == "test":
        return ds.split == "test"
    raise ValueError(f"subset={subset!r}; expected 'all' (every clip) or 'test' (unseen actors)")


def layer_geometry_study(
    ctx: StudyContext,
    *,
    seeds: Sequence[int] | None = None,
    untrained_seeds: Sequence[int] = (0,),
    subset: str = "all",
    window: int | float | None = 0.1,
    k: int = 10,
    sigma: float | str = "mean_kth",
) -> pd.DataFrame:
    """Per-layer label smoothness of the profile's trained models and of the untrained baseline.

    Parameters
    ----------
    ctx : the study context: the profile whose models are studied (trained on first need), the
        dataset, device, cache and progress setting.
    seeds : training seeds of the trained models (``None``: the profile's,
        ``study_settings(profile, 'geometry')['seeds']``).
    untrained_seeds : initialisation seeds of the untrained baseline.
    subset : ``'all'`` clips, or ``'test'``: only the unseen test actors.
    window, k, sigma : the DTW band, the neighbourhood size and the kernel bandwidth rule
        (:func:`helpers.geometry.layer_tables.layer_geometry`).
    ctx : the study context: profile, dataset, device, cache, progress.

    Returns
    -------
    The rows of :func:`~helpers.geometry.layer_tables.layer_geometry` for every model, with the
    columns ``model`` (``'trained'`` or ``'untrained'``) and ``seed`` in front.
    """
    prof, ds = ctx.profile, ctx.dataset
    seeds = study_settings(prof, "geometry")["seeds"] if seeds is None else seeds
    mask = _subset_mask(ds, subset)
    key = layer_geometry_key(
        ctx,
        seeds=seeds,
        untrained_seeds=untrained_seeds,
        subset=subset,
        window=window,
        k=k,
        sigma=sigma,
    )

    def compute() -> pd.DataFrame:
        parts = []
        for kind, seed, model in trained_and_untrained(ctx, seeds, untrained_seeds):
            feats = layer_features(
                model, ds, device=ctx.device, cache_dir=ctx.cache_dir, progress=ctx.progress
            )
            table = layer_geometry(
                feats,
                ds.labels,
                window=window,
                k=k,
                subset=mask,
                sigma=sigma,
                class_names=ds.class_names,
                cache_dir=ctx.cache_dir,
                progress=ctx.progress,
            )
            parts.append(table.assign(model=kind, seed=seed))
        out = pd.concat(parts, ignore_index=True)
        return out[["model", "seed", *[c for c in out.columns if c not in ("model", "seed")]]]

    return ctx.cache.pickle("studies", key, compute)


def layer_geometry_key(ctx: StudyContext, **settings: Any) -> dict[str, Any]:
    """The cache key of ``layer_geometry_study(ctx, **settings)``, without running it.

    The settings not given take :func:`layer_geometry_study`'s own defaults (read from its
    signature), so an "is it cached?" probe follows any change of a default.
    """
    bound = inspect.signature(layer_geometry_study).bind(ctx, **settings)
    bound.apply_defaults()
    a = bound.arguments
    seeds = study_settings(ctx.profile, "geometry")["seeds"] if a["seeds"] is None else a["seeds"]
    return ctx.study_key(
        "layer-geometry",
        seeds=[int(v) for v in seeds],
        untrained=[int(v) for v in a["untrained_seeds"]],
        subset=a["subset"],
        window=a["window"],
        k=int(a["k"]),
        sigma=a["sigma"],
    )
