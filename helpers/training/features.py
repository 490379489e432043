"""Each layer's output for every sequence, cropped to the sequence's valid length.

The paper compares sequences layer by layer: the input (the normalised joints the model sees)
and the output of every ST-GCN block, each cropped to the clip's valid length and flattened to
one vector per time step, so that a windowed DTW can compare clips of different lengths.

Valid lengths. A block with temporal stride ``s`` (kernel ``k``, padding ``(k - 1) / 2``) maps
``L`` valid frames to ``floor((L - 1) / s) + 1``
(:meth:`~helpers.nets.stgcn.STGCN.temporal_lengths`). In the reference network (stride 2 in blocks 5
and 8, 1-based) a clip of ``T`` frames keeps ``T`` steps after blocks 1 to 4, ``ceil(T / 2)`` after
blocks 5 to 7 and ``ceil(T / 4)`` after blocks 8 to 10. Natural-length clips are batched with
padding and the model is given their lengths, so the valid part of every output is exactly what the
clip would give on its own.

Layout. Layer 0 is the model's input for the clip, (T, V, C) flattened joint-major to (T, V*C)
like :func:`~helpers.geometry.distances.sequence_matrix`; block ``l`` gives (T_l, C_l, V) flattened
to (T_l, C_l * V). Several bodies (NTU RGB+D) are concatenated feature-wise, body 0 first:
(T_l, M * C_l * V); the distance between two clips then compares body m with body m.
"""

from __future__ import annotations

import hashlib
import os
from typing import Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from helpers.data.dataset import SkeletonDataset
from helpers.nets.block_model import BlockModel, require_block_model
from helpers.runtime.device import resolve_device
from helpers.runtime.disk_cache import DiskCache, plain
from helpers.runtime.keys import features_key
from helpers.training.config import TrainConfig
from helpers.training.inputs import model_inputs

__all__ = ["layer_features", "model_fingerprint", "valid_lengths"]


def model_fingerprint(model: nn.Module) -> str:
    """A 20-hex-digit SHA-256 of the model's class, config and every parameter and buffer."""
    h = hashlib.sha256(type(model).__name__.encode())
    cfg = getattr(model, "config", None)
    if cfg is not None:
        h.update(repr(plain(cfg, arrays="values")).encode())
    for name, tensor in model.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()[:20]


def valid_lengths(model: BlockModel, lengths: Sequence[int] | np.ndarray) -> list[np.ndarray]:
    """Valid time steps of every layer, indexed by layer number.

    Parameters
    ----------
    model : a :class:`~helpers.nets.block_model.BlockModel` (TypeError otherwise).
    lengths : (N,) valid input frames.

    Returns
    -------
    ``num_blocks + 1`` arrays (N,) int64: position 0 the input (``lengths`` itself), position
    ``l`` block ``l``'s output. The layer numbering of :func:`layer_features` and of
    :mod:`helpers.explain.gradcam`.
    """
    require_block_model(model, "valid_lengths")
    if isinstance(lengths, torch.Tensor):
        lengths = lengths.detach().cpu().numpy()
    arr = np.asarray(lengths, dtype=np.int64).reshape(-1)
    return [arr] + [np.asarray(a, np.int64) for a in model.temporal_lengths(arr)]


def _config_of(model: nn.Module, config) -> TrainConfig:
    if config is not None:
        return TrainConfig.from_dict(config)
    stored = getattr(model, "train_config", None)
    if stored is None:
        raise ValueError(
            "layer_features needs the model's training configuration (how clips are centred, "
            "scaled and cut): pass config=result.config, or use a model from "
            "helpers.studies.get_trained_model or helpers.training.load_checkpoint, which carry it "
            "as model.train_config"
        )
    return TrainConfig.from_dict(stored)


def _compute(
    model: nn.Module,
    ds: SkeletonDataset,
    cfg: TrainConfig,
    device: torch.device,
    batch_size: int,
    progress: bool,
) -> list[list[np.ndarray]]:
    """Features of all layers (list over layers of lists over sequences) of the raw ``ds``."""
    n = len(ds)
    natural = cfg.eval_mode == "natural"
    order = np.argsort(ds.lengths, kind="stable")  # similar lengths share a batch
    per_layer: list[list[np.ndarray | None]] | None = None
    was_training = model.training
    model.to(device).eval()
    try:
        with torch.no_grad():
            for i in tqdm(
                range(0, n, batch_size), desc="layer features", unit="batch", disable=not progress
            ):
                idx = order[i : i + batch_size]
                x, lengths = model_inputs(ds, cfg, index=idx)
                xb = torch.from_numpy(x).to(device)
                if natural:
                    _, feats = model(xb, return_features=True, lengths=torch.as_tensor(lengths))
                else:
                    _, feats = model(xb, return_features=True)
                    lengths = np.full(len(idx), x.shape[2], np.int64)
                valid = valid_lengths(model, lengths)
                if per_layer is None:
                    per_layer = [[None] * n for _ in range(len(feats) + 1)]
                nb, c, t, v, m = x.shape
                inp = np.transpose(x, (0, 2, 4, 3, 1))  # (N, T, M, V, C)
                for r, j in enumerate(idx):
                    per_layer[0][j] = np.ascontiguousarray(
                        inp[r, : valid[0][r]].reshape(valid[0][r], -1), dtype=np.float32
                    )
                for layer, f in enumerate(feats, start=1):
                    f = f.float().cpu().numpy()  # (N*M, C_l, T_l, V)
                    f = f.reshape(nb, m, f.shape[1], f.shape[2], f.shape[3])
                    f = np.transpose(f, (0, 3, 1, 2, 4))  # (N, T_l, M, C_l, V)
                    for r, j in enumerate(idx):
                        t_l = int(valid[layer][r])
                        per_layer[layer][j] = np.ascontiguousarray(
                            f[r, :t_l].reshape(t_l, -1), dtype=np.float32
                        )
    finally:
        model.train(was_training)
    return per_layer  # type: ignore[return-value]


def layer_features(
    model: BlockModel,
    dataset: SkeletonDataset,
    config: TrainConfig | dict | None = None,
    *,
    device: str | torch.device = "auto",
    batch_size: int = 16,
    layers: Sequence[int] | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> list[list[np.ndarray]]:
    """Every layer's output for every sequence of ``dataset``, cropped to its valid length.

    Parameters
    ----------
    model : a :class:`~helpers.nets.block_model.BlockModel`: an :class:`~helpers.nets.stgcn.STGCN`,
        or any network of blocks wrapped in :class:`~helpers.nets.block_model.BlockwiseModel`
        (a ``TypeError`` names what any other model lacks).
    dataset : the sequences, raw (the config's centring and scaling are applied here).
    config : the model's :class:`~helpers.training.config.TrainConfig`, which fixes how clips become
        inputs (natural length, or resampled); default ``model.train_config``, which models from
        :func:`helpers.studies.models.get_trained_model` carry.
    device : where the forward passes run (``'auto'``: CUDA when present).
    batch_size : clips per forward pass (clips of similar length share a batch).
    layers : which layers to return (0 = input, 1..L = blocks); default all.
    cache : keep each layer in the disk cache (key: the model's weights, the data, the config
        and the layer), so later calls load what they need without running the model.
    cache_dir : the cache folder (default ``$STGCN_CACHE_DIR``).
    progress : a progress bar over batches.

    Returns
    -------
    A list over the requested layers; each entry is a list over sequences of float32 arrays
    shaped (T_valid, D_l): the input (T, V*C) first, then block ``l``'s (T_l, C_l * V) (see the
    module docstring for lengths and layout).
    """
    require_block_model(model, "layer_features")
    cfg = _config_of(model, config)
    if not isinstance(dataset, SkeletonDataset):
        raise TypeError(f"dataset must be a SkeletonDataset, got {type(dataset).__name__}")
    num_layers = int(model.num_blocks) + 1
    wanted = list(range(num_layers)) if layers is None else [int(v) for v in layers]
    bad = [v for v in wanted if not 0 <= v < num_layers]
    if bad:
        raise ValueError(
            f"layers {bad} do not exist; the model has layers 0..{num_layers - 1} "
            "(0 = input, then one per block)"
        )
    dev = resolve_device(device)

    def compute_all() -> list[list[np.ndarray]]:
        return _compute(model, dataset, cfg, dev, int(batch_size), progress)

    if not cache:
        every = compute_all()
        return [every[v] for v in wanted]

    store = DiskCache(cache_dir)
    fingerprints = (model_fingerprint(model), dataset.fingerprint(), cfg.to_dict())
    keys = {v: features_key(*fingerprints, layer=v) for v in wanted}
    computed: list[list[np.ndarray]] | None = None

    def packed(v: int) -> dict[str, np.ndarray]:
        nonlocal computed
        if computed is None:
            computed = compute_all()
        seqs = computed[v]
        return {
            "frames": np.concatenate(seqs, axis=0),
            "lengths": np.array([len(s) for s in seqs], np.int64),
        }

    def check(arrays: dict[str, np.ndarray]) -> None:
        if len(arrays["lengths"]) != len(dataset) or not np.isfinite(arrays["frames"]).all():
            raise ValueError("layer features do not match the dataset or are not finite")

    out = []
    for v in wanted:
        arrays = store.arrays("layer-features", keys[v], lambda v=v: packed(v), validate=check)
        out.append(np.split(arrays["frames"], np.cumsum(arrays["lengths"])[:-1]))
    return out
