"""The book's cached studies: what each chapter needs, computed once per profile.

This module sits on top of the others (data, model, training, distances, graphs): it knows the
named profiles (:mod:`helpers.profiles`) and turns them into artefacts that live in the
content-addressed cache (:class:`helpers.cache.DiskCache`), so that every chapter can run on its
own, in any order, and the first one to need an artefact computes it.

* :func:`load_profile_dataset` loads the dataset a profile trains on (HDM05 at the profile's
  frame rate);
* :func:`split_dataset` cuts it into the profile's training and held-out parts;
* :func:`get_trained_model` trains the profile's ST-GCN on first need and loads it afterwards;
  :func:`untrained_model` is the same network with its initial weights, the baseline;
* :func:`layer_geometry_study` measures the label smoothness of every layer of the trained models
  (several seeds) and of the untrained baseline (chapter 4);
* :func:`noise_study` repeats it, with the test accuracy, on clips with Gaussian joint noise
  (chapter 5).

Every study is cached as a whole (a pickled DataFrame keyed by all its settings), on top of the
cached models, layer features and DTW matrices it is made of.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from .cache import CacheWarning, DiskCache, config_key
from .data.augment import with_joint_noise
from .data.dataset import SkeletonDataset
from .data.hdm05 import load_hdm05
from .device import resolve_device
from .features import layer_features
from .geometry import layer_geometry
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

__all__ = [
    "STUDY_VERSION",
    "get_trained_model",
    "layer_geometry_study",
    "load_profile_dataset",
    "noise_study",
    "split_dataset",
    "untrained_model",
]

#: Bump when a study's results change for the same settings; part of the studies' cache keys.
STUDY_VERSION = 1


def _dataset_for(
    prof: Profile, dataset: SkeletonDataset | None, data_dir, cache_dir, progress: bool
) -> SkeletonDataset:
    """The dataset a caller passed, else the profile's own (:func:`load_profile_dataset`)."""
    if dataset is not None:
        return dataset
    return load_profile_dataset(prof, data_dir, cache_dir, progress)


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
    ds = _dataset_for(prof, dataset, data_dir, cache_dir, progress)
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


def untrained_model(
    profile: str | Profile,
    dataset: SkeletonDataset,
    seed: int = 0,
    device: str | torch.device = "auto",
) -> nn.Module:
    """The profile's ST-GCN with its initial weights (the reference initialisation), in eval mode.

    The baseline of the layer studies: the same architecture, the same input pipeline
    (``model.train_config``), no training. Its batch normalisation layers hold their initial
    statistics (mean 0, variance 1), so they do not rescale anything.
    """
    prof = get_profile(profile)
    model = STGCN(
        num_classes=dataset.num_classes,
        in_channels=dataset.num_channels,
        random_state=int(seed),
        **prof.model,
    )
    model.train_config = prof.train_config()
    return model.to(resolve_device(device)).eval()


def _subset_mask(ds: SkeletonDataset, subset: str) -> np.ndarray:
    if subset == "all":
        return np.ones(len(ds), bool)
    if subset == "test":
        return ds.split == "test"
    raise ValueError(f"subset={subset!r}; expected 'all' (every clip) or 'test' (unseen actors)")


def _models(
    prof: Profile,
    ds: SkeletonDataset,
    seeds: Sequence[int],
    untrained_seeds: Sequence[int],
    device,
    data_dir,
    cache_dir,
    progress,
):
    """(kind, seed, model) for the trained seeds, then the untrained baselines."""
    for seed in seeds:
        model, _ = get_trained_model(
            prof,
            device=device,
            data_dir=data_dir,
            cache_dir=cache_dir,
            seed=int(seed),
            progress=progress,
            dataset=ds,
        )
        yield "trained", int(seed), model
    for seed in untrained_seeds:
        yield "untrained", int(seed), untrained_model(prof, ds, seed, device)


def layer_geometry_study(
    profile: str | Profile = "quick",
    *,
    seeds: Sequence[int] = (0, 1, 2),
    untrained_seeds: Sequence[int] = (0,),
    subset: str = "all",
    window: int | float | None = 0.1,
    k: int = 10,
    sigma: float | str = "mean_kth",
    device: str | torch.device = "auto",
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    dataset: SkeletonDataset | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Per-layer label smoothness of the profile's trained models and of the untrained baseline.

    Parameters
    ----------
    profile : the profile whose models are studied (trained on first need).
    seeds : training seeds of the trained models.
    untrained_seeds : initialisation seeds of the untrained baseline.
    subset : ``'all'`` clips, or ``'test'``: only the unseen test actors.
    window, k, sigma : the DTW band, the neighbourhood size and the kernel bandwidth rule
        (:func:`helpers.geometry.layer_geometry`).
    device, data_dir, cache_dir, dataset, progress : as in :func:`get_trained_model`.

    Returns
    -------
    The rows of :func:`helpers.geometry.layer_geometry` for every model, with the columns
    ``model`` (``'trained'`` or ``'untrained'``) and ``seed`` in front.
    """
    prof = get_profile(profile)
    ds = _dataset_for(prof, dataset, data_dir, cache_dir, progress)
    mask = _subset_mask(ds, subset)
    key = {
        "study": "layer-geometry",
        "profile": prof.to_dict(),
        "dataset": ds.fingerprint(),
        "seeds": [int(v) for v in seeds],
        "untrained": [int(v) for v in untrained_seeds],
        "subset": subset,
        "window": window,
        "k": int(k),
        "sigma": sigma,
        "version": STUDY_VERSION,
    }

    def compute() -> pd.DataFrame:
        parts = []
        for kind, seed, model in _models(
            prof, ds, seeds, untrained_seeds, device, data_dir, cache_dir, progress
        ):
            feats = layer_features(model, ds, device=device, cache_dir=cache_dir, progress=progress)
            table = layer_geometry(
                feats,
                ds.labels,
                window=window,
                k=k,
                subset=mask,
                sigma=sigma,
                class_names=ds.class_names,
                cache_dir=cache_dir,
                progress=progress,
            )
            parts.append(table.assign(model=kind, seed=seed))
        out = pd.concat(parts, ignore_index=True)
        return out[["model", "seed", *[c for c in out.columns if c not in ("model", "seed")]]]

    return DiskCache(cache_dir).pickle("studies", key, compute)


#: Noise levels of :func:`noise_study`: standard deviation as a share of the skeleton's height.
NOISE_LEVELS = (0.0, 0.01, 0.025, 0.05, 0.1, 0.2)


def noise_study(
    profile: str | Profile = "quick",
    *,
    levels: Sequence[float] = NOISE_LEVELS,
    noise_seeds: Sequence[int] = (0, 1),
    seeds: Sequence[int] = (0, 1, 2),
    untrained_seeds: Sequence[int] = (0,),
    subset: str = "test",
    window: int | float | None = 0.1,
    k: int = 10,
    device: str | torch.device = "auto",
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    dataset: SkeletonDataset | None = None,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Test accuracy and per-layer smoothness under Gaussian noise on the input joints.

    Every coordinate of every joint and frame of the ``subset`` clips gets independent noise of
    standard deviation ``level`` times the clip's skeleton height
    (:func:`helpers.data.augment.with_joint_noise`), for each level and noise seed; the trained
    models (``seeds``) are scored and, with the untrained baseline, measured layer by layer
    (:func:`helpers.geometry.layer_geometry`, overall rows only).

    Returns
    -------
    ``(accuracy, smoothness)``: ``accuracy`` has the columns ``level``, ``noise_seed``, ``seed``,
    ``accuracy`` (top-1 of a trained model on the noisy clips); ``smoothness`` has ``level``,
    ``noise_seed``, ``model``, ``seed``, ``layer``, ``graph``, ``metric``, ``value``.
    """
    prof = get_profile(profile)
    ds = _dataset_for(prof, dataset, data_dir, cache_dir, progress)
    clips = ds.subset(_subset_mask(ds, subset))
    key = {
        "study": "noise",
        "profile": prof.to_dict(),
        "dataset": ds.fingerprint(),
        "levels": [float(v) for v in levels],
        "noise_seeds": [int(v) for v in noise_seeds],
        "seeds": [int(v) for v in seeds],
        "untrained": [int(v) for v in untrained_seeds],
        "subset": subset,
        "window": window,
        "k": int(k),
        "version": STUDY_VERSION,
    }

    def compute() -> tuple[pd.DataFrame, pd.DataFrame]:
        models = list(
            _models(prof, ds, seeds, untrained_seeds, device, data_dir, cache_dir, progress)
        )
        acc_rows, parts = [], []
        grid = [(lv, ns) for lv in levels for ns in noise_seeds]
        for level, noise_seed in tqdm(grid, desc="noise levels", disable=not progress):
            noisy = with_joint_noise(clips, float(level), random_state=int(noise_seed))
            for kind, seed, model in models:
                if kind == "trained":
                    ev = evaluate(model, noisy, model.train_config, device=device)
                    acc_rows.append(
                        {
                            "level": float(level),
                            "noise_seed": int(noise_seed),
                            "seed": seed,
                            "accuracy": ev.accuracy,
                        }
                    )
                # noisy features are used once: the DTW matrices are cached, not the features
                feats = layer_features(model, noisy, device=device, cache=False, progress=False)
                table = layer_geometry(
                    feats,
                    noisy.labels,
                    window=window,
                    k=k,
                    class_names=ds.class_names,
                    cache_dir=cache_dir,
                )
                table = table[table["class"] == ""].drop(columns="class")
                parts.append(
                    table.assign(
                        level=float(level), noise_seed=int(noise_seed), model=kind, seed=seed
                    )
                )
        smooth = pd.concat(parts, ignore_index=True)
        front = ["level", "noise_seed", "model", "seed"]
        smooth = smooth[front + [c for c in smooth.columns if c not in front]]
        return pd.DataFrame(acc_rows), smooth

    return DiskCache(cache_dir).pickle("studies", key, compute)
