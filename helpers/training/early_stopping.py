"""Early stopping on a validation set: keep the weights of the best validation epoch.

:class:`EarlyStopping` is what :func:`helpers.training.loop.fit` uses with ``patience=``: after
every epoch it is told the validation accuracy and loss; it remembers the best epoch (highest
accuracy; among equal accuracies, the lowest loss, because on a validation set of a few dozen
clips many epochs tie on accuracy) and a copy of that epoch's weights, and says when
``patience`` epochs have passed without a better one. :func:`best_epoch` is the same rule on a
finished curve.
"""

from __future__ import annotations

import copy
import math
from typing import Sequence

import numpy as np
from torch import nn

from helpers.runtime.arguments import check_int

__all__ = ["EarlyStopping", "best_epoch"]


def _better(acc: float, loss: float, best_acc: float, best_loss: float) -> bool:
    """Whether (acc, loss) beats the best so far: higher accuracy, or equal and lower loss."""
    if acc != best_acc:
        return acc > best_acc
    return loss < best_loss


def best_epoch(val_acc: Sequence[float], val_loss: Sequence[float]) -> int:
    """The best epoch (1-based) of a validation curve, by the rule of :class:`EarlyStopping`.

    Parameters
    ----------
    val_acc, val_loss : (E,) validation accuracy and loss after each epoch (no NaN).

    Returns
    -------
    The first epoch with the highest accuracy, among those the lowest loss.
    """
    acc = np.asarray(val_acc, np.float64).reshape(-1)
    loss = np.asarray(val_loss, np.float64).reshape(-1)
    if acc.shape != loss.shape or not len(acc):
        raise ValueError(
            f"val_acc and val_loss must be two non-empty curves of one length, got {acc.shape} "
            f"and {loss.shape}"
        )
    if not (np.isfinite(acc).all() and np.isfinite(loss).all()):
        raise ValueError("val_acc and val_loss must be finite at every epoch")
    best = 0
    for e in range(1, len(acc)):
        if _better(acc[e], loss[e], acc[best], loss[best]):
            best = e
    return best + 1


class EarlyStopping:
    """Tracks the best validation epoch and its weights; says when to stop.

    Parameters
    ----------
    patience : stop once this many epochs in a row have not beaten the best (>= 1).

    Attributes
    ----------
    best_epoch : the best epoch so far (1-based; 0 before the first update).
    best_acc, best_loss : its validation accuracy and loss.
    """

    def __init__(self, patience: int):
        self.patience = check_int("patience", patience, low=1)
        self.best_epoch = 0
        self.best_acc = -math.inf
        self.best_loss = math.inf
        self._state: dict | None = None
        self._last = 0

    def update(self, epoch: int, val_acc: float, val_loss: float, model: nn.Module) -> bool:
        """Record ``epoch``'s validation scores; True when training should stop now.

        A better epoch's weights are copied (on the model's device) so that
        :meth:`restore` can put them back.
        """
        if not (math.isfinite(val_acc) and math.isfinite(val_loss)):
            raise ValueError(
                f"early stopping needs finite validation scores, got accuracy {val_acc} and "
                f"loss {val_loss} at epoch {epoch}"
            )
        self._last = int(epoch)
        if _better(float(val_acc), float(val_loss), self.best_acc, self.best_loss):
            self.best_epoch, self.best_acc, self.best_loss = int(epoch), val_acc, val_loss
            self._state = copy.deepcopy(model.state_dict())
        return self._last - self.best_epoch >= self.patience

    def restore(self, model: nn.Module) -> nn.Module:
        """Load the best epoch's weights into ``model`` (unchanged before any update)."""
        if self._state is not None:
            model.load_state_dict(self._state)
        return model
