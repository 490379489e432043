"""Every judgement the book prints, one function each, with its thresholds as named constants."""

from __future__ import annotations

import pandas as pd

__all__ = [
    "EARLY_BLOCKS",
    "LATE_BLOCKS",
    "geometry_verdict",
    "robust_noise_level",
    "separation_layer",
    "transfer_verdict",
]

#: Chapter 4's "early" and "late" blocks (inclusive ranges of layer indices; 0 is the input).
EARLY_BLOCKS: tuple[int, int] = (1, 4)
LATE_BLOCKS: tuple[int, int] = (8, 10)


def separation_layer(values: pd.Series, share: float = 0.5) -> int | None:
    """The layer where the classes separate: the first to make ``share`` of the largest drop.

    ``values`` is a label-smoothness measure by layer (layer 0 the input; lower is smoother).
    The largest drop is from the input to the smoothest layer; the answer is the first layer
    whose value is at or below ``input - share * drop``. ``None`` when no layer is smoother than
    the input.
    """
    if not 0 < share <= 1:
        raise ValueError(f"share={share!r}: must be in (0, 1]")
    v = pd.Series(values, dtype=float).dropna().sort_index()
    if v.empty:
        raise ValueError("separation_layer: no values")
    start = float(v.iloc[0])
    drop = start - float(v.min())
    if not drop > 0:
        return None
    reached = v[v <= start - share * drop + 1e-12]
    return int(reached.index[0])


def geometry_verdict(early_drop: float, late_drop: float) -> str:
    """Chapter 4's verdict from the relative drops of label variation below the input.

    ``'late'``: the classes separate mostly in the later layers (a drop over 25% in blocks
    8-10, more than twice that of blocks 1-4), as the paper reports; ``'early'``: they already
    separate in the first blocks (over 25% there, at least half of the late drop); else
    ``'unclear'``.
    """
    if late_drop > 0.25 and late_drop > 2 * max(early_drop, 0.0):
        return "late"
    if early_drop > 0.25 and early_drop >= 0.5 * late_drop:
        return "early"
    return "unclear"


# ----------------------------------------------------------------------------- chapter 5
def robust_noise_level(last_block: pd.Series, gap: float, tolerance: float = 0.25) -> float:
    """Chapter 5's verdict: the largest noise level up to which the paper's claim holds.

    ``last_block`` is the trained networks' last-block label variation by noise level, ``gap``
    what training changes without noise (the untrained minus the trained value). Walking up the
    levels, the answer is the last level before the first one whose value moves from the
    clean one by more than ``tolerance * gap``.
    """
    v = pd.Series(last_block, dtype=float).sort_index()
    if v.empty:
        raise ValueError("robust_noise_level: no levels")
    clean = float(v.iloc[0])
    limit = float(v.index[0])
    for level, value in v.items():
        if abs(value - clean) > tolerance * gap:
            break
        limit = float(level)
    return limit


# ----------------------------------------------------------------------------- chapter 7
def transfer_verdict(early_acc: float, late_acc: float, spread: float) -> str:
    """Chapter 7's verdict from the accuracy with few and with many frozen blocks.

    ``'within spread'`` when the two differ by no more than the spread over seeds; ``'few'``
    when freezing few blocks is better (the late layers must be retrained, the early ones can
    be kept, as the paper's explanation says); ``'many'`` when freezing many is better.
    """
    if abs(early_acc - late_acc) <= spread:
        return "within spread"
    return "few" if early_acc > late_acc else "many"
