"""Is a Grad-CAM explanation real? Sanity and faithfulness checks, layer by layer.

* :func:`map_rank_correlation`: Spearman rank correlation between two sets of maps, per clip;
* :func:`cascading_randomization` (Adebayo et al., *Sanity checks for saliency maps*, NeurIPS
  2018): re-initialise the classifier, then block 10, 9, ... 1, one more at every step, and
  measure how similar each layer's maps stay to the trained model's. Maps that survive the
  randomisation of the weights that produce them explain the input, not the model;
* label randomisation (the same paper) compares the maps of a model trained on permuted labels
  with the real model's, also with :func:`compare_models`;
* :func:`deletion_insertion` (Petsiuk et al., RISE, 2018): remove the joints a layer's map ranks
  highest, a few at a time, and follow the target class's probability; it should fall faster
  than for random joint orders. Insertion starts from a clip with every joint removed and puts
  the highest-ranked joints back first. :func:`curve_areas` turns the curves into areas.

A removed joint keeps its place but loses its motion: every coordinate is replaced by its mean
over the clip's valid frames (``baseline='mean_pose'``), or set to zero (``'zero'``: the origin
of the centred skeleton, far from where the joint usually is).
"""

from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from scipy.stats import rankdata
from torch import nn
from tqdm.auto import tqdm

from helpers.explain.gradcam import Target, gradcam_pass, joint_importance, resolve_layers
from helpers.nets.block_model import require_block_model
from helpers.training.features import valid_lengths

__all__ = [
    "cascading_randomization",
    "compare_models",
    "curve_areas",
    "deletion_insertion",
    "map_rank_correlation",
    "randomize_from",
    "remove_joints",
]


# --------------------------------------------------------------------------- similarity
def _valid_flat(maps: np.ndarray, lengths: np.ndarray | None) -> list[np.ndarray]:
    n, m, t, v = maps.shape
    L = np.full(n, t) if lengths is None else np.asarray(lengths).reshape(-1)
    return [maps[i, :, : int(L[i])].reshape(-1) for i in range(n)]


def map_rank_correlation(
    a: np.ndarray, b: np.ndarray, lengths: Sequence[int] | np.ndarray | None = None
) -> np.ndarray:
    """Spearman rank correlation of two maps of each clip over its valid (body, frame, joint) cells.

    Parameters
    ----------
    a, b : (N, M, T, V) maps of the same clips (e.g. of two models), at the same resolution.
    lengths : (N,) valid frames at that resolution (None: all T).

    Returns
    -------
    (N,) correlations; NaN where either map is constant over the clip (e.g. all zero after the
    ReLU), where a rank correlation is undefined.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.ndim != 4:
        raise ValueError(f"maps must both be (N, M, T, V), got {a.shape} and {b.shape}")
    out = np.full(a.shape[0], np.nan)
    for i, (x, y) in enumerate(zip(_valid_flat(a, lengths), _valid_flat(b, lengths))):
        if np.ptp(x) > 0 and np.ptp(y) > 0:
            out[i] = np.corrcoef(rankdata(x), rankdata(y))[0, 1]
    return out


def _correlation_rows(ref, other, layers, valid, **fields) -> list[dict]:
    rows = []
    for layer in layers:
        r = map_rank_correlation(ref[layer], other[layer], valid[layer])
        rows.append(
            {
                **fields,
                "layer": layer,
                "spearman": float(np.nanmean(r)) if np.isfinite(r).any() else np.nan,
                "spearman_std": float(np.nanstd(r)) if np.isfinite(r).any() else np.nan,
                "constant_maps": float(np.mean(~np.isfinite(r))),
            }
        )
    return rows


def _valid_per_layer(model: nn.Module, lengths: np.ndarray, layers: Sequence[int]) -> dict:
    """``{layer: (N,) valid steps}`` of the requested blocks (gradcam's bookkeeping)."""
    valid = valid_lengths(model, lengths)  # indexed by layer number, the input at 0
    return {layer: valid[layer] for layer in layers}


def _lengths_of(x, lengths) -> np.ndarray:
    if lengths is None:
        return np.full(x.shape[0], x.shape[2], np.int64)
    if isinstance(lengths, torch.Tensor):
        lengths = lengths.detach().cpu().numpy()
    return np.asarray(lengths, np.int64).reshape(-1)


# --------------------------------------------------------------------------- randomisation
def _classifier(model: nn.Module) -> nn.Module:
    """The layer after the blocks: ST-GCN's ``fcn``, or a wrapped model's ``classifier``."""
    for name in ("fcn", "classifier"):
        head = getattr(model, name, None)
        if isinstance(head, nn.Module):
            return head
    raise TypeError(
        f"{type(model).__name__} has no classifier (.fcn or .classifier), which cascading "
        "randomisation re-initialises first; for a wrapped model pass "
        "BlockwiseModel(..., classifier='name of its final layer')"
    )


def randomize_from(model: nn.Module, block: int, random_state: int = 0) -> nn.Module:
    """A copy of ``model`` with the classifier and blocks ``block``..last re-initialised.

    ``block = num_blocks + 1`` re-initialises only the classifier. Re-initialised layers get
    PyTorch's default initialisation (``reset_parameters``; BatchNorm also forgets its running
    statistics) and their edge importance is reset to ones; the blocks below ``block`` and the
    input BatchNorm keep their trained weights.
    """
    require_block_model(model, "randomize_from")
    count = model.num_blocks
    if not 1 <= int(block) <= count + 1:
        raise ValueError(f"block must be in 1..{count + 1}, got {block}")
    out = copy.deepcopy(model)
    gen_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(int(random_state))
        targets: list[nn.Module] = [_classifier(out)] + [
            out.st_gcn_networks[i] for i in range(int(block) - 1, count)
        ]
        for mod in targets:
            for sub in mod.modules():
                if hasattr(sub, "reset_parameters"):
                    sub.reset_parameters()
                if hasattr(sub, "reset_running_stats"):
                    sub.reset_running_stats()
        if getattr(out, "edge_importance", None) is not None:
            with torch.no_grad():
                for i in range(int(block) - 1, count):
                    out.edge_importance[i].fill_(1.0)
    finally:
        torch.random.set_rng_state(gen_state)
    return out.eval()


def cascading_randomization(
    model: nn.Module,
    x: torch.Tensor | np.ndarray,
    *,
    lengths: Sequence[int] | np.ndarray | None = None,
    layer: int | str | Sequence[int] = "all",
    target: Target = None,
    random_state: int = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """Adebayo et al.'s cascading randomisation, per layer.

    Step ``s`` re-initialises the classifier and the top ``s - 1`` blocks (step 1: the classifier
    only; the last step: every block). At each step the maps of every layer (at its own
    resolution) are compared with the trained model's by :func:`map_rank_correlation`, for the
    same target classes (the trained model's prediction by default).

    Parameters
    ----------
    model : a trained :class:`~helpers.nets.stgcn.STGCN` (left unchanged).
    x, lengths : a batch (N, C, T, V, M) of model inputs and its valid frames.
    layer, target : as in :func:`helpers.explain.gradcam.layer_gradcam`.
    random_state : seeds the re-initialisation.
    progress : a progress bar over the steps.

    Returns
    -------
    A DataFrame with one row per step and layer: ``step``, ``randomized`` (a label such as
    ``'fcn+10..8'``), ``lowest_random_block`` (the lowest re-initialised block; ``num_blocks + 1``
    for the classifier only), ``layer``, ``spearman`` (mean over clips), ``spearman_std``,
    ``constant_maps`` (share of clips whose map is constant in either model, left out of the
    mean).
    """
    layers = resolve_layers(model, layer)
    L = _lengths_of(x, lengths)
    valid = _valid_per_layer(model, L, layers)
    ref, _, classes = gradcam_pass(model, x, layers, target, lengths=lengths)
    tgt = classes if classes is not None else target
    count = len(model.st_gcn_networks)
    rows = []
    starts = range(count + 1, 0, -1)
    for step, start in enumerate(tqdm(starts, desc="randomise", disable=not progress), start=1):
        rand = randomize_from(model, start, random_state=random_state + step)
        maps, _, _ = gradcam_pass(rand, x, layers, tgt, lengths=lengths)
        if start == count + 1:
            label = "fcn"
        else:
            label = f"fcn+{count}" if start == count else f"fcn+{count}..{start}"
        rows += _correlation_rows(
            ref, maps, layers, valid, step=step, randomized=label, lowest_random_block=start
        )
    return pd.DataFrame(rows)


def compare_models(
    model: nn.Module,
    other: nn.Module,
    x: torch.Tensor | np.ndarray,
    *,
    lengths: Sequence[int] | np.ndarray | None = None,
    layer: int | str | Sequence[int] = "all",
    target: Target = None,
) -> pd.DataFrame:
    """Per-layer rank correlation between two models' maps of the same clips and classes.

    The target classes are ``model``'s (its predictions by default); ``other`` explains the same
    classes. Returns the columns ``layer``, ``spearman``, ``spearman_std``, ``constant_maps``
    (see :func:`cascading_randomization`).
    """
    layers = resolve_layers(model, layer)
    L = _lengths_of(x, lengths)
    ref, _, classes = gradcam_pass(model, x, layers, target, lengths=lengths)
    maps, _, _ = gradcam_pass(
        other, x, layers, classes if classes is not None else target, lengths=lengths
    )
    return pd.DataFrame(_correlation_rows(ref, maps, layers, _valid_per_layer(model, L, layers)))


# --------------------------------------------------------------------------- deletion
def remove_joints(
    x: np.ndarray, lengths: np.ndarray, removed: np.ndarray, baseline: str = "mean_pose"
) -> np.ndarray:
    """``x`` with the ``removed`` joints of each clip replaced by a baseline.

    Parameters
    ----------
    x : (N, C, T, V, M) model inputs; lengths (N,) valid frames.
    removed : (N, V) boolean, the joints to remove from each clip (all bodies).
    baseline : ``'mean_pose'`` (each coordinate's mean over the valid frames) or ``'zero'``.

    Returns
    -------
    A new (N, C, T, V, M) array; padded frames stay zero.
    """
    if baseline not in ("mean_pose", "zero"):
        raise ValueError(f"baseline must be 'mean_pose' or 'zero', got {baseline!r}")
    n, _, t, v, _ = x.shape
    keep_t = (np.arange(t)[None, :] < lengths[:, None]).astype(x.dtype)  # (N, T)
    if baseline == "zero":
        fill = np.zeros_like(x)
    else:
        mean = (x * keep_t[:, None, :, None, None]).sum(axis=2, keepdims=True)
        mean = mean / lengths[:, None, None, None, None]
        fill = np.broadcast_to(mean, x.shape) * keep_t[:, None, :, None, None]
    mask = np.asarray(removed, bool)[:, None, None, :, None]
    return np.where(mask, fill, x).astype(x.dtype)


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


def deletion_insertion(
    model: nn.Module,
    x: np.ndarray,
    *,
    lengths: Sequence[int] | np.ndarray | None = None,
    layer: int | str | Sequence[int] = "all",
    target: Target = None,
    steps: int = 10,
    baseline: str = "mean_pose",
    random_orders: int = 3,
    batch_size: int = 64,
    random_state: int = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """Deletion and insertion curves of each layer's joint ranking, beside random rankings.

    Each layer's maps (at the input's frames) give each clip's joint importance (averaged over
    valid frames and bodies); joints are ranked by it, ties broken at random. At ``steps + 1``
    points ``0, 1/steps, ..., 1`` the top ``round(f * V)`` joints are removed
    (:func:`remove_joints`) for deletion, or are the only ones kept for insertion, and the
    softmax probability of the target class is recorded. ``random_orders`` random rankings per
    clip give the reference curves (the same for every layer).

    Parameters
    ----------
    model : an :class:`~helpers.nets.stgcn.STGCN` in eval mode (not changed).
    x, lengths : (N, C, T, V, M) model inputs and (N,) valid frames (None: all T; natural-length
        models need the lengths).
    layer, target : as in :func:`helpers.explain.gradcam.layer_gradcam` (target None: the predicted
        class of the unaltered clip).
    steps : number of removal steps.
    baseline : what a removed joint becomes (:func:`remove_joints`).
    random_orders, random_state : the random rankings.
    batch_size : clips per forward pass.
    progress : a progress bar over rankings.

    Returns
    -------
    A DataFrame with the columns ``curve`` (``'deletion'``, ``'insertion'``), ``ranking``
    (``'gradcam'`` or ``'random'``), ``layer`` (NaN for random), ``fraction`` (share of joints
    removed, or inserted), ``score`` (mean target probability over clips) and ``score_std``.
    """
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, np.float32)
    natural = lengths is not None
    L = _lengths_of(x, lengths)
    layers = resolve_layers(model, layer)
    n, _, t, v, _ = x.shape
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    maps, _, classes = gradcam_pass(model, x, layers, target, lengths=lengths if natural else None)
    if classes is None:
        raise ValueError("deletion_insertion needs class targets (None, an int or (N,) ints)")
    valid = _valid_per_layer(model, L, layers)
    rng = np.random.default_rng(random_state)
    rankings: list[tuple[str, float, np.ndarray]] = []
    for layer in layers:
        imp = joint_importance(maps[layer], valid[layer]).mean(axis=1)  # (N, V)
        jitter = rng.random(imp.shape)  # random tie-breaking among equal importances
        rankings.append(("gradcam", layer, np.lexsort((jitter, -imp), axis=1)))
    for _ in range(int(random_orders)):
        rankings.append(("random", np.nan, np.argsort(rng.random((n, v)), axis=1)))
    fractions = np.linspace(0.0, 1.0, int(steps) + 1)
    # nothing removed and everything removed are the same for every ranking: compute them once
    ends = {
        removed_all: _probabilities(
            model,
            remove_joints(x, L, np.full((n, v), removed_all), baseline),
            L,
            classes,
            batch_size,
            natural,
        )
        for removed_all in (False, True)
    }
    rows = []
    for kind, layer, order in tqdm(rankings, desc="deletion", disable=not progress):
        rank_of = np.empty_like(order)
        np.put_along_axis(rank_of, order, np.arange(v)[None, :].repeat(n, 0), axis=1)
        for curve in ("deletion", "insertion"):
            for f in fractions:
                top = rank_of < int(round(f * v))  # (N, V): the f share ranked highest
                removed = top if curve == "deletion" else ~top
                if removed.all() or not removed.any():
                    p = ends[bool(removed.all())]
                else:
                    xm = remove_joints(x, L, removed, baseline)
                    p = _probabilities(model, xm, L, classes, batch_size, natural)
                rows.append(
                    {
                        "curve": curve,
                        "ranking": kind,
                        "layer": layer,
                        "fraction": float(f),
                        "score": float(p.mean()),
                        "score_std": float(p.std()),
                    }
                )
    table = pd.DataFrame(rows)
    # average the random rankings into one reference curve
    rand = table[table.ranking == "random"].groupby(["curve", "fraction"], as_index=False)
    rand = rand.agg(score=("score", "mean"), score_std=("score_std", "mean"))
    rand = rand.assign(ranking="random", layer=np.nan)
    grad = table[table.ranking == "gradcam"]
    return pd.concat([grad, rand[grad.columns]], ignore_index=True)


def curve_areas(curves: pd.DataFrame) -> pd.DataFrame:
    """Areas under the curves of :func:`deletion_insertion`, and the gains over random rankings.

    Returns one row per layer: ``deletion_auc`` and ``random_deletion_auc`` (trapezoid areas over
    the removed share; lower is more faithful), ``deletion_gain = random - gradcam`` (the area
    between the curves, positive when the map's joints matter more than random ones), and the
    same for insertion (``insertion_gain = gradcam - random``, positive when the map's joints
    bring the score back faster).
    """

    def area(df: pd.DataFrame) -> float:
        df = df.sort_values("fraction")
        return float(np.trapezoid(df.score.to_numpy(), df.fraction.to_numpy()))

    rand = curves[curves.ranking == "random"]
    ref = {c: area(rand[rand.curve == c]) for c in ("deletion", "insertion")}
    rows = []
    grad = curves[curves.ranking == "gradcam"]
    for layer, part in grad.groupby("layer"):
        d = area(part[part.curve == "deletion"])
        i = area(part[part.curve == "insertion"])
        rows.append(
            {
                "layer": int(layer),
                "deletion_auc": d,
                "random_deletion_auc": ref["deletion"],
                "deletion_gain": ref["deletion"] - d,
                "insertion_auc": i,
                "random_insertion_auc": ref["insertion"],
                "insertion_gain": i - ref["insertion"],
            }
        )
    return pd.DataFrame(rows)
