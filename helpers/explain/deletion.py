"""Deletion and insertion over joint x time cells, joints or frames, against strong baselines.

Petsiuk et al. (RISE, 2018): a ranking orders each clip's *units* from most to least important.
**Deletion** removes the top share f of them, for f = 0, 1/steps, ..., 1, and follows the
softmax probability of the target class; **insertion** starts from the clip with every unit
removed and puts the top share back. A faithful ranking makes deletion fall fast (a small area
under its curve) and insertion rise fast (a large area). The units:

``'cell'``
    one joint at one frame, (t, v) for every valid frame t: the map's spatial and temporal
    halves tested together;
``'joint'``
    a joint at every frame (the map averaged over the valid frames);
``'frame'``
    every joint at one frame (the map summed over the joints).

**Removal baseline** (``baseline='mean_pose'``, the default): a removed cell (t, v) takes
joint v's mean position over the clip's valid frames, so the joint keeps its place and loses
its motion there; ``'zero'`` puts it at the origin of the centred skeleton instead (far from
where the joint usually is, a larger and less natural change). Padded frames stay zero.

**Rankings.** Grad-CAM (each block's map brought to the input's frames with
:func:`~helpers.explain.gradcam.upsample_time`, summed over bodies); ``random_orders`` random
orders (their areas averaged per clip); and **motion energy**, each cell's speed (the norm of
the joint's displacement from the previous frame, summed over bodies). Since a removed unit
loses its motion, a ranking by motion is the baseline that matters: a map has to beat it, not
only chance, before its ranking says anything the input's kinematics do not. Ties are broken
at random.

:func:`deletion_areas` returns per-clip areas; :func:`deletion_gains` their paired gains over
each baseline with bootstrap intervals over clips.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from helpers.explain.gradcam import (
    Target,
    gradcam_pass,
    layer_strides,
    resolve_layers,
    upsample_time,
)
from helpers.geometry.bootstrap import percentile_interval
from helpers.nets.validation import check_lengths
from helpers.training.features import valid_lengths

__all__ = [
    "BASELINES",
    "DELETION_UNITS",
    "DeletionResult",
    "deletion_areas",
    "deletion_gains",
    "motion_energy",
    "remove_cells",
    "unit_ranks",
]

#: The units a ranking can order (see the module docstring).
DELETION_UNITS: tuple[str, ...] = ("cell", "joint", "frame")
#: The reference rankings every map is compared with.
BASELINES: tuple[str, ...] = ("random", "motion")


def _checked_lengths(x: np.ndarray, lengths) -> np.ndarray:
    """(N,) valid frames of the batch ``x`` (N, C, T, V, M): ``lengths`` checked, or all T."""
    n, _, t, _, _ = x.shape
    if lengths is None:
        return np.full(n, t, np.int64)
    return check_lengths("lengths", lengths, n, t)


def _as_inputs(x) -> np.ndarray:
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if x.ndim != 5:
        raise ValueError(f"x must be shaped (N, C, T, V, M), got {x.shape}")
    return x.astype(np.float32, copy=False)


def remove_cells(
    x: np.ndarray, lengths: np.ndarray, removed: np.ndarray, baseline: str = "mean_pose"
) -> np.ndarray:
    """``x`` with the ``removed`` (frame, joint) cells of each clip replaced by a baseline.

    Parameters
    ----------
    x : (N, C, T, V, M) model inputs; lengths (N,) valid frames.
    removed : (N, T, V) boolean, the cells to remove (every body); cells beyond a clip's
        valid frames are ignored.
    baseline : ``'mean_pose'`` (the joint's mean position over the clip's valid frames) or
        ``'zero'``.

    Returns
    -------
    A new (N, C, T, V, M) float32 array; padded frames stay zero.
    """
    if baseline not in ("mean_pose", "zero"):
        raise ValueError(f"baseline must be 'mean_pose' or 'zero', got {baseline!r}")
    x = _as_inputs(x)
    L = _checked_lengths(x, lengths)
    n, _, t, v, _ = x.shape
    mask = np.asarray(removed, bool)
    if mask.shape != (n, t, v):
        raise ValueError(f"removed must be (N, T, V) = {(n, t, v)}, got {mask.shape}")
    keep_t = (np.arange(t)[None, :] < L[:, None]).astype(np.float32)  # (N, T)
    if baseline == "zero":
        fill = np.zeros_like(x)
    else:
        mean = (x * keep_t[:, None, :, None, None]).sum(axis=2, keepdims=True)
        mean = mean / L[:, None, None, None, None]
        fill = np.broadcast_to(mean, x.shape) * keep_t[:, None, :, None, None]
    return np.where(mask[:, None, :, :, None], fill, x).astype(np.float32)


def motion_energy(x: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """Each cell's speed: the joint's displacement from the previous frame, summed over bodies.

    Parameters
    ----------
    x : (N, C, T, V, M) model inputs; lengths (N,) valid frames (None: all T).

    Returns
    -------
    (N, T, V) float64: at frame t >= 1 the norm over the coordinates of x[t] - x[t-1], at frame
    0 that of frame 1 (the first frame has no predecessor); zero beyond the valid frames (and
    everywhere for a one-frame clip).
    """
    x = _as_inputs(x).astype(np.float64)
    L = _checked_lengths(x, lengths)
    n, _, t, v, _ = x.shape
    speed = np.zeros((n, t, v))
    if t > 1:
        step = np.sqrt(((x[:, :, 1:] - x[:, :, :-1]) ** 2).sum(axis=1)).sum(axis=-1)  # (N,T-1,V)
        speed[:, 1:] = step
        speed[:, 0] = step[:, 0]
    keep = np.arange(t)[None, :] < L[:, None]
    # the displacement into the first padded frame is not motion
    return np.where(keep[:, :, None] & (L[:, None, None] > 1), speed, 0.0)


def unit_ranks(
    scores: np.ndarray, lengths: np.ndarray, unit: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's rank under the ranking of ``unit`` given by cell ``scores``.

    Parameters
    ----------
    scores : (N, T, V) importance of each cell (higher: more important).
    lengths : (N,) valid frames.
    unit : ``'cell'`` (cells of the valid frames ranked by score), ``'joint'`` (joints by their
        mean score over the valid frames) or ``'frame'`` (valid frames by the sum of their
        scores).
    rng : breaks ties at random.

    Returns
    -------
    ``(ranks, counts)``: (N, T, V) int64, the rank (0 = most important) of the unit each cell
    belongs to, ``counts[i]`` for cells beyond clip i's valid frames; and (N,) the number of
    units of each clip. Removing the top share f removes the cells with rank below
    ``round(f * counts)``.
    """
    if unit not in DELETION_UNITS:
        raise ValueError(f"unit must be one of {DELETION_UNITS}, got {unit!r}")
    s = np.asarray(scores, np.float64)
    if s.ndim != 3:
        raise ValueError(f"scores must be (N, T, V), got shape {s.shape}")
    n, t, v = s.shape
    L = np.asarray(lengths, np.int64).reshape(-1)
    if L.shape != (n,):
        raise ValueError(f"lengths must be ({n},), got {L.shape}")
    ranks = np.empty((n, t, v), np.int64)
    counts = np.empty(n, np.int64)
    for i in range(n):
        valid = s[i, : L[i]]  # (L, V)
        if unit == "cell":
            flat = valid.reshape(-1)
            order = np.lexsort((rng.random(flat.size), -flat))
            rank = np.empty(flat.size, np.int64)
            rank[order] = np.arange(flat.size)
            counts[i] = flat.size
            ranks[i, : L[i]] = rank.reshape(valid.shape)
        elif unit == "joint":
            joint = valid.mean(axis=0)
            order = np.lexsort((rng.random(v), -joint))
            rank = np.empty(v, np.int64)
            rank[order] = np.arange(v)
            counts[i] = v
            ranks[i, : L[i]] = rank[None, :]
        else:
            frame = valid.sum(axis=1)
            order = np.lexsort((rng.random(L[i]), -frame))
            rank = np.empty(L[i], np.int64)
            rank[order] = np.arange(L[i])
            counts[i] = L[i]
            ranks[i, : L[i]] = rank[:, None]
        ranks[i, L[i] :] = counts[i]
    return ranks, counts


@dataclass(frozen=True)
class DeletionResult:
    """What :func:`deletion_areas` measured.

    Attributes
    ----------
    areas : one row per ``ranking`` (``'gradcam'``, ``'random'``, ``'motion'``), ``layer``
        (the block; 0 for the baselines), ``curve`` (``'deletion'``, ``'insertion'``) and
        ``clip`` (0..N-1): ``area`` under the clip's curve (trapezoids over the removed or
        inserted share; the random orders' areas averaged).
    curves : the mean curves: ``ranking``, ``layer``, ``curve``, ``fraction``, ``score`` (mean
        target probability over clips).
    unit, baseline : what was removed, and what it became.
    """

    areas: pd.DataFrame
    curves: pd.DataFrame
    unit: str
    baseline: str


def _probabilities(model, x, lengths, classes, batch_size, natural) -> np.ndarray:
    param = next(model.parameters())
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(x[i : i + batch_size])).to(param.device)
            if natural:
                logits = model(xb, lengths=torch.as_tensor(lengths[i : i + batch_size]))
            else:
                logits = model(xb)
            p = torch.softmax(logits.float(), dim=1).cpu().numpy()
            out.append(p[np.arange(len(p)), classes[i : i + batch_size]])
    return np.concatenate(out)


def deletion_areas(
    model: nn.Module,
    x: np.ndarray | torch.Tensor,
    *,
    lengths: Sequence[int] | np.ndarray | None = None,
    unit: str = "cell",
    layer: int | str | Sequence[int] = "all",
    target: Target = None,
    steps: int = 10,
    baseline: str = "mean_pose",
    random_orders: int = 3,
    batch_size: int = 64,
    random_state: int = 0,
    progress: bool = False,
) -> DeletionResult:
    """Deletion and insertion areas per clip for each block's Grad-CAM and the baselines.

    Parameters
    ----------
    model : a :class:`~helpers.nets.block_model.BlockModel` such as an
        :class:`~helpers.nets.stgcn.STGCN`, in eval mode (not changed).
    x, lengths : (N, C, T, V, M) model inputs and (N,) valid frames (None: all T; natural-length
        models need the lengths).
    unit : ``'cell'``, ``'joint'`` or ``'frame'`` (see the module docstring).
    layer, target : as in :func:`helpers.explain.gradcam.layer_gradcam` (target None: the
        predicted class of the unaltered clip; the same class is followed throughout).
    steps : the curve's points are the shares 0, 1/steps, ..., 1.
    baseline : what a removed cell becomes (:func:`remove_cells`).
    random_orders, random_state : the random orders (and every tie-break).
    batch_size : clips per forward pass.
    progress : a progress bar over rankings.

    Returns
    -------
    :class:`DeletionResult`.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if isinstance(random_orders, bool) or not isinstance(random_orders, (int, np.integer)):
        raise ValueError(f"random_orders must be an integer >= 1, got {random_orders!r}")
    if random_orders < 1:
        raise ValueError(f"random_orders must be an integer >= 1, got {random_orders!r}")
    if unit not in DELETION_UNITS:
        raise ValueError(f"unit must be one of {DELETION_UNITS}, got {unit!r}")
    x = _as_inputs(x)
    natural = lengths is not None
    L = _checked_lengths(x, lengths)
    layers = resolve_layers(model, layer)
    n, _, t, v, _ = x.shape
    maps, _, classes = gradcam_pass(model, x, layers, target, lengths=L if natural else None)
    if classes is None:
        raise ValueError("deletion_areas needs class targets (None, an int or (N,) ints)")
    valid = valid_lengths(model, L)
    strides = layer_strides(model)
    rng = np.random.default_rng(random_state)
    rankings: list[tuple[str, int, np.ndarray, np.ndarray]] = []
    for block in layers:
        cells = upsample_time(maps[block], valid[block], L, strides[block], t).sum(axis=1)
        rankings.append(("gradcam", block, *unit_ranks(cells, L, unit, rng)))
    rankings.append(("motion", 0, *unit_ranks(motion_energy(x, L), L, unit, rng)))
    for _ in range(int(random_orders)):
        rankings.append(("random", 0, *unit_ranks(rng.random((n, t, v)), L, unit, rng)))
    fractions = np.linspace(0.0, 1.0, int(steps) + 1)
    # nothing removed and everything removed are the same for every ranking: computed once
    ends = {
        flag: _probabilities(
            model,
            remove_cells(x, L, np.full((n, t, v), flag), baseline),
            L,
            classes,
            batch_size,
            natural,
        )
        for flag in (False, True)
    }
    per_clip: dict[tuple[str, int, str], list[np.ndarray]] = {}
    for kind, block, ranks, counts in tqdm(rankings, desc="deletion", disable=not progress):
        for curve in ("deletion", "insertion"):
            points = []
            for f in fractions:
                top = ranks < np.round(f * counts)[:, None, None]  # (N, T, V)
                removed = top if curve == "deletion" else ~top
                if f == 0.0 or f == 1.0:
                    everything = (f == 1.0) == (curve == "deletion")
                    points.append(ends[everything])
                else:
                    xm = remove_cells(x, L, removed, baseline)
                    points.append(_probabilities(model, xm, L, classes, batch_size, natural))
            per_clip.setdefault((kind, block, curve), []).append(np.stack(points, axis=1))
    area_rows, curve_rows = [], []
    for (kind, block, curve), parts in per_clip.items():
        scores = np.mean(parts, axis=0)  # (N, F): the random orders' curves averaged
        areas = np.trapezoid(scores, fractions, axis=1)
        area_rows.append(
            pd.DataFrame(
                {"ranking": kind, "layer": block, "curve": curve, "clip": np.arange(n),
                 "area": areas}
            )
        )  # fmt: skip
        curve_rows.append(
            pd.DataFrame(
                {"ranking": kind, "layer": block, "curve": curve, "fraction": fractions,
                 "score": scores.mean(axis=0)}
            )
        )  # fmt: skip
    return DeletionResult(
        areas=pd.concat(area_rows, ignore_index=True),
        curves=pd.concat(curve_rows, ignore_index=True),
        unit=unit,
        baseline=baseline,
    )


def deletion_gains(
    areas: pd.DataFrame, n_boot: int = 1000, random_state: int = 0, level: float = 0.95
) -> pd.DataFrame:
    """Each block's gain over each baseline ranking, with a bootstrap interval over clips.

    The gain is the area between the curves, averaged over clips: for deletion the baseline's
    area minus the map's (positive: removing the map's top units hurts sooner), for insertion
    the map's minus the baseline's. The clips are resampled with replacement, the same
    resamples for every block and baseline (the differences are paired per clip).

    Parameters
    ----------
    areas : :attr:`DeletionResult.areas` (several results may be concatenated with a ``unit``
        column; it is kept).
    n_boot, random_state, level : the bootstrap.

    Returns
    -------
    One row per (``unit``,) ``curve``, ``layer`` and ``against`` (``'random'``, ``'motion'``):
    ``estimate``, ``low``, ``high``, ``level``, ``clips``.
    """
    need = {"ranking", "layer", "curve", "clip", "area"}
    if not need <= set(areas.columns):
        raise ValueError(f"areas must have the columns {sorted(need)}, got {list(areas.columns)}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    groups = ["unit"] if "unit" in areas.columns else []
    rows = []
    for keys, part in areas.groupby(groups + ["curve"], sort=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        wide = part.pivot_table(index="clip", columns=["ranking", "layer"], values="area")
        n = len(wide)
        rng = np.random.default_rng(random_state)
        idx = rng.integers(0, n, size=(int(n_boot), n))
        curve = keys[-1]
        sign = 1.0 if curve == "insertion" else -1.0
        blocks = sorted(b for r, b in wide.columns if r == "gradcam")
        for against in BASELINES:
            if (against, 0) not in wide.columns:
                continue
            ref = wide[(against, 0)].to_numpy()
            for block in blocks:
                diff = sign * (wide[("gradcam", block)].to_numpy() - ref)  # (N,)
                iv = percentile_interval(diff[idx].mean(axis=1), level, float(diff.mean()))
                rows.append(
                    {
                        **dict(zip(groups, keys[:-1])),
                        "curve": curve,
                        "layer": int(block),
                        "against": against,
                        **iv.as_dict(),
                        "clips": n,
                    }
                )
    return pd.DataFrame(rows)
