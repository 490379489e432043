"""Train and evaluate skeleton action classifiers, with resumable checkpoints.

Two layers, from the most general to the most specific:

* :func:`fit` trains any ``nn.Module`` that maps a batch ``(N, C, T, V, M)`` to logits ``(N, K)``
  on a :class:`~helpers.data.dataset.SkeletonDataset`, with SGD + Nesterov momentum, a warm-up then
  cosine or step learning-rate schedule, optional class balancing, augmentation
  (:class:`~helpers.data.augment.Augment`), optional mixed precision on CUDA, and atomic
  checkpoints it can resume from after an interruption. :func:`evaluate` scores a model.
* :class:`TrainConfig` holds every training choice, including how clips become model inputs
  (centring, scaling, the fixed temporal length ``length``). :func:`model_inputs` applies exactly
  that input pipeline, so later analysis feeds the model what it was trained on.

The trained models of the book's profiles (:mod:`helpers.profiles`) are cached by
:func:`helpers.experiments.get_trained_model`, which builds on :func:`fit`.

Input pipeline. Each clip is centred (``center='first'``: the root joint of the first frame is the
origin) and optionally scaled. Then one of two clip modes:

``clip_mode='resample'``
    Training crops a random window and resamples it to ``length`` frames (then rotates etc.);
    evaluation resamples the whole clip to ``length`` frames (``eval_mode='resample'``), so every
    clip, long or short, becomes ``length`` frames and no batch carries zero padding.
    ``eval_mode='pad'`` instead zero-pads every clip to the longest clip in the evaluated dataset
    (kept for comparison: with training on resampled clips it scored near chance on the
    validation actor, because padded clips look nothing like the training inputs).
``clip_mode='natural'``
    Clips keep their duration at the dataset's frame rate, as the paper's analysis needs (each
    layer's output cropped to the clip's valid length). Training crops a random window (the
    ``crop`` range of ``augment``) and plays it at a random speed (its ``speed`` range); random
    batches of such windows are zero-padded to their longest, and the model is called as
    ``model(x, lengths=lengths)`` so that padding changes nothing
    (:meth:`helpers.model.STGCN.forward`). Evaluation takes
    every clip whole (``eval_mode='natural'``, which also evaluates a resample-mode model on
    whole clips).

Reproducibility. ``random_state`` seeds the data order, augmentation and dropout of each epoch
separately (from ``(random_state, epoch)``), so a run resumed from a checkpoint continues with
exactly the random numbers the uninterrupted run would have drawn. On CPU the same seed and the
same number of torch threads give the same weights; another thread count sums in another order,
and the small differences grow over training into a different (equally good) model. The caller's
global torch RNG state is restored afterwards.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .cache import atomic_path, plain
from .data.augment import Augment
from .data.dataset import SkeletonDataset, pad_sequences
from .data.resampling import resample
from .device import resolve_device
from .model import STGCN

__all__ = [
    "CheckpointError",
    "CheckpointMismatchError",
    "EvalResult",
    "TrainConfig",
    "TrainResult",
    "WarmupSchedule",
    "dataset_fingerprint",
    "evaluate",
    "fit",
    "load_checkpoint",
    "model_inputs",
    "prepare_dataset",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "stgcn-geometry-checkpoint"
CHECKPOINT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read or is not one of ours."""


class CheckpointMismatchError(CheckpointError):
    """A readable checkpoint that belongs to a different model, configuration or dataset."""


# =========================================================================== configuration
@dataclass
class TrainConfig:
    """Every choice that shapes a training run (all plain values, so it keys caches).

    Optimisation: ``epochs``, ``batch_size``, ``lr`` (peak), ``momentum``, ``nesterov``,
    ``weight_decay``, ``schedule`` (``'cosine'`` to ``min_lr`` or ``'step'``: multiply by ``gamma``
    at each epoch in ``milestones``), ``warmup_epochs`` (linear warm-up, may be fractional),
    ``label_smoothing``, ``grad_clip`` (max gradient norm or ``None``), ``amp`` (mixed precision;
    only used on CUDA).
    Classes: ``balance`` = ``'none'``, ``'weights'`` (inverse-frequency loss weights) or
    ``'sampler'`` (each epoch draws clips with probability inversely proportional to their class
    size).
    Inputs: ``center`` and ``scale`` as in :meth:`SkeletonDataset.normalized`; ``clip_mode``
    ``'resample'`` (clips resampled to ``length`` frames) or ``'natural'`` (clips keep their
    duration; see the module docstring); ``eval_mode`` ``'resample'``, ``'pad'`` or
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
    length: int = 64
    eval_mode: str = "resample"
    augment: dict = field(default_factory=dict)
    clip_mode: str = "resample"

    def __post_init__(self) -> None:
        self.milestones = tuple(int(m) for m in self.milestones)
        self.augment = dict(self.augment)
        problems = []
        if int(self.epochs) < 1:
            problems.append(f"epochs must be >= 1 (got {self.epochs})")
        if int(self.batch_size) < 1:
            problems.append(f"batch_size must be >= 1 (got {self.batch_size})")
        if not self.lr > 0:
            problems.append(f"lr must be > 0 (got {self.lr})")
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
        if int(self.length) < 1:
            problems.append(f"length must be >= 1 (got {self.length})")
        if self.warmup_epochs < 0:
            problems.append(f"warmup_epochs must be >= 0 (got {self.warmup_epochs})")
        if not 0 <= self.momentum < 1:
            problems.append(f"momentum must be in [0, 1) (got {self.momentum})")
        if self.weight_decay < 0:
            problems.append(f"weight_decay must be >= 0 (got {self.weight_decay})")
        if not 0 <= self.label_smoothing < 1:
            problems.append(f"label_smoothing must be in [0, 1) (got {self.label_smoothing})")
        if not self.gamma > 0:
            problems.append(f"gamma must be > 0 (got {self.gamma})")
        if not 0 <= self.min_lr <= self.lr:
            problems.append(f"min_lr must be in [0, lr] = [0, {self.lr}] (got {self.min_lr})")
        if self.grad_clip is not None and not self.grad_clip > 0:
            problems.append(
                f"grad_clip must be None or > 0 (got {self.grad_clip}); a negative "
                "norm would turn the gradients around"
            )
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


class WarmupSchedule:
    """Learning-rate factor per optimisation step: linear warm-up, then cosine or step decay.

    A plain callable object (not a lambda) so :class:`torch.optim.lr_scheduler.LambdaLR` can
    save and restore it in checkpoints.
    """

    def __init__(
        self,
        total_steps: int,
        warmup_steps: int,
        kind: str = "cosine",
        milestones: Sequence[int] = (),
        gamma: float = 0.1,
        min_factor: float = 0.0,
    ):
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.kind = kind
        self.milestones = [int(m) for m in milestones]
        self.gamma = float(gamma)
        self.min_factor = float(min_factor)

    def __call__(self, step: int) -> float:
        """The factor multiplying the peak learning rate at optimisation step ``step`` (0-based)."""
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        if self.kind == "step":
            return self.gamma ** sum(step >= m for m in self.milestones)
        span = max(1, self.total_steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / span)
        return self.min_factor + (1.0 - self.min_factor) * 0.5 * (
            1.0 + math.cos(math.pi * progress)
        )


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


# =========================================================================== data pipeline
def dataset_fingerprint(ds: SkeletonDataset) -> str:
    """The dataset's identity in checkpoints and cache keys: :meth:`SkeletonDataset.fingerprint`."""
    return ds.fingerprint()


def prepare_dataset(
    ds: SkeletonDataset, config: TrainConfig | Mapping | None = None
) -> SkeletonDataset:
    """The dataset centred and scaled as ``config`` says (step one of the input pipeline)."""
    cfg = TrainConfig.from_dict(config)
    if cfg.center is None and cfg.scale is None:
        return ds
    return ds.normalized(center=cfg.center, scale=cfg.scale)


def _eval_batch(
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
    return _eval_batch([ds.sequences[i] for i in idx], cfg, int(ds.lengths.max()))


def _class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max(1, (counts > 0).sum()), 0.0)
    return w


def _epoch_order(
    labels: np.ndarray, num_classes: int, balance: str, rng: np.random.Generator
) -> np.ndarray:
    n = len(labels)
    if balance == "sampler":
        p = _class_weights(labels, num_classes)[labels]
        return rng.choice(n, size=n, replace=True, p=p / p.sum())
    return rng.permutation(n)


def _batches(order: np.ndarray, batch_size: int) -> list[np.ndarray]:
    out = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    # a lone clip in the last batch would make BatchNorm statistics degenerate: fold it back in
    if len(out) > 1 and len(out[-1]) == 1:
        last = out.pop()
        out[-1] = np.concatenate([out[-1], last])
    return out


@contextlib.contextmanager
def _torch_threads(num_threads: int | None) -> Iterator[None]:
    """Temporarily limit torch's CPU threads (``None``: leave them alone)."""
    if num_threads is None:
        yield
        return
    if int(num_threads) < 1:
        raise ValueError(f"num_threads must be >= 1 or None, got {num_threads}")
    before = torch.get_num_threads()
    torch.set_num_threads(int(num_threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _epoch_seed(random_state: int, epoch: int) -> tuple[np.random.Generator, int]:
    ss = np.random.SeedSequence([int(random_state), int(epoch)])
    torch_seed = int(ss.generate_state(1, dtype=np.uint64)[0] % (2**63))
    return np.random.default_rng(ss), torch_seed


# =========================================================================== evaluation
def _model_device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def _forward(
    model: nn.Module, x: np.ndarray, lengths: np.ndarray | None, device: torch.device
) -> torch.Tensor:
    """The model on one batch x (N, C, T, V, M); natural-length batches also pass ``lengths``."""
    xb = torch.from_numpy(x).to(device, non_blocking=True)
    if lengths is None:
        return model(xb)
    return model(xb, lengths=torch.as_tensor(lengths))


def _dataset_logits(
    model: nn.Module,
    sequences: Sequence[np.ndarray],
    cfg: TrainConfig,
    device: torch.device,
    batch_size: int,
    progress: bool = False,
) -> np.ndarray:
    """(N, K) float32 logits of prepared sequences, in eval mode without gradients.

    Natural-length clips go in batches of similar length (sorted), each padded to its own
    longest clip; the logits come back in the sequences' order.
    """
    n = len(sequences)
    natural = cfg.eval_mode == "natural"
    order = np.argsort([len(s) for s in sequences], kind="stable") if natural else np.arange(n)
    pad_to = max(len(s) for s in sequences)
    out: np.ndarray | None = None
    with torch.no_grad():
        for i in tqdm(range(0, n, batch_size), desc="evaluate", disable=not progress, leave=False):
            idx = order[i : i + batch_size]
            x, lengths = _eval_batch([sequences[j] for j in idx], cfg, pad_to)
            logits = _forward(model, x, lengths if natural else None, device).float().cpu()
            if logits.ndim != 2:
                raise ValueError(
                    f"the model returned logits of shape {tuple(logits.shape)}; expected (N, K)"
                )
            if out is None:
                out = np.zeros((n, logits.shape[1]), np.float32)
            out[idx] = logits.numpy()
    return out


def evaluate(
    model: nn.Module,
    dataset: SkeletonDataset,
    config: TrainConfig | Mapping | None = None,
    *,
    batch_size: int = 32,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> EvalResult:
    """Top-1 and per-class accuracy, confusion matrix and predictions of ``model`` on ``dataset``.

    ``config`` must be the :class:`TrainConfig` the model was trained with (it fixes the input
    pipeline, see :func:`model_inputs`). ``device`` defaults to where the model's parameters are.
    The model is put in eval mode and left there.
    """
    cfg = TrainConfig.from_dict(config)
    dev = _model_device(model) if device is None else resolve_device(device)
    model.to(dev).eval()
    ds = prepare_dataset(dataset, cfg)
    k = dataset.num_classes
    logits = _dataset_logits(model, ds.sequences, cfg, dev, batch_size, progress)
    if logits.shape[1] != k:
        raise ValueError(
            f"the model returned logits of shape {logits.shape}; expected ({len(ds)}, {k}) "
            f"for the dataset's {k} classes"
        )
    return _scores(logits, dataset.labels, dataset.class_names)


def _scores(logits: np.ndarray, labels: np.ndarray, class_names: Sequence[str]) -> EvalResult:
    k = len(class_names)
    labels = np.asarray(labels, np.int64)
    pred = logits.argmax(axis=1).astype(np.int64)
    conf = np.zeros((k, k), dtype=np.int64)
    np.add.at(conf, (labels, pred), 1)
    support = conf.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(support > 0, np.diag(conf) / np.maximum(support, 1), np.nan)
    z = logits - logits.max(axis=1, keepdims=True)
    prob = np.exp(z)
    prob /= prob.sum(axis=1, keepdims=True)
    return EvalResult(
        accuracy=float((pred == labels).mean()),
        per_class=per_class.astype(np.float64),
        confusion=conf,
        predictions=pred,
        labels=labels,
        scores=prob.astype(np.float32),
        class_names=list(class_names),
    )


# =========================================================================== checkpoints
def _model_config(model: nn.Module) -> dict:
    cfg = getattr(model, "config", None)
    return copy.deepcopy(dict(cfg)) if isinstance(cfg, Mapping) else {}


def _plain(obj: Any) -> Any:
    """Configs as stored in checkpoints: plain values, arrays as lists (``weights_only`` safe)."""
    return plain(obj, arrays="values")


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    *,
    config: TrainConfig,
    history: Mapping[str, list],
    epoch: int,
    random_state: int,
    dataset_fingerprint: str,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    scaler: Any = None,
    test: EvalResult | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically.

    It holds the weights, the full configuration, the epoch, the optimiser state and the history.
    """
    state = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "model_config": _plain(_model_config(model)),
        "model_class": type(model).__name__,
        "train_config": _plain(config.to_dict()),
        "dataset_fingerprint": str(dataset_fingerprint),
        "random_state": int(random_state),
        "epoch": int(epoch),
        "history": {k: [float(v) for v in vals] for k, vals in history.items()},
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer_state": optimizer.state_dict() if optimizer is not None else None,
        "scheduler_state": scheduler.state_dict() if scheduler is not None else None,
        "scaler_state": scaler.state_dict() if scaler is not None else None,
        "test": test.to_state() if test is not None else None,
        "extra": _plain(dict(extra or {})),
        "torch_version": str(torch.__version__),
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def _read_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (
        Exception
    ) as err:  # torch raises RuntimeError, EOFError, UnpicklingError... for damaged files
        if "Unsupported global" in str(err):
            raise CheckpointError(
                f"{path} holds Python objects beyond tensors and plain values, so it is not a "
                f"{CHECKPOINT_FORMAT} and is not loaded (unpickling arbitrary objects can run code)"
            ) from err
        raise CheckpointError(
            f"checkpoint {path} could not be read ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}); "
            "the file is truncated, corrupt or not a torch checkpoint: delete it and train again"
        ) from err
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} is a torch file but not a {CHECKPOINT_FORMAT} (no 'format' marker); "
            "it was not written by helpers.training.save_checkpoint"
        )
    if state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {state.get('version')}; this code reads "
            f"version {CHECKPOINT_VERSION}: train again"
        )
    missing = [
        k
        for k in ("model_state", "train_config", "model_config", "epoch", "history")
        if k not in state
    ]
    if missing:
        raise CheckpointError(
            f"checkpoint {path} lacks {missing}: it is incomplete; delete it and train again"
        )
    return state


def _diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k, "<missing>"), b.get(k, "<missing>"), f"{prefix}{k}.")
        return out
    return [] if a == b else [f"{prefix.rstrip('.')}: checkpoint has {a!r}, this run has {b!r}"]


def _check_matches(
    state: dict,
    path: Path,
    *,
    model: nn.Module | None,
    config: TrainConfig | None,
    dataset_fingerprint: str | None,
    random_state: int | None,
) -> None:
    problems = []
    if model is not None:
        problems += [
            f"model config {p}" for p in _diff(state["model_config"], _plain(_model_config(model)))
        ]
        own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        saved = {k: tuple(v.shape) for k, v in state["model_state"].items()}
        if own != saved:
            extra = sorted(set(saved) - set(own))[:3]
            lacking = sorted(set(own) - set(saved))[:3]
            shapes = [k for k in own if k in saved and own[k] != saved[k]][:3]
            problems.append(
                f"model weights differ (unexpected {extra}, missing {lacking}, "
                f"other shapes for {[(k, saved[k], own[k]) for k in shapes]})"
            )
    if config is not None:
        problems += [
            f"training config {p}" for p in _diff(state["train_config"], _plain(config.to_dict()))
        ]
    if dataset_fingerprint is not None and state.get("dataset_fingerprint") != dataset_fingerprint:
        problems.append(
            f"dataset fingerprint: checkpoint has {state.get('dataset_fingerprint')}, "
            f"this run's training data has {dataset_fingerprint}"
        )
    if random_state is not None and state.get("random_state") != int(random_state):
        problems.append(
            f"random_state: checkpoint has {state.get('random_state')}, this run has {random_state}"
        )
    if problems:
        raise CheckpointMismatchError(
            f"checkpoint {path} belongs to a different run: "
            + "; ".join(problems)
            + ". Use another checkpoint path, or delete this file to start over."
        )


def load_checkpoint(
    path: str | Path,
    model: nn.Module | None = None,
    device: str | torch.device | None = "cpu",
) -> tuple[nn.Module, TrainResult]:
    """Load a checkpoint into ``model`` (or a new ``STGCN.from_config`` when ``None``).

    Returns ``(model, result)`` with the model in eval mode on ``device``. Raises
    :class:`CheckpointError` for unreadable files and :class:`CheckpointMismatchError` when the
    weights do not fit ``model``.
    """
    path = Path(path)
    state = _read_checkpoint(path)
    if model is None:
        if not state["model_config"]:
            raise CheckpointError(
                f"checkpoint {path} holds a {state.get('model_class')} without a config; "
                "pass the model to load the weights into"
            )
        model = STGCN.from_config(state["model_config"])
    else:
        _check_matches(
            state, path, model=model, config=None, dataset_fingerprint=None, random_state=None
        )
    model.load_state_dict(state["model_state"])
    dev = resolve_device(device) if device is not None else torch.device("cpu")
    model.to(dev).eval()
    model.train_config = TrainConfig.from_dict(state["train_config"])
    return model, _result_from_state(state)


def _result_from_state(state: dict) -> TrainResult:
    return TrainResult(
        history={k: list(v) for k, v in state["history"].items()},
        config=TrainConfig.from_dict(state["train_config"]),
        model_config=dict(state["model_config"]),
        dataset_fingerprint=state.get("dataset_fingerprint", ""),
        random_state=int(state.get("random_state", 0)),
        epochs_done=int(state["epoch"]),
        device=str(state.get("extra", {}).get("device", "")),
        test=EvalResult.from_state(state["test"]) if state.get("test") else None,
        extra=dict(state.get("extra") or {}),
    )


# =========================================================================== training
def fit(
    model: nn.Module,
    train_ds: SkeletonDataset,
    val_ds: SkeletonDataset | None = None,
    config: TrainConfig | Mapping | None = None,
    *,
    random_state: int = 0,
    device: str | torch.device = "auto",
    checkpoint: str | Path | None = None,
    resume: bool = True,
    progress: bool = True,
    on_epoch_end: Callable[[int, dict], None] | None = None,
    num_threads: int | None = None,
) -> TrainResult:
    """Train ``model`` on ``train_ds``; report accuracy on ``val_ds`` after every epoch.

    Parameters
    ----------
    model : maps (N, C, T, V, M) float32 to (N, K) logits, K = ``train_ds.num_classes``.
    train_ds, val_ds : :class:`SkeletonDataset` (raw positions: the config's centring and
        scaling are applied here). ``val_ds`` only monitors; nothing is chosen from it.
    config : :class:`TrainConfig` or a dict of its fields.
    random_state : seeds data order, augmentation and dropout.
    device : ``'auto'``, ``'cpu'``, ``'cuda'``...
    checkpoint : file written (atomically) after every epoch; with ``resume=True`` an existing
        file of the same run is continued from, and a file of another run raises
        :class:`CheckpointMismatchError`.
    on_epoch_end : called as ``on_epoch_end(epoch, history)`` after each epoch's checkpoint.
    num_threads : CPU threads torch may use while training (``None``: torch's current setting).
        On a CPU shared with other busy processes, 1 thread can be many times faster than 2,
        because torch's threads wait for each other after every small operation.

    Returns
    -------
    TrainResult
        The model keeps the final epoch's weights (in eval mode).
    """
    cfg = TrainConfig.from_dict(config)
    dev = resolve_device(device)
    k = train_ds.num_classes
    if val_ds is not None and list(val_ds.class_names) != list(train_ds.class_names):
        raise ValueError(
            "val_ds has other class names than train_ds; both must share one label space"
        )
    fingerprint = dataset_fingerprint(train_ds)
    train = prepare_dataset(train_ds, cfg)
    val = prepare_dataset(val_ds, cfg) if val_ds is not None else None
    aug = cfg.augmenter(train.up_axis)
    labels = train.labels
    model.to(dev)

    steps_per_epoch = len(_batches(np.arange(len(train)), cfg.batch_size))
    decay, no_decay = [], []
    for p in model.parameters():
        # biases and normalisation parameters are not weight-decayed (they set offsets and scales)
        (no_decay if p.ndim <= 1 else decay).append(p)
    optimizer = torch.optim.SGD(
        [
            {"params": decay, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=cfg.lr,
        momentum=cfg.momentum,
        nesterov=cfg.nesterov and cfg.momentum > 0,
    )
    schedule = WarmupSchedule(
        total_steps=cfg.epochs * steps_per_epoch,
        warmup_steps=int(round(cfg.warmup_epochs * steps_per_epoch)),
        kind=cfg.schedule,
        milestones=[m * steps_per_epoch for m in cfg.milestones],
        gamma=cfg.gamma,
        min_factor=cfg.min_lr / cfg.lr,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    use_amp = bool(cfg.amp) and dev.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    weight = (
        torch.tensor(_class_weights(labels, k), dtype=torch.float32, device=dev)
        if cfg.balance == "weights"
        else None
    )
    criterion = nn.CrossEntropyLoss(weight=weight, label_smoothing=cfg.label_smoothing)

    history: dict[str, list[float]] = {
        key: [] for key in ("epoch", "loss", "train_acc", "val_acc", "val_loss", "lr", "seconds")
    }
    start_epoch = 0
    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    if ckpt_path is not None and resume and ckpt_path.exists():
        state = _read_checkpoint(ckpt_path)
        _check_matches(
            state,
            ckpt_path,
            model=model,
            config=cfg,
            dataset_fingerprint=fingerprint,
            random_state=random_state,
        )
        model.load_state_dict(state["model_state"])
        if state.get("optimizer_state") is not None:
            optimizer.load_state_dict(state["optimizer_state"])
        if state.get("scheduler_state") is not None:
            scheduler.load_state_dict(state["scheduler_state"])
        if state.get("scaler_state") and use_amp:
            scaler.load_state_dict(state["scaler_state"])
        history = {key: list(v) for key, v in state["history"].items()}
        start_epoch = int(state["epoch"])

    extra = {
        "device": str(dev),
        "val_fingerprint": dataset_fingerprint(val_ds) if val_ds is not None else None,
    }
    cuda_devices = [dev] if dev.type == "cuda" else []
    bar = tqdm(
        total=cfg.epochs, initial=start_epoch, desc="train", unit="epoch", disable=not progress
    )
    with (
        torch.random.fork_rng(devices=cuda_devices),
        _torch_threads(num_threads),
        contextlib.closing(bar),
    ):
        for epoch in range(start_epoch, cfg.epochs):
            t0 = time.perf_counter()
            rng, torch_seed = _epoch_seed(random_state, epoch)
            torch.manual_seed(torch_seed)
            model.train()
            total_loss = total_correct = total_seen = 0.0
            # Natural-length batches are random too, not buckets of similar length: HDM05's
            # classes differ in duration, so length buckets are nearly single-class batches
            # whose BatchNorm statistics the test clips never see (validation actor dg: 61% top-1
            # with buckets, 97% with random batches; padding is masked either way).
            for batch in _batches(_epoch_order(labels, k, cfg.balance, rng), cfg.batch_size):
                x, lengths = pad_sequences([aug(train.sequences[i], rng) for i in batch])
                xb = torch.from_numpy(x).to(dev, non_blocking=True)
                yb = torch.from_numpy(labels[batch]).to(dev)
                with torch.autocast(device_type=dev.type, dtype=torch.float16, enabled=use_amp):
                    if cfg.natural:
                        logits = model(xb, lengths=torch.as_tensor(lengths))
                    else:
                        logits = model(xb)
                    if logits.shape != (len(batch), k):
                        raise ValueError(
                            f"the model maps a batch {tuple(xb.shape)} (N, C, T, V, M) to logits "
                            f"{tuple(logits.shape)}; expected ({len(batch)}, {k}) for the "
                            f"{k} classes of the training data"
                        )
                    loss = criterion(logits.float(), yb)
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"training loss became {loss.item()} at epoch {epoch + 1}; "
                        f"lower lr (now {scheduler.get_last_lr()[0]:.3g}) or check the data"
                    )
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if cfg.grad_clip:
                    scaler.unscale_(optimizer)
                    nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                total_loss += float(loss.detach()) * len(batch)
                total_correct += float((logits.detach().argmax(1) == yb).sum())
                total_seen += len(batch)
                bar.set_postfix(
                    loss=f"{total_loss / total_seen:.3f}", acc=f"{total_correct / total_seen:.2f}"
                )
            val_acc = val_loss = float("nan")
            if val is not None:
                model.eval()
                vlogits = _dataset_logits(model, val.sequences, cfg, dev, max(cfg.batch_size, 32))
                val_acc = float((vlogits.argmax(1) == val.labels).mean())
                val_loss = float(
                    nn.functional.cross_entropy(
                        torch.from_numpy(vlogits), torch.from_numpy(val.labels)
                    )
                )
            for key, v in (
                ("epoch", epoch + 1),
                ("loss", total_loss / total_seen),
                ("train_acc", total_correct / total_seen),
                ("val_acc", val_acc),
                ("val_loss", val_loss),
                ("lr", scheduler.get_last_lr()[0]),
                ("seconds", time.perf_counter() - t0),
            ):
                history[key].append(float(v))
            bar.update(1)
            bar.set_postfix(
                loss=f"{history['loss'][-1]:.3f}",
                acc=f"{history['train_acc'][-1]:.2f}",
                val=f"{val_acc:.2f}",
            )
            if ckpt_path is not None:
                save_checkpoint(
                    ckpt_path,
                    model,
                    config=cfg,
                    history=history,
                    epoch=epoch + 1,
                    random_state=random_state,
                    dataset_fingerprint=fingerprint,
                    optimizer=optimizer,
                    scheduler=scheduler,
                    scaler=scaler if use_amp else None,
                    extra=extra,
                )
            if on_epoch_end is not None:
                on_epoch_end(epoch + 1, history)
    model.eval()
    model.train_config = cfg  # how its inputs are made: layer features and evaluation need it
    return TrainResult(
        history=history,
        config=cfg,
        model_config=_model_config(model),
        dataset_fingerprint=fingerprint,
        random_state=int(random_state),
        epochs_done=len(history["epoch"]),
        device=str(dev),
        extra=extra,
    )
