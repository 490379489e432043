"""The transfer studies (chapter 7).

A source network trained on some classes, fine-tuned on the others with its first blocks
frozen, and the smoothness of the target classes in its layers.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Mapping, Sequence

import pandas as pd
from torch import nn
from tqdm.auto import tqdm

from helpers.data.dataset import SkeletonDataset
from helpers.runtime.keys import transfer_run_key
from helpers.studies.context import StudyContext
from helpers.studies.geometry import overall_geometry
from helpers.studies.models import get_trained_model
from helpers.training.config import TrainConfig, TrainResult
from helpers.training.features import layer_features, model_fingerprint
from helpers.training.profiles import Profile, study_settings
from helpers.training.transfer import default_tasks, few_shot, fine_tune, split_tasks

__all__ = [
    "transfer_smoothness_study",
    "transfer_source_model",
    "transfer_study",
]


# =========================================================================== transfer
def _fine_tune_config(prof: Profile, n_train: int, steps: int) -> TrainConfig:
    """The profile's training config for ``steps`` optimiser steps on ``n_train`` clips."""
    cfg = prof.train_config()
    batch = max(2, min(cfg.batch_size, n_train))
    per_epoch = len(range(0, n_train, batch))
    epochs = max(1, int(round(steps / per_epoch)))
    return replace(
        cfg, epochs=epochs, batch_size=batch, warmup_epochs=min(cfg.warmup_epochs, 0.1 * epochs)
    )


def transfer_source_model(
    ctx: StudyContext,
    *,
    seed: int = 0,
    tasks: Mapping[str, Sequence[str]] | None = None,
) -> tuple[nn.Module, TrainResult, SkeletonDataset, SkeletonDataset]:
    """The source-task model of the transfer study, and the (source, target) datasets.

    ``tasks``: ``{'source': class names, 'target': class names}`` (default
    :func:`helpers.training.transfer.default_tasks`: :data:`helpers.training.transfer.HDM05_TASKS`
    for HDM05).
    """
    prof, ds = ctx.profile, ctx.dataset
    sets = study_settings(prof, "transfer")
    tasks = default_tasks(ds) if tasks is None else tasks
    source, target = split_tasks(ds, tasks["source"], tasks["target"])
    src_prof = prof
    if sets["source_epochs"] is not None:
        src_prof = prof.replace(train_epochs=int(sets["source_epochs"]))
    model, result = get_trained_model(ctx.with_profile(src_prof).on(source), seed)
    return model, result, source, target


def transfer_study(
    ctx: StudyContext,
    *,
    frozen: Sequence[int] | None = None,
    tasks: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Target accuracy after fine-tuning with the first k blocks frozen, for every k (cached).

    For every seed of :func:`~helpers.training.profiles.study_settings` (``'transfer'``): a source
    model trained on the source classes (``tasks``, default
    :func:`~helpers.training.transfer.default_tasks`), then for every number of training clips per
    target class in ``shots`` (None: all) and every k in ``frozen`` (default 0..num_blocks) a
    fine-tuned copy (:func:`~helpers.training.transfer.fine_tune`), and the same network trained
    from scratch. Every run gets the same number of optimiser steps. Each run is cached on its own,
    so an interrupted study resumes.

    Returns
    -------
    A DataFrame with the columns ``seed``, ``shots`` (clips per class; 0 for all), ``start``
    (``'source'`` or ``'scratch'``), ``frozen`` (k; -1 for scratch), ``accuracy`` (top-1 on the
    target's test clips), ``train_accuracy`` (last epoch), ``epochs``, ``seconds``.
    """
    prof = ctx.profile
    sets = study_settings(prof, "transfer")
    cache = ctx.cache
    rows = []
    sources = {
        int(seed): transfer_source_model(ctx, tasks=tasks, seed=int(seed)) for seed in sets["seeds"]
    }
    grid = []
    for seed, (model, *_) in sources.items():
        ks = range(model.num_blocks + 1) if frozen is None else frozen
        for shots in sets["shots"]:
            for k in [None, *ks]:
                grid.append((seed, shots, None if k is None else int(k)))
    for seed, shots, k in tqdm(grid, desc="transfer runs", disable=not ctx.progress):
        model, _, _, target = sources[seed]
        t_ds = few_shot(target, shots, random_state=seed)
        cfg = _fine_tune_config(prof, len(t_ds.train()), int(sets["steps"]))
        key = transfer_run_key(model_fingerprint(model), t_ds.fingerprint(), k, cfg.to_dict(), seed)

        def run(model=model, t_ds=t_ds, cfg=cfg, k=k, seed=seed) -> dict:
            start = time.perf_counter()
            tuned, result = fine_tune(model, t_ds, k, cfg, random_state=seed, device=ctx.device)
            return {
                "accuracy": result.test.accuracy,
                "train_accuracy": result.history["train_acc"][-1],
                "epochs": result.epochs_done,
                "seconds": time.perf_counter() - start,
            }

        out = cache.pickle("transfer-runs", key, run)
        rows.append(
            {
                "seed": seed,
                "shots": 0 if shots is None else int(shots),
                "start": "scratch" if k is None else "source",
                "frozen": -1 if k is None else int(k),
                **out,
            }
        )
    return pd.DataFrame(rows)


def transfer_smoothness_study(
    ctx: StudyContext,
    *,
    seeds: Sequence[int] | None = None,
    tasks: Mapping[str, Sequence[str]] | None = None,
    window: int | float | None = 0.1,
    k: int = 10,
) -> pd.DataFrame:
    """Per-layer label smoothness of the source models on the *target* classes (cached).

    The layer geometry of chapter 4 (:func:`~helpers.geometry.layer_tables.layer_geometry`, overall
    rows) of every target clip's features, for each source model of :func:`transfer_study`: how well
    each layer, trained on other classes, already separates the target classes. Columns ``seed``,
    ``layer``, ``graph``, ``metric``, ``value``.
    """
    prof, ds = ctx.profile, ctx.dataset
    sets = study_settings(prof, "transfer")
    seeds = sets["seeds"] if seeds is None else seeds
    tasks = default_tasks(ds) if tasks is None else tasks
    key = ctx.study_key(
        "transfer-smoothness",
        settings=sets,
        seeds=[int(s) for s in seeds],
        window=window,
        k=int(k),
        tasks={name: list(v) for name, v in tasks.items()},
    )

    def compute() -> pd.DataFrame:
        parts = []
        for seed in seeds:
            model, _, _, target = transfer_source_model(ctx, tasks=tasks, seed=int(seed))
            feats = layer_features(
                model, target, device=ctx.device, cache_dir=ctx.cache_dir, progress=ctx.progress
            )
            table = overall_geometry(
                feats, target.labels, target.class_names, window, k, ctx.cache_dir
            )
            parts.append(table.assign(seed=int(seed)))
        out = pd.concat(parts, ignore_index=True)
        return out[["seed", "layer", "graph", "metric", "value"]]

    return ctx.cache.pickle("studies", key, compute)
