"""Grad-CAM figures draw what they are given; the explorer's controls are linked in the browser."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.plots.gradcam import (  # noqa: E402
    gradcam_explorer,
    plot_cascading,
    plot_class_importance,
    plot_deletion,
    plot_heatmap,
    plot_skeleton_importance,
)

EDGES = [(0, 1), (1, 2), (2, 3)]


def test_heatmap_is_joints_by_time_and_seconds():
    heat = np.zeros((20, 4))
    heat[5, 2] = 1.0
    fig, ax = plt.subplots()
    im = plot_heatmap(ax, heat, fps=10.0, frame=5)
    arr = im.get_array()
    assert arr.shape == (4, 20) and arr[2, 5] == 1.0  # rows are joints
    assert im.get_extent()[1] == pytest.approx(1.95)  # 20 frames at 10 fps
    with pytest.raises(ValueError, match="T, V"):
        plot_heatmap(ax, np.zeros(5))
    plt.close(fig)


def test_skeleton_importance_sizes_follow_importance():
    fig, ax = plt.subplots()
    frame = np.random.default_rng(0).normal(size=(4, 3))
    sc = plot_skeleton_importance(ax, frame, EDGES, np.array([0.0, 1.0, 0.5, 0.0]))
    sizes = sc.get_sizes()
    assert sizes[1] > sizes[2] > sizes[0] == sizes[3]
    with pytest.raises(ValueError, match="disagree"):
        plot_skeleton_importance(ax, frame, EDGES, np.ones(3))
    plt.close(fig)


def test_check_figures_draw_one_line_per_layer():
    casc = pd.DataFrame(
        [
            {"step": s, "randomized": f"r{s}", "layer": layer, "spearman": 1.0 / s}
            for s in (1, 2)
            for layer in (1, 2, 3)
        ]
    )
    fig, ax = plt.subplots()
    plot_cascading(ax, casc)
    assert len(ax.get_legend().get_texts()) == 3
    curves = pd.DataFrame(
        [
            {"curve": c, "ranking": "gradcam", "layer": layer, "fraction": f, "score": 1 - f}
            for c in ("deletion", "insertion")
            for layer in (1, 2)
            for f in (0.0, 0.5, 1.0)
        ]
        + [
            {"curve": c, "ranking": "random", "layer": np.nan, "fraction": f, "score": 0.5}
            for c in ("deletion", "insertion")
            for f in (0.0, 0.5, 1.0)
        ]
    )
    fig2, ax2 = plt.subplots()
    plot_deletion(ax2, curves)
    assert len(ax2.get_lines()) == 3
    fig3, ax3 = plt.subplots()
    im = plot_class_importance(ax3, np.array([[1.0, 2.0], [0.0, 0.0]]), ["a", "b"])
    np.testing.assert_allclose(im.get_array(), [[0.5, 0.0], [1.0, 0.0]])
    plt.close("all")


def test_explorer_links_every_stack_to_its_control(monkeypatch):
    ipywidgets = pytest.importorskip("ipywidgets")
    linked = []
    real_jslink = ipywidgets.jslink

    def recording_jslink(source, target):
        linked.append((source, target))
        return real_jslink(source, target)

    monkeypatch.setattr(ipywidgets, "jslink", recording_jslink)
    rng = np.random.default_rng(0)
    clips = [
        {
            "title": f"clip {i}",
            "positions": rng.normal(size=(12, 4, 3)),
            "maps": {t: {layer: rng.random((12, 4)) for layer in (1, 2, 3)} for t in ("a", "b")},
        }
        for i in range(2)
    ]
    box = gradcam_explorer(clips, edges=EDGES, fps=10.0, frames=3, dpi=30)
    controls, clip_stack = box.children
    assert isinstance(clip_stack, ipywidgets.Stack) and len(clip_stack.children) == 2
    target_stack = clip_stack.children[0]
    assert len(target_stack.children) == 2
    layer_stack = target_stack.children[1]
    assert len(layer_stack.children) == 3 and layer_stack.selected_index == 2  # the last block
    heat, frames = layer_stack.children[0].children
    assert isinstance(heat, ipywidgets.Image) and len(frames.children) == 3
    # every stack follows a control through a browser-side link
    targets = {id(t[0]): (s[1], t[1]) for s, t in linked}
    for stack in (clip_stack, target_stack, layer_stack, frames):
        assert targets[id(stack)] == ("index", "selected_index")
    with pytest.raises(ValueError, match="same targets"):
        bad = [clips[0], {**clips[1], "maps": {"a": clips[1]["maps"]["a"]}}]
        gradcam_explorer(bad, edges=EDGES)


def test_book_style_sets_fonts_and_restores_them():
    import matplotlib as mpl

    from helpers.plots.style import BOOK_RC, MIN_FONT, book_style

    before = mpl.rcParams["font.size"]
    with book_style():
        assert mpl.rcParams["font.size"] == BOOK_RC["font.size"]
        assert min(v for k, v in BOOK_RC.items() if "size" in k) >= MIN_FONT
    assert mpl.rcParams["font.size"] == before


def test_book_subplots_wrap_panels_within_the_page_width():
    from helpers.plots.style import BOOK_WIDTH, book_figsize, book_subplots

    assert book_figsize(16, 4) == (BOOK_WIDTH, 4.0)
    fig, axes = book_subplots(1, 3, panel=(4.0, 3.0))  # two fit side by side: 2 + 1 rows
    assert axes.shape == (3,) and len(fig.axes) == 3
    assert fig.get_size_inches() == pytest.approx((8.0, 6.0))
    assert axes[2].get_position().y0 < axes[0].get_position().y0  # the third wraps below
    fig2, ax = book_subplots(panel=(12.0, 3.0))
    assert fig2.get_size_inches()[0] == pytest.approx(BOOK_WIDTH) and not isinstance(ax, np.ndarray)
    plt.close("all")


def test_joint_labels_never_drop_below_the_minimum_font():
    from helpers.plots.style import MIN_FONT

    names = [f"joint{v}" for v in range(31)]
    fig, ax = plt.subplots(figsize=(4, 1.5))  # far too short for 31 labels
    plot_heatmap(ax, np.ones((10, 31)), joint_names=names)
    labels = ax.get_yticklabels()
    assert all(t.get_fontsize() >= MIN_FONT for t in labels)
    assert 1 < len(labels) < 31  # every k-th joint
    fig2, ax2 = plt.subplots(figsize=(4, 12))  # room for all of them
    plot_heatmap(ax2, np.ones((10, 31)), joint_names=names)
    assert [t.get_text() for t in ax2.get_yticklabels()] == names
    plt.close("all")
