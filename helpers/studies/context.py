"""One study context: what every study and report function needs besides its own settings.

A chapter makes one at the top, from its ``parameters`` cell, and passes it on:

>>> ctx = StudyContext.create("quick", dataset="hdm05", device="auto")  # doctest: +SKIP
>>> model, result = get_trained_model(ctx, seed=0)  # doctest: +SKIP

It is frozen: a study that needs a variant (another dataset, another profile) makes one with
:meth:`StudyContext.on` or :meth:`StudyContext.with_profile`, and the caller's is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from helpers.data.dataset import SkeletonDataset
from helpers.data.hdm05 import load_hdm05
from helpers.runtime import keys
from helpers.runtime.device import resolve_device
from helpers.runtime.disk_cache import DiskCache
from helpers.training.profiles import Profile, get_profile

__all__ = ["StudyContext", "load_dataset", "load_profile_dataset"]


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
            "only 'hdm05' is loaded by name (pass a SkeletonDataset or the path of a saved one)"
        )
    return load_hdm05(
        root=data_dir, fps=float(prof.data.get("fps", 30.0)), cache_dir=cache_dir, progress=progress
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
        :meth:`helpers.data.SkeletonDataset.save` (any skeletons: NTU RGB+D, your own), or a
        :class:`~helpers.data.SkeletonDataset` (returned as it is).
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
        dataset : ``'hdm05'``, the path of a saved dataset (``.npz``) or a dataset (see
            :func:`load_dataset`).
        device : ``'auto'`` (CUDA when present), ``'cpu'``, ``'cuda'`` or a ``torch.device``.
        data_dir, cache_dir : the data folder and the cache (``None``: the settings).
        progress : progress bars on long steps.
        """
        prof = get_profile(profile)
        ds = load_dataset(dataset, prof, data_dir, cache_dir, progress=progress)
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
        """The same context with another profile (a variant of this one: the dataset is kept)."""
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
