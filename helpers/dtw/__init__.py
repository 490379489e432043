"""Dynamic time warping, one core under three backends.

:mod:`~helpers.dtw.core` holds what they share; :mod:`~helpers.dtw.cpu` is the numba backend,
:mod:`~helpers.dtw.gpu` its torch twin and :mod:`~helpers.dtw.distributed` its Dask twin, all
tested against the same naive oracle.

The package map is in the README (Modules).
"""

from helpers.dtw.core import (
    FLOOR_EPS,
    SCALE_EXPONENT,
    Band,
    Window,
    as_collection,
    as_collections,
    as_sequence,
    band_bounds,
    blocks,
    check_block_frames,
    check_lengths,
    fill_bounds,
    integer_argument,
    mask_from_bounds,
    offsets,
    pair_list,
    parse_band,
    parse_window,
    radii,
    radius,
    rescale,
    unscale,
)
from helpers.dtw.cpu import (
    GRAM_MIN_BAND,
    GRAM_MIN_DIM,
    band_mask,
    dtw_cost_matrix,
    dtw_distance,
    dtw_path,
    pairwise_dtw,
    window_radius,
)
from helpers.dtw.distributed import cluster_client, pairwise_dtw_distributed, run_blocks

# imported on first use: these modules load torch, and the rest of the package stays light
_LAZY = {
    "knn_dtw_torch": "helpers.dtw.gpu",
    "pairwise_dtw_torch": "helpers.dtw.gpu",
}


def __getattr__(name: str):
    """The lazily imported names (PEP 562)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Band",
    "FLOOR_EPS",
    "GRAM_MIN_BAND",
    "GRAM_MIN_DIM",
    "SCALE_EXPONENT",
    "Window",
    "as_collection",
    "as_collections",
    "as_sequence",
    "band_bounds",
    "band_mask",
    "blocks",
    "check_block_frames",
    "integer_argument",
    "check_lengths",
    "cluster_client",
    "dtw_cost_matrix",
    "dtw_distance",
    "dtw_path",
    "fill_bounds",
    "knn_dtw_torch",
    "mask_from_bounds",
    "offsets",
    "pair_list",
    "pairwise_dtw",
    "pairwise_dtw_distributed",
    "pairwise_dtw_torch",
    "parse_band",
    "parse_window",
    "radii",
    "radius",
    "rescale",
    "run_blocks",
    "unscale",
    "window_radius",
]
