"""The input pipeline: how clips become the model's inputs.

The same in training, evaluation, layer features and Grad-CAM: centring, turning to one heading
(when asked) and scaling, then resampling or padding.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from helpers.data.dataset import SkeletonDataset, pad_sequences
from helpers.data.resampling import resample
from helpers.training.config import TrainConfig

__all__ = [
    "dataset_fingerprint",
    "model_inputs",
    "prepare_dataset",
]


# =========================================================================== data pipeline
def dataset_fingerprint(ds: SkeletonDataset) -> str:
    """The dataset's identity in checkpoints and cache keys: :meth:`SkeletonDataset.fingerprint`."""
    return ds.fingerprint()


def prepare_dataset(
    ds: SkeletonDataset, config: TrainConfig | Mapping | None = None
) -> SkeletonDataset:
    """The dataset centred, turned and scaled as ``config`` says (step one of the pipeline).

    One function for the model's input and for layer 0 of the layer tables:
    :meth:`SkeletonDataset.normalized` with the config's ``center``, ``scale`` and ``heading``.
    """
    cfg = TrainConfig.from_dict(config)
    if cfg.center is None and cfg.scale is None and cfg.heading is None:
        return ds
    return ds.normalized(center=cfg.center, scale=cfg.scale, heading=cfg.heading)


def eval_batch(
    sequences: Sequence[np.ndarray], cfg: TrainConfig, pad_to: int | None
) -> tuple[np.ndarray, np.ndarray]:
    if cfg.eval_mode == "resample":
        return pad_sequences([resample(s, cfg.length) for s in sequences])
    if cfg.eval_mode == "natural":
        return pad_sequences(list(sequences))
    return pad_sequences(list(sequences), max_len=pad_to)


def model_inputs(
    ds: SkeletonDataset,
    config: TrainConfig | Mapping | None = None,
    index: Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Evaluation inputs exactly as the model saw them: ``x`` (N, C, T, V, M) float32, lengths (N,).

    Applies centring/scaling and then, for ``eval_mode='resample'``, resamples every clip to
    ``config.length`` frames (all lengths equal ``length``); for ``'pad'`` and ``'natural'``,
    zero-pads to the longest selected clip (``lengths`` are the clips' frame counts; a natural-mode
    model takes them as ``model(x, lengths=lengths)``).
    """
    cfg = TrainConfig.from_dict(config)
    ds = prepare_dataset(ds, cfg)
    idx = np.arange(len(ds)) if index is None else np.asarray(index, dtype=np.int64).reshape(-1)
    return eval_batch([ds.sequences[i] for i in idx], cfg, int(ds.lengths.max()))
