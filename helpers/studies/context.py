"""One study context: what every study and report function needs besides its own settings.

A chapter makes one at the top, from its ``parameters`` cell, and passes it on:

>>> ctx = StudyContext.create("quick", dataset="hdm05", device="auto")  # doctest: +SKIP
>>> model, result = get_trained_model(ctx, seed=0)  # doctest: +SKIP

It is frozen: a study that needs a variant (another dataset, another profile) makes one with
:meth:`StudyContext.on` or :meth:`StudyContext.with_profile`, and the caller's is unchanged.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from helpers.data.canonical import heading_joints
from helpers.data.dataset import SkeletonDataset
from helpers.data.hdm05 import load_hdm05
from helpers.data.utd_mhad import load_utd_mhad
from helpers.runtime import keys
from helpers.runtime.device import resolve_device
from helpers.runtime.disk_cache import DiskCache
from helpers.training.profiles import DATASET_CHANGES, Profile, for_dataset, get_profile

__all__ = ["StudyContext", "load_dataset", "load_profile_dataset"]


def load_profile_dataset(
    profile: str | Profile = "quick",
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> SkeletonDataset:
    """The dataset ``profile`` trains on, from ``data_dir`` at the profile's frame rate.

    The profile's ``data['dataset']`` names it: ``'hdm05'`` (:func:`helpers.data.load_hdm05`) or
    ``'utd-mhad'`` (:func:`helpers.data.load_utd_mhad`; see
    :func:`helpers.training.profiles.for_dataset`).
    """
    prof = get_profile(profile)
    name = prof.data.get("dataset", "hdm05")
    fps = float(prof.data.get("fps", 30.0))
    if name == "hdm05":
        return load_hdm05(root=data_dir, fps=fps, cache_dir=cache_dir, progress=progress)
    if name == "utd-mhad":
        return load_utd_mhad(root=data_dir, fps=fps, progress=progress)
    raise ValueError(
        f"profile {prof.name!r} asks for dataset {name!r}; only {sorted(DATASET_CHANGES)} are "
        "loaded by name (pass a SkeletonDataset or the path of a saved one)"
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
    dataset : ``'hdm05'`` or ``'utd-mhad'`` (the profile's clips from ``data_dir``, see
        :func:`load_profile_dataset`, with the profile set for that dataset by
        :func:`~helpers.training.profiles.for_dataset`), the path of a ``.npz`` written by
        :meth:`helpers.data.SkeletonDataset.save` (any skeletons: NTU RGB+D, your own), or a
        :class:`~helpers.data.SkeletonDataset` (returned as it is).
    profile, data_dir, cache_dir, progress : for a dataset loaded by name.
    """
    if isinstance(dataset, SkeletonDataset):
        return dataset
    if str(dataset).lower() in DATASET_CHANGES:
        prof = for_dataset(profile, str(dataset).lower())
        return load_profile_dataset(prof, data_dir, cache_dir, progress)
    path = Path(dataset).expanduser()
    if path.suffix != ".npz":
        raise ValueError(
            f"dataset={str(dataset)!r}: expected one of {sorted(DATASET_CHANGES)} or the path of "
            "a .npz file written by SkeletonDataset.save(path)"
        )
    return SkeletonDataset.load(path)


def _heading_for(prof: Profile, ds: SkeletonDataset) -> Profile:
    """``prof``, without its turn to one heading when ``ds`` names no hip or shoulder joints.

    The profiles turn every clip to the heading of its hip (or shoulder) line; a skeleton of
    other data whose joints are not named so has no such line. Its clips then keep their own
    heading, and a warning says so (rather than a profile that cannot train on them).
    """
    if prof.train.get("heading") is None:
        return prof
    hips, shoulders = heading_joints(ds.joint_names or ())
    if hips is not None or shoulders is not None:
        return prof
    warnings.warn(
        f"dataset {ds.name!r} names no left/right hip or shoulder joints, so its clips keep "
        f"their own heading (profile {prof.name!r} with heading=None); name those joints "
        "(joint_names) to turn every clip to one heading",
        stacklevel=3,
    )
    return prof.replace(train_heading=None)


@dataclass(frozen=True)
class StudyContext:
    """The profile, dataset, device, cache and progress setting a chapter's studies share.

    Make one with :meth:`create` (from a chapter's parameters) rather than by hand.

    Attributes
    ----------
    profile : the :class:`~helpers.training.profiles.Profile` (networks and training).
    dataset : the clips every study works on (all of them; studies pick their split).
    device : where networks run (``torch.device``; ``create`` resolves ``'auto'``).
    cache_dir : the artefact cache (``None``: ``$STGCN_CACHE_DIR`` or the default).
    data_dir : the HDM05 folder, for studies that load another profile's clips (``None``: the
        default).
    progress : whether long steps show progress bars.
    """

    profile: Profile
    dataset: SkeletonDataset
    device: torch.device
    cache_dir: Path | None = None
    data_dir: Path | None = None
    progress: bool = True

    @classmethod
    def create(
        cls,
        profile: str | Profile = "quick",
        dataset: str | Path | SkeletonDataset = "hdm05",
        device: str | torch.device = "auto",
        *,
        data_dir: str | Path | None = None,
        cache_dir: str | Path | None = None,
        progress: bool = True,
    ) -> StudyContext:
        """The context of a chapter's parameters: the profile by name, the dataset loaded.

        Parameters
        ----------
        profile : ``'quick'``, ``'paper'`` or a :class:`~helpers.training.profiles.Profile`.
        dataset : ``'hdm05'``, ``'utd-mhad'`` (the profile is then set for it, see
            :func:`~helpers.training.profiles.for_dataset`), the path of a saved dataset
            (``.npz``) or a dataset (see :func:`load_dataset`).
        device : ``'auto'`` (CUDA when present), ``'cpu'``, ``'cuda'`` or a ``torch.device``.
        data_dir, cache_dir : the data folder and the cache (``None``: the settings).
        progress : progress bars on long steps.
        """
        prof = get_profile(profile)
        if isinstance(dataset, str) and dataset.lower() in DATASET_CHANGES:
            prof = for_dataset(prof, dataset.lower())
        ds = load_dataset(dataset, prof, data_dir, cache_dir, progress=progress)
        prof = _heading_for(prof, ds)
        return cls(
            profile=prof,
            dataset=ds,
            device=resolve_device(device),
            cache_dir=None if cache_dir is None else Path(cache_dir),
            data_dir=None if data_dir is None else Path(data_dir),
            progress=bool(progress),
        )

    def __post_init__(self) -> None:
        if not isinstance(self.profile, Profile):
            raise TypeError(
                f"profile: expected a Profile (StudyContext.create takes names), got "
                f"{type(self.profile).__name__}"
            )
        if not isinstance(self.dataset, SkeletonDataset):
            raise TypeError(
                f"dataset: expected a SkeletonDataset (StudyContext.create loads one by name or "
                f"path), got {type(self.dataset).__name__}"
            )
        if not isinstance(self.device, torch.device):
            raise TypeError(
                f"device: expected a torch.device (StudyContext.create resolves 'auto'), got "
                f"{self.device!r}"
            )

    @property
    def cache(self) -> DiskCache:
        """The artefact cache."""
        return DiskCache(self.cache_dir)

    @property
    def dataset_name(self) -> str:
        """The dataset's name as the book writes it (``'HDM05'`` for HDM05)."""
        name = str(self.dataset.name)
        return "HDM05" if name.lower() == "hdm05" else name

    def on(self, dataset: SkeletonDataset) -> StudyContext:
        """The same context on another dataset (a subset, a task split)."""
        return replace(self, dataset=dataset)

    def with_profile(self, profile: str | Profile) -> StudyContext:
        """The same context with another profile (a variant of this one: the dataset is kept).

        A profile given by name is set for this context's dataset (a named one; see
        :func:`~helpers.training.profiles.for_dataset`); a :class:`Profile` is used as it is.
        """
        if isinstance(profile, str):
            named = self.profile.data.get("dataset", "hdm05")
            if named in DATASET_CHANGES:
                return replace(self, profile=for_dataset(profile, named))
        return replace(self, profile=get_profile(profile))

    def model_key(self, seed: int, label_seed: int | None = None) -> dict[str, Any]:
        """The cache key of this profile's ST-GCN trained on this dataset with ``seed``."""
        return keys.model_key(
            self.dataset.fingerprint(),
            seed,
            profile=self.profile.to_dict(),
            label_seed=label_seed,
        )

    def study_key(self, study: str, **settings: Any) -> dict[str, Any]:
        """The cache key of a study of this profile on this dataset, with its ``settings``."""
        return keys.study_key(
            study, self.dataset.fingerprint(), profile=self.profile.to_dict(), **settings
        )

    def __repr__(self) -> str:
        return (
            f"StudyContext(profile={self.profile.name!r}, dataset={self.dataset_name!r} "
            f"({len(self.dataset)} clips), device={str(self.device)!r}, "
            f"cache_dir={None if self.cache_dir is None else str(self.cache_dir)!r})"
        )
