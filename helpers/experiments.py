"""The book's cached studies: what each chapter needs, computed once per profile.

This module sits on top of the others (data, model, training, distances, graphs): it knows the
named profiles (:mod:`helpers.profiles`) and turns them into artefacts that live in the
content-addressed cache (:class:`helpers.cache.DiskCache`), so that every chapter can run on its
own, in any order, and the first one to need an artefact computes it.

* :func:`load_profile_dataset` loads the dataset a profile trains on (HDM05 at the profile's
  frame rate);
* :func:`split_dataset` cuts it into the profile's training and held-out parts;
* :func:`get_trained_model` trains the profile's ST-GCN on first need and loads it afterwards.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .cache import CacheWarning, DiskCache, config_key
from .data.dataset import SkeletonDataset
from .data.hdm05 import load_hdm05
from .device import resolve_device
from .model import STGCN
from .profiles import Profile, get_profile
from .training import (
    CheckpointError,
    TrainResult,
    dataset_fingerprint,
    evaluate,
    fit,
    load_checkpoint,
    save_checkpoint,
)

__all__ = ["get_trained_model", "load_profile_dataset", "split_dataset"]


def split_dataset(ds: SkeletonDataset, split: str) -> tuple[SkeletonDataset, SkeletonDataset]:
    """The (training, held-out) parts of ``ds`` for a profile's ``split``.

    ``'cross-subject'``: the dataset's own train/test split. ``'validation:<actor>'``: for
    model selection, the training subjects without ``<actor>``, and ``<actor>`` held out; the
    test subjects are never touched.
    """
    if split == "cross-subject":
        return ds.train(), ds.test()
    if split.startswith("validation:"):
        actor = split.split(":", 1)[1]
        tr = ds.train()
        held = np.asarray([str(s) == actor for s in tr.subjects])
        if not held.any():
            raise ValueError(
                f"validation actor {actor!r} is not among the training subjects "
                f"{sorted(set(map(str, tr.subjects)))}"
            )
        return tr.subset(~held), tr.subset(held)
    raise ValueError(f"unknown split {split!r}; use 'cross-subject' or 'validation:<actor>'")


def load_profile_dataset(
    profile: str | Profile = "quick",
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> SkeletonDataset:
    """The dataset ``profile`` trains on: HDM05 from ``data_dir`` at the profile's frame rate."""
    prof = get_profile(profile)
    if prof.data.get("dataset", "hdm05") != "hdm05":
        raise ValueError(
            f"profile {prof.name!r} asks for dataset {prof.data.get('dataset')!r}; "
            "get_trained_model knows only 'hdm05' (pass dataset=..., or use fit())"
        )
    return load_hdm05(
        root=data_dir, fps=float(prof.data.get("fps", 30.0)), cache_dir=cache_dir, progress=progress
    )


def get_trained_model(
    profile: str | Profile = "quick",
    device: str | torch.device = "auto",
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    seed: int = 0,
    progress: bool = True,
    dataset: SkeletonDataset | None = None,
    num_threads: int | None = None,
) -> tuple[nn.Module, TrainResult]:
    """The ST-GCN of ``profile`` trained with ``seed``: trained on first need, cached after.

    Parameters
    ----------
    profile : a profile name (``'quick'``, ``'paper'``) or a :class:`Profile`.
    device : where to train and where the returned model lives (``'auto'``: CUDA if present).
    data_dir, cache_dir : the data folder and the cache (``None``: the settings).
    seed : seeds the initial weights, the data order, augmentation and dropout.
    progress : progress bars while loading and training.
    dataset : use this dataset instead of loading HDM05 (it must carry the split the profile
        names, and its subjects).
    num_threads : CPU threads torch may use while training (see :func:`helpers.training.fit`;
        not part of the cache key).

    Returns
    -------
    ``(model, result)``: the model in eval mode on ``device``; ``result.test`` holds the
    evaluation on the profile's held-out split, ``result.history`` the training curves.

    The cache key is the profile's full configuration (model, training, data split), the
    dataset's fingerprint and the seed. An interrupted training resumes from its last epoch.
    """
    prof = get_profile(profile)
    ds = (
        dataset
        if dataset is not None
        else load_profile_dataset(prof, data_dir, cache_dir, progress)
    )
    train_ds, test_ds = split_dataset(ds, prof.data.get("split", "cross-subject"))
    cfg = prof.train_config()
    dev = resolve_device(device)
    key = {"profile": prof.to_dict(), "dataset": dataset_fingerprint(ds), "seed": int(seed)}
    cache = DiskCache(cache_dir)

    def build() -> nn.Module:
        # the same seed gives the same initial weights
        return STGCN(
            num_classes=ds.num_classes,
            in_channels=ds.num_channels,
            random_state=int(seed),
            **prof.model,
        )

    # An interrupted training resumes from here (nowhere when the cache cannot store it).
    resume = cache.path("training-runs", key, ".pt") if cache.writable else None

    def train() -> tuple[nn.Module, TrainResult]:
        model = build()
        return model, fit(
            model,
            train_ds,
            test_ds,
            cfg,
            random_state=seed,
            device=dev,
            checkpoint=resume,
            progress=progress,
            num_threads=num_threads,
        )

    def compute() -> tuple[nn.Module, TrainResult]:
        try:
            model, result = train()
        except CheckpointError as err:  # an unreadable resume point costs only its epochs
            warnings.warn(f"{err}; training starts from scratch", CacheWarning, stacklevel=3)
            resume.unlink(missing_ok=True)
            model, result = train()
        result.test = evaluate(model, test_ds, cfg, device=dev)
        result.extra.update(profile=prof.name, cache_key=config_key(key))
        return model, result

    def save(value: tuple[nn.Module, TrainResult], tmp: Path) -> None:
        model, result = value
        save_checkpoint(
            tmp,
            model,
            config=result.config,
            history=result.history,
            epoch=result.epochs_done,
            random_state=seed,
            dataset_fingerprint=result.dataset_fingerprint,
            test=result.test,
            extra=result.extra,
        )

    def load(path: Path) -> tuple[nn.Module, TrainResult]:
        return load_checkpoint(path, model=build(), device=dev)

    model, result = cache.get_or_compute("models", key, compute, save, load, ".pt")
    if resume is not None:  # the finished model is cached; its resume point is not needed
        resume.unlink(missing_ok=True)
    return model.to(dev).eval(), result
