"""Figures for Grad-CAM: joints-by-time heat maps, skeletons coloured by importance, checks.

* :func:`plot_heatmap`: one map, joints (rows) by time (columns);
* :func:`plot_skeleton_importance`: a frame of the skeleton, joint size and colour by importance;
* :func:`plot_class_importance`: class-average joint importance, joints by classes;
* :func:`plot_cascading`, :func:`plot_agreement`, :func:`plot_deletion`,
  :func:`plot_deletion_gains`: the sanity and faithfulness checks;
* :func:`gradcam_explorer`: an ipywidgets viewer (clip, layer, target class, frame) of
  pre-rendered images linked in the browser, so it also works in the static book.
"""

from __future__ import annotations

import io
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.plots.style import BOOK_WIDTH, book_style, book_subplots, fit_tick_labels

__all__ = [
    "gradcam_explorer",
    "plot_agreement",
    "plot_cascading",
    "plot_class_importance",
    "plot_deletion",
    "plot_deletion_gains",
    "plot_heatmap",
    "plot_skeleton_importance",
]

CMAP = "inferno"
#: Share of the explorer's width given to the heat map; the rest shows the skeleton, which is
#: narrow (a standing figure) and needs less.
_HEAT_SHARE = 0.68
#: Height of the explorer's images in inches: room for a joint label per row at MIN_FONT.
_EXPLORER_HEIGHT = 3.6
#: Inches left free beside the two images for the widgets' own margins, so both fit the page.
_EXPLORER_GAP = 0.4


def plot_heatmap(
    ax,
    heat: np.ndarray,
    *,
    joint_names: Sequence[str] | None = None,
    fps: float | None = None,
    title: str | None = None,
    frame: int | None = None,
    vmax: float | None = None,
    joint_labels: bool = True,
):
    """Draw a (T, V) map as joints (rows) by time (columns); returns the image artist.

    ``fps`` labels the time axis in seconds (else frames); ``frame`` draws a marker line there;
    ``vmax`` fixes the colour scale (default: the map's maximum).
    """
    heat = np.asarray(heat, dtype=np.float64)
    if heat.ndim != 2:
        raise ValueError(f"heat must be (T, V), got {heat.shape}")
    t, v = heat.shape
    scale = 1.0 / fps if fps and np.isfinite(fps) else 1.0
    top = vmax if vmax is not None else (heat.max() if heat.max() > 0 else 1.0)
    im = ax.imshow(
        heat.T,
        aspect="auto",
        origin="upper",
        cmap=CMAP,
        vmin=0.0,
        vmax=top,
        extent=(-0.5 * scale, (t - 0.5) * scale, v - 0.5, -0.5),
        interpolation="nearest",
    )
    if joint_labels and joint_names is not None:
        # as large as the axes' height allows; every other joint when all would be too small
        fit_tick_labels(ax, list(joint_names), "y")
    else:
        ax.set_yticks([])
    ax.set_xlabel("time (s)" if scale != 1.0 else "frame")
    if frame is not None:
        ax.axvline(frame * scale, color="cyan", lw=1.0)
    if title:
        ax.set_title(title)
    return im


def plot_skeleton_importance(
    ax,
    frame: np.ndarray,
    edges,
    importance: np.ndarray,
    *,
    up_axis: int = 1,
    horizontal_axis: int = 0,
    vmax: float | None = None,
    title: str | None = None,
    max_size: float = 160.0,
):
    """A (V, 3) skeleton frame projected on a plane, joints sized and coloured by ``importance``.

    ``importance`` is (V,) non-negative; ``vmax`` fixes the scale (default: its maximum).
    Returns the scatter artist.
    """
    frame = np.asarray(frame, dtype=np.float64)
    imp = np.asarray(importance, dtype=np.float64).reshape(-1)
    if frame.ndim != 2 or frame.shape != (len(imp), frame.shape[1]):
        raise ValueError(f"frame (V, 3) and importance (V,) disagree: {frame.shape}, {imp.shape}")
    top = vmax if vmax is not None else (imp.max() if imp.max() > 0 else 1.0)
    share = np.clip(imp / top, 0.0, 1.0)
    x, y = frame[:, horizontal_axis], frame[:, up_axis]
    for a, b in np.asarray(edges, dtype=np.int64).reshape(-1, 2):
        ax.plot(x[[a, b]], y[[a, b]], color="0.6", lw=1.5, zorder=1)
    sc = ax.scatter(
        x,
        y,
        s=8 + max_size * share,
        c=share,
        cmap=CMAP,
        vmin=0,
        vmax=1,
        zorder=2,
        edgecolors="k",
        linewidths=0.3,
    )
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return sc


def plot_class_importance(
    ax,
    class_importance: np.ndarray,
    class_names: Sequence[str],
    joint_names: Sequence[str] | None = None,
    *,
    title: str | None = None,
    normalize: bool = True,
):
    """Joints (rows) by classes (columns) heat map of (K, V) class importance.

    With ``normalize`` each class is scaled to a maximum of 1. Returns the image artist.
    """
    imp = np.asarray(class_importance, dtype=np.float64)
    if normalize:
        top = np.nanmax(imp, axis=1, keepdims=True)
        imp = np.divide(imp, top, out=np.zeros_like(imp), where=top > 0)
    im = ax.imshow(imp.T, aspect="auto", cmap=CMAP, vmin=0, interpolation="nearest")
    fit_tick_labels(ax, [c[:14] for c in class_names], "x", rotation=60, ha="right")
    if joint_names is not None:
        fit_tick_labels(ax, list(joint_names), "y")
    if title:
        ax.set_title(title)
    return im


def plot_cascading(ax, table: pd.DataFrame, *, layers: Sequence[int] | None = None) -> None:
    """Rank correlation with the trained maps as ever more blocks are re-initialised.

    x: the randomisation steps (classifier, then blocks from the top); one line per layer (the
    table of :func:`helpers.explain.checks.cascading_randomization`).
    """
    import matplotlib as mpl

    layers = sorted(table.layer.unique()) if layers is None else list(layers)
    steps = sorted(table.step.unique())
    labels = table.drop_duplicates("step").set_index("step").loc[steps, "randomized"].tolist()
    cmap = mpl.colormaps["viridis"]
    for i, layer in enumerate(layers):
        part = table[table.layer == layer].sort_values("step")
        ax.plot(
            [0] + part.step.tolist(),
            [1.0] + part.spearman.tolist(),
            "o-",
            ms=3,
            color=cmap(i / max(1, len(layers) - 1)),
            label=f"block {layer}",
        )
    ax.set_xticks([0] + steps)
    ax.set_xticklabels(["none"] + labels, rotation=60, ha="right")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("re-initialised (classifier, then blocks from the top)")
    ax.set_ylabel("Spearman ρ with trained maps")
    ax.legend(ncol=2)


def plot_deletion(ax, curves: pd.DataFrame, curve: str = "deletion", layers=None) -> None:
    """Target probability against the share of units removed (or inserted).

    One line per layer's ranking, the motion-energy order as a solid black line and the random
    orders' mean as a dashed one (the mean curves of
    :func:`helpers.explain.deletion.deletion_areas`, one unit; its name is taken from a
    ``unit`` column when there is one).
    """
    import matplotlib as mpl

    part = curves[curves.curve == curve]
    unit = str(part["unit"].iloc[0]) if "unit" in part and len(part) else "unit"
    grad = part[part.ranking == "gradcam"]
    layers = sorted(grad.layer.unique()) if layers is None else list(layers)
    cmap = mpl.colormaps["viridis"]
    for i, layer in enumerate(layers):
        p = grad[grad.layer == layer].sort_values("fraction")
        ax.plot(
            p.fraction,
            p.score,
            color=cmap(i / max(1, len(layers) - 1)),
            label=f"block {int(layer)}",
        )
    for ranking, style, label in (("motion", "k-", "motion order"), ("random", "k--", "random")):
        r = part[part.ranking == ranking].sort_values("fraction")
        if len(r):
            ax.plot(r.fraction, r.score, style, lw=2, label=label)
    ax.set_xlabel(f"share of {unit}s {'removed' if curve == 'deletion' else 'inserted'}")
    ax.set_ylabel("target class probability")
    ax.set_title(curve)
    ax.legend(ncol=2, fontsize="small")


def plot_deletion_gains(gains: pd.DataFrame, curve: str = "deletion"):
    """Each block's gain over the random and the motion-energy order, per unit, with intervals.

    Parameters
    ----------
    gains : :func:`helpers.explain.deletion.deletion_gains` with a ``unit`` column.
    curve : ``'deletion'`` or ``'insertion'``.

    Returns
    -------
    The figure: one panel per unit; above the zero line the map's order removes (inserts) what
    matters sooner than the other order.
    """
    part = gains[gains["curve"] == curve]
    units = list(dict.fromkeys(part["unit"]))
    fig, axes = book_subplots(1, len(units), panel=(3.4, 3.0), squeeze=False, sharey=True)
    for ax, unit in zip(axes[0], units):
        for against, color, marker in (("random", "C7", "o"), ("motion", "C3", "s")):
            p = part[(part["unit"] == unit) & (part["against"] == against)].sort_values("layer")
            ax.fill_between(p["layer"], p["low"], p["high"], color=color, alpha=0.25, lw=0)
            ax.plot(p["layer"], p["estimate"], color=color, marker=marker, ms=3,
                    label=f"over the {against} order")  # fmt: skip
        ax.axhline(0, color="k", lw=1)
        ax.set_title(f"{unit}s")
        ax.set_xlabel("block")
        ax.set_xticks(sorted(part["layer"].unique()))
    axes[0, 0].set_ylabel(f"{curve} gain (area)")
    axes[0, 0].legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_agreement(intervals: pd.DataFrame, ax=None):
    """Per block, the maps' agreement with another real network's and the controls'.

    The rank correlation with the real network's maps, with 95% intervals, of a second real
    network (seed to seed), of the memorising shuffled-label control and, where measured, of
    the real network with every block re-initialised (cascading randomisation's last step).
    ``intervals``: :attr:`helpers.studies.gradcam.GradcamChecks.agreement_intervals`.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(min(BOOK_WIDTH, 6.0), 3.2))
    lines = (
        ("another seed", "C0", "o", "another real network"),
        ("shuffled labels", "C1", "^", "shuffled-label control"),
        ("every block random", "C2", "s", "every block re-initialised"),
    )
    for other, color, marker, label in lines:
        p = intervals[intervals["other"] == other].sort_values("layer")
        if not len(p):
            continue
        ax.fill_between(p["layer"], p["low"], p["high"], color=color, alpha=0.25, lw=0)
        ax.plot(p["layer"], p["estimate"], color=color, marker=marker, ms=3, label=label)
    ax.axhline(0, color="k", lw=1)
    ax.set_xlabel("block")
    ax.set_ylabel("rank correlation with the maps")
    ax.legend(fontsize="small")
    return ax


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def gradcam_explorer(
    clips: Sequence[Mapping],
    *,
    edges,
    joint_names: Sequence[str] | None = None,
    fps: float | None = None,
    up_axis: int = 1,
    frames: int = 5,
    dpi: float = 90.0,
):
    """An ipywidgets viewer: clip, layer, target class and frame, all linked in the browser.

    Parameters
    ----------
    clips : one mapping per clip with ``'title'`` (str), ``'positions'`` ((T, V, 3) joint
        positions for drawing), and ``'maps'``: ``{target_name: {layer: (T, V) map}}`` at the
        input's frames (e.g. the predicted and the true class).
    edges, joint_names, fps, up_axis : the skeleton and its time axis.
    frames : key frames per clip offered by the frame slider (evenly spaced; cyan lines on the
        heat map).
    dpi : resolution of the images. The heat map and the skeleton together are
        :data:`~helpers.plots.style.BOOK_WIDTH` wide at most and drawn in the book's style, so at
        ``dpi`` about that of the page their text reads like the page's own.

    Returns
    -------
    An ``ipywidgets.VBox``. Every view is rendered beforehand and shown by nested ``Stack``
    widgets whose ``selected_index`` is ``jslink``-ed to the controls, so a static page that
    saved the widget state (Jupyter Book does) can still be explored without a kernel.
    """
    import ipywidgets as widgets
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not clips:
        raise ValueError("gradcam_explorer needs at least one clip")
    targets = list(clips[0]["maps"])
    layers = sorted(clips[0]["maps"][targets[0]])
    for c in clips:
        if list(c["maps"]) != targets or any(sorted(c["maps"][t]) != layers for t in targets):
            raise ValueError("every clip must have maps for the same targets and layers")
    # Selection widgets have a 0-based ``index``: that is what the stacks are linked to
    layer_slider = widgets.SelectionSlider(
        options=[str(v) for v in layers], index=len(layers) - 1, description="block"
    )
    frame_slider = widgets.SelectionSlider(
        options=[str(i + 1) for i in range(frames)], index=0, description="key frame"
    )
    clip_pick = widgets.Dropdown(options=[c["title"] for c in clips], index=0, description="clip")
    target_pick = widgets.Dropdown(options=targets, index=0, description="explains")

    def image(fig) -> "widgets.Image":
        return widgets.Image(value=_png(fig), format="png")

    heat_size = (BOOK_WIDTH * _HEAT_SHARE, _EXPLORER_HEIGHT)
    skeleton_size = (BOOK_WIDTH * (1.0 - _HEAT_SHARE) - _EXPLORER_GAP, _EXPLORER_HEIGHT)
    # the book's fonts inside, the caller's settings back afterwards
    with book_style():
        # Two stacks per (clip, target, layer): the heat map (one image) and the skeleton at each
        # key frame (small images), so the frame control costs small drawings only.
        clip_children = []
        for c in clips:
            pos = np.asarray(c["positions"])
            t_len = pos.shape[0]
            keys = np.linspace(0, t_len - 1, frames).round().astype(int)
            target_children = []
            for tname in targets:
                layer_children = []
                for layer in layers:
                    heat = np.asarray(c["maps"][tname][layer])[:t_len]
                    top = heat.max() if heat.max() > 0 else 1.0
                    fig = Figure(figsize=heat_size, dpi=dpi)
                    FigureCanvasAgg(fig)
                    ax = fig.add_axes((0.2, 0.14, 0.77, 0.76))
                    plot_heatmap(
                        ax,
                        heat,
                        joint_names=joint_names,
                        fps=fps,
                        vmax=top,
                        title=f"block {layer}, explaining the {tname}",
                    )
                    for f in keys:
                        ax.axvline(f / fps if fps and np.isfinite(fps) else f, color="cyan", lw=0.6)
                    heat_image = image(fig)
                    frame_children = []
                    for n, f in enumerate(keys):
                        fig = Figure(figsize=skeleton_size, dpi=dpi)
                        FigureCanvasAgg(fig)
                        ax = fig.add_axes((0.02, 0.02, 0.96, 0.88))
                        when = f"{f / fps:.1f} s" if fps and np.isfinite(fps) else f"frame {f}"
                        plot_skeleton_importance(
                            ax,
                            pos[int(f)],
                            edges,
                            heat[int(f)],
                            up_axis=up_axis,
                            vmax=top,
                            title=f"key frame {n + 1}: {when}",
                            max_size=120.0,
                        )
                        frame_children.append(image(fig))
                    fstack = widgets.Stack(frame_children, selected_index=0)
                    widgets.jslink((frame_slider, "index"), (fstack, "selected_index"))
                    layer_children.append(widgets.HBox([heat_image, fstack]))
                lstack = widgets.Stack(layer_children, selected_index=len(layers) - 1)
                widgets.jslink((layer_slider, "index"), (lstack, "selected_index"))
                target_children.append(lstack)
            tstack = widgets.Stack(target_children, selected_index=0)
            widgets.jslink((target_pick, "index"), (tstack, "selected_index"))
            clip_children.append(tstack)
    cstack = widgets.Stack(clip_children, selected_index=0)
    widgets.jslink((clip_pick, "index"), (cstack, "selected_index"))
    controls = widgets.HBox(
        [widgets.VBox([clip_pick, target_pick]), widgets.VBox([layer_slider, frame_slider])]
    )
    return widgets.VBox([controls, cstack])
