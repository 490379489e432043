"""The datasets and networks every study starts from.

The chapter's dataset, the profile's split, the profile's ST-GCN trained once and cached
(:func:`get_trained_model`), and the same network untrained (the baseline of every layer study).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
from torch import nn

from helpers.data.dataset import SkeletonDataset
from helpers.nets.skeleton_graph import SkeletonGraph
from helpers.nets.stgcn import STGCN
from helpers.runtime.disk_cache import CacheWarning, config_key
from helpers.studies.context import StudyContext
from helpers.training.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from helpers.training.config import TrainConfig, TrainResult
from helpers.training.loop import evaluate, fit
from helpers.training.profiles import Profile, get_profile

__all__ = [
    "build_model",
    "cached_training",
    "get_trained_model",
    "shuffle_labels",
    "split_dataset",
    "trained_and_untrained",
    "untrained_model",
]


#: The held-out clips are scored after every 5th epoch (and the last) while a network trains:
#: enough points for chapter 2's curve, and a pass over them costs about a tenth of an epoch,
#: which after every epoch was 8% of a quick network's training time. Monitoring only.
MONITOR_EVERY = 5
#: A resumable checkpoint is written at most every 10 s while a network trains: an interrupted
#: build loses at most 10 s of training, and a quick network no longer spends 5% of its time
#: writing one after each of its (sub-second) epochs.
CHECKPOINT_SECONDS = 10.0


def split_dataset(ds: SkeletonDataset, split: str) -> tuple[SkeletonDataset, SkeletonDataset]:
    """The (training, held-out) parts of ``ds`` for a profile's ``split``.

    ``'cross-subject'``: the dataset's own train/test split. ``'validation:<actor>'``: for
    model selection, the training subjects without ``<actor>``, and ``<actor>`` held out; the
    test subjects are never touched.
    """
    if split == "cross-subject":
        return ds.train(), ds.test()
    if split.startswith("validation:"):
        return ds.hold_out(split.split(":", 1)[1])
    raise ValueError(f"unknown split {split!r}; use 'cross-subject' or 'validation:<actor>'")


def shuffle_labels(ds: SkeletonDataset, label_seed: int) -> SkeletonDataset:
    """``ds`` with its labels permuted by ``label_seed``: what a label-randomised network fits.

    The permutation :func:`get_trained_model` applies to the training clips with ``label_seed``,
    so that a caller can score such a network on the labels it was trained on.
    """
    return replace(ds, labels=np.random.default_rng(int(label_seed)).permutation(ds.labels))


def build_model(profile: str | Profile, dataset: SkeletonDataset, seed: int = 0) -> STGCN:
    """The profile's ST-GCN for ``dataset``, with the initial weights of ``seed``.

    The skeleton graph is the profile's ``layout`` when the dataset has that skeleton (the same
    joints and bones, as HDM05 for the book's profiles), else the dataset's own edges and
    centre (:meth:`helpers.nets.skeleton_graph.SkeletonGraph.from_dataset`, with the profile's
    strategy).
    """
    prof = get_profile(profile)
    kwargs = dict(prof.model)
    layout = kwargs.get("layout")
    if isinstance(layout, str):
        strategy = kwargs.get("strategy", "spatial")
        ref = SkeletonGraph.from_layout(layout, strategy=strategy)
        bones = {tuple(sorted(map(int, e))) for e in np.asarray(dataset.edges).reshape(-1, 2)}
        if ref.num_nodes != dataset.num_joints or bones != {
            tuple(sorted(map(int, e))) for e in ref.edges
        }:
            kwargs["layout"] = SkeletonGraph.from_dataset(
                dataset, strategy=strategy, max_hop=int(kwargs.get("max_hop", 1))
            )
    return STGCN(
        num_classes=dataset.num_classes,
        in_channels=dataset.num_channels,
        random_state=int(seed),
        **kwargs,
    )


def cached_training(
    ctx: StudyContext,
    key: dict,
    build: Callable[[], nn.Module],
    train_ds: SkeletonDataset,
    test_ds: SkeletonDataset,
    cfg: TrainConfig,
    *,
    seed: int,
    num_threads: int | None = None,
) -> tuple[nn.Module, TrainResult]:
    """Train ``build()`` with :func:`fit` once per ``key``; later calls load the checkpoint.

    An interrupted training resumes from its ``training-runs`` checkpoint (when the cache can
    store one); an unreadable resume point costs only its epochs. The finished model is kept
    under ``models`` with its test scores, and returned in eval mode on ``ctx.device``. ``key``
    comes from :mod:`helpers.runtime.keys` (:meth:`StudyContext.model_key` for the profile's
    ST-GCN).
    """
    cache, device, progress = ctx.cache, ctx.device, ctx.progress
    resume = cache.path("training-runs", key, ".pt") if cache.writable else None

    def train() -> tuple[nn.Module, TrainResult]:
        model = build()
        return model, fit(
            model,
            train_ds,
            test_ds,
            cfg,
            random_state=int(seed),
            device=device,
            checkpoint=resume,
            progress=progress,
            num_threads=num_threads,
            eval_every=MONITOR_EVERY,
            checkpoint_seconds=CHECKPOINT_SECONDS,
        )

    def compute() -> tuple[nn.Module, TrainResult]:
        try:
            model, result = train()
        except CheckpointError as err:
            warnings.warn(f"{err}; training starts from scratch", CacheWarning, stacklevel=4)
            resume.unlink(missing_ok=True)
            model, result = train()
        result.test = evaluate(model, test_ds, cfg, device=device)
        result.extra.update(profile=ctx.profile.name, cache_key=config_key(key))
        return model, result

    def save(value: tuple[nn.Module, TrainResult], tmp: Path) -> None:
        model, result = value
        save_checkpoint(
            tmp,
            model,
            config=result.config,
            history=result.history,
            epoch=result.epochs_done,
            random_state=int(seed),
            dataset_fingerprint=result.dataset_fingerprint,
            test=result.test,
            extra=result.extra,
        )

    def load(path: Path) -> tuple[nn.Module, TrainResult]:
        return load_checkpoint(path, model=build(), device=device)

    model, result = cache.get_or_compute("models", key, compute, save, load, ".pt")
    if resume is not None:  # the finished model is cached; its resume point is not needed
        resume.unlink(missing_ok=True)
    return model.to(device).eval(), result


def get_trained_model(
    ctx: StudyContext,
    seed: int = 0,
    *,
    num_threads: int | None = None,
    label_seed: int | None = None,
) -> tuple[nn.Module, TrainResult]:
    """The ST-GCN of ``ctx.profile`` trained with ``seed``: trained on first need, cached after.

    Parameters
    ----------
    ctx : the profile, dataset (it must carry the split the profile names, and its subjects),
        device, cache and progress setting.
    seed : seeds the initial weights, the data order, augmentation and dropout.
    num_threads : CPU threads torch may use while training (see :func:`helpers.training.fit`;
        not part of the cache key).
    label_seed : if given, the training clips' labels are shuffled with this seed before
        training (the label randomisation test of Adebayo et al. 2018): a model that can only
        memorise. Its ``result.test`` is then at chance level by construction.

    Returns
    -------
    ``(model, result)``: the model in eval mode on ``ctx.device``; ``result.test`` holds the
    evaluation on the profile's held-out split, ``result.history`` the training curves.

    The cache key (:meth:`StudyContext.model_key`) is the profile's full configuration (model,
    training, data split), the dataset's fingerprint and the seeds. An interrupted training
    resumes from its last epoch.
    """
    prof, ds = ctx.profile, ctx.dataset
    train_ds, test_ds = split_dataset(ds, prof.data.get("split", "cross-subject"))
    if label_seed is not None:
        train_ds = shuffle_labels(train_ds, label_seed)

    def build() -> nn.Module:
        # the same seed gives the same initial weights
        return build_model(prof, ds, seed)

    return cached_training(
        ctx,
        ctx.model_key(int(seed), label_seed),
        build,
        train_ds,
        test_ds,
        prof.train_config(),
        seed=seed,
        num_threads=num_threads,
    )


def untrained_model(ctx: StudyContext, seed: int = 0) -> nn.Module:
    """The profile's ST-GCN with its initial weights (the reference initialisation), in eval mode.

    The baseline of the layer studies: the same architecture, the same input pipeline
    (``model.train_config``), no training. Its batch normalisation layers hold their initial
    statistics (mean 0, variance 1), so they do not rescale anything.
    """
    model = build_model(ctx.profile, ctx.dataset, seed)
    model.train_config = ctx.profile.train_config()
    return model.to(ctx.device).eval()


def trained_and_untrained(
    ctx: StudyContext, seeds: Sequence[int], untrained_seeds: Sequence[int]
) -> Iterator[tuple[str, int, nn.Module]]:
    """(kind, seed, model) for the trained seeds, then the untrained baselines."""
    for seed in seeds:
        model, _ = get_trained_model(ctx, int(seed))
        yield "trained", int(seed), model
    for seed in untrained_seeds:
        yield "untrained", int(seed), untrained_model(ctx, seed)
