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

The trained models of the book's profiles (:mod:`helpers.training.profiles`) are cached by
:func:`helpers.studies.models.get_trained_model`, which builds on :func:`fit`.

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
    (:meth:`~helpers.nets.stgcn.STGCN.forward`). Evaluation takes every clip whole
    (``eval_mode='natural'``, which also evaluates a resample-mode model on whole clips).

Reproducibility. ``random_state`` seeds the data order, augmentation and dropout of each epoch
separately (from ``(random_state, epoch)``), so a run resumed from a checkpoint continues with
exactly the random numbers the uninterrupted run would have drawn. On CPU the same seed and the
same number of torch threads give the same weights; another thread count sums in another order,
and the small differences grow over training into a different (equally good) model. The caller's
global torch RNG state is restored afterwards.
"""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from helpers.data.dataset import SkeletonDataset, pad_sequences
from helpers.runtime.arguments import check_int, check_number
from helpers.runtime.device import resolve_device
from helpers.training.checkpoints import (
    check_matches,
    model_config_of,
    read_checkpoint,
    save_checkpoint,
)
from helpers.training.config import EvalResult, TrainConfig, TrainResult
from helpers.training.early_stopping import EarlyStopping
from helpers.training.inputs import dataset_fingerprint, eval_batch, prepare_dataset

__all__ = [
    "WarmupSchedule",
    "evaluate",
    "fit",
]


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
def torch_threads(num_threads: int | None) -> Iterator[None]:
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
            x, lengths = eval_batch([sequences[j] for j in idx], cfg, pad_to)
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
    check_int("batch_size", batch_size, low=1)
    if not isinstance(dataset, SkeletonDataset):
        raise TypeError(f"dataset: expected a SkeletonDataset, got {type(dataset).__name__}")
    if len(dataset) == 0:
        raise ValueError("dataset holds no clips: there is nothing to evaluate")
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


# =========================================================================== training
def _checked_lr_factors(model: nn.Module, lr_factors: Mapping[str, float] | None) -> dict:
    """``lr_factors`` checked against the model's parameter names: ``{name: factor >= 0}``."""
    if lr_factors is None:
        return {}
    if not isinstance(lr_factors, Mapping):
        raise TypeError(
            f"lr_factors must map parameter names to factors, got {type(lr_factors).__name__}"
        )
    names = {name for name, _ in model.named_parameters()}
    unknown = sorted(set(lr_factors) - names)
    if unknown:
        raise ValueError(
            f"lr_factors names {len(unknown)} parameters the model does not have, e.g. "
            f"{unknown[0]!r} (names as in model.named_parameters())"
        )
    out = {}
    for name, factor in lr_factors.items():
        if isinstance(factor, bool) or not isinstance(factor, (int, float, np.floating)):
            raise TypeError(f"lr_factors[{name!r}] must be a number, got {factor!r}")
        if not (math.isfinite(factor) and factor >= 0):
            raise ValueError(f"lr_factors[{name!r}] must be finite and >= 0, got {factor}")
        out[name] = float(factor)
    return out


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
    eval_every: int = 1,
    checkpoint_seconds: float = 0.0,
    patience: int | None = None,
    lr_factors: Mapping[str, float] | None = None,
) -> TrainResult:
    """Train ``model`` on ``train_ds``; report accuracy on ``val_ds`` every ``eval_every`` epochs.

    Parameters
    ----------
    model : maps (N, C, T, V, M) float32 to (N, K) logits, K = ``train_ds.num_classes``.
    train_ds, val_ds : :class:`SkeletonDataset` (raw positions: the config's centring and
        scaling are applied here). ``val_ds`` only monitors; nothing is chosen from it.
    config : :class:`TrainConfig` or a dict of its fields.
    random_state : seeds data order, augmentation and dropout.
    device : ``'auto'``, ``'cpu'``, ``'cuda'``...
    checkpoint : file written (atomically) after each epoch (see ``checkpoint_seconds``); with
        ``resume=True`` an existing file of the same run is continued from, and a file of
        another run raises :class:`CheckpointMismatchError`.
    on_epoch_end : called as ``on_epoch_end(epoch, history)`` after each epoch (and its
        checkpoint, when one is written).
    num_threads : CPU threads torch may use while training (``None``: torch's current setting).
        On a CPU shared with other busy processes, 1 thread can be many times faster than 2,
        because torch's threads wait for each other after every small operation.
    eval_every : evaluate ``val_ds`` after every ``eval_every``-th epoch and after the last;
        the history holds ``nan`` for the other epochs. Monitoring only: it changes nothing
        that is trained.
    checkpoint_seconds : write the checkpoint after an epoch only when at least this many
        seconds have passed since the last one (and always after the last epoch); 0 writes it
        after every epoch. An interruption then loses at most that much work.
    patience : early stopping (:class:`~helpers.training.early_stopping.EarlyStopping`): score
        ``val_ds`` after every epoch, stop once ``patience`` epochs in a row have not beaten the
        best one, and end with the best epoch's weights (``result.extra['best_epoch']``).
        Needs ``val_ds``; not with ``checkpoint`` (the best weights are kept in memory only).
        None: train all ``config.epochs`` epochs and keep the last weights.
    lr_factors : ``{parameter name: factor}`` (names as in ``model.named_parameters()``): those
        parameters learn at ``factor`` times the learning rate (e.g. 0.1 for transferred
        blocks under a new classifier); the others at 1. Unknown names raise.

    Returns
    -------
    TrainResult
        The model keeps the final epoch's weights, or the best epoch's with ``patience`` (in
        eval mode).
    """
    cfg = TrainConfig.from_dict(config)
    check_int("eval_every", eval_every, low=1)
    check_int("random_state", random_state)
    check_number("checkpoint_seconds", checkpoint_seconds, low=0)
    if num_threads is not None:
        check_int("num_threads", num_threads, low=1)
    for name, ds in (("train_ds", train_ds), ("val_ds", val_ds)):
        if ds is not None and not isinstance(ds, SkeletonDataset):
            raise TypeError(f"{name}: expected a SkeletonDataset, got {type(ds).__name__}")
    if len(train_ds) == 0:
        raise ValueError(
            "train_ds holds no clips: nothing to train on (a task or split with no training "
            "clips? check ds.split and the classes selected)"
        )
    if val_ds is not None and len(val_ds) == 0:
        raise ValueError("val_ds holds no clips: pass None to train without monitoring")
    stopper = None
    if patience is not None:
        if val_ds is None:
            raise ValueError("patience (early stopping) needs val_ds, the clips it scores")
        if checkpoint is not None:
            raise ValueError(
                "patience (early stopping) and checkpoint cannot be combined: the best epoch's "
                "weights are kept in memory only"
            )
        stopper = EarlyStopping(patience)
        eval_every = 1
    factors = _checked_lr_factors(model, lr_factors)
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
    groups: dict[tuple[bool, float], list[nn.Parameter]] = {}
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("the model has no trainable parameter (every one is frozen)")
    for name, p in model.named_parameters():
        # biases and normalisation parameters are not weight-decayed (they set offsets and
        # scales); frozen parameters are left out (they would only carry momentum buffers)
        if p.requires_grad:
            groups.setdefault((p.ndim > 1, factors.get(name, 1.0)), []).append(p)
    optimizer = torch.optim.SGD(
        [
            {
                "params": params,
                "weight_decay": cfg.weight_decay if decayed else 0.0,
                "lr": cfg.lr * factor,
            }
            # decayed weights first, as before learning-rate factors existed (resumable runs)
            for (decayed, factor), params in sorted(
                groups.items(), key=lambda item: (not item[0][0], item[0][1])
            )
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
        state = read_checkpoint(ckpt_path)
        check_matches(
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
        torch_threads(num_threads),
        contextlib.closing(bar),
    ):
        last_save = time.perf_counter()
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
            monitor = (epoch + 1) % int(eval_every) == 0 or epoch + 1 == cfg.epochs
            if val is not None and monitor:
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
            due = time.perf_counter() - last_save >= checkpoint_seconds
            if ckpt_path is not None and (due or epoch + 1 == cfg.epochs):
                last_save = time.perf_counter()
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
            if stopper is not None and stopper.update(epoch + 1, val_acc, val_loss, model):
                break
    if stopper is not None:
        stopper.restore(model)
        extra["best_epoch"] = stopper.best_epoch
    model.eval()
    model.train_config = cfg  # how its inputs are made: layer features and evaluation need it
    return TrainResult(
        history=history,
        config=cfg,
        model_config=model_config_of(model),
        dataset_fingerprint=fingerprint,
        random_state=int(random_state),
        epochs_done=len(history["epoch"]),
        device=str(dev),
        extra=extra,
    )
