"""The book's figures.

Skeletons, distance matrices and graphs, Grad-CAM maps.

The package map is in the README (Modules).
"""

from helpers.plots.gradcam import (
    gradcam_explorer,
    plot_agreement,
    plot_cascading,
    plot_class_importance,
    plot_deletion,
    plot_deletion_gains,
    plot_heatmap,
    plot_skeleton_importance,
)
from helpers.plots.graphs import (
    GraphArtists,
    class_colors,
    dtw_pair_explorer,
    layer_graph_explorer,
    plot_distance_matrix,
    plot_dtw_pair,
    plot_graph_embedding,
)
from helpers.plots.layers import plot_generic_control, plot_noise_layers, plot_separation
from helpers.plots.skeletons import (
    SIDE_COLORS,
    animation_html,
    edge_colors_by_side,
    plot_partition,
    plot_skeleton,
    plot_skeleton_2d,
    skeleton_animation,
    skeleton_player,
    to_display,
)
from helpers.plots.style import (
    BOOK_RC,
    BOOK_WIDTH,
    MIN_FONT,
    book_figsize,
    book_style,
    book_subplots,
    fit_tick_labels,
)
from helpers.plots.transfer import plot_transfer

__all__ = [
    "BOOK_RC",
    "BOOK_WIDTH",
    "GraphArtists",
    "MIN_FONT",
    "SIDE_COLORS",
    "animation_html",
    "book_figsize",
    "book_style",
    "book_subplots",
    "class_colors",
    "dtw_pair_explorer",
    "edge_colors_by_side",
    "fit_tick_labels",
    "gradcam_explorer",
    "layer_graph_explorer",
    "plot_agreement",
    "plot_cascading",
    "plot_class_importance",
    "plot_deletion",
    "plot_deletion_gains",
    "plot_distance_matrix",
    "plot_dtw_pair",
    "plot_generic_control",
    "plot_graph_embedding",
    "plot_heatmap",
    "plot_noise_layers",
    "plot_partition",
    "plot_separation",
    "plot_transfer",
    "plot_skeleton",
    "plot_skeleton_2d",
    "plot_skeleton_importance",
    "skeleton_animation",
    "skeleton_player",
    "to_display",
]
