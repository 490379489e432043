"""The book's figure style: one page width, font sizes readable at it, panels that wrap.

A figure in the book is shrunk to the width of the page's text column, so a figure drawn wider
than that column prints its fonts smaller than the text. Everything here follows from one width,
:data:`BOOK_WIDTH`:

* :func:`book_style` sets matplotlib's font sizes (:data:`BOOK_RC`) so that text drawn at that
  width reads like the page's own small print; call it once at the top of a chapter, or use it
  as a ``with`` block for one figure;
* :func:`book_figsize` caps a figure's width at :data:`BOOK_WIDTH`;
* :func:`book_subplots` is :func:`matplotlib.pyplot.subplots` for panels of a given size: the
  panels that do not fit beside each other within the width wrap into more rows (the figure
  grows in height, never beyond the page's width), and the axes come back in the requested
  ``(nrows, ncols)`` shape, in reading order;
* :func:`fit_tick_labels` puts many category labels (joints, classes) on an axis at the largest
  size that fits, never below :data:`MIN_FONT`, showing every other (third, ...) label when all
  of them would not fit.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.font_manager import FontProperties

__all__ = [
    "BOOK_RC",
    "BOOK_WIDTH",
    "MIN_FONT",
    "book_figsize",
    "book_style",
    "book_subplots",
    "fit_tick_labels",
]

#: Width of the book's text column in inches. The book theme's content column is about 900 px
#: wide and notebook figures are rendered at 100 dpi, so a figure up to 9 inches wide is shown at
#: its natural size; a wider one is scaled down, fonts included.
BOOK_WIDTH = 9.0

#: The smallest font size (points) drawn in a figure: at 100 dpi and natural size, 9 pt is about
#: 12.5 px, the size of the theme's captions; anything smaller reads as noise next to the text.
MIN_FONT = 9.0

#: Font sizes (points) of :func:`book_style`: 11 pt body (15 px at 100 dpi, about the page's
#: 16 px text), titles a step larger, tick labels and legends a step smaller but above MIN_FONT.
BOOK_RC: dict[str, Any] = {
    "font.size": 11.0,
    "axes.titlesize": 12.0,
    "axes.labelsize": 11.0,
    "xtick.labelsize": 10.0,
    "ytick.labelsize": 10.0,
    "legend.fontsize": 10.0,
    "legend.title_fontsize": 10.0,
    "figure.titlesize": 13.0,
}

#: Share of a tick's slot that its label may fill: leaves a little space between neighbours.
_LABEL_FILL = 0.9


class _Restore:
    """The rcParams a :func:`book_style` call replaced; restored when its ``with`` block ends."""

    def __init__(self, saved: dict[str, Any]) -> None:
        self._saved = saved

    def __enter__(self) -> _Restore:
        return self

    def __exit__(self, *exc: object) -> None:
        mpl.rcParams.update(self._saved)


def book_style(**overrides: Any) -> _Restore:
    """Set the book's font sizes (:data:`BOOK_RC`, then ``overrides``) in matplotlib's rcParams.

    Called on its own, the style holds for the rest of the session (a chapter calls it once after
    importing pyplot); used as ``with book_style(): ...``, the previous settings come back when
    the block ends.

    Parameters
    ----------
    **overrides : further rcParams (e.g. ``{"font.size": 12}`` as ``**{...}``), applied last.

    Returns
    -------
    A context manager that restores the replaced rcParams on exit.
    """
    settings = {**BOOK_RC, **overrides}
    saved = {key: mpl.rcParams[key] for key in settings}
    mpl.rcParams.update(settings)
    return _Restore(saved)


def book_figsize(width: float, height: float) -> tuple[float, float]:
    """``(width, height)`` in inches with the width capped at :data:`BOOK_WIDTH`.

    The height is kept: a capped figure keeps the room its panels have vertically. Multi-panel
    figures that need their panels' width should use :func:`book_subplots`, which wraps them.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"figure size must be positive, got {(width, height)}")
    return (min(float(width), BOOK_WIDTH), float(height))


def book_subplots(
    nrows: int = 1,
    ncols: int = 1,
    *,
    panel: tuple[float, float] = (4.0, 3.2),
    **kwargs: Any,
):
    """A figure of ``nrows * ncols`` panels of size ``panel``, wrapped to :data:`BOOK_WIDTH`.

    When ``ncols`` panels of width ``panel[0]`` fit beside each other, this is
    ``plt.subplots(nrows, ncols, figsize=(ncols * w, nrows * h))`` (capped at the page's width).
    When they do not, the panels are laid out in reading order on as many columns as fit (at least
    one), on more rows; the axes beyond the last panel are removed.

    Parameters
    ----------
    nrows, ncols : the panels' logical grid; the returned axes have this shape.
    panel : (width, height) of one panel in inches, its labels included.
    **kwargs : passed to :func:`matplotlib.pyplot.subplots` (``sharex``, ``sharey``,
        ``gridspec_kw``...); ``squeeze`` applies to the returned shape. ``gridspec_kw`` with
        ``width_ratios`` keeps the one-row layout (the ratios describe it), capped in width.

    Returns
    -------
    fig, axes : the figure and its axes: one ``Axes`` or an array shaped ``(nrows, ncols)``
        (squeezed as :func:`matplotlib.pyplot.subplots` does unless ``squeeze=False``).
    """
    import matplotlib.pyplot as plt

    if nrows < 1 or ncols < 1:
        raise ValueError(f"nrows and ncols must be at least 1, got {nrows}, {ncols}")
    width, height = panel
    squeeze = kwargs.pop("squeeze", True)
    if "figsize" in kwargs:
        raise TypeError("book_subplots takes the size of one panel (panel=...), not figsize")
    ratios = "width_ratios" in kwargs.get("gridspec_kw", {}) or "width_ratios" in kwargs
    fit = max(1, int(BOOK_WIDTH // width))  # panels that fit side by side
    if ncols <= fit or ratios:
        rows, cols = nrows, ncols
    else:
        cols = fit
        rows = math.ceil(nrows * ncols / cols)
    fig, grid = plt.subplots(
        rows, cols, figsize=book_figsize(cols * width, rows * height), squeeze=False, **kwargs
    )
    flat = grid.ravel()
    for ax in flat[nrows * ncols :]:
        ax.remove()
    axes = np.empty(nrows * ncols, dtype=object)
    axes[:] = list(flat[: nrows * ncols])
    axes = axes.reshape(nrows, ncols)
    if squeeze:
        axes = axes.squeeze()
        if axes.ndim == 0:
            axes = axes.item()
    return fig, axes


def fit_tick_labels(
    ax,
    labels: Sequence[str],
    axis: str = "y",
    *,
    rotation: float = 0.0,
    **text_kwargs: Any,
) -> float:
    """Label the ticks 0..n-1 of ``axis`` with ``labels`` at the largest size that fits.

    The size is the rcParams tick size, reduced until one label's height fits its slot along
    the axis, but never below :data:`MIN_FONT`; when even that does not fit, only every k-th
    label is shown (k as small as fits). The axes' size is read from its figure, so call this
    after the figure's size and layout are set.

    Parameters
    ----------
    ax : the axes.
    labels : (n,) tick labels, for ticks at 0..n-1.
    axis : ``'x'`` or ``'y'``.
    rotation, **text_kwargs : passed to the tick labels (e.g. ``ha='right'``).

    Returns
    -------
    The font size used, in points.
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    n = len(labels)
    box = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    length_pt = 72.0 * (box.height * fig_h if axis == "y" else box.width * fig_w)
    slot = _LABEL_FILL * length_pt / max(n, 1)
    rc_size = FontProperties(size=mpl.rcParams[f"{axis}tick.labelsize"]).get_size_in_points()
    size = min(float(rc_size), slot)
    step = 1
    if size < MIN_FONT:
        size = MIN_FONT
        step = math.ceil(MIN_FONT / max(slot, 1e-9))
    ticks = list(range(0, n, step))
    shown = [labels[i] for i in ticks]
    if axis == "y":
        ax.set_yticks(ticks)
        ax.set_yticklabels(shown, fontsize=size, rotation=rotation, **text_kwargs)
    else:
        ax.set_xticks(ticks)
        ax.set_xticklabels(shown, fontsize=size, rotation=rotation, **text_kwargs)
    return size
