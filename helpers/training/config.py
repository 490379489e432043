"""What a training run is told and what it returns.

:class:`TrainConfig` holds every choice as plain values; :class:`TrainResult` and
:class:`EvalResult` hold the outcome.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

import numpy as np
import torch

from helpers.data.augment import Augment
from helpers.runtime.arguments import check_int, check_number

__all__ = [
    "EvalResult",
    "TrainConfig",
    "TrainResult",
]


# =========================================================================== configuration
@dataclass
class TrainConfig:
    """Every choice that shapes a training run (all plain values, so it keys caches).

    Optimisation: ``epochs``, ``batch_size``, ``lr`` (peak), ``momentum``, ``nesterov``,
    ``weight_decay``, ``schedule`` (``'cosine'`` to ``min_lr`` or ``'step'``: multiply by ``gamma``
    at each epoch in ``milestones``), ``warmup_epochs`` (linear warm-up, may be fractional),
    ``label_smoothing``, ``grad_clip`` (max gradient norm or ``None``), ``amp`` (mixed precision;
    only used on CUDA). Classes: ``balance`` = ``'none'``, ``'weights'`` (inverse-frequency loss
    weights) or ``'sampler'`` (each epoch draws clips with probability inversely proportional to
    their class size). Inputs: ``center``, ``scale`` and ``heading`` as in
    :meth:`SkeletonDataset.normalized` (``heading='first'`` turns every clip to one heading);
    ``clip_mode`` ``'resample'`` (clips resampled to ``length`` frames) or ``'natural'`` (clips keep
    their duration; see the module docstring); ``eval_mode`` ``'resample'``, ``'pad'`` or
    ``'natural'`` (required with ``clip_mode='natural'``); ``augment`` = keyword arguments of
    :class:`~helpers.data.augment.Augment` except ``length`` and ``up_axis`` (taken from here and
    from the dataset; ``speed`` only in natural mode).
    """

    epochs: int = 30
    batch_size: int = 16
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    warmup_epochs: float = 1.0
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1
    min_lr: float = 0.0
    label_smoothing: float = 0.0
    grad_clip: float | None = None
    amp: bool = False
    balance: str = "none"
    center: str | None = "first"
    scale: float | str | None = None
    heading: str | None = None
    length: int = 64
    eval_mode: str = "resample"
    augment: dict = field(default_factory=dict)
    clip_mode: str = "resample"

    def __post_init__(self) -> None:
        problems = []

        def check(fn, name: str, **bounds) -> None:
            # every problem is collected, so that one error lists all of them
            try:
                fn(name, getattr(self, name), **bounds)
            except (TypeError, ValueError) as err:
                problems.append(str(err))

        for name in ("epochs", "batch_size", "length"):
            check(check_int, name, low=1)
        for name in ("lr", "gamma"):
            check(check_number, name, low=0, low_open=True)
        for name in ("weight_decay", "warmup_epochs", "min_lr"):
            check(check_number, name, low=0)
        for name in ("momentum", "label_smoothing"):
            check(check_number, name, low=0, high=1, high_open=True)
        if self.grad_clip is not None:
            # a negative norm would turn the gradients around
            check(check_number, "grad_clip", low=0, low_open=True)
        for name in ("nesterov", "amp"):
            if not isinstance(getattr(self, name), bool):
                problems.append(f"{name}={getattr(self, name)!r}: expected True or False")
        if isinstance(self.milestones, (str, bytes)) or not hasattr(self.milestones, "__iter__"):
            problems.append(f"milestones={self.milestones!r}: expected a list of epochs")
        else:
            for m in self.milestones:
                try:
                    check_int("milestones", m, low=1)
                except (TypeError, ValueError) as err:
                    problems.append(f"{err} (each)")
            if not problems:
                self.milestones = tuple(int(m) for m in self.milestones)
        if not isinstance(self.augment, Mapping):
            problems.append(f"augment={self.augment!r}: expected a dict of Augment settings")
            self.augment = {}
        self.augment = dict(self.augment)
        if problems:
            # the comparisons below need numbers
            raise ValueError("TrainConfig: " + "; ".join(problems))
        if self.schedule not in ("cosine", "step"):
            problems.append(f"schedule must be 'cosine' or 'step' (got {self.schedule!r})")
        if self.balance not in ("none", "weights", "sampler"):
            problems.append(
                f"balance must be 'none', 'weights' or 'sampler' (got {self.balance!r})"
            )
        if self.eval_mode not in ("resample", "pad", "natural"):
            problems.append(
                f"eval_mode must be 'resample', 'pad' or 'natural' (got {self.eval_mode!r})"
            )
        if self.clip_mode not in ("resample", "natural"):
            problems.append(f"clip_mode must be 'resample' or 'natural' (got {self.clip_mode!r})")
        elif self.clip_mode == "natural" and self.eval_mode != "natural":
            problems.append(
                "clip_mode='natural' evaluates every clip whole: set eval_mode='natural' "
                f"(got {self.eval_mode!r})"
            )
        if self.heading not in (None, "first"):
            problems.append(f"heading must be None or 'first' (got {self.heading!r})")
        if not self.min_lr <= self.lr:
            problems.append(f"min_lr={self.min_lr}: expected at most lr={self.lr}")
        bad = sorted({"length", "up_axis"} & set(self.augment))
        if bad:
            problems.append(
                f"augment must not set {bad}: the length comes from TrainConfig.length, up_axis "
                "from the dataset"
            )
        else:
            try:
                length = None if self.clip_mode == "natural" else 1
                Augment.from_dict({**self.augment, "length": length})
            except (TypeError, ValueError) as err:
                problems.append(f"augment settings are invalid: {err}")
        if problems:
            raise ValueError("TrainConfig: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly form (tuples become lists)."""
        d = asdict(self)
        d["milestones"] = list(self.milestones)
        d["augment"] = Augment.from_dict(self.augment).to_dict()
        for k in ("length", "up_axis"):
            d["augment"].pop(k, None)
        if d["heading"] is None:
            # a setting added later: without it the dictionary, and so every cache key of the
            # networks trained before it existed, stays what it was
            del d["heading"]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | "TrainConfig" | None) -> "TrainConfig":
        """A config from :meth:`to_dict` settings, a copy of a config, or defaults for ``None``."""
        if d is None:
            return cls()
        if isinstance(d, TrainConfig):
            return copy.deepcopy(d)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"TrainConfig: unknown settings {unknown}; known: {sorted(known)}")
        return cls(**dict(d))

    @property
    def natural(self) -> bool:
        """Whether clips keep their duration (``clip_mode='natural'``)."""
        return self.clip_mode == "natural"

    def augmenter(self, up_axis: int) -> Augment:
        """The training :class:`Augment` for data whose vertical axis is ``up_axis``."""
        length = None if self.natural else int(self.length)
        return Augment(length=length, up_axis=int(up_axis), **self.augment)


# =========================================================================== results
@dataclass
class EvalResult:
    """Scores of a classifier on a dataset.

    accuracy : top-1 accuracy in [0, 1]
    per_class : (K,) accuracy per true class (``nan`` for classes with no clip)
    confusion : (K, K) int64 counts, rows = true class, columns = predicted class
    predictions, labels : (N,) int64
    scores : (N, K) float32 softmax probabilities
    class_names : K names
    """

    accuracy: float
    per_class: np.ndarray
    confusion: np.ndarray
    predictions: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    class_names: list[str]

    @property
    def balanced_accuracy(self) -> float:
        """Mean of the per-class accuracies over classes present in the data."""
        return float(np.nanmean(self.per_class))

    def to_state(self) -> dict[str, Any]:
        """Tensor/primitive form for checkpoints (loadable with ``weights_only=True``)."""
        return {
            "accuracy": float(self.accuracy),
            "per_class": torch.from_numpy(np.asarray(self.per_class, np.float64)),
            "confusion": torch.from_numpy(np.asarray(self.confusion, np.int64)),
            "predictions": torch.from_numpy(np.asarray(self.predictions, np.int64)),
            "labels": torch.from_numpy(np.asarray(self.labels, np.int64)),
            "scores": torch.from_numpy(np.asarray(self.scores, np.float32)),
            "class_names": list(self.class_names),
        }

    @classmethod
    def from_state(cls, s: Mapping[str, Any]) -> "EvalResult":
        """An :class:`EvalResult` from its :meth:`to_state` form (tensors become numpy arrays)."""
        arr = {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in s.items()}
        return cls(
            accuracy=float(arr["accuracy"]),
            per_class=arr["per_class"],
            confusion=arr["confusion"],
            predictions=arr["predictions"],
            labels=arr["labels"],
            scores=arr["scores"],
            class_names=list(arr["class_names"]),
        )


@dataclass
class TrainResult:
    """What a training run produced besides the weights.

    Attributes
    ----------
    history : per-epoch lists ``epoch``, ``loss`` (mean training loss), ``train_acc`` (on the
        augmented training batches, dropout on), ``val_acc`` and ``val_loss`` (``nan`` without a
        validation set), ``lr`` (at the epoch's end) and ``seconds`` (wall time of the epoch).
    config : the :class:`TrainConfig`
    model_config : the model's ``config`` dict (what ``STGCN.from_config`` takes), or ``{}``
    dataset_fingerprint : :func:`dataset_fingerprint` of the training set
    random_state : the seed
    epochs_done : completed epochs
    device : where it trained
    test : :class:`EvalResult` on the held-out set, when the caller computed one
    extra : free-form metadata (e.g. profile name, validation fingerprint)
    """

    history: dict[str, list[float]]
    config: TrainConfig
    model_config: dict
    dataset_fingerprint: str
    random_state: int
    epochs_done: int
    device: str
    test: EvalResult | None = None
    extra: dict = field(default_factory=dict)

    @property
    def train_seconds(self) -> float:
        """Total wall time of the completed epochs (evaluation between epochs included)."""
        return float(sum(self.history.get("seconds", [])))

    @property
    def seconds_per_epoch(self) -> float:
        """Mean wall time of a completed epoch (``nan`` before the first)."""
        s = self.history.get("seconds", [])
        return float(np.mean(s)) if s else float("nan")
