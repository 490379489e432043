"""How sensor noise moves each layer's label smoothness (claim C3; chapter 5).

For each noise model of :mod:`helpers.data.perturb` (i.i.d. Gaussian, noise correlated over
0.2 s, lost joints) and level, every test clip is perturbed with several noise draws; the
trained networks' layers are measured on the clean and on the noisy clips under the same
protocol as :mod:`helpers.studies.separation` (test subjects, neighbours from other subjects
only, DTW radius of at least one step). Per layer:

``delta``
    NNK label variation on noisy clips minus on clean clips (positive: the noise roughens).
``attenuation``
    the late blocks' delta over the input's: below 1 the network damps the noise's effect on
    the class structure, above 1 it amplifies it.
``stability``
    a label-free score: the share of each clip's neighbours (other subjects, ``k``) that stay
    its neighbours under noise (:meth:`helpers.geometry.neighbours.NeighbourSets.overlap`).

Intervals are paired bootstraps over clips within subjects: each resample measures the clean
and the noisy clips on the same resampled clips, averaged over seeds and noise draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from helpers.data.perturb import NOISE_KINDS, with_noise
from helpers.geometry.bootstrap import (
    BOOTSTRAP_MEASURES,
    percentile_interval,
    stratified_resample,
)
from helpers.geometry.layer_tables import layer_distances, layer_radii
from helpers.geometry.neighbours import NeighbourSets
from helpers.studies.context import StudyContext
from helpers.studies.models import get_trained_model
from helpers.studies.separation import LATE
from helpers.training.features import layer_features
from helpers.training.loop import evaluate
from helpers.training.profiles import study_settings

__all__ = ["NOISE_STUDY_LEVELS", "NoiseResult", "noise_robustness_study"]

#: Default levels per noise model: a share of the skeleton height for the two Gaussian models
#: (5% is about 8 cm on an adult, the order of Kinect v1's joint error), the share of joints
#: lost once per clip for ``'dropout'``.
NOISE_STUDY_LEVELS: dict[str, tuple[float, ...]] = {
    "gaussian": (0.05,),
    "correlated": (0.05,),
    "dropout": (0.2,),
}


@dataclass(frozen=True)
class NoiseResult:
    """What :func:`noise_robustness_study` measured.

    Attributes
    ----------
    layers : per ``kind``, ``level``, ``noise_seed``, ``seed`` and ``layer``: ``clean`` and
        ``noisy`` NNK label variation and ``stability``.
    summary : per ``kind``, ``level`` and ``layer``: ``delta`` (mean over seeds and draws) with
        its paired bootstrap interval (``low``, ``high``), for the input and the late blocks,
        and ``stability`` (mean) for every layer.
    attenuation : per ``kind`` and ``level``: ``delta_input``, ``delta_late`` (mean over the
        late blocks) and ``ratio`` (late over input), each with ``*_low`` and ``*_high``.
    accuracy : per ``kind``, ``level``, ``noise_seed``, ``seed``: ``top1`` on the noisy test
        clips, and the clean accuracy at level 0.
    settings : what the study ran with.
    """

    layers: pd.DataFrame
    summary: pd.DataFrame
    attenuation: pd.DataFrame
    accuracy: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)


def noise_robustness_study(
    ctx: StudyContext,
    *,
    kinds: Sequence[str] = NOISE_KINDS,
    levels: Mapping[str, Sequence[float]] | None = None,
    noise_seeds: Sequence[int] = (0, 1, 2),
    seeds: Sequence[int] | None = None,
    k: int = 10,
    fraction: float = 0.1,
    n_boot: int | None = None,
) -> NoiseResult:
    """Per-layer effect of each noise model on label smoothness, with paired intervals (cached).

    Parameters
    ----------
    ctx : the profile, dataset, device and cache.
    kinds : noise models (:data:`helpers.data.perturb.NOISE_KINDS`).
    levels : per kind, the levels (default :data:`NOISE_STUDY_LEVELS`).
    noise_seeds : the noise draws (at least 3 for an interval that covers them).
    seeds : trained networks' seeds (default: the profile's geometry seeds).
    k, fraction : neighbours per clip and the DTW band (as the separation study).
    n_boot : bootstrap resamples (default: half the profile's geometry setting: each resample
        rebuilds ``2 x draws x seeds`` graphs per layer).

    Returns
    -------
    :class:`NoiseResult`.
    """
    sets = study_settings(ctx.profile, "geometry")
    seeds = [int(s) for s in (sets["seeds"] if seeds is None else seeds)]
    n_boot = int(max(1, sets.get("n_boot", 200) // 2) if n_boot is None else n_boot)
    levels = (
        {kind: tuple(NOISE_STUDY_LEVELS[kind]) for kind in kinds}
        if levels is None
        else {kind: tuple(float(v) for v in levels[kind]) for kind in kinds}
    )
    unknown = sorted(set(kinds) - set(NOISE_KINDS))
    if unknown:
        raise ValueError(f"kinds={unknown}: expected some of {NOISE_KINDS}")
    if len(noise_seeds) < 1 or not seeds:
        raise ValueError("noise_seeds and seeds: expected at least one each")
    key = ctx.study_key(
        "noise-robustness",
        kinds=list(kinds),
        levels={kind: list(v) for kind, v in levels.items()},
        noise_seeds=[int(v) for v in noise_seeds],
        seeds=seeds,
        k=int(k),
        fraction=float(fraction),
        n_boot=n_boot,
    )

    def compute() -> NoiseResult:
        return _compute(ctx, list(kinds), levels, list(noise_seeds), seeds, k, fraction, n_boot)

    return ctx.cache.pickle("studies", key, compute)


#: The measure of every delta, as the separation study's bootstrap computes it.
_nnk_lv = BOOTSTRAP_MEASURES["nnk_label_variation"]


def _compute(ctx, kinds, levels, noise_seeds, seeds, k, fraction, n_boot) -> NoiseResult:
    ds = ctx.dataset
    test_mask = ds.split == "test"
    test = ds.subset(test_mask)
    y, subjects = test.labels, np.asarray(test.subjects)
    models = {seed: get_trained_model(ctx, seed)[0] for seed in seeds}
    radii: list[int] | None = None
    clean: dict[int, list[np.ndarray]] = {}
    for seed, model in models.items():
        feats = layer_features(
            model, test, device=ctx.device, cache_dir=ctx.cache_dir, progress=False
        )
        radii = layer_radii(feats, fraction) if radii is None else radii
        clean[seed] = layer_distances(feats, radii, cache_dir=ctx.cache_dir)
    n_layers = len(radii or [])
    late = [layer for layer in LATE if layer < n_layers]
    boot_layers = [0, *late]
    clean_sets = {
        seed: [NeighbourSets.from_matrix(D, k, among=True, exclude=subjects) for D in mats]
        for seed, mats in clean.items()
    }
    clean_lv = {seed: [_nnk_lv(sets, y, k) for sets in per] for seed, per in clean_sets.items()}
    # the paired bootstrap's resamples and its clean side, the same for every noise model
    rng = np.random.default_rng(0)
    resamples = [stratified_resample(subjects, rng) for _ in range(n_boot)]
    clean_boot = {
        seed: np.array(
            [
                [
                    _nnk_lv(
                        NeighbourSets.from_matrix(
                            clean[seed][layer][np.ix_(idx, idx)], k, exclude=subjects[idx]
                        ),
                        y[idx],
                        k,
                    )
                    for layer in boot_layers
                ]
                for idx in resamples
            ]
        )
        for seed in seeds
    }
    rows, acc_rows, summary_rows, att_rows = [], [], [], []
    for seed, model in models.items():
        ev = evaluate(model, test, model.train_config, device=ctx.device)
        acc_rows.append(
            {"kind": "none", "level": 0.0, "noise_seed": -1, "seed": seed, "top1": ev.accuracy}
        )
    grid = [(kind, level) for kind in kinds for level in levels[kind]]
    for kind, level in tqdm(grid, desc="noise", disable=not ctx.progress):
        noisy: dict[tuple[int, int], list[np.ndarray]] = {}
        for noise_seed in noise_seeds:
            perturbed = with_noise(test, kind, level, random_state=int(noise_seed))
            for seed, model in models.items():
                ev = evaluate(model, perturbed, model.train_config, device=ctx.device)
                acc_rows.append(
                    {
                        "kind": kind,
                        "level": level,
                        "noise_seed": int(noise_seed),
                        "seed": seed,
                        "top1": ev.accuracy,
                    }
                )
                # noisy features are used once: not cached (their distances are)
                feats = layer_features(
                    model, perturbed, device=ctx.device, cache=False, progress=False
                )
                mats = layer_distances(feats, radii, cache_dir=ctx.cache_dir)
                noisy[(seed, int(noise_seed))] = mats
                for layer, D in enumerate(mats):
                    sets = NeighbourSets.from_matrix(D, k, among=True, exclude=subjects)
                    rows.append(
                        {
                            "kind": kind,
                            "level": level,
                            "noise_seed": int(noise_seed),
                            "seed": seed,
                            "layer": layer,
                            "clean": clean_lv[seed][layer],
                            "noisy": _nnk_lv(sets, y, k),
                            "stability": float(sets.overlap(clean_sets[seed][layer]).mean()),
                        }
                    )
        # paired bootstrap: the same resampled clips, clean and noisy, every seed and draw
        deltas = np.empty((n_boot, len(boot_layers)))
        for b, idx in enumerate(resamples):
            yb, groups = y[idx], subjects[idx]
            for c, layer in enumerate(boot_layers):
                diffs = []
                for seed in seeds:
                    for noise_seed in noise_seeds:
                        D = noisy[(seed, int(noise_seed))][layer][np.ix_(idx, idx)]
                        sets = NeighbourSets.from_matrix(D, k, exclude=groups)
                        diffs.append(_nnk_lv(sets, yb, k) - clean_boot[seed][b, c])
                deltas[b, c] = float(np.mean(diffs))
        part = pd.DataFrame([r for r in rows if r["kind"] == kind and r["level"] == level])
        mean = part.groupby("layer")[["clean", "noisy", "stability"]].mean()
        delta = (mean.noisy - mean.clean).to_numpy()
        for layer in range(n_layers):
            row = {
                "kind": kind,
                "level": level,
                "layer": layer,
                "clean": float(mean.clean[layer]),
                "noisy": float(mean.noisy[layer]),
                "delta": float(delta[layer]),
                "low": np.nan,
                "high": np.nan,
                "stability": float(mean.stability[layer]),
            }
            if layer in boot_layers:
                iv = percentile_interval(
                    deltas[:, boot_layers.index(layer)], estimate=float(delta[layer])
                )
                row["low"], row["high"] = iv.low, iv.high
            summary_rows.append(row)
        late_samples = deltas[:, 1:].mean(axis=1) if late else np.full(n_boot, np.nan)
        d_in = percentile_interval(deltas[:, 0], estimate=float(delta[0]))
        d_late = percentile_interval(late_samples, estimate=float(np.mean(delta[late])))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio_samples = late_samples / deltas[:, 0]
        ratio = percentile_interval(
            ratio_samples,
            estimate=float(np.mean(delta[late]) / delta[0]) if delta[0] != 0 else np.nan,
        )
        att_rows.append(
            {
                "kind": kind,
                "level": level,
                "delta_input": d_in.estimate,
                "delta_input_low": d_in.low,
                "delta_input_high": d_in.high,
                "delta_late": d_late.estimate,
                "delta_late_low": d_late.low,
                "delta_late_high": d_late.high,
                "ratio": ratio.estimate,
                "ratio_low": ratio.low,
                "ratio_high": ratio.high,
                "stability_input": float(mean.stability[0]),
                "stability_late": float(mean.stability[late].mean()) if late else np.nan,
            }
        )
    return NoiseResult(
        layers=pd.DataFrame(rows),
        summary=pd.DataFrame(summary_rows),
        attenuation=pd.DataFrame(att_rows),
        accuracy=pd.DataFrame(acc_rows),
        settings={
            "kinds": kinds,
            "levels": levels,
            "noise_seeds": list(noise_seeds),
            "seeds": seeds,
            "k": k,
            "fraction": fraction,
            "n_boot": n_boot,
            "radii": list(radii or []),
            "test_clips": int(test_mask.sum()),
        },
    )
