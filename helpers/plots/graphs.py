"""Figures for chapter 03: neighbourhood graphs on a 2-D embedding, and DTW alignments.

* :func:`plot_graph_embedding` draws a weighted graph over 2-D node positions (e.g. classical
  MDS of DTW distances): nodes coloured by class, edges grey where both ends share a label and
  red where they do not, each edge's opacity growing with its weight.
* :func:`plot_dtw_pair` shows how DTW aligns two sequences: the accumulated-cost matrix with the
  Sakoe-Chiba band's outline and the optimal path, next to one feature of both sequences over
  time joined by the path's frame pairs.
* :func:`dtw_pair_explorer` wraps :func:`plot_dtw_pair` in ipywidgets (two clips, the window, a
  joint and axis) for a live notebook; a static HTML export shows its initial state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D

from helpers.dtw.core import window_radius
from helpers.dtw.cpu import dtw_cost_matrix, dtw_path
from helpers.geometry.distances import sequence_matrix
from helpers.plots.style import BOOK_WIDTH, book_figsize

__all__ = [
    "GraphArtists",
    "class_colors",
    "plot_graph_embedding",
    "plot_distance_matrix",
    "plot_dtw_pair",
    "dtw_pair_explorer",
    "layer_graph_explorer",
]

AXIS_NAMES = ("x", "y", "z")


# --------------------------------------------------------------------------------------------
# Graphs on an embedding
# --------------------------------------------------------------------------------------------
def class_colors(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` distinct RGBA colours for classes, avoiding red and grey (kept for the edges)."""
    cmap = plt.get_cmap("tab20")
    # tab20: dark shades first, then the light ones; 6/7 are reds, 14/15 greys
    order = [0, 2, 4, 8, 10, 12, 16, 18, 1, 3, 5, 9, 11, 13, 17, 19]
    if n <= len(order):
        return [cmap(i) for i in order[:n]]
    return [plt.get_cmap("turbo")(t) for t in np.linspace(0.05, 0.95, n)]


@dataclass
class GraphArtists:
    """What :func:`plot_graph_embedding` drew.

    ax : the axes; nodes : one scatter per class present (in class order);
    same_edges / cross_edges : LineCollections of the edges whose end points share / do not share
    a label (one segment per undirected edge); legend : the legend or None;
    n_same / n_cross : number of edges in each.
    """

    ax: plt.Axes
    nodes: list
    same_edges: LineCollection
    cross_edges: LineCollection
    legend: object | None
    n_same: int
    n_cross: int


def _edge_list(W, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected edges (i < j) of a (N, N) weight matrix with their weight max(W_ij, W_ji)."""
    if sp.issparse(W):
        W = sp.csr_matrix(W)
    else:
        W = sp.csr_matrix(np.asarray(W, dtype=np.float64))
    if W.shape != (n, n):
        raise ValueError(
            f"W has shape {W.shape}; expected ({n}, {n}) to match the {n} node positions"
        )
    if W.nnz and (not np.isfinite(W.data).all() or W.data.min() < 0):
        raise ValueError("W must hold finite, non-negative weights")
    U = sp.triu(W.maximum(W.T), k=1).tocoo()  # self-loops are not drawn
    keep = U.data > 0
    return U.row[keep], U.col[keep], U.data[keep]


def plot_graph_embedding(
    ax: plt.Axes,
    Y: np.ndarray,
    W,
    labels: Sequence[int],
    class_names: Sequence[str] | None = None,
    *,
    colors: Sequence | None = None,
    same_color="0.45",
    cross_color="crimson",
    alpha_range: tuple[float, float] = (0.08, 0.8),
    linewidth: float = 0.8,
    node_size: float = 18.0,
    legend: bool = True,
    legend_loc: str | None = "upper left",
    title: str | None = None,
) -> GraphArtists:
    """Draw the graph ``W`` over node positions ``Y`` on ``ax``.

    Parameters
    ----------
    ax : matplotlib axes to draw on.
    Y : (N, 2) node positions.
    W : (N, N) non-negative weights (scipy.sparse or dense); drawn as undirected, weight
        ``max(W_ij, W_ji)``, self-loops ignored.
    labels : (N,) int class of each node; class_names : names for the legend (default ``class c``).
    colors : one colour per class (default :func:`class_colors`).
    same_color, cross_color : edge colours for label-agreeing / disagreeing end points.
    alpha_range : edge opacity for the smallest and the largest weight (linear in the weight).
    legend : add a legend (classes, then the two edge kinds with their counts), placed outside
        the axes to the right when ``legend_loc='upper left'``.
    """
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim != 2 or Y.shape[1] != 2:
        raise ValueError(f"Y must be (N, 2) node positions, got shape {Y.shape}")
    n = Y.shape[0]
    y = np.asarray(labels)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"labels must be (N,) = ({n},) integers, got shape {y.shape}, dtype {y.dtype}"
        )
    if n and y.min() < 0:
        raise ValueError(f"labels must be >= 0, got {y.min()}")
    n_classes = max(
        int(y.max()) + 1 if n else 0, len(class_names) if class_names is not None else 0
    )
    names = (
        list(class_names) if class_names is not None else [f"class {c}" for c in range(n_classes)]
    )
    if len(names) < n_classes:
        raise ValueError(f"class_names has {len(names)} names but labels go up to {int(y.max())}")
    cols = list(colors) if colors is not None else class_colors(n_classes)
    if len(cols) < n_classes:
        raise ValueError(f"colors has {len(cols)} entries for {n_classes} classes")

    i, j, w = _edge_list(W, n)
    wmax = float(w.max()) if w.size else 1.0
    lo, hi = alpha_range
    alpha = lo + (hi - lo) * (w / wmax if wmax > 0 else np.ones_like(w))
    same = y[i] == y[j]
    segments = np.stack([Y[i], Y[j]], axis=1)  # (E, 2 ends, 2 coords)

    def edges(mask, color, z):
        rgba = np.tile(to_rgba(color), (int(mask.sum()), 1))
        rgba[:, 3] = alpha[mask]
        lc = LineCollection(segments[mask], colors=rgba, linewidths=linewidth, zorder=z)
        ax.add_collection(lc)
        return lc

    # disagreeing edges on top: they are the ones the reader looks for
    same_lc = edges(same, same_color, 1)
    cross_lc = edges(~same, cross_color, 2)
    nodes = []
    for c in range(n_classes):
        sel = y == c
        if sel.any():
            nodes.append(
                ax.scatter(
                    Y[sel, 0],
                    Y[sel, 1],
                    s=node_size,
                    color=cols[c],
                    edgecolors="k",
                    linewidths=0.3,
                    zorder=3,
                    label=names[c],
                )
            )
    ax.update_datalim(Y)
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    leg = None
    if legend:
        handles = list(nodes) + [
            Line2D([], [], color=same_color, lw=1.5, label=f"same class ({int(same.sum())} edges)"),
            Line2D(
                [],
                [],
                color=cross_color,
                lw=1.5,
                label=f"different class ({int((~same).sum())} edges)",
            ),
        ]
        kw = dict(loc=legend_loc, fontsize="small", frameon=False)
        if legend_loc == "upper left":
            kw["bbox_to_anchor"] = (1.01, 1.0)
        leg = ax.legend(handles=handles, **kw)
    return GraphArtists(ax, nodes, same_lc, cross_lc, leg, int(same.sum()), int((~same).sum()))


def plot_distance_matrix(
    ax: plt.Axes,
    D: np.ndarray,
    labels: Sequence[int],
    class_names: Sequence[str] | None = None,
    *,
    cmap: str = "magma",
    title: str | None = None,
    colorbar: bool = True,
    tick_labels: bool = True,
):
    """Heat map of a distance matrix with rows and columns grouped by class.

    D : (N, N); labels : (N,) ints. Sequences are ordered by label (stable, so the original order
    is kept inside a class); white lines separate the classes and the ticks name them at the
    middle of each block. Returns the image; ``order`` (N,) used is stored as ``image.order``.
    """
    D = np.asarray(D, dtype=np.float64)
    y = np.asarray(labels)
    if D.ndim != 2 or D.shape[0] != D.shape[1] or y.shape != (D.shape[0],):
        raise ValueError(f"D must be (N, N) and labels (N,); got D {D.shape}, labels {y.shape}")
    order = np.argsort(y, kind="stable")
    im = ax.imshow(D[np.ix_(order, order)], cmap=cmap, interpolation="nearest")
    im.order = order
    classes, counts = np.unique(y, return_counts=True)
    edges = np.cumsum(counts)[:-1] - 0.5
    for e in edges:
        ax.axhline(e, color="w", lw=0.5)
        ax.axvline(e, color="w", lw=0.5)
    centers = np.concatenate([[0], np.cumsum(counts)[:-1]]) + counts / 2 - 0.5
    if tick_labels:
        names = [class_names[c] if class_names is not None else str(c) for c in classes]
        ax.set_yticks(centers, names, fontsize="small")
        ax.set_xticks(centers, names, fontsize="small", rotation=90)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize="medium")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
    return im


# --------------------------------------------------------------------------------------------
# One DTW alignment
# --------------------------------------------------------------------------------------------
def _band_outline(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step outlines (x, y) of the band's left and right edges in image coordinates.

    Cells sit at integer coordinates.
    """
    rows = np.arange(mask.shape[0])
    lo = mask.argmax(axis=1)
    hi = mask.shape[1] - 1 - mask[:, ::-1].argmax(axis=1)
    ys = np.repeat(rows, 2) + np.tile([-0.5, 0.5], rows.size)
    return (np.repeat(lo, 2) - 0.5, ys), (np.repeat(hi, 2) + 0.5, ys)


def _pick_feature(a: np.ndarray, b: np.ndarray, feature: int | None) -> int:
    if feature is None:
        # the feature that moves most in the two clips shows the alignment best
        return int(np.argmax(np.var(a, axis=0) + np.var(b, axis=0)))
    d = a.shape[1]
    if (
        isinstance(feature, bool)
        or not isinstance(feature, (int, np.integer))
        or not -d <= feature < d
    ):
        raise ValueError(
            f"feature={feature!r}; expected an int index into the {d} features of a frame, or None"
        )
    return int(feature) % d


def plot_dtw_pair(
    a: np.ndarray,
    b: np.ndarray,
    window: int | float | None = 0.1,
    *,
    feature: int | None = None,
    feature_name: str | None = None,
    joint_names: Sequence[str] | None = None,
    names: tuple[str, str] = ("a", "b"),
    band: str = "sakoe",
    max_links: int = 60,
    fig: plt.Figure | None = None,
    figsize: tuple[float, float] = (BOOK_WIDTH, 4.6),
) -> plt.Figure:
    """Figure of the DTW alignment of two sequences.

    Left: ``sqrt`` of the accumulated cost (light grey outside the band), the band's outline (black)
    and the optimal warping path (red). Right: feature ``feature`` of ``a`` and of ``b`` (shifted
    down) over frames, joined by grey lines for the path's frame pairs (at most ``max_links``).

    Parameters
    ----------
    a, b : (T_a, ...) and (T_b, ...) sequences, flattened to (T, D) by
        :func:`helpers.geometry.distances.sequence_matrix`; same D. window, band : as in
        :mod:`helpers.dtw.cpu`.
    feature : index into the D features of a frame (for (T, V, C) input: ``joint * C + axis``);
        default the feature with the largest variance over both sequences.
    feature_name : axis label for that feature; for (T, V, C) input it defaults to the joint's name
        (from ``joint_names``, else ``joint v``) and the axis letter.
    names : captions for ``a`` and ``b``.
    fig : draw into this figure (cleared) instead of a new one.
    figsize : size of a new figure in inches; its width is capped at
        :data:`~helpers.plots.style.BOOK_WIDTH`.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` is the cost matrix, ``fig.axes[1]`` the alignment (a colour bar is
        ``fig.axes[2]``).
    """
    A = np.asarray(sequence_matrix(a), dtype=np.float64)
    B = np.asarray(sequence_matrix(b), dtype=np.float64)
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"a has {A.shape[1]} features per frame but b has {B.shape[1]}; they must match"
        )
    f = _pick_feature(A, B, feature)
    if feature_name is None and np.ndim(a) == 3:
        C = np.shape(a)[2]
        v, c = divmod(f, C)
        joint = joint_names[v] if joint_names is not None and v < len(joint_names) else f"joint {v}"
        feature_name = f"{joint} {AXIS_NAMES[c] if C == 3 else f'c{c}'}"
    acc, mask = dtw_cost_matrix(A, B, window, band=band)
    path, dist = dtw_path(A, B, window, band=band)
    n, m = A.shape[0], B.shape[0]
    r = window_radius(window, n, m)

    if fig is None:
        fig = plt.figure(figsize=book_figsize(*figsize))
    else:
        fig.clear()
    gs = fig.add_gridspec(1, 2, width_ratios=[1.0, 1.35], wspace=0.25)
    ax_c = fig.add_subplot(gs[0])
    ax_a = fig.add_subplot(gs[1])

    inside = mask & np.isfinite(acc)
    img = np.where(inside, np.sqrt(np.where(inside, acc, 0.0)), np.nan)
    im = ax_c.imshow(
        np.ma.masked_invalid(img),
        origin="lower",
        cmap="viridis",
        aspect="auto",
        interpolation="nearest",
    )
    ax_c.set_facecolor("0.93")  # cells outside the band
    (lx, ly), (hx, hy) = _band_outline(mask)
    ax_c.plot(lx, ly, color="k", lw=0.9, label="band")
    ax_c.plot(hx, hy, color="k", lw=0.9)
    ax_c.plot(path[:, 1], path[:, 0], color="red", lw=1.5, label="optimal path")
    ax_c.set_xlim(-0.5, m - 0.5)
    ax_c.set_ylim(-0.5, n - 0.5)
    ax_c.set_xlabel(f"frame of {names[1]} (T={m})")
    ax_c.set_ylabel(f"frame of {names[0]} (T={n})")
    band_txt = "no band" if window is None else f"radius r={r} frames"
    ax_c.set_title(f"accumulated cost, {band_txt}", fontsize="medium")
    ax_c.legend(loc="lower right", fontsize="small", framealpha=0.8)
    fig.colorbar(im, ax=ax_c, fraction=0.046, pad=0.02, label="sqrt(accumulated cost)")

    xa, xb = A[:, f], B[:, f]
    span = max(np.ptp(xa), np.ptp(xb), 1e-9)
    shift = (max(xa.max(), xb.max()) - min(xa.min(), xb.min())) + 0.3 * span
    xb_shifted = xb - shift
    step = max(1, int(np.ceil(len(path) / max_links)))
    links = path[::step]
    segs = np.stack(
        [
            np.stack([links[:, 0], xa[links[:, 0]]], axis=1),
            np.stack([links[:, 1], xb_shifted[links[:, 1]]], axis=1),
        ],
        axis=1,
    )
    ax_a.add_collection(LineCollection(segs, colors="0.6", linewidths=0.6, zorder=1))
    ax_a.plot(np.arange(n), xa, color="tab:blue", lw=1.6, label=names[0], zorder=2)
    ax_a.plot(
        np.arange(m),
        xb_shifted,
        color="tab:orange",
        lw=1.6,
        label=f"{names[1]} (shifted down)",
        zorder=2,
    )
    ax_a.set_xlabel("frame")
    ax_a.set_yticks([])
    ax_a.set_ylabel(feature_name or f"feature {f}")
    ax_a.set_title(f"alignment: DTW distance {dist:.3g}", fontsize="medium")
    ax_a.legend(loc="upper right", fontsize="small")
    return fig


# --------------------------------------------------------------------------------------------
# Interactive explorer
# --------------------------------------------------------------------------------------------
def _clip_label(ds, i: int) -> str:
    name = ds.class_names[int(ds.labels[i])]
    file = ds.files[i] if i < len(ds.files) and ds.files[i] else ""
    return f"{i}: {name} (T={len(ds.sequences[i])}{', ' + file if file else ''})"


def _as_window(value: int | float, frames: bool) -> int | float:
    if frames:
        return int(value)
    # a float window must lie in (0, 1]; 0 means the narrowest band, radius 0 frames
    return 0 if value <= 0 else float(value)


def dtw_pair_explorer(
    dataset,
    *,
    first: int = 0,
    second: int | None = None,
    window: int | float | None = 0.1,
    joint: int | str | None = None,
    axis: int | None = None,
    figsize: tuple[float, float] = (BOOK_WIDTH, 4.6),
):
    """An ipywidgets UI to look at the DTW alignment of any two clips of ``dataset``.

    Two Dropdowns choose the clips, a slider the window, and a joint and an axis Dropdown the
    coordinate drawn on the right. A float ``window`` (or None, shown as 1.0: a radius of the whole
    longer clip, i.e. no constraint) gives a FloatSlider of fractions of the longer clip (0 = radius
    0); an int ``window`` an IntSlider of radii in frames. Every change
    redraws :func:`plot_dtw_pair` into an Output. ``dataset`` is a
    :class:`~helpers.data.dataset.SkeletonDataset` of (T, V, C) sequences; normalise it first.
    ``joint`` is an index or a name (default: the joint that moves most in the first pair).

    Returns the widget (display it as the cell's last expression). In a static export only the
    initial state is shown.
    """
    import ipywidgets as widgets
    from IPython.display import display

    n = len(dataset.sequences)
    if n < 1:
        raise ValueError("dtw_pair_explorer needs a dataset with at least one clip")
    second = (1 if n > 1 else 0) if second is None else second
    for name, v in (("first", first), ("second", second)):
        if not 0 <= int(v) < n:
            raise ValueError(f"{name}={v}; expected a clip index in 0..{n - 1}")
    seq0 = np.asarray(dataset.sequences[0])
    if seq0.ndim != 3:
        raise ValueError(f"dtw_pair_explorer expects (T, V, C) sequences, got {seq0.shape}")
    V, C = seq0.shape[1], seq0.shape[2]
    jnames = (
        list(dataset.joint_names)
        if len(dataset.joint_names) == V
        else [f"joint {v}" for v in range(V)]
    )
    if isinstance(joint, str):
        if joint not in jnames:
            raise ValueError(f"joint={joint!r} is not one of the dataset's joints {jnames}")
        joint = jnames.index(joint)
    if joint is None or axis is None:
        f = _pick_feature(
            sequence_matrix(dataset.sequences[first]),
            sequence_matrix(dataset.sequences[second]),
            None,
        )
        joint = f // C if joint is None else joint
        axis = f % C if axis is None else axis
    if not 0 <= int(joint) < V or not 0 <= int(axis) < C:
        raise ValueError(f"joint={joint}, axis={axis}; expected 0..{V - 1} and 0..{C - 1}")

    options = [(_clip_label(dataset, i), i) for i in range(n)]
    layout = widgets.Layout(width="48%")
    dd_a = widgets.Dropdown(options=options, value=int(first), description="clip a", layout=layout)
    dd_b = widgets.Dropdown(options=options, value=int(second), description="clip b", layout=layout)
    frames = isinstance(window, (int, np.integer)) and not isinstance(window, bool)
    if frames:
        longest = int(max(len(s) for s in dataset.sequences))
        sl_w = widgets.IntSlider(
            value=int(window),
            min=0,
            max=max(longest, int(window)),
            description="radius",
            continuous_update=False,
        )
    else:
        value = 1.0 if window is None else float(window)
        if not 0.0 <= value <= 1.0:
            raise ValueError(
                f"window={window!r}; a float window is a fraction in [0, 1] of the longer clip"
            )
        sl_w = widgets.FloatSlider(
            value=value,
            min=0.0,
            max=1.0,
            step=0.01,
            description="window",
            readout_format=".2f",
            continuous_update=False,
        )
    dd_j = widgets.Dropdown(
        options=[(nm, v) for v, nm in enumerate(jnames)], value=int(joint), description="joint"
    )
    axis_names = AXIS_NAMES if C == 3 else tuple(f"c{c}" for c in range(C))
    dd_x = widgets.Dropdown(
        options=[(nm, c) for c, nm in enumerate(axis_names)],
        value=int(axis),
        description="axis",
        layout=widgets.Layout(width="160px"),
    )
    out = widgets.Output()

    def redraw(_change=None) -> None:
        ia, ib = dd_a.value, dd_b.value
        fig = plot_dtw_pair(
            dataset.sequences[ia],
            dataset.sequences[ib],
            _as_window(sl_w.value, frames),
            feature=dd_j.value * C + dd_x.value,
            feature_name=f"{jnames[dd_j.value]} {axis_names[dd_x.value]}",
            names=(
                f"a = #{ia} {dataset.class_names[int(dataset.labels[ia])]}",
                f"b = #{ib} {dataset.class_names[int(dataset.labels[ib])]}",
            ),
            figsize=figsize,
        )
        out.clear_output(wait=True)
        with out:
            display(fig)
        plt.close(fig)

    for w in (dd_a, dd_b, sl_w, dd_j, dd_x):
        w.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([dd_a, dd_b]), widgets.HBox([sl_w, dd_j, dd_x]), out])


def layer_graph_explorer(
    embeddings: Sequence[np.ndarray],
    graphs: Sequence,
    labels: Sequence[int],
    class_names: Sequence[str] | None = None,
    *,
    titles: Sequence[str] | None = None,
    start: int = 0,
    figsize: tuple[float, float] = (7.5, 5.5),
    dpi: float = 72.0,
):
    """An ipywidgets viewer of one graph per layer, drawn on that layer's 2-D embedding.

    Parameters
    ----------
    embeddings : one (N, 2) array of node positions per layer (e.g. classical MDS of the
        layer's DTW distances).
    graphs : one (N, N) weight matrix per layer (dense or scipy.sparse).
    labels, class_names : node classes and their names, as in :func:`plot_graph_embedding`.
    titles : one title per layer (default ``layer l``).
    start : the layer shown first.
    figsize, dpi : size of each drawing (width capped at :data:`~helpers.plots.style.BOOK_WIDTH`).

    Returns
    -------
    An ``ipywidgets.VBox``: a slider and a ``Stack`` of pre-rendered images, linked in the
    browser (``jslink``), so the selector also works in a static HTML page that saved the
    widget state, without a running kernel.
    """
    import io

    import ipywidgets as widgets
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if len(embeddings) != len(graphs) or not len(graphs):
        raise ValueError(
            f"{len(embeddings)} embeddings for {len(graphs)} graphs; expected one of "
            "each per layer, at least one"
        )
    titles = list(titles) if titles is not None else [f"layer {i}" for i in range(len(graphs))]
    if len(titles) != len(graphs):
        raise ValueError(f"{len(titles)} titles for {len(graphs)} layers")
    if not 0 <= int(start) < len(graphs):
        raise ValueError(f"start={start}; expected a layer in 0..{len(graphs) - 1}")
    images = []
    for Y, W, title in zip(embeddings, graphs, titles):
        fig = Figure(figsize=book_figsize(*figsize), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        plot_graph_embedding(ax, Y, W, labels, class_names, legend=True, title=title)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        images.append(widgets.Image(value=buf.getvalue(), format="png"))
    stack = widgets.Stack(images, selected_index=int(start))
    slider = widgets.IntSlider(
        value=int(start), min=0, max=len(graphs) - 1, description="layer", continuous_update=True
    )
    widgets.jslink((slider, "value"), (stack, "selected_index"))
    return widgets.VBox([slider, stack])
