"""What the book concludes.

Every verdict (:mod:`~helpers.report.verdicts`) and each chapter's headline numbers.

The package map is in the README (Modules).
"""

from helpers.report.chapters import (
    CHAPTER_DEFAULTS,
    COMMON_DEFAULTS,
    dtw_graphs_results,
    geometry_results,
    gradcam_results,
    layer_curves,
    noise_results,
    own_model_results,
    scaling_results,
    training_results,
    transfer_results,
)
from helpers.report.machine import load_measurements, machine_info
from helpers.report.numbers import (
    CHAPTER_TITLES,
    UNITS,
    ChapterResults,
    format_value,
    headline_table,
)
from helpers.report.verdicts import (
    EARLY_BLOCKS,
    LATE_BLOCKS,
    geometry_verdict,
    robust_noise_level,
    separation_layer,
    transfer_verdict,
)

__all__ = [
    "CHAPTER_DEFAULTS",
    "CHAPTER_TITLES",
    "COMMON_DEFAULTS",
    "ChapterResults",
    "EARLY_BLOCKS",
    "LATE_BLOCKS",
    "UNITS",
    "dtw_graphs_results",
    "format_value",
    "geometry_results",
    "geometry_verdict",
    "gradcam_results",
    "headline_table",
    "layer_curves",
    "load_measurements",
    "machine_info",
    "noise_results",
    "own_model_results",
    "robust_noise_level",
    "scaling_results",
    "separation_layer",
    "training_results",
    "transfer_results",
    "transfer_verdict",
]
