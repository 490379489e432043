"""Choosing a profile's settings on held-out training subjects, never on the test subjects.

Every training subject is held out in turn (the profile's ``data['split']`` becomes
``'validation:<subject>'``), a network is trained on the other training subjects with each seed,
and its top-1 accuracy on the held-out subject is recorded. The test subjects are never loaded
into a choice. Networks are cached like every other (:func:`helpers.studies.get_trained_model`).

>>> table = held_out_validation(ctx, seeds=(0,))  # doctest: +SKIP
>>> table.groupby("subject").top1.mean()           # doctest: +SKIP
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from helpers.studies.context import StudyContext
from helpers.studies.models import get_trained_model

__all__ = ["held_out_validation"]


def held_out_validation(
    ctx: StudyContext,
    seeds: Sequence[int] = (0,),
    subjects: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Top-1 accuracy of ``ctx.profile`` on each held-out training subject.

    Parameters
    ----------
    ctx : the profile (with the settings to validate) and the whole dataset.
    seeds : the seeds trained per held-out subject.
    subjects : the training subjects to hold out in turn (default: every training subject).

    Returns
    -------
    One row per (subject, seed): ``subject``, ``seed``, ``top1`` and ``balanced_top1`` on the
    held-out subject's clips, ``clips`` (how many), ``train_seconds`` (when it was trained).
    """
    fps = float(ctx.profile.data.get("fps", float("nan")))
    if np.isfinite(fps) and np.isfinite(ctx.dataset.fps) and fps != float(ctx.dataset.fps):
        raise ValueError(
            f"the profile asks for clips at {fps:g} fps but the dataset holds {ctx.dataset.fps:g} "
            "fps: load the dataset for this profile (StudyContext.create(profile, dataset=...)) "
            "rather than changing the profile of a loaded context"
        )
    train_subjects = sorted({str(s) for s in ctx.dataset.train().subjects})
    chosen = train_subjects if subjects is None else [str(s) for s in subjects]
    unknown = sorted(set(chosen) - set(train_subjects))
    if unknown:
        raise ValueError(
            f"subjects={unknown}: not training subjects of {ctx.dataset_name} "
            f"(training subjects: {train_subjects}); the test subjects are never used for a choice"
        )
    if not seeds:
        raise ValueError("seeds: expected at least one seed")
    rows = []
    for subject in chosen:
        held = ctx.with_profile(ctx.profile.replace(data_split=f"validation:{subject}"))
        for seed in seeds:
            _, result = get_trained_model(held, seed=int(seed))
            rows.append(
                {
                    "subject": subject,
                    "seed": int(seed),
                    "top1": float(result.test.accuracy),
                    "balanced_top1": float(result.test.balanced_accuracy),
                    "clips": int(np.size(result.test.labels)),
                    "train_seconds": float(result.train_seconds),
                }
            )
    return pd.DataFrame(rows)
