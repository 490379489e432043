"""The layer geometry studies (chapters 4 and 5).

Label smoothness of every layer of the trained networks and of the untrained baseline, on clean
clips and on clips with joint noise.
"""

from __future__ import annotations

import inspect
from typing import Any, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from helpers.data.augment import with_joint_noise
from helpers.data.dataset import SkeletonDataset
from helpers.geometry.layer_tables import layer_geometry
from helpers.studies.context import StudyContext
from helpers.studies.models import trained_and_untrained
from helpers.training.features import layer_features
from helpers.training.loop import evaluate
from helpers.training.profiles import study_settings

__all__ = [
    "NOISE_LEVELS",
    "layer_geometry_key",
    "layer_geometry_study",
    "overall_geometry",
    "noise_study",
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


#: Noise levels of :func:`noise_study`: standard deviation as a share of the skeleton's height.
NOISE_LEVELS = (0.0, 0.01, 0.025, 0.05, 0.1, 0.2)


def noise_study(
    ctx: StudyContext,
    *,
    levels: Sequence[float] = NOISE_LEVELS,
    noise_seeds: Sequence[int] = (0, 1),
    seeds: Sequence[int] | None = None,
    untrained_seeds: Sequence[int] = (0,),
    subset: str = "test",
    window: int | float | None = 0.1,
    k: int = 10,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Test accuracy and per-layer smoothness under Gaussian noise on the input joints.

    Every coordinate of every joint and frame of the ``subset`` clips gets independent noise of
    standard deviation ``level`` times the clip's skeleton height
    (:func:`~helpers.data.augment.with_joint_noise`), for each level and noise seed; the trained
    models (``seeds``) are scored and, with the untrained baseline, measured layer by layer
    (:func:`~helpers.geometry.layer_tables.layer_geometry`, overall rows only).

    Returns
    -------
    ``(accuracy, smoothness)``: ``accuracy`` has the columns ``level``, ``noise_seed``, ``seed``,
    ``accuracy`` (top-1 of a trained model on the noisy clips); ``smoothness`` has ``level``,
    ``noise_seed``, ``model``, ``seed``, ``layer``, ``graph``, ``metric``, ``value``.
    """
    prof, ds = ctx.profile, ctx.dataset
    seeds = study_settings(prof, "geometry")["seeds"] if seeds is None else seeds
    clips = ds.subset(_subset_mask(ds, subset))
    key = ctx.study_key(
        "noise",
        levels=[float(v) for v in levels],
        noise_seeds=[int(v) for v in noise_seeds],
        seeds=[int(v) for v in seeds],
        untrained=[int(v) for v in untrained_seeds],
        subset=subset,
        window=window,
        k=int(k),
    )

    def compute() -> tuple[pd.DataFrame, pd.DataFrame]:
        models = list(trained_and_untrained(ctx, seeds, untrained_seeds))
        acc_rows, parts = [], []
        grid = [(lv, ns) for lv in levels for ns in noise_seeds]
        for level, noise_seed in tqdm(grid, desc="noise levels", disable=not ctx.progress):
            noisy = with_joint_noise(clips, float(level), random_state=int(noise_seed))
            for kind, seed, model in models:
                if kind == "trained":
                    ev = evaluate(model, noisy, model.train_config, device=ctx.device)
                    acc_rows.append(
                        {
                            "level": float(level),
                            "noise_seed": int(noise_seed),
                            "seed": seed,
                            "accuracy": ev.accuracy,
                        }
                    )
                # noisy features are used once: the DTW matrices are cached, not the features
                feats = layer_features(model, noisy, device=ctx.device, cache=False, progress=False)
                table = overall_geometry(
                    feats, noisy.labels, ds.class_names, window, k, ctx.cache_dir
                )
                parts.append(
                    table.assign(
                        level=float(level), noise_seed=int(noise_seed), model=kind, seed=seed
                    )
                )
        smooth = pd.concat(parts, ignore_index=True)
        front = ["level", "noise_seed", "model", "seed"]
        smooth = smooth[front + [c for c in smooth.columns if c not in front]]
        return pd.DataFrame(acc_rows), smooth

    return ctx.cache.pickle("studies", key, compute)
