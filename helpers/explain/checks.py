"""Is a Grad-CAM explanation real? Sanity and faithfulness checks, layer by layer.

* :func:`map_rank_correlation`: Spearman rank correlation between two sets of maps, per clip;
* :func:`cascading_randomization` (Adebayo et al., *Sanity checks for saliency maps*, NeurIPS
  2018): re-initialise the classifier, then block 10, 9, ... 1, one more at every step, and
  measure how similar each layer's maps stay to the trained model's. Maps that survive the
  randomisation of the weights that produce them explain the input, not the model;
* label randomisation (the same paper) compares the maps of a model trained on permuted labels
  with the real model's, also with :func:`compare_models`;
* faithfulness, deletion and insertion over cells, joints and frames, is in
  :mod:`helpers.explain.deletion`.
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

from helpers.explain.gradcam import Target, gradcam_pass, layer_strides, resolve_layers
from helpers.nets.block_model import require_block_model
from helpers.nets.validation import check_input, check_lengths
from helpers.runtime.arguments import check_int
from helpers.training.features import valid_lengths

__all__ = [
    "cascading_randomization",
    "compare_models",
    "map_agreement",
    "map_rank_correlation",
    "randomize_from",
]


# --------------------------------------------------------------------------- similarity
def _valid_flat(maps: np.ndarray, lengths: np.ndarray | None) -> list[np.ndarray]:
    n, m, t, v = maps.shape
    L = np.full(n, t) if lengths is None else check_lengths("lengths", lengths, n, t)
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


def _checked_batch(x, lengths) -> tuple[torch.Tensor, np.ndarray]:
    """``x`` as a checked (N, C, T, V, M) tensor and its (N,) valid lengths (all T if None).

    Checked before the first Grad-CAM pass, so that a bad batch gets its error before any
    model is copied or re-initialised.
    """
    x = check_input("x", torch.from_numpy(x) if isinstance(x, np.ndarray) else x)
    n, _, t, _, _ = x.shape
    if lengths is None:
        return x, np.full(n, t, np.int64)
    return x, check_lengths("lengths", lengths, n, t)


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
    block = check_int("block", block, low=1, high=count + 1)
    random_state = check_int("random_state", random_state)
    out = copy.deepcopy(model)
    gen_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(random_state)
        targets: list[nn.Module] = [_classifier(out)] + [
            out.st_gcn_networks[i] for i in range(block - 1, count)
        ]
        for mod in targets:
            for sub in mod.modules():
                if hasattr(sub, "reset_parameters"):
                    sub.reset_parameters()
                if hasattr(sub, "reset_running_stats"):
                    sub.reset_running_stats()
        if getattr(out, "edge_importance", None) is not None:
            with torch.no_grad():
                for i in range(block - 1, count):
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
    require_block_model(model, "cascading_randomization")
    random_state = check_int("random_state", random_state)
    layers = resolve_layers(model, layer)
    x, L = _checked_batch(x, lengths)
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


def map_agreement(
    model: nn.Module,
    other: nn.Module,
    x: torch.Tensor | np.ndarray,
    *,
    lengths: Sequence[int] | np.ndarray | None = None,
    layer: int | str | Sequence[int] = "all",
    target: Target = None,
) -> pd.DataFrame:
    """Per clip and layer, the rank correlation between two models' maps of the same classes.

    The target classes are ``model``'s (its predictions by default); ``other`` explains the same
    classes. Returns the columns ``layer``, ``clip`` (0..N-1) and ``spearman``
    (:func:`map_rank_correlation`; NaN where a map is constant over the clip). ``other`` must
    have every requested block, at the same temporal resolution as ``model``'s (a ValueError
    naming ``other`` otherwise).
    """
    return _agreement(model, other, x, lengths, layer, target, "map_agreement")


def _agreement(model, other, x, lengths, layer, target, caller: str) -> pd.DataFrame:
    """:func:`map_agreement`, its errors naming ``caller``."""
    require_block_model(model, caller)
    require_block_model(other, caller, name="other")
    layers = resolve_layers(model, layer)
    if max(layers) > other.num_blocks:
        raise ValueError(
            f"{caller}: other has {other.num_blocks} block(s), but layer {max(layers)} of model "
            "is to be compared; ask for layers both networks have (layer=...)"
        )
    own, theirs = layer_strides(model), layer_strides(other)
    apart = [layer for layer in layers if own[layer] != theirs[layer]]
    if apart:
        raise ValueError(
            f"{caller}: other's block {apart[0]} has total temporal stride {theirs[apart[0]]} "
            f"and model's {own[apart[0]]}: their maps have different time resolutions"
        )
    x, L = _checked_batch(x, lengths)
    ref, _, classes = gradcam_pass(model, x, layers, target, lengths=lengths)
    maps, _, _ = gradcam_pass(
        other, x, layers, classes if classes is not None else target, lengths=lengths
    )
    valid = _valid_per_layer(model, L, layers)
    parts = [
        pd.DataFrame(
            {
                "layer": layer,
                "clip": np.arange(len(L)),
                "spearman": map_rank_correlation(ref[layer], maps[layer], valid[layer]),
            }
        )
        for layer in layers
    ]
    return pd.concat(parts, ignore_index=True)


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

    :func:`map_agreement` summarised per layer: the columns ``layer``, ``spearman`` (mean over
    clips), ``spearman_std``, ``constant_maps`` (the share of clips where a map is constant;
    see :func:`cascading_randomization`).
    """
    per_clip = _agreement(model, other, x, lengths, layer, target, "compare_models")
    rows = []
    for layer, part in per_clip.groupby("layer", sort=True):
        r = part["spearman"].to_numpy()
        finite = np.isfinite(r).any()
        rows.append(
            {
                "layer": int(layer),
                "spearman": float(np.nanmean(r)) if finite else np.nan,
                "spearman_std": float(np.nanstd(r)) if finite else np.nan,
                "constant_maps": float(np.mean(~np.isfinite(r))),
            }
        )
    return pd.DataFrame(rows)
