"""A chapter's numbers as a tidy table, their units and formats.

:class:`ChapterResults` holds them; :func:`headline_table` stacks them for the results page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "CHAPTER_TITLES",
    "ChapterResults",
    "UNITS",
    "format_value",
    "headline_table",
]

#: The chapters' titles (their first heading; checked by the tests).
CHAPTER_TITLES: dict[str, str] = {
    "02_training": "Training ST-GCN",
    "03_dtw_graphs": "Distances between sequences and neighbourhood graphs",
    "04_embedding_geometry": "The geometry of each layer",
    "05_noise": "Noise on the joints",
    "06_gradcam": "Where each layer looks: layerwise Grad-CAM",
    "07_transfer": "Transfer: which layers can another task reuse?",
    "08_scaling": "Neighbourhood graphs without all pairs",
    "09_own_model": "Your own model",
}

#: How a value of each unit is written in the headline table.
UNITS: dict[str, Callable[[float], str]] = {
    "share": lambda v: f"{v:.1%}",
    "measure": lambda v: f"{v:.3f}",
    "gain": lambda v: f"{v:+.3f}",
    "slope": lambda v: f"{v:+.4f}",
    "correlation": lambda v: f"{v:+.2f}",
    "layer": lambda v: f"{int(v)}",
    "count": lambda v: f"{int(v)}",
    "times": lambda v: f"{v:.1f}x",
    "seconds": lambda v: f"{v:.1f} s",
    "exponent": lambda v: f"{v:.2f}",
}

_COLUMNS = ["chapter", "key", "quantity", "value", "unit"]


@dataclass
class ChapterResults:
    """What one chapter found, as numbers and as the tables of its headline figure.

    Attributes
    ----------
    chapter : the chapter's file stem (``'04_embedding_geometry'``).
    numbers : tidy table, one row per number: ``chapter``, ``key`` (a short identifier),
        ``quantity`` (what it is, in words), ``value`` (float; NaN where undefined), ``unit``
        (a key of :data:`UNITS`).
    data : the tables and values the chapter's headline figure and sentences need.
    settings : the parameters the studies ran with (the chapter's defaults, seeds resolved).
    """

    chapter: str
    numbers: pd.DataFrame
    data: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The chapter's title."""
        return CHAPTER_TITLES.get(self.chapter, self.chapter)

    def value(self, key: str) -> float:
        """The number called ``key``; a ``KeyError`` lists the keys there are."""
        hit = self.numbers.loc[self.numbers["key"] == key, "value"]
        if hit.empty:
            raise KeyError(
                f"{self.chapter} has no number {key!r}; it has {list(self.numbers['key'])}"
            )
        return float(hit.iloc[0])

    def formatted(self, key: str) -> str:
        """The number called ``key`` as the headline table writes it."""
        unit = self.numbers.loc[self.numbers["key"] == key, "unit"]
        return format_value(self.value(key), str(unit.iloc[0]))


# ----------------------------------------------------------------------------- helpers
def numbers_table(chapter: str, rows: Iterable[tuple[str, str, Any, str]]) -> pd.DataFrame:
    """The tidy numbers table from ``(key, quantity, value, unit)`` rows."""
    out = []
    for key, quantity, value, unit in rows:
        if unit not in UNITS:
            raise ValueError(f"{chapter}: unit {unit!r} of {key!r} is not one of {sorted(UNITS)}")
        v = np.nan if value is None else float(value)
        out.append((chapter, key, quantity, v, unit))
    table = pd.DataFrame(out, columns=_COLUMNS)
    if table["key"].duplicated().any():
        raise ValueError(
            f"{chapter}: duplicate keys {sorted(table['key'][table['key'].duplicated()])}"
        )
    return table


def require_columns(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise a ``ValueError`` naming ``what`` when ``table`` is empty or lacks ``columns``."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{what}: expected a DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"{what}: the table lacks the columns {missing} (has {list(table.columns)})"
        )
    if table.empty:
        raise ValueError(f"{what}: the table is empty")


# ----------------------------------------------------------------------------- the page
def format_value(value: float, unit: str) -> str:
    """``value`` as the headline table writes numbers of ``unit`` (``'-'`` for NaN)."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; known: {sorted(UNITS)}")
    if value is None or not np.isfinite(value):
        return "-" if unit != "layer" else "none"
    return UNITS[unit](float(value))


def headline_table(results: Iterable[ChapterResults | None]) -> pd.DataFrame:
    """All chapters' numbers in one table (``None`` entries are skipped), with a ``shown`` column.

    Columns: ``chapter`` (the title), ``quantity``, ``shown`` (formatted), and ``key``,
    ``value``, ``unit``.
    """
    parts = []
    for res in results:
        if res is None:
            continue
        if not isinstance(res, ChapterResults):
            raise TypeError(f"expected ChapterResults, got {type(res).__name__}")
        t = res.numbers.copy()
        t["chapter"] = res.title
        t["shown"] = [format_value(v, u) for v, u in zip(t["value"], t["unit"])]
        parts.append(t)
    if not parts:
        raise ValueError("headline_table: no results to tabulate")
    out = pd.concat(parts, ignore_index=True)
    return out[["chapter", "quantity", "shown", "key", "value", "unit"]]
