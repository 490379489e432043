"""Draw skeletons: a 3-D frame, a 2-D graph drawing, a playable animation and a widget player.

Coordinates are drawn with the dataset's up axis (``up_axis``, y for HDM05 and NTU) as
matplotlib's vertical axis. The two horizontal axes keep a right-handed order (for y up:
z, x, y), so a skeleton is rotated into place, never mirrored: left stays left.

* :func:`plot_skeleton` draws one frame on a 3-D axes and returns the artists;
* :func:`plot_skeleton_2d` draws a frame projected on the vertical plane, with joint labels,
  to show the graph itself;
* :func:`skeleton_animation` returns a :class:`~matplotlib.animation.FuncAnimation`;
  :func:`animation_html` turns it into a self-contained player that works in a static HTML page,
  offline too;
* :func:`skeleton_player` returns an ipywidgets player (sequence chooser, play button, frame
  slider) for live notebooks.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Sequence

import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from helpers.data.skeletons import joint_sides
from helpers.plots.style import MIN_FONT

__all__ = [
    "SIDE_COLORS",
    "edge_colors_by_side",
    "to_display",
    "plot_skeleton",
    "plot_skeleton_2d",
    "plot_partition",
    "skeleton_animation",
    "animation_html",
    "skeleton_player",
]

#: Colours for the left side, the right side and the centre line of the body.
SIDE_COLORS = {"L": "tab:blue", "R": "tab:red", "C": "0.35"}


def edge_colors_by_side(joint_names: Sequence[str], edges: np.ndarray) -> list[str]:
    """One colour per edge from its child joint's body side (blue left, red right, grey centre).

    Sides are those of :func:`helpers.data.skeletons.joint_sides`: a built-in layout's own, else
    read from 'left'/'right' in the joint names.
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    sides = joint_sides(joint_names)
    return [SIDE_COLORS[sides[int(c)]] for _, c in edges]


def to_display(points: np.ndarray, up_axis: int = 1) -> np.ndarray:
    """Reorder (..., 3) points to matplotlib's (horizontal, horizontal, vertical), right-handed."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.shape[-1] != 3:
        raise ValueError(f"expected 3-D points with shape (..., 3), got {pts.shape}")
    if up_axis not in (0, 1, 2):
        raise ValueError(f"up_axis must be 0, 1 or 2, got {up_axis}")
    return pts[..., [(up_axis + 1) % 3, (up_axis + 2) % 3, up_axis]]


def _cube_limits(points: np.ndarray) -> np.ndarray:
    """(3, 2) axis limits of a cube around display points (..., 3), so the aspect stays 1:1:1."""
    pts = points.reshape(-1, 3)
    lo, hi = pts.min(0), pts.max(0)
    mid, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 1e-3) * 1.05
    return np.stack([mid - half, mid + half], axis=1)


def _check_frame(frame: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    frame = np.asarray(frame, dtype=np.float64)
    if frame.ndim != 2 or frame.shape[1] != 3:
        raise ValueError(f"a skeleton frame must have shape (V, 3), got {frame.shape}")
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if edges.size and (edges.min() < 0 or edges.max() >= len(frame)):
        raise ValueError(f"edges refer to joints outside 0..{len(frame) - 1}")
    return frame, edges


@dataclass
class SkeletonArtists:
    """The artists of a drawn skeleton, for updating them frame by frame."""

    bones: list  # one Line3D per edge
    joints: object  # a Line3D of markers
    up_axis: int

    def update(self, frame: np.ndarray, edges: np.ndarray) -> None:
        """Move the drawing to a new (V, 3) frame."""
        p = to_display(frame, self.up_axis)
        for line, (a, b) in zip(self.bones, edges):
            line.set_data_3d(p[[a, b], 0], p[[a, b], 1], p[[a, b], 2])
        self.joints.set_data_3d(p[:, 0], p[:, 1], p[:, 2])


def plot_skeleton(
    ax,
    frame: np.ndarray,
    edges,
    *,
    up_axis: int = 1,
    edge_colors: Sequence[str] | None = None,
    color: str = "0.35",
    linewidth: float = 2.0,
    joint_size: float = 2.0,
    limits: np.ndarray | None = None,
    title: str | None = None,
    elev: float = 12.0,
    azim: float = -60.0,
    zoom: float = 1.5,
    show_axes: bool = False,
) -> SkeletonArtists:
    """Draw one (V, 3) skeleton frame on a 3-D axes (``fig.add_subplot(projection='3d')``).

    edges: (E, 2) joint index pairs; ``edge_colors``: E colours (default: all ``color``).
    limits: (V', 3) points (e.g. the whole sequence) whose bounding cube fixes the view;
    default: this frame. Returns the artists (see :class:`SkeletonArtists`).
    """
    frame, edges = _check_frame(frame, edges)
    if not hasattr(ax, "set_zlim"):
        raise ValueError("plot_skeleton needs a 3-D axes: fig.add_subplot(projection='3d')")
    colors = list(edge_colors) if edge_colors is not None else [color] * len(edges)
    if len(colors) != len(edges):
        raise ValueError(f"{len(colors)} edge colours for {len(edges)} edges")
    p = to_display(frame, up_axis)
    bones = [
        ax.plot(
            p[[a, b], 0], p[[a, b], 1], p[[a, b], 2], color=c, lw=linewidth, solid_capstyle="round"
        )[0]
        for (a, b), c in zip(edges, colors)
    ]
    joints = ax.plot(p[:, 0], p[:, 1], p[:, 2], "o", color="k", ms=joint_size, ls="")[0]
    box = _cube_limits(to_display(limits, up_axis) if limits is not None else p)
    ax.set_xlim(*box[0])
    ax.set_ylim(*box[1])
    ax.set_zlim(*box[2])
    ax.set_box_aspect((1, 1, 1), zoom=zoom)
    ax.view_init(elev=elev, azim=azim)
    if not show_axes:
        ax.set_axis_off()
    if title:
        ax.set_title(title)
    return SkeletonArtists(bones=bones, joints=joints, up_axis=up_axis)


def plot_skeleton_2d(
    ax,
    frame: np.ndarray,
    edges,
    *,
    joint_names: Sequence[str] | None = None,
    up_axis: int = 1,
    horizontal_axis: int = 0,
    edge_colors: Sequence[str] | None = None,
    label: str = "index",
    fontsize: float = MIN_FONT,
) -> None:
    """Draw a (V, 3) frame projected on the plane (``horizontal_axis``, ``up_axis``) as a graph.

    label: ``'index'`` (joint numbers), ``'name'`` (``joint_names``), ``'both'`` or ``None``.
    """
    frame, edges = _check_frame(frame, edges)
    colors = list(edge_colors) if edge_colors is not None else ["0.35"] * len(edges)
    x, y = frame[:, horizontal_axis], frame[:, up_axis]
    for (a, b), c in zip(edges, colors):
        ax.plot(x[[a, b]], y[[a, b]], color=c, lw=2, zorder=1)
    ax.scatter(x, y, s=18, color="k", zorder=2)
    if label is not None:
        if label in ("name", "both") and joint_names is None:
            raise ValueError(f"label={label!r} needs joint_names")
        for j in range(len(frame)):
            text = {
                "index": str(j),
                "name": joint_names[j] if joint_names else str(j),
                "both": f"{j} {joint_names[j]}" if joint_names else str(j),
            }[label]
            ax.annotate(
                text, (x[j], y[j]), xytext=(3, 2), textcoords="offset points", fontsize=fontsize
            )
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def _frame_index(num_frames: int, max_frames: int | None) -> np.ndarray:
    if max_frames is None or num_frames <= max_frames:
        return np.arange(num_frames)
    if max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    return np.unique(np.round(np.linspace(0, num_frames - 1, max_frames)).astype(np.int64))


def _check_sequence(sequence: np.ndarray) -> np.ndarray:
    seq = np.asarray(sequence, dtype=np.float64)
    if seq.ndim == 4:  # (T, M, V, 3): show the first body
        seq = seq[:, 0]
    if seq.ndim != 3 or seq.shape[-1] != 3 or len(seq) == 0:
        raise ValueError(
            f"a skeleton sequence must have shape (T, V, 3) with T >= 1, got {np.shape(sequence)}"
        )
    return seq


def skeleton_animation(
    sequence: np.ndarray,
    edges,
    *,
    fps: float = 30.0,
    max_frames: int | None = 60,
    up_axis: int = 1,
    edge_colors: Sequence[str] | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (3.0, 3.0),
    dpi: float = 60.0,
    elev: float = 12.0,
    azim: float = -60.0,
) -> FuncAnimation:
    """An animation of a (T, V, 3) sequence; ``.to_jshtml()`` gives a static, playable HTML player.

    At most ``max_frames`` evenly spaced frames are kept (to keep the HTML small), and the frame
    interval is stretched so that playback still runs in real time at the sequence's ``fps``.
    The figure is detached from pyplot, so the notebook shows only what you display.
    """
    seq = _check_sequence(sequence)
    idx = _frame_index(len(seq), max_frames)
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection="3d")
    fig.subplots_adjust(0, 0, 1, 0.92 if title else 1)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    art = plot_skeleton(
        ax,
        seq[idx[0]],
        edges,
        up_axis=up_axis,
        edge_colors=edge_colors,
        limits=seq,
        title=title,
        elev=elev,
        azim=azim,
    )
    span = (idx[-1] - idx[0]) / fps if len(idx) > 1 else 1.0 / fps
    interval = 1000.0 * span / max(len(idx) - 1, 1)

    def draw(k: int):
        art.update(seq[idx[k]], edges)
        return art.bones + [art.joints]

    return FuncAnimation(fig, draw, frames=len(idx), interval=interval, blit=False)


#: the stylesheet link matplotlib's player puts first: Font Awesome 4 from a CDN
_CDN_STYLESHEET = re.compile(r"<link[^>]*rel=[\"']?stylesheet[^>]*https?://[^>]*>", re.S)


def animation_html(animation: FuncAnimation, default_mode: str = "loop") -> str:
    """The animation as matplotlib's self-contained JavaScript player, without its CDN stylesheet.

    ``animation.to_jshtml()`` links Font Awesome 4 from a CDN for the buttons' icons: offline
    that request fails (a console error on every page with a player). The link is dropped; the
    book's theme ships Font Awesome itself and draws the same ``fa-*`` icons.

    Parameters
    ----------
    animation : the animation, for example from :func:`skeleton_animation`.
    default_mode : ``'loop'``, ``'once'`` or ``'reflect'``, what the player does at the end.

    Returns
    -------
    The HTML (frames embedded as base64 PNGs), for ``IPython.display.HTML``.
    """
    if default_mode not in ("loop", "once", "reflect"):
        raise ValueError(f"default_mode must be 'loop', 'once' or 'reflect', got {default_mode!r}")
    return _CDN_STYLESHEET.sub("", animation.to_jshtml(default_mode=default_mode), count=1)


def _render_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def skeleton_player(
    dataset,
    indices: Sequence[int] | None = None,
    *,
    edge_colors: Sequence[str] | None = None,
    figsize: tuple[float, float] = (4.0, 4.0),
    dpi: float = 72.0,
    interval_ms: float | None = None,
    elev: float = 12.0,
    azim: float = -60.0,
):
    """An ipywidgets player for the sequences of a :class:`~helpers.data.dataset.SkeletonDataset`.

    A ``Dropdown`` picks the sequence (``indices``: which ones; default all), a ``Play`` button and
    an ``IntSlider`` (linked in the browser with ``jslink``, so the link also works in a static
    page) pick the frame, and the frame is drawn into an ``Output`` widget. Drawing runs in Python,
    so in a static HTML page the player shows the state it was saved in.

    ``interval_ms`` is the play step (default: real time, but at least 50 ms, since each frame
    is rendered in the kernel). Returns an ``ipywidgets.VBox``; its ``.player`` attribute holds
    the parts (``dropdown``, ``play``, ``slider``, ``output``, ``show(index, frame)``).
    """
    import ipywidgets as widgets

    idx = list(range(len(dataset))) if indices is None else [int(i) for i in indices]
    if not idx:
        raise ValueError("skeleton_player needs at least one sequence")
    bad = [i for i in idx if not 0 <= i < len(dataset)]
    if bad:
        raise ValueError(f"indices {bad[:5]} are outside 0..{len(dataset) - 1}")
    edges = np.asarray(dataset.edges, dtype=np.int64).reshape(-1, 2)
    if edge_colors is None and dataset.joint_names:
        edge_colors = edge_colors_by_side(dataset.joint_names, edges)
    fps = dataset.fps if np.isfinite(dataset.fps) and dataset.fps > 0 else 30.0

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection="3d")
    fig.subplots_adjust(0, 0, 1, 0.92)
    state: dict = {}

    def label(i: int) -> str:
        name = dataset.class_names[int(dataset.labels[i])]
        f = dataset.files[i] if dataset.files and dataset.files[i] else f"#{i}"
        return f"{i}: {name} ({f})"

    dropdown = widgets.Dropdown(
        options=[(label(i), i) for i in idx],
        value=idx[0],
        description="sequence",
        layout=widgets.Layout(width="95%"),
    )
    t0 = len(dataset.sequences[idx[0]])
    play = widgets.Play(
        value=0,
        min=0,
        max=t0 - 1,
        step=1,
        interval=int(interval_ms if interval_ms is not None else max(1000.0 / fps, 50.0)),
    )
    slider = widgets.IntSlider(
        value=0, min=0, max=t0 - 1, description="frame", continuous_update=True
    )
    widgets.jslink((play, "value"), (slider, "value"))
    output = widgets.Output()

    def load(i: int) -> None:
        seq = _check_sequence(dataset.sequences[i])
        ax.clear()
        state["seq"] = seq
        state["art"] = plot_skeleton(
            ax,
            seq[0],
            edges,
            up_axis=dataset.up_axis,
            edge_colors=edge_colors,
            limits=seq,
            title=label(i),
            elev=elev,
            azim=azim,
        )

    def show(i: int | None = None, frame: int | None = None) -> None:
        if i is not None and i != state.get("index"):
            state["index"] = i
            load(i)
        seq = state["seq"]
        t = int(np.clip(slider.value if frame is None else frame, 0, len(seq) - 1))
        state["art"].update(seq[t], edges)
        png = base64.b64encode(_render_png(fig)).decode("ascii")
        # set the widget's outputs directly: works live and when nbclient saves widget state
        output.outputs = (
            {
                "output_type": "display_data",
                "data": {"image/png": png, "text/plain": f"frame {t} of sequence {state['index']}"},
                "metadata": {},
            },
        )

    def on_sequence(change) -> None:
        i = int(change["new"])
        n = len(dataset.sequences[i])
        state["index"] = None
        slider.value = 0
        play.value = 0
        slider.max = n - 1
        play.max = n - 1
        show(i, 0)

    def on_frame(change) -> None:
        show(frame=int(change["new"]))

    dropdown.observe(on_sequence, names="value")
    slider.observe(on_frame, names="value")
    show(idx[0], 0)
    box = widgets.VBox([dropdown, widgets.HBox([play, slider]), output])
    box.player = SimpleNamespace(
        dropdown=dropdown, play=play, slider=slider, output=output, show=show
    )
    return box


def plot_partition(
    graph,
    positions: np.ndarray,
    node: int,
    ax=None,
    *,
    axes: tuple[int, int] = (0, 1),
    labels: bool = False,
    colors: Sequence[str] | None = None,
):
    """Draw a skeleton graph and colour ``node``'s neighbours by subset.

    ``positions``: (V, 2) or (V, 3) joint coordinates; for 3-D, ``axes`` picks the two plotted
    coordinates (default x and y, y being up in HDM05 and NTU). The root joint is drawn large and
    black-edged; every other joint in its neighbourhood takes its subset's colour; the rest stay
    grey. Returns the matplotlib axes.
    """
    import matplotlib.pyplot as plt

    pos = np.asarray(positions, dtype=float)
    if pos.ndim != 2 or pos.shape[0] != graph.num_nodes or pos.shape[1] not in (2, 3):
        raise ValueError(
            f"positions must be shaped (V, 2) or (V, 3) with V={graph.num_nodes}, got {pos.shape}"
        )
    xy = pos[:, list(axes)] if pos.shape[1] == 3 else pos
    subsets = graph.neighbor_subsets(node)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 5))
    palette = (
        list(colors)
        if colors is not None
        else [
            "#d62728",
            "#1f77b4",
            "#2ca02c",
            "#ff7f0e",
            "#9467bd",
            "#8c564b",
            "#e377c2",
            "#17becf",
            "#bcbd22",
        ]
    )
    for i, j in graph.edges:
        ax.plot(xy[[i, j], 0], xy[[i, j], 1], color="0.6", lw=2, zorder=1)
    ax.scatter(xy[:, 0], xy[:, 1], s=25, color="0.75", zorder=2)
    for k, members in subsets.items():
        if not members:
            continue
        color = palette[k % len(palette)]
        size = [160 if m == node else 70 for m in members]
        ax.scatter(
            xy[members, 0],
            xy[members, 1],
            s=size,
            color=color,
            edgecolors="k",
            linewidths=[1.5 if m == node else 0.5 for m in members],
            label=f"{k}: {graph.subset_names[k]}",
            zorder=3,
        )
    ax.scatter(
        xy[graph.center, 0],
        xy[graph.center, 1],
        marker="x",
        s=60,
        color="k",
        zorder=4,
        label="centre joint",
    )
    if labels:
        for j in range(graph.num_nodes):
            ax.annotate(
                graph.joint_names[j] if graph.joint_names else str(j),
                xy[j],
                fontsize=MIN_FONT,
                xytext=(3, 3),
                textcoords="offset points",
            )
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    name = graph.joint_names[node] if graph.joint_names else f"joint {node}"
    ax.set_title(f"{graph.strategy} partition around {name}")
    ax.legend(loc="best", fontsize="small", frameon=False)
    return ax
