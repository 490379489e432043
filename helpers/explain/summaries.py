"""One table per model that says how Grad-CAM maps spread and how they differ between classes.

Chapter 6 (the book's ST-GCN), chapter 9 (another architecture) and the results page summarise a
:class:`~helpers.explain.gradcam.DatasetGradCAM` block by block in the same way;
:func:`map_summary` is that summary, so the three read the same numbers under the same names.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.explain.gradcam import class_average, concentration, contrastivity

__all__ = ["TOP_FRAMES", "TOP_JOINTS", "map_summary"]

#: Joints counted in the joint share. Five of HDM05's 31 joints (16%) is one limb (a leg: hip,
#: femur, tibia, foot, toes): a map that singles out the limb doing the action puts most of its
#: weight there, a uniform one 16%.
TOP_JOINTS = 5

#: Share of a clip's frames counted in the time share. A fifth singles out one phase of an
#: action (a kick's swing, a jump's take-off); a uniform map puts 20% of its weight there.
TOP_FRAMES = 0.2


def _mean(values: np.ndarray) -> float:
    """Mean over the finite values; NaN, without a warning, when there are none."""
    values = np.asarray(values, np.float64)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def map_summary(
    maps: Mapping[int, Sequence[np.ndarray]],
    labels: Sequence[int] | np.ndarray | None = None,
    num_classes: int | None = None,
    *,
    top_joints: int = TOP_JOINTS,
    top_frames: float = TOP_FRAMES,
) -> pd.DataFrame:
    """Per block: how concentrated the maps are, how many are empty, how alike the classes are.

    Parameters
    ----------
    maps : ``{layer: [(M, T_i, V) map per clip]}`` (the ``maps`` of a
        :class:`~helpers.explain.gradcam.DatasetGradCAM`), at the block's or the input's frames.
    labels : (N,) class of every clip, for the class correlation (None: that column is NaN).
    num_classes : K (default: ``max(labels) + 1``).
    top_joints : the joints counted in the joint share
        (:func:`~helpers.explain.gradcam.concentration`).
    top_frames : the share of frames counted in the time share.

    Returns
    -------
    A DataFrame indexed by ``layer`` (sorted) with the columns

    * ``top5_joint_share`` (named after ``top_joints``): the mean over clips of the share of a
      map's total in its ``top_joints`` joints (uniform map: ``top_joints / V``);
    * ``top20_frame_share`` (named after ``top_frames`` in percent): the mean share in its
      busiest ``top_frames`` of frames (uniform map: about ``top_frames``);
    * ``zero_maps``: the share of clips whose map is zero everywhere (left out of both means);
    * ``class_correlation``: the mean Pearson correlation between two classes' joint
      importance (each clip's map averaged over bodies and frames, then over the clips of a
      class; :func:`~helpers.explain.gradcam.contrastivity`), over the pairs of distinct
      classes whose correlation is defined; low means class-specific joints.

    A mean over no defined value is NaN.
    """
    joint_col = f"top{int(top_joints)}_joint_share"
    frame_col = f"top{round(100 * float(top_frames))}_frame_share"
    y = None if labels is None else np.asarray(labels).reshape(-1)
    if y is not None and num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    rows = []
    for layer in sorted(maps):
        clips = list(maps[layer])
        joints, frames = concentration(clips, top_joints=top_joints, top_frames=top_frames)
        correlation = float("nan")
        if y is not None:
            if len(y) != len(clips):
                raise ValueError(f"{len(y)} labels for {len(clips)} maps of block {layer}")
            # each clip's joint importance: its map averaged over bodies and frames, (N, V)
            # (in the maps' own dtype, as DatasetGradCAM.importance, so the numbers match it)
            importance = np.stack([np.asarray(mp).mean(axis=(0, 1)) for mp in clips])
            per_class = class_average(importance, y, int(num_classes))
            off = ~np.eye(int(num_classes), dtype=bool)
            correlation = _mean(contrastivity(per_class)[off])
        rows.append(
            {
                "layer": layer,
                joint_col: _mean(joints),
                frame_col: _mean(frames),
                "zero_maps": float(np.isnan(joints).mean()) if len(joints) else float("nan"),
                "class_correlation": correlation,
            }
        )
    columns = ["layer", joint_col, frame_col, "zero_maps", "class_correlation"]
    return pd.DataFrame(rows, columns=columns).set_index("layer")
