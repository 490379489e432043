"""Checkpoints: one file per model, written atomically, checked on loading.

Each holds the weights, the configurations, the history and the dataset's fingerprint.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from helpers.nets.stgcn import STGCN
from helpers.runtime.device import resolve_device
from helpers.runtime.disk_cache import atomic_path, plain
from helpers.training.config import EvalResult, TrainConfig, TrainResult

__all__ = [
    "CheckpointError",
    "CheckpointMismatchError",
    "load_checkpoint",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "stgcn-geometry-checkpoint"
CHECKPOINT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read or is not one of ours."""


class CheckpointMismatchError(CheckpointError):
    """A readable checkpoint that belongs to a different model, configuration or dataset."""


# =========================================================================== checkpoints
def model_config_of(model: nn.Module) -> dict:
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
        "model_config": _plain(model_config_of(model)),
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


def read_checkpoint(path: str | Path) -> dict:
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
            "it was not written by helpers.training.checkpoints.save_checkpoint"
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


def check_matches(
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
            f"model config {p}"
            for p in _diff(state["model_config"], _plain(model_config_of(model)))
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
    state = read_checkpoint(path)
    if model is None:
        if not state["model_config"]:
            raise CheckpointError(
                f"checkpoint {path} holds a {state.get('model_class')} without a config; "
                "pass the model to load the weights into"
            )
        model = STGCN.from_config(state["model_config"])
    else:
        check_matches(
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
