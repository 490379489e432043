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

import os
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Callable, Mapping, Sequence

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
from .features import layer_features, model_fingerprint
from .geometry import layer_geometry
from .gradcam import DatasetGradCAM, dataset_gradcam
from .gradcam_checks import (
    cascading_randomization,
    compare_models,
    curve_areas,
    deletion_insertion,
)
from .graph import SkeletonGraph
from .knn_dtw import lower_bounds
from .model import STGCN
from .profiles import Profile, get_profile, study_settings
from .scaling import augmented_clips, growth_exponents, hidden_width, scaling_table
from .training import (
    CheckpointError,
    TrainConfig,
    TrainResult,
    dataset_fingerprint,
    evaluate,
    fit,
    load_checkpoint,
    model_inputs,
    save_checkpoint,
)
from .transfer import default_tasks, few_shot, fine_tune, split_tasks

__all__ = [
    "STUDY_VERSION",
    "build_model",
    "get_trained_model",
    "gradcam_checks_study",
    "gradcam_maps",
    "gradcam_smoothness_study",
    "transfer_smoothness_study",
    "transfer_source_model",
    "transfer_study",
    "layer_geometry_study",
    "load_dataset",
    "load_profile_dataset",
    "noise_study",
    "own_model_study",
    "scaling_study",
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


def build_model(profile: str | Profile, dataset: SkeletonDataset, seed: int = 0) -> STGCN:
    """The profile's ST-GCN for ``dataset``, with the initial weights of ``seed``.

    The skeleton graph is the profile's ``layout`` when the dataset has that skeleton (the same
    joints and bones, as HDM05 for the book's profiles), else the dataset's own edges and
    centre (:meth:`helpers.graph.SkeletonGraph.from_dataset`, with the profile's strategy).
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


def load_dataset(
    dataset: str | Path | SkeletonDataset = "hdm05",
    profile: str | Profile = "quick",
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> SkeletonDataset:
    """The dataset a chapter works on, from its ``dataset`` parameter.

    Parameters
    ----------
    dataset : ``'hdm05'`` (the profile's HDM05 clips from ``data_dir``, see
        :func:`load_profile_dataset`), the path of a ``.npz`` written by
        :meth:`helpers.data.dataset.SkeletonDataset.save` (any skeletons: NTU RGB+D, your
        own), or a :class:`~helpers.data.dataset.SkeletonDataset` (returned as it is).
    profile, data_dir, cache_dir, progress : for HDM05.
    """
    if isinstance(dataset, SkeletonDataset):
        return dataset
    if str(dataset).lower() == "hdm05":
        return load_profile_dataset(profile, data_dir, cache_dir, progress)
    path = Path(dataset).expanduser()
    if path.suffix != ".npz":
        raise ValueError(
            f"dataset={str(dataset)!r}: expected 'hdm05' or the path of a .npz file written by "
            "SkeletonDataset.save(path)"
        )
    return SkeletonDataset.load(path)


def _cached_training(
    cache: DiskCache,
    key: dict,
    build: Callable[[], nn.Module],
    train_ds: SkeletonDataset,
    test_ds: SkeletonDataset,
    cfg: TrainConfig,
    *,
    seed: int,
    device: torch.device,
    progress: bool,
    num_threads: int | None,
    profile_name: str,
) -> tuple[nn.Module, TrainResult]:
    """Train ``build()`` with :func:`fit` once per ``key``; later calls load the checkpoint.

    An interrupted training resumes from its ``training-runs`` checkpoint (when the cache can
    store one); an unreadable resume point costs only its epochs. The finished model is kept
    under ``models`` with its test scores, and returned in eval mode on ``device``.
    """
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
        )

    def compute() -> tuple[nn.Module, TrainResult]:
        try:
            model, result = train()
        except CheckpointError as err:
            warnings.warn(f"{err}; training starts from scratch", CacheWarning, stacklevel=4)
            resume.unlink(missing_ok=True)
            model, result = train()
        result.test = evaluate(model, test_ds, cfg, device=device)
        result.extra.update(profile=profile_name, cache_key=config_key(key))
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
    profile: str | Profile = "quick",
    device: str | torch.device = "auto",
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    seed: int = 0,
    progress: bool = True,
    dataset: SkeletonDataset | None = None,
    num_threads: int | None = None,
    label_seed: int | None = None,
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
    label_seed : if given, the training clips' labels are shuffled with this seed before
        training (the label randomisation test of Adebayo et al. 2018): a model that can only
        memorise. Its ``result.test`` is then at chance level by construction.

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
    if label_seed is not None:
        shuffled = np.random.default_rng(int(label_seed)).permutation(train_ds.labels)
        train_ds = replace(train_ds, labels=shuffled)
        key["label_seed"] = int(label_seed)  # absent otherwise: existing keys stay valid
    cache = DiskCache(cache_dir)

    def build() -> nn.Module:
        # the same seed gives the same initial weights
        return build_model(prof, ds, seed)

    return _cached_training(
        cache,
        key,
        build,
        train_ds,
        test_ds,
        cfg,
        seed=seed,
        device=dev,
        progress=progress,
        num_threads=num_threads,
        profile_name=prof.name,
    )


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
    model = build_model(prof, dataset, seed)
    model.train_config = prof.train_config()
    return model.to(resolve_device(device)).eval()


def _study_key(study: str, prof: Profile, ds: SkeletonDataset, **settings) -> dict:
    """The cache key of a study: its name, the profile, the dataset, its settings, the version.

    (Cache keys are canonical JSON with sorted keys, so the order here does not matter.)
    """
    return {
        "study": study,
        "profile": prof.to_dict(),
        "dataset": ds.fingerprint(),
        **settings,
        "version": STUDY_VERSION,
    }


def _overall_geometry(feats, labels, class_names, window, k, cache_dir) -> pd.DataFrame:
    """The overall rows (no per-class ones) of :func:`helpers.geometry.layer_geometry`."""
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
    seeds: Sequence[int] | None = None,
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
    seeds : training seeds of the trained models (``None``: the profile's,
        ``study_settings(profile, 'geometry')['seeds']``).
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
    seeds = study_settings(prof, "geometry")["seeds"] if seeds is None else seeds
    ds = _dataset_for(prof, dataset, data_dir, cache_dir, progress)
    mask = _subset_mask(ds, subset)
    key = _study_key(
        "layer-geometry",
        prof,
        ds,
        seeds=[int(v) for v in seeds],
        untrained=[int(v) for v in untrained_seeds],
        subset=subset,
        window=window,
        k=int(k),
        sigma=sigma,
    )

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
    seeds: Sequence[int] | None = None,
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
    seeds = study_settings(prof, "geometry")["seeds"] if seeds is None else seeds
    ds = _dataset_for(prof, dataset, data_dir, cache_dir, progress)
    clips = ds.subset(_subset_mask(ds, subset))
    key = _study_key(
        "noise",
        prof,
        ds,
        levels=[float(v) for v in levels],
        noise_seeds=[int(v) for v in noise_seeds],
        seeds=[int(v) for v in seeds],
        untrained=[int(v) for v in untrained_seeds],
        subset=subset,
        window=window,
        k=int(k),
    )

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
                table = _overall_geometry(feats, noisy.labels, ds.class_names, window, k, cache_dir)
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
    profile: str | Profile = "quick",
    *,
    seed: int = 0,
    target: str | None = None,
    device: str | torch.device = "auto",
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    dataset: SkeletonDataset | None = None,
    progress: bool = True,
) -> tuple[SkeletonDataset, DatasetGradCAM]:
    """Every clip's Grad-CAM maps, every block, for the profile's trained model (cached).

    ``target``: None (each clip's predicted class) or ``'label'`` (its true class). Returns the
    dataset and its :class:`~helpers.gradcam.DatasetGradCAM` (maps at each block's resolution).
    """
    prof = get_profile(profile)
    ds = _dataset_for(prof, dataset, data_dir, cache_dir, progress)
    model, _ = get_trained_model(
        prof,
        device=device,
        data_dir=data_dir,
        cache_dir=cache_dir,
        seed=seed,
        progress=progress,
        dataset=ds,
    )
    key = {
        "study": "gradcam-maps",
        "model": model_fingerprint(model),
        "dataset": ds.fingerprint(),
        "target": target,
        "version": STUDY_VERSION,
    }

    def compute() -> DatasetGradCAM:
        return dataset_gradcam(model, ds, "all", target, progress=progress)

    return ds, DiskCache(cache_dir).pickle("studies", key, compute)


def gradcam_checks_study(
    profile: str | Profile = "quick",
    *,
    seed: int = 0,
    control_seed: int = 1,
    label_seed: int = 0,
    device: str | torch.device = "auto",
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    dataset: SkeletonDataset | None = None,
    progress: bool = True,
) -> dict[str, pd.DataFrame]:
    """The sanity and faithfulness checks of the trained model's Grad-CAM, per layer (cached).

    On a stratified sample of test clips (:func:`helpers.profiles.study_settings`):

    ``cascading``
        :func:`helpers.gradcam_checks.cascading_randomization`;
    ``labels``
        rank correlation of the maps of the model (``seed``) with those of a model trained on
        shuffled labels (``label_seed``; for the settings' ``permuted_epochs``, with the
        ``permuted_augment`` augmentation, none by default, so that it can memorise) and, as the
        yardstick, with another real model (``control_seed``); column ``other`` names which;
    ``deletion``, ``areas``
        :func:`helpers.gradcam_checks.deletion_insertion` and :func:`curve_areas`;
    ``models``
        one row per model: training accuracy of its last epoch and test accuracy.
    """
    prof = get_profile(profile)
    sets = study_settings(prof, "gradcam")
    ds = _dataset_for(prof, dataset, data_dir, cache_dir, progress)
    common = dict(
        device=device, data_dir=data_dir, cache_dir=cache_dir, progress=progress, dataset=ds
    )
    key = _study_key(
        "gradcam-checks",
        prof,
        ds,
        settings=sets,
        seeds=[int(seed), int(control_seed), int(label_seed)],
    )

    def compute() -> dict[str, pd.DataFrame]:
        model, res = get_trained_model(prof, seed=seed, **common)
        control, res_c = get_trained_model(prof, seed=control_seed, **common)
        permuted_prof = prof
        if sets["permuted_epochs"] is not None:
            permuted_prof = permuted_prof.replace(train_epochs=int(sets["permuted_epochs"]))
        if sets.get("permuted_augment") is not None:
            permuted_prof = permuted_prof.replace(train_augment=dict(sets["permuted_augment"]))
        permuted, res_p = get_trained_model(
            permuted_prof, seed=seed, label_seed=label_seed, **common
        )
        test = ds.subset(ds.split == "test")
        idx = _stratified(test, sets["clips_per_class"], random_state=seed)
        x, lengths = model_inputs(test, model.train_config, index=idx)
        cascading = cascading_randomization(
            model, x, lengths=lengths, random_state=seed, progress=progress
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
            progress=progress,
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

    return DiskCache(cache_dir).pickle("studies", key, compute)


def gradcam_smoothness_study(
    profile: str | Profile = "quick",
    *,
    seed: int = 0,
    window: int | float | None = 0.1,
    k: int = 10,
    device: str | torch.device = "auto",
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    dataset: SkeletonDataset | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Label smoothness of every block's Grad-CAM maps beside that of its features (cached).

    Each clip's map of block ``l`` (T_l x V at the block's resolution, cropped to the clip) is
    a sequence; windowed DTW between them, the kNN and NNK graphs and the smoothness measures
    are those of :func:`helpers.geometry.layer_geometry`, as for the features of chapter 4.
    Returns its overall rows (``layer`` = block, ``graph``, ``metric``, ``value``) with a column
    ``representation``: ``'Grad-CAM map'`` or ``'features'``.
    """
    prof = get_profile(profile)
    ds = _dataset_for(prof, dataset, data_dir, cache_dir, progress)
    key = _study_key("gradcam-smoothness", prof, ds, seed=int(seed), window=window, k=int(k))

    def compute() -> pd.DataFrame:
        _, maps = gradcam_maps(
            prof,
            seed=seed,
            device=device,
            data_dir=data_dir,
            cache_dir=cache_dir,
            dataset=ds,
            progress=progress,
        )
        layers = sorted(maps.maps)
        table = layer_geometry(
            [maps.flattened(layer) for layer in layers],
            ds.labels,
            window=window,
            k=k,
            class_names=ds.class_names,
            cache_dir=cache_dir,
            progress=progress,
        )
        table["layer"] = np.asarray(layers)[table["layer"].to_numpy()]
        feats = layer_geometry_study(
            prof,
            seeds=(seed,),
            untrained_seeds=(),
            window=window,
            k=k,
            device=device,
            data_dir=data_dir,
            cache_dir=cache_dir,
            dataset=ds,
            progress=progress,
        )
        feats = feats[feats.layer >= 1].drop(columns=["model", "seed"])
        out = pd.concat(
            [table.assign(representation="Grad-CAM map"), feats.assign(representation="features")],
            ignore_index=True,
        )
        out = out[out["class"] == ""].drop(columns="class")
        return out[["representation", "layer", "graph", "metric", "value"]].reset_index(drop=True)

    return DiskCache(cache_dir).pickle("studies", key, compute)


# =========================================================================== scaling
def scaling_study(
    profile: str | Profile = "quick",
    *,
    window: int | float | None = 0.1,
    k: int = 10,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    dataset: SkeletonDataset | None = None,
    progress: bool = True,
) -> dict[str, pd.DataFrame]:
    """How all pairs, exact kNN and approximate kNN scale with N, on augmented clips (cached).

    The profile's dataset, centred on the first frame's root and divided by the skeleton
    height, gives N sequences by :func:`helpers.scaling.augmented_clips`, at the input's
    width and through :func:`helpers.scaling.hidden_width` at a hidden layer's (``hidden_
    channels`` x joints); sizes come from ``study_settings(profile, 'scaling')``. The timings
    are those of the machine that filled the cache, measured when it did.

    Returns
    -------
    ``{'timings': scaling_table rows of both widths, 'exponents': growth_exponents,
    'bounds': per random pair of input sequences the lower bounds and the DTW cost
    (:func:`helpers.knn_dtw.lower_bounds`), 'machine': one row (cores, date)}``.
    """
    prof = get_profile(profile)
    ds = _dataset_for(prof, dataset, data_dir, cache_dir, progress)
    settings = study_settings(prof, "scaling")
    key = _study_key("scaling", prof, ds, window=window, k=int(k), **settings)

    def compute() -> dict[str, pd.DataFrame]:
        norm = ds.normalized(center="first", scale="height")
        sizes, hidden_sizes = list(settings["sizes"]), list(settings["hidden_sizes"])
        X = augmented_clips(norm, max(sizes + hidden_sizes), random_state=0)
        width = int(settings["hidden_channels"]) * ds.num_joints
        parts = [
            scaling_table(
                X,
                sizes,
                k=k,
                window=window,
                all_pairs_max=settings["all_pairs_max"],
                label=f"input (D={X[0].shape[1]})",
                progress=progress,
            )
        ]
        if hidden_sizes:
            H = hidden_width(X[: max(hidden_sizes)], width, random_state=0)
            parts.append(
                scaling_table(
                    H,
                    hidden_sizes,
                    k=k,
                    window=window,
                    all_pairs_max=settings["all_pairs_max"],
                    label=f"hidden (D={width})",
                    progress=progress,
                )
            )
        timings = pd.concat(parts, ignore_index=True)
        rng = np.random.default_rng(1)
        n = min(len(X), max(sizes))
        pairs = rng.integers(0, n, (int(settings["bound_pairs"]), 2))
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        bounds = pd.DataFrame(lower_bounds(X, pairs, window))
        machine = pd.DataFrame(
            [{"cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d"), "k": int(k)}]
        )
        return {
            "timings": timings,
            "exponents": growth_exponents(timings),
            "bounds": bounds,
            "machine": machine,
        }

    return DiskCache(cache_dir).pickle("studies", key, compute)


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
    profile: str | Profile = "quick",
    *,
    seed: int = 0,
    device: str | torch.device = "auto",
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    dataset: SkeletonDataset | None = None,
    progress: bool = True,
    tasks: Mapping[str, Sequence[str]] | None = None,
) -> tuple[nn.Module, TrainResult, SkeletonDataset, SkeletonDataset]:
    """The source-task model of the transfer study, and the (source, target) datasets.

    ``tasks``: ``{'source': class names, 'target': class names}`` (default
    :func:`helpers.transfer.default_tasks`: :data:`helpers.transfer.HDM05_TASKS` for HDM05).
    """
    prof = get_profile(profile)
    sets = study_settings(prof, "transfer")
    ds = _dataset_for(prof, dataset, data_dir, cache_dir, progress)
    tasks = default_tasks(ds) if tasks is None else tasks
    source, target = split_tasks(ds, tasks["source"], tasks["target"])
    src_prof = prof
    if sets["source_epochs"] is not None:
        src_prof = prof.replace(train_epochs=int(sets["source_epochs"]))
    model, result = get_trained_model(
        src_prof,
        device=device,
        data_dir=data_dir,
        cache_dir=cache_dir,
        seed=seed,
        progress=progress,
        dataset=source,
    )
    return model, result, source, target


def transfer_study(
    profile: str | Profile = "quick",
    *,
    frozen: Sequence[int] | None = None,
    tasks: Mapping[str, Sequence[str]] | None = None,
    device: str | torch.device = "auto",
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    dataset: SkeletonDataset | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Target accuracy after fine-tuning with the first k blocks frozen, for every k (cached).

    For every seed of :func:`helpers.profiles.study_settings` (``'transfer'``): a source model
    trained on the source classes (``tasks``, default :func:`helpers.transfer.default_tasks`),
    then for every number of training clips per target class in ``shots`` (None: all) and
    every k in ``frozen`` (default 0..num_blocks) a fine-tuned copy
    (:func:`helpers.transfer.fine_tune`), and the same network trained from scratch. Every run
    gets the same number of optimiser steps. Each run is cached on its own, so an interrupted
    study resumes.

    Returns
    -------
    A DataFrame with the columns ``seed``, ``shots`` (clips per class; 0 for all), ``start``
    (``'source'`` or ``'scratch'``), ``frozen`` (k; -1 for scratch), ``accuracy`` (top-1 on the
    target's test clips), ``train_accuracy`` (last epoch), ``epochs``, ``seconds``.
    """
    prof = get_profile(profile)
    sets = study_settings(prof, "transfer")
    ds = _dataset_for(prof, dataset, data_dir, cache_dir, progress)
    cache = DiskCache(cache_dir)
    rows = []
    sources = {
        int(seed): transfer_source_model(
            prof,
            tasks=tasks,
            seed=int(seed),
            device=device,
            data_dir=data_dir,
            cache_dir=cache_dir,
            dataset=ds,
            progress=progress,
        )
        for seed in sets["seeds"]
    }
    grid = []
    for seed, (model, *_) in sources.items():
        ks = range(model.num_blocks + 1) if frozen is None else frozen
        for shots in sets["shots"]:
            for k in [None, *ks]:
                grid.append((seed, shots, None if k is None else int(k)))
    for seed, shots, k in tqdm(grid, desc="transfer runs", disable=not progress):
        model, _, _, target = sources[seed]
        t_ds = few_shot(target, shots, random_state=seed)
        cfg = _fine_tune_config(prof, len(t_ds.train()), int(sets["steps"]))
        key = {
            "study": "transfer-run",
            "source": model_fingerprint(model),
            "target": t_ds.fingerprint(),
            "frozen": k,
            "config": cfg.to_dict(),
            "seed": seed,
            "version": STUDY_VERSION,
        }

        def run(model=model, t_ds=t_ds, cfg=cfg, k=k, seed=seed) -> dict:
            start = time.perf_counter()
            tuned, result = fine_tune(model, t_ds, k, cfg, random_state=seed, device=device)
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
    profile: str | Profile = "quick",
    *,
    seeds: Sequence[int] | None = None,
    tasks: Mapping[str, Sequence[str]] | None = None,
    window: int | float | None = 0.1,
    k: int = 10,
    device: str | torch.device = "auto",
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    dataset: SkeletonDataset | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Per-layer label smoothness of the source models on the *target* classes (cached).

    The layer geometry of chapter 4 (:func:`helpers.geometry.layer_geometry`, overall rows) of
    every target clip's features, for each source model of :func:`transfer_study`: how well
    each layer, trained on other classes, already separates the target classes. Columns
    ``seed``, ``layer``, ``graph``, ``metric``, ``value``.
    """
    prof = get_profile(profile)
    sets = study_settings(prof, "transfer")
    seeds = sets["seeds"] if seeds is None else seeds
    ds = _dataset_for(prof, dataset, data_dir, cache_dir, progress)
    key = _study_key(
        "transfer-smoothness",
        prof,
        ds,
        settings=sets,
        seeds=[int(s) for s in seeds],
        window=window,
        k=int(k),
    )

    if tasks is not None:  # absent for the default split: its cached results stay valid
        key["tasks"] = {name: list(v) for name, v in tasks.items()}

    def compute() -> pd.DataFrame:
        parts = []
        for seed in seeds:
            model, _, _, target = transfer_source_model(
                prof,
                tasks=tasks,
                seed=int(seed),
                device=device,
                data_dir=data_dir,
                cache_dir=cache_dir,
                dataset=ds,
                progress=progress,
            )
            feats = layer_features(
                model, target, device=device, cache_dir=cache_dir, progress=progress
            )
            table = _overall_geometry(
                feats, target.labels, target.class_names, window, k, cache_dir
            )
            parts.append(table.assign(seed=int(seed)))
        out = pd.concat(parts, ignore_index=True)
        return out[["seed", "layer", "graph", "metric", "value"]]

    return DiskCache(cache_dir).pickle("studies", key, compute)


# =========================================================================== your own model
def own_model_study(
    profile: str | Profile = "quick",
    *,
    dataset: str | Path | SkeletonDataset = "hdm05",
    data_dir: str | Path | None = None,
    device: str | torch.device = "auto",
    cache_dir: str | Path | None = None,
    progress: bool = True,
    seed: int = 0,
    epochs: int | None = 30,
    window: int | float | None = 0.1,
    k: int = 10,
    compare: bool | None = None,
    num_threads: int | None = 1,
) -> dict:
    """The book's layer geometry and Grad-CAM on a network that is not ST-GCN (cached).

    A :class:`helpers.example_models.CompactGCN` (4 blocks) is trained with
    :func:`helpers.training.fit` on the profile's split and input pipeline (its training
    configuration, with ``epochs`` epochs), wrapped in a :class:`helpers.block_model.
    BlockwiseModel`, and measured as chapters 4 and 6 measure the ST-GCN: every layer's features
    (:func:`helpers.features.layer_features`), their label smoothness
    (:func:`helpers.geometry.layer_geometry`) and every block's Grad-CAM maps
    (:func:`helpers.gradcam.dataset_gradcam`, each clip's predicted class).

    Parameters
    ----------
    profile : the profile whose split, training configuration and data are used.
    dataset : ``'hdm05'``, a ``.npz`` path or a dataset (:func:`load_dataset`).
    data_dir, device, cache_dir, progress : as in :func:`get_trained_model`.
    seed : seeds the CompactGCN's initial weights and training, and names the ST-GCN compared.
    epochs : training epochs of the CompactGCN (None: the profile's).
    window, k : the DTW band and the neighbourhood size (chapter 4's defaults).
    compare : add the profile's ST-GCN (``seed``) for comparison: None (default) only when that
        model is already in the cache (then it costs little: its features and DTW matrices are
        cached with it; chapter 4's study is reused when it is cached too), True always
        (trains it if needed), False never.
    num_threads : CPU threads torch may use for the CompactGCN (training, features, Grad-CAM;
        not part of the cache key; None: torch's setting). The network is small: one thread is
        about as fast as two on an idle machine and many times faster on a busy one.

    Returns
    -------
    A dict: ``network`` (the trained CompactGCN, eval mode), ``model`` (it wrapped in a
    BlockwiseModel), ``result`` (its :class:`~helpers.training.TrainResult`), ``test_accuracy``
    (top-1 on the held-out clips), ``layers`` (per layer: block name, channels, stride, total
    stride, numbers per step), ``geometry`` (:func:`helpers.geometry.layer_geometry` rows of the
    CompactGCN), ``gradcam`` (per block: mean share of a map in its 5 top joints and its top
    20% of frames, share of all-zero maps, mean correlation between the classes' joint
    importance), ``stgcn_geometry`` and ``stgcn_accuracy`` (the ST-GCN's rows, layer_geometry's
    columns; None when not compared) and ``comparison`` (overall rows of both, with the columns
    ``model``, ``layer``, ``depth`` = layer / number of blocks, ``graph``, ``metric``,
    ``value``).
    """
    from .block_model import BlockwiseModel
    from .example_models import CompactGCN
    from .gradcam import class_average, concentration, contrastivity
    from .training import _torch_threads

    prof = get_profile(profile)
    ds = load_dataset(dataset, prof, data_dir, cache_dir, progress)
    train_ds, test_ds = split_dataset(ds, prof.data.get("split", "cross-subject"))
    cfg = prof.train_config()
    if epochs is not None:
        cfg = replace(cfg, epochs=int(epochs), warmup_epochs=min(cfg.warmup_epochs, int(epochs)))
    dev = resolve_device(device)
    cache = DiskCache(cache_dir)

    def build() -> CompactGCN:
        return CompactGCN.from_dataset(ds, random_state=int(seed))

    key = {
        "study": "own-model",
        "network": "CompactGCN",
        "model_config": build().config,
        "train": cfg.to_dict(),
        "dataset": dataset_fingerprint(ds),
        "seed": int(seed),
        "version": STUDY_VERSION,
    }
    net, result = _cached_training(
        cache,
        key,
        build,
        train_ds,
        test_ds,
        cfg,
        seed=seed,
        device=dev,
        progress=progress,
        num_threads=num_threads,
        profile_name=prof.name,
    )
    # the blocks' strides and channels, measured on zeros (T a multiple of the total stride)
    total = int(np.prod(net.strides))
    probe = torch.zeros(1, ds.num_channels, 16 * total, ds.num_joints, ds.num_bodies)
    model = BlockwiseModel(net, net.blocks, example_input=probe)

    def tables() -> dict[str, pd.DataFrame]:
        with _torch_threads(num_threads):
            return measure()

    def measure() -> dict[str, pd.DataFrame]:
        feats = layer_features(model, ds, device=dev, cache_dir=cache_dir, progress=progress)
        geometry = layer_geometry(
            feats,
            ds.labels,
            window=window,
            k=int(k),
            class_names=ds.class_names,
            cache_dir=cache_dir,
            progress=progress,
        )
        cams = dataset_gradcam(model, ds, "all", progress=progress)
        off = ~np.eye(ds.num_classes, dtype=bool)

        def mean(values: np.ndarray) -> float:  # NaN, without a warning, when all are NaN
            return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")

        rows = []
        for layer in sorted(cams.maps):
            joints, frames = concentration(cams.maps[layer])
            per_class = class_average(cams.importance(layer), ds.labels, ds.num_classes)
            rows.append(
                {
                    "layer": layer,
                    "top5_joint_share": mean(joints),
                    "top20_frame_share": mean(frames),
                    "zero_maps": float(np.isnan(joints).mean()),
                    "class_correlation": mean(contrastivity(per_class)[off]),
                }
            )
        strides = np.cumprod([1, *model.strides])
        layers = pd.DataFrame(
            {
                "layer": range(model.num_blocks + 1),
                "block": ["input", *model.block_names],
                "channels": [ds.num_channels, *model.channels],
                "stride": [1, *model.strides],
                "total_stride": strides,
                "numbers_per_step": [f[0].shape[1] for f in feats],
            }
        )
        return {"layers": layers, "geometry": geometry, "gradcam": pd.DataFrame(rows)}

    table_key = {
        "study": "own-model-tables",
        "model": model_fingerprint(model),
        "dataset": ds.fingerprint(),
        "window": window,
        "k": int(k),
        "version": STUDY_VERSION,
    }
    out = dict(DiskCache(cache_dir).pickle("studies", table_key, tables))

    # the profile's ST-GCN: cheap when get_trained_model has it cached (this is its key)
    stgcn_key = {"profile": prof.to_dict(), "dataset": dataset_fingerprint(ds), "seed": int(seed)}
    if compare is None:
        compare = cache.path("models", stgcn_key, ".pt").exists()
    stgcn_rows = stgcn_acc = None
    if compare:
        common = dict(
            device=device, data_dir=data_dir, cache_dir=cache_dir, dataset=ds, progress=progress
        )
        # chapter 4's study (the profile's seeds and the untrained baseline), if it is cached
        seeds = [int(v) for v in study_settings(prof, "geometry")["seeds"]]
        chapter4 = _study_key(
            "layer-geometry",
            prof,
            ds,
            seeds=seeds,
            untrained=[0],
            subset="all",
            window=window,
            k=int(k),
            sigma="mean_kth",
        )
        if int(seed) in seeds and cache.path("studies", chapter4, ".pkl").exists():
            study = layer_geometry_study(prof, seeds=seeds, window=window, k=int(k), **common)
        else:
            study = layer_geometry_study(
                prof, seeds=(int(seed),), untrained_seeds=(), window=window, k=int(k), **common
            )
        stgcn_rows = study[(study.model == "trained") & (study.seed == int(seed))]
        stgcn_rows = stgcn_rows.drop(columns=["model", "seed"]).reset_index(drop=True)
        _, stgcn_result = get_trained_model(prof, seed=int(seed), **common)
        stgcn_acc = float(stgcn_result.test.accuracy)

    def overall(table: pd.DataFrame, name: str) -> pd.DataFrame:
        rows = table[table["class"] == ""].drop(columns="class")
        blocks = int(rows["layer"].max())
        return rows.assign(model=name, depth=rows["layer"] / max(blocks, 1))

    parts = [overall(out["geometry"], "CompactGCN")]
    if stgcn_rows is not None:
        parts.append(overall(stgcn_rows, "ST-GCN"))
    comparison = pd.concat(parts, ignore_index=True)
    front = ["model", "layer", "depth", "graph", "metric", "value"]
    out.update(
        network=net,
        model=model,
        result=result,
        test_accuracy=float(result.test.accuracy),
        stgcn_geometry=stgcn_rows,
        stgcn_accuracy=stgcn_acc,
        comparison=comparison[front + [c for c in comparison.columns if c not in front]],
    )
    return out
