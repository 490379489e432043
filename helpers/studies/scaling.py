"""The scaling study (chapter 8): neighbour searches without all pairs, timed as N grows."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

from helpers.geometry.knn_search import lower_bounds
from helpers.geometry.scaling import augmented_clips, growth_exponents, hidden_width, scaling_table
from helpers.studies.context import StudyContext
from helpers.training.profiles import study_settings

__all__ = [
    "scaling_study",
]


# =========================================================================== scaling
def scaling_study(
    ctx: StudyContext,
    *,
    window: int | float | None = 0.1,
    k: int = 10,
) -> dict[str, pd.DataFrame]:
    """How all pairs, exact kNN and approximate kNN scale with N, on augmented clips (cached).

    The profile's dataset, centred on the first frame's root and divided by the skeleton
    height, gives N sequences by :func:`helpers.geometry.scaling.augmented_clips`, at the input's
    width and through :func:`helpers.geometry.scaling.hidden_width` at a hidden layer's
    (``hidden_channels`` x joints); sizes come from ``study_settings(profile, 'scaling')``. The
    timings are those of the machine that filled the cache, measured when it did.

    Returns
    -------
    A dict with keys ``'timings'`` (scaling_table rows of both widths), ``'exponents'``
    (growth_exponents), ``'bounds'`` (per random pair of input sequences the lower bounds and the
    DTW cost, :func:`helpers.geometry.knn_search.lower_bounds`) and ``'machine'`` (one row: cores,
    date).
    """
    prof, ds = ctx.profile, ctx.dataset
    settings = study_settings(prof, "scaling")
    key = ctx.study_key("scaling", window=window, k=int(k), **settings)

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
                progress=ctx.progress,
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
                    progress=ctx.progress,
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

    return ctx.cache.pickle("studies", key, compute)
