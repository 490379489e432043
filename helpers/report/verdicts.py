"""Every judgement the book prints, one function each, with its thresholds as named constants.

A judgement is a :class:`Verdict`: the claim it tests, one outcome (``'supports'``,
``'contradicts'`` or ``'inconclusive'``), the numbers it used and one sentence computed from
them. The chapters and the results page (:mod:`helpers.report.chapters`) print the same
functions' verdicts, so the two pages cannot contradict each other, and no chapter holds a
threshold of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

__all__ = [
    "AGREEMENT_LAYERS",
    "EARLY_BLOCKS",
    "LATE_BLOCKS",
    "LV_RESOLUTION",
    "MEMORISED_SHARE",
    "NOISE_SHARE",
    "OUTCOMES",
    "RESAMPLED_LOSS",
    "SMOOTH_INPUT",
    "Verdict",
    "cascading_verdict",
    "correct_count_change",
    "depth_verdict",
    "faithfulness_verdict",
    "generic_early_verdict",
    "input_smoothness_verdict",
    "label_randomisation_verdict",
    "map_smoothness_verdict",
    "midway_value",
    "noise_attenuation_verdict",
    "noise_claim_verdict",
    "readouts_agreement",
    "resampling_verdict",
    "rising_layer",
    "separation_layer",
    "shuffled_memorised",
    "smoother_network",
    "specificity_verdict",
    "steadily_smoother",
    "transfer_layer_verdict",
]

#: The three outcomes a verdict can have, in the order the book lists them.
OUTCOMES: tuple[str, ...] = ("supports", "contradicts", "inconclusive")

#: Chapter 4's "early" and "late" blocks (inclusive ranges of layer indices; 0 is the input).
EARLY_BLOCKS: tuple[int, int] = (1, 4)
LATE_BLOCKS: tuple[int, int] = (8, 10)

#: Chapter 6: the shuffled-label network "memorised" its random labels when it fits at least
#: 95% of its training clips (Adebayo et al.'s networks fit nearly all; a network that fits
#: less learnt too little to be a control).
MEMORISED_SHARE = 0.95

#: Chapter 2: the resampled network "does not cope" with whole clips when it loses more than 5
#: points on them (the chapter's original margin: a few clips of the 99 test clips).
RESAMPLED_LOSS = 0.05
#: Chapter 3: the raw input is "already smooth" below this NNK label variation: a tenth of the
#: graph's edge weight leaves a clip's class, where a trained network's last block ends.
SMOOTH_INPUT = 0.1

#: Chapter 9: two networks' last blocks "end about equally smooth" when their NNK label
#: variations differ by less than one unit of the third decimal, the precision the book prints
#: label variations with: a difference its tables cannot show is never called one.
LV_RESOLUTION = 0.001

_LABELS = {
    "supports": "Supports",
    "contradicts": "Contradicts",
    "inconclusive": "Inconclusive",
}


@dataclass(frozen=True)
class Verdict:
    """One judgement: a claim, its outcome on this build's numbers, and why.

    Attributes
    ----------
    claim : the claim tested, in words (mostly the paper's).
    outcome : ``'supports'``, ``'contradicts'`` or ``'inconclusive'`` (the numbers cannot decide).
    numbers : the values, thresholds and intervals the judgement used, by name.
    sentence : one sentence, computed from ``numbers``, that says what they show.
    """

    claim: str
    outcome: str
    numbers: Mapping[str, Any] = field(default_factory=dict)
    sentence: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r}: must be one of {OUTCOMES}")

    @property
    def label(self) -> str:
        """The outcome as a heading word (``'Supports'``...)."""
        return _LABELS[self.outcome]

    def __str__(self) -> str:
        return f"{self.label} the claim that {self.claim}: {self.sentence}"

    def _repr_markdown_(self) -> str:
        return f"**{self.label}** the claim that {self.claim}: {self.sentence}"


def _finite(*values: float) -> bool:
    return all(v is not None and np.isfinite(float(v)) for v in values)


# ----------------------------------------------------------------------------- chapter 2
def resampling_verdict(resampled_top1: float, on_whole_top1: float) -> Verdict:
    """Chapter 2: whether a network trained on resampled clips copes with whole clips.

    ``'contradicts'`` when it scores more than :data:`RESAMPLED_LOSS` less on whole clips than on
    resampled ones; ``'supports'`` otherwise; ``'inconclusive'`` without both scores.
    """
    claim = "a network trained on resampled clips copes with clips at their own length"
    loss = resampled_top1 - on_whole_top1 if _finite(resampled_top1, on_whole_top1) else np.nan
    numbers = {
        "resampled_top1": resampled_top1,
        "on_whole_top1": on_whole_top1,
        "loss": loss,
        "threshold": RESAMPLED_LOSS,
    }
    if not np.isfinite(loss):
        return Verdict(claim, "inconclusive", numbers, "the resampled network was not scored.")
    if loss > RESAMPLED_LOSS:
        return Verdict(
            claim,
            "contradicts",
            numbers,
            f"it scores {100 * loss:.0f} points less on whole clips, which the layer analyses "
            "need.",
        )
    return Verdict(
        claim,
        "supports",
        numbers,
        f"it scores {100 * loss:+.0f} points less on whole clips than on resampled ones.",
    )


# ----------------------------------------------------------------------------- chapter 3
def input_smoothness_verdict(nnk_lv_input: float) -> Verdict:
    """Chapter 3: whether the raw input leaves the layers room to separate the classes.

    ``'contradicts'`` when the DTW graph's NNK label variation is below :data:`SMOOTH_INPUT`
    (the input is as smooth as a trained last block), ``'supports'`` otherwise,
    ``'inconclusive'`` when undefined.
    """
    claim = "the raw input leaves the network's layers room to separate the classes"
    numbers = {"nnk_lv_input": nnk_lv_input, "threshold": SMOOTH_INPUT}
    if not _finite(nnk_lv_input):
        return Verdict(claim, "inconclusive", numbers, "the input's label variation is undefined.")
    if nnk_lv_input < SMOOTH_INPUT:
        return Verdict(
            claim,
            "contradicts",
            numbers,
            f"the input's NNK label variation is {nnk_lv_input:.3f}: it is smooth before any "
            "network has seen it, which leaves the layers little room to improve on it.",
        )
    return Verdict(
        claim,
        "supports",
        numbers,
        f"the input's NNK label variation is {nnk_lv_input:.3f}, so there is room for the "
        "layers to separate the classes better.",
    )


# ----------------------------------------------------------------------------- chapter 4
def separation_layer(values: pd.Series, share: float = 0.5) -> int | None:
    """The layer where the classes separate: the first to make ``share`` of the largest drop.

    ``values`` is a label-smoothness measure by layer (layer 0 the input; lower is smoother).
    The largest drop is from the input to the smoothest layer; the answer is the first layer
    whose value is at or below ``input - share * drop``. ``None`` when no layer is smoother than
    the input.
    """
    if not 0 < share <= 1:
        raise ValueError(f"share={share!r}: must be in (0, 1]")
    v = pd.Series(values, dtype=float).dropna().sort_index()
    if v.empty:
        raise ValueError("separation_layer: no values")
    start = float(v.iloc[0])
    drop = start - float(v.min())
    if not drop > 0:
        return None
    reached = v[v <= start - share * drop + 1e-12]
    return int(reached.index[0])


# ----------------------------------------------------------------------------- chapter 6
def _majority(
    claim: str,
    numbers: dict,
    said: str,
    agree: int,
    disagree: int,
    n: int,
    against: str = "",
) -> Verdict:
    """The block-count rule of chapter 6's verdicts: a majority of ``n`` blocks decides.

    ``'supports'`` when more than half of the blocks have their interval on the claim's side
    (``agree``), ``'contradicts'`` when more than half have it on the other (``disagree``;
    ``against`` is added to the sentence then), ``'inconclusive'`` otherwise.
    """
    if agree > n / 2:
        return Verdict(claim, "supports", numbers, said + ".")
    if disagree > n / 2:
        return Verdict(claim, "contradicts", numbers, said + against + ".")
    return Verdict(claim, "inconclusive", numbers, said + ".")


def faithfulness_verdict(gains: pd.DataFrame, unit: str) -> Verdict:
    """Chapter 6: whether the maps rank the units that carry the decision first.

    Parameters
    ----------
    gains : :func:`helpers.explain.deletion.deletion_gains` rows of one unit: ``curve``,
        ``layer``, ``against`` (``'random'``, ``'motion'``), ``estimate``, ``low``, ``high``
        (positive: the map's order removes what matters sooner than the other order).
    unit : ``'cell'``, ``'joint'`` or ``'frame'`` (for the sentence).

    Returns
    -------
    Decided on deletion. ``'supports'`` when in more than half of the blocks the gain's
    interval lies above 0 against both the random and the motion-energy order;
    ``'contradicts'`` when in more than half it lies below 0 against either (a map that removes
    what matters later than chance or than the input's own motion); ``'inconclusive'``
    otherwise.
    """
    claim = f"the maps rank the {unit}s that carry the decision first"
    d = gains[gains["curve"] == "deletion"]
    sides: dict[str, dict[int, int]] = {}
    for _, row in d.iterrows():
        sides.setdefault(str(row["against"]), {})[int(row["layer"])] = _side(row)
    blocks = sorted(set().union(*[set(v) for v in sides.values()])) if sides else []
    n = len(blocks)
    rand, motion = sides.get("random", {}), sides.get("motion", {})
    beat_random = sum(rand.get(b, 0) > 0 for b in blocks)
    beat_motion = sum(motion.get(b, 0) > 0 for b in blocks)
    beat_both = sum(rand.get(b, 0) > 0 and motion.get(b, 0) > 0 for b in blocks)
    lose = sum(rand.get(b, 0) < 0 or motion.get(b, 0) < 0 for b in blocks)
    numbers = {
        "unit": unit,
        "blocks": n,
        "beat_random": beat_random,
        "beat_motion": beat_motion,
        "beat_both": beat_both,
        "behind": lose,
    }
    if n == 0:
        return Verdict(claim, "inconclusive", numbers, "no deletion gains were measured.")
    said = (
        f"removing a block's top {unit}s first lowers the class probability sooner than random "
        f"orders in {beat_random} of {n} blocks and sooner than the motion-energy order in "
        f"{beat_motion} (95% intervals above 0); later than one of them in {lose}"
    )
    return _majority(claim, numbers, said, beat_both, lose, n)


def cascading_verdict(intervals: pd.DataFrame) -> Verdict:
    """Chapter 6: whether the maps depend on the weights (cascading randomisation).

    Parameters
    ----------
    intervals : per ``other`` and ``layer`` the mean rank correlation with the trained
        network's maps and its interval (``estimate``, ``low``, ``high``), with the rows
        ``'another seed'`` (a second trained network, the reference), ``'every block random'``
        (the trained network with every block re-initialised) and
        ``'another seed - every block random'`` (their paired difference), as
        :attr:`helpers.studies.gradcam.GradcamChecks.agreement_intervals`.

    Returns
    -------
    Over every block: ``'supports'`` when in more than half of them the difference's interval
    lies above 0 (a second trained network's maps are closer to the trained ones than random
    weights' maps are); ``'contradicts'`` when in more than half it lies below 0 (random
    weights' maps are the closer); ``'inconclusive'`` otherwise.
    """
    claim = "the maps depend on the trained weights"
    table = intervals.set_index(["other", "layer"])
    diff = "another seed - every block random"
    layers = sorted({int(layer) for other, layer in table.index if other == diff})
    sides = [_side(table.loc[(diff, b)]) for b in layers]
    above, below = sum(s > 0 for s in sides), sum(s < 0 for s in sides)

    def mean(other: str) -> float:
        rows = [table.loc[(other, b), "estimate"] for b in layers if (other, b) in table.index]
        return float(np.mean(rows)) if rows else np.nan

    numbers = {
        "blocks": len(sides),
        "above": above,
        "below": below,
        "every_block_random": mean("every block random"),
        "another_seed": mean("another seed"),
    }
    if not sides:
        return Verdict(claim, "inconclusive", numbers, "no block was compared.")
    said = (
        f"with every block re-initialised the maps keep a rank correlation of "
        f"{numbers['every_block_random']:+.2f} with the trained ones, a second trained "
        f"network's maps {numbers['another_seed']:+.2f} (means over blocks); the second "
        f"network is the closer in {above} of {len(sides)} blocks, random weights in {below} "
        f"(95% intervals of the paired difference)"
    )
    return _majority(claim, numbers, said, above, below, len(sides), ": random weights do as well")


def shuffled_memorised(train_accuracy: float) -> bool:
    """Whether the shuffled-label network fits :data:`MEMORISED_SHARE` of its training clips."""
    return bool(_finite(train_accuracy) and train_accuracy >= MEMORISED_SHARE)


def label_randomisation_verdict(intervals: pd.DataFrame, fit: float) -> Verdict:
    """Chapter 6: whether the late blocks' maps reflect what the network learnt.

    Parameters
    ----------
    intervals : per ``other`` and ``layer`` the mean rank correlation with the real network's
        maps and its interval (``estimate``, ``low``, ``high``), with the rows
        ``'another seed'`` (a second real network), ``'shuffled labels'`` (the memorising
        control) and ``'another seed - shuffled labels'`` (their paired difference).
    fit : the memorising control's top-1 on the shuffled labels of its training clips.

    Returns
    -------
    ``'inconclusive'`` when the control did not memorise (``fit`` below
    :data:`MEMORISED_SHARE`: a network that learnt little is no control). Otherwise, over the
    late half of the blocks: ``'supports'`` when in more than half of them the difference's
    interval lies above 0 (two real networks agree more than a real one and the control);
    ``'contradicts'`` when in more than half it lies below 0 or includes 0 while the control
    agrees at least as much as another seed; ``'inconclusive'`` otherwise.
    """
    claim = "the late blocks' maps reflect what the network learnt"
    table = intervals.set_index(["other", "layer"])
    layers = sorted({int(layer) for _, layer in table.index})
    late = layers[len(layers) // 2 :]
    early = layers[: len(layers) // 2] or late  # one block: both halves
    diff = "another seed - shuffled labels"

    def mean(other: str, part: list[int]) -> float:
        return float(np.mean([table.loc[(other, b), "estimate"] for b in part])) if part else np.nan

    sides = [_side(table.loc[(diff, b)]) for b in late if (diff, b) in table.index]
    above, below = sum(s > 0 for s in sides), sum(s < 0 for s in sides)
    numbers = {
        "fit": float(fit),
        "memorised_share": MEMORISED_SHARE,
        "late_blocks": len(sides),
        "late_above": above,
        "late_below": below,
        "seed_early": mean("another seed", early),
        "seed_late": mean("another seed", late),
        "shuffled_late": mean("shuffled labels", late),
    }
    if not shuffled_memorised(fit):
        return Verdict(
            claim, "inconclusive", numbers,
            f"the shuffled-label control fits only {fit:.0%} of its training clips "
            f"(at least {MEMORISED_SHARE:.0%} needed): it memorised too little to be a control.",
        )  # fmt: skip
    said = (
        f"the control fits {fit:.0%} of its shuffled training clips; in blocks "
        f"{late[0]}-{late[-1]} two real networks' maps correlate {numbers['seed_late']:+.2f}, "
        f"the real and the control's {numbers['shuffled_late']:+.2f}, the difference above 0 "
        f"in {above} of {len(sides)} blocks (95% intervals); in blocks {early[0]}-{early[-1]} two "
        f"real networks correlate {numbers['seed_early']:+.2f}"
    )
    return _majority(claim, numbers, said, above, below, len(sides))


def map_smoothness_verdict(table: pd.DataFrame) -> Verdict:
    """Chapter 6: whether explanations separate the classes later (and less) than the features.

    Parameters
    ----------
    table : per block (``layer``) the NNK label variation of the class-independent maps minus
        that of the features, with its interval (``estimate``, ``low``, ``high``;
        :func:`helpers.studies.gradcam.gradcam_smoothness_study`).

    Returns
    -------
    ``'supports'`` when the maps are rougher (interval above 0) in more than half of the
    blocks; ``'contradicts'`` when they are smoother (below 0) in more than half;
    ``'inconclusive'`` otherwise.
    """
    claim = "explanations separate the classes later (and less) than the features"
    sides = [_side(row) for _, row in table.iterrows()]
    rougher, smoother, n = sum(s > 0 for s in sides), sum(s < 0 for s in sides), len(sides)
    numbers = {"blocks": n, "maps_rougher": rougher, "maps_smoother": smoother}
    if n == 0:
        return Verdict(claim, "inconclusive", numbers, "no block was measured.")
    said = (
        f"the maps of the class-independent score are less label-smooth than the features in "
        f"{rougher} of {n} blocks and smoother in {smoother} (NNK label variation, neighbours "
        "from other subjects, 95% intervals)"
    )
    return _majority(claim, numbers, said, rougher, smoother, n)


# ----------------------------------------------------------------------------- chapter 7
def specificity_verdict(
    early: Mapping[str, Any], late: Mapping[str, Any], early_k: int, late_k: int
) -> Verdict:
    """C4 in Yosinski et al.'s terms: early blocks transfer, later blocks are task-specific.

    Parameters
    ----------
    early, late : AnB - BnB (target test accuracy of the source network's first k blocks,
        frozen, minus the target network's own), pooled over splits and seeds, with its
        bootstrap interval (``estimate``, ``low``, ``high``), at the smallest and the largest k.
    early_k, late_k : those k.

    Returns
    -------
    ``'supports'`` when the early difference is not below 0 (its interval includes or lies
    above 0) and the late one lies below 0; ``'contradicts'`` when the early one lies below 0
    (the source's first blocks are already specific) or the late one above 0 (its late blocks
    serve the target better than the target's own); ``'inconclusive'`` otherwise.
    """
    claim = "early blocks transfer to related actions and later blocks are task-specific"
    numbers: dict[str, Any] = {
        f"{name}_{part}": float(row[part])
        for name, row in (("early", early), ("late", late))
        for part in ("estimate", "low", "high")
    }
    numbers.update(early_k=int(early_k), late_k=int(late_k))
    said = (
        f"the source network's frozen blocks give {_points_text(early)} points against the "
        f"target network's own at k = {int(early_k)} and {_points_text(late)} at k = "
        f"{int(late_k)} (AnB - BnB, 95% intervals)"
    )
    e, lt = _side(early), _side(late)
    if e >= 0 and lt < 0:
        return Verdict(claim, "supports", numbers, said + ".")
    if e < 0 or lt > 0:
        return Verdict(claim, "contradicts", numbers, said + ".")
    return Verdict(claim, "inconclusive", numbers, said + ".")


def _points_text(row: Mapping[str, Any]) -> str:
    """An accuracy difference with its interval, in percentage points."""
    return (
        f"{100 * float(row['estimate']):+.1f} [{100 * float(row['low']):+.1f}, "
        f"{100 * float(row['high']):+.1f}]"
    )


def transfer_layer_verdict(layers: pd.DataFrame, ks) -> Verdict:
    """The paper's link: transfer fails where the source network's geometry falls behind.

    Parameters
    ----------
    layers : one row per class split (``split``), with ``transfer_layer`` (the first k of the
        grid where AnB lies below BnB, NaN if none) and ``geometry_layer`` (the first block
        where the source network's NNK label variation on the target classes lies above the
        target network's, NaN if none).
    ks : the grid of k.

    Returns
    -------
    The geometry layer is read at the grid's resolution (the first k of ``ks`` at or after
    it; beyond the grid counts as none). ``'supports'`` when the two layers agree in every
    split and some split has one; ``'contradicts'`` when they disagree in more than half the
    splits; ``'inconclusive'`` otherwise (including when neither measure finds a layer).
    """
    claim = "transfer starts to fail at the layer where the source network's geometry falls behind"
    grid = sorted(int(k) for k in ks)
    if not grid:
        raise ValueError("ks: expected the grid of transferred blocks, got none")

    def on_grid(layer: float) -> int | None:
        if not _finite(layer):
            return None
        later = [k for k in grid if k >= float(layer)]
        return later[0] if later else None

    pairs = []
    for row in layers.to_dict("records"):
        t = int(row["transfer_layer"]) if _finite(row["transfer_layer"]) else None
        pairs.append((str(row["split"]), t, on_grid(row["geometry_layer"])))
    numbers: dict[str, Any] = {
        f"split_{name}": {"transfer": t, "geometry": g} for name, t, g in pairs
    }
    if not pairs:
        return Verdict(claim, "inconclusive", numbers, "no split was measured.")
    agree = [t == g for _, t, g in pairs]
    found = [t is not None or g is not None for _, t, g in pairs]
    numbers.update(ks=grid, agree=int(sum(agree)), splits=len(pairs))

    def text(v: int | None) -> str:
        return "none" if v is None else f"k = {v}"

    said = "; ".join(
        f"split {name}: transfer falls behind at {text(t)}, geometry at {text(g)}"
        for name, t, g in pairs
    )
    if all(agree) and any(found):
        return Verdict(claim, "supports", numbers, said + ".")
    if sum(not a for a in agree) > len(pairs) / 2:
        return Verdict(claim, "contradicts", numbers, said + ".")
    return Verdict(claim, "inconclusive", numbers, said + ".")


# ----------------------------------------------------------------------------- chapter 3
def correct_count_change(share_difference: float, n_test: int) -> tuple[int, str]:
    """Chapter 3: a difference of two 1-NN accuracies as a count of test clips, in words.

    Parameters
    ----------
    share_difference : float
        Accuracy of the first distance minus that of the second (shares of the test clips).
    n_test : int
        Number of test clips.

    Returns
    -------
    (count, word) : tuple of int and str
        How many more or fewer test clips the first distance classifies correctly (rounded to
        whole clips), and ``'more'``, ``'fewer'`` or ``'as many'``. Differences below half a
        clip read ``'as many'``, so a rounding residue never reads as a clip won or lost.
    """
    if not np.isfinite(share_difference):
        return 0, "as many"
    count = int(round(abs(float(share_difference)) * int(n_test)))
    if count == 0:
        return 0, "as many"
    return count, "more" if share_difference > 0 else "fewer"


# ----------------------------------------------------------------------------- chapter 9
def steadily_smoother(values: pd.Series) -> bool:
    """Chapter 9: whether every block's value is below the one of the layer before it.

    ``values`` is indexed by layer (0 the input). Strictly lower at every step, with no margin:
    the sentence it feeds says "every block is smoother", which any step up or tie refutes.
    A curve of one layer has no steps and is not called steadily smoother.
    """
    v = pd.Series(values, dtype=float).sort_index()
    steps = v.diff().dropna()
    return bool(len(steps) > 0 and (steps < 0).all())


def midway_value(values: pd.Series) -> float:
    """Chapter 9: a curve's value halfway through its network.

    ``values`` is indexed by layer (0 the input, the largest index the last block); the answer
    is the value at the deepest layer whose relative depth (layer / last layer) is at most one
    half, so networks of different depths are compared at the same share of their depth.
    """
    v = pd.Series(values, dtype=float).sort_index()
    if v.empty:
        raise ValueError("midway_value: no layers")
    depth = np.asarray(v.index, dtype=float) / max(float(v.index.max()), 1.0)
    return float(v[depth <= 0.5].iloc[-1])


def smoother_network(own_last: float, other_last: float) -> str:
    """Chapter 9: which network's last block is smoother: ``'same'``, ``'own'`` or ``'other'``.

    ``'same'`` when the two NNK label variations differ by less than :data:`LV_RESOLUTION`
    (or one is undefined); otherwise the network with the lower value.
    """
    if not _finite(own_last, other_last) or abs(own_last - other_last) < LV_RESOLUTION:
        return "same"
    return "own" if own_last < other_last else "other"


# ------------------------------------------------------------- chapters 4 and 5, on intervals
#: Readouts "agree" on where the classes separate when their separation layers lie within two
#: layers of each other: one ST-GCN stage (blocks 1-4, 5-7, 8-10) spans three or four layers,
#: so two layers apart is still the same part of the network.
AGREEMENT_LAYERS = 2


def _interval_text(row: Mapping[str, Any], digits: int = 3) -> str:
    return f"{row['estimate']:+.{digits}f} [{row['low']:+.{digits}f}, {row['high']:+.{digits}f}]"


def _side(row: Mapping[str, Any]) -> int:
    """+1 when the whole interval is above 0, -1 when below, 0 when it includes 0 or is NaN."""
    low, high = float(row["low"]), float(row["high"])
    if not _finite(low, high):
        return 0
    return 1 if low > 0 else -1 if high < 0 else 0


def depth_verdict(slope: Mapping[str, Any], late_minus_early: Mapping[str, Any]) -> Verdict:
    """C1: whether label smoothness improves with depth, decided on intervals.

    Parameters
    ----------
    slope : the trained networks' slope of NNK label variation over blocks 1 to L, per block,
        with its bootstrap interval (``estimate``, ``low``, ``high``; a row of
        :attr:`helpers.studies.separation.SeparationResult.contrasts`).
    late_minus_early : the late blocks' mean minus the early blocks' mean, with its interval.

    Returns
    -------
    ``'supports'`` when the slope's interval lies below 0 (smoother with depth);
    ``'contradicts'`` when it lies above 0 (rougher with depth); ``'inconclusive'`` when it
    includes 0. The late-minus-early contrast is reported beside it.
    """
    claim = "label smoothness improves with depth"
    numbers = {
        "slope": float(slope["estimate"]),
        "slope_low": float(slope["low"]),
        "slope_high": float(slope["high"]),
        "late_minus_early": float(late_minus_early["estimate"]),
        "late_minus_early_low": float(late_minus_early["low"]),
        "late_minus_early_high": float(late_minus_early["high"]),
    }
    said = (
        f"per block the NNK label variation changes by {_interval_text(slope, 4)} (95% "
        f"bootstrap interval over clips), and blocks 8-10 differ from blocks 1-4 by "
        f"{_interval_text(late_minus_early)}"
    )
    side = _side(slope)
    if side < 0:
        return Verdict(claim, "supports", numbers, said + ": smoother with depth.")
    if side > 0:
        return Verdict(claim, "contradicts", numbers, said + ": rougher with depth.")
    return Verdict(claim, "inconclusive", numbers, said + ": the slope's interval includes 0.")


def generic_early_verdict(
    early_gap: Mapping[str, Any], late_gap: Mapping[str, Any], growth: Mapping[str, Any]
) -> Verdict:
    """C2: early layers are generic and classes separate only later, against its control.

    The control: on the same clips of the target classes, networks trained on those classes
    and networks trained on other classes (the transfer split's source classes). The gap is the
    other-class networks' NNK label variation minus the own-class networks'; the paper predicts
    no gap in the early blocks and a gap that grows in the late ones.

    Parameters
    ----------
    early_gap, late_gap : the mean gap over blocks 1-4 and over blocks 8-10, with intervals.
    growth : late gap minus early gap, with its interval.

    Returns
    -------
    ``'supports'`` when the late gap and its growth both lie above 0 and the early gap's
    interval includes 0; ``'contradicts'`` when the early gap lies above 0 and does not grow
    (its growth's interval includes or lies below 0: the class-specific part is there from the
    start), or when the late gap lies at or below 0 (networks that never saw these classes are
    as smooth on them late); ``'inconclusive'`` otherwise.
    """
    claim = "early layers are generic and the classes separate only in later layers"
    numbers = {
        f"{name}_{part}": float(row[key])
        for name, row in (("early_gap", early_gap), ("late_gap", late_gap), ("growth", growth))
        for part, key in (("estimate", "estimate"), ("low", "low"), ("high", "high"))
    }
    said = (
        f"networks trained on other classes are rougher on these classes by "
        f"{_interval_text(early_gap)} in blocks 1-4 and {_interval_text(late_gap)} in blocks "
        f"8-10 (NNK label variation, 95% intervals); the gap grows by {_interval_text(growth)}"
    )
    early, late, grows = _side(early_gap), _side(late_gap), _side(growth)
    if late > 0 and grows > 0 and early == 0:
        return Verdict(claim, "supports", numbers, said + ".")
    if (early > 0 and grows <= 0) or float(late_gap["high"]) <= 0:
        return Verdict(claim, "contradicts", numbers, said + ".")
    return Verdict(claim, "inconclusive", numbers, said + ".")


def readouts_agreement(layers: Mapping[str, int | None]) -> Verdict:
    """Whether independent readouts put the separation of the classes in the same place.

    Parameters
    ----------
    layers : per readout (e.g. ``'NNK label variation'``, ``'linear probe'``,
        ``'CKA with the last block'``), the layer where it says the classes separate
        (``None``: it never does).

    Returns
    -------
    ``'supports'`` when every readout names a layer and all lie within
    :data:`AGREEMENT_LAYERS` of each other; ``'contradicts'`` when they lie further apart;
    ``'inconclusive'`` when a readout names none.
    """
    claim = "the readouts agree on where the classes separate"
    numbers: dict[str, Any] = {name: layer for name, layer in layers.items()}
    numbers["agreement_layers"] = AGREEMENT_LAYERS
    said = ", ".join(
        f"{name}: {'never' if layer is None else f'layer {layer}'}"
        for name, layer in layers.items()
    )
    found = [int(v) for v in layers.values() if v is not None]
    if len(found) < len(layers) or not found:
        return Verdict(claim, "inconclusive", numbers, said + ".")
    if max(found) - min(found) <= AGREEMENT_LAYERS:
        return Verdict(claim, "supports", numbers, said + ".")
    return Verdict(claim, "contradicts", numbers, said + ".")


def rising_layer(values: pd.Series, share: float = 0.5) -> int | None:
    """The first layer to make ``share`` of a rising curve's largest gain over layer 0.

    For readouts where higher means more separated (probe accuracy, CKA with the last block);
    ``None`` when no layer is above layer 0. The mirror image of :func:`separation_layer`.
    """
    v = pd.Series(values, dtype=float)
    return separation_layer(-v, share)


#: C3: noise has a "limited" effect on a layer's label smoothness while it moves the label
#: variation of blocks 8-10 by at most a quarter of the way from its clean value to chance:
#: the noisy layers keep at least three quarters of the class structure they had above chance.
NOISE_SHARE = 0.25


def noise_attenuation_verdict(
    attenuation: Mapping[str, Any], clean_late: float, chance: float
) -> Verdict:
    """C3 for one noise model: whether input noise has a limited effect on the late blocks.

    Parameters
    ----------
    attenuation : one row of :attr:`helpers.studies.noise_robustness.NoiseResult.attenuation`:
        ``kind``, ``level``, the change of NNK label variation under noise at the input
        (``delta_input``) and in the late blocks (``delta_late``), their ratio (``ratio``),
        each with ``*_low`` and ``*_high`` (paired bootstrap over clips).
    clean_late : the late blocks' NNK label variation on the clean clips.
    chance : the label variation of random labels on these clips (the scale's far end).

    Returns
    -------
    ``'inconclusive'`` when the noise does not change the input's smoothness measurably (its
    interval includes 0: the test has nothing to resist) or there is no room to chance;
    otherwise, with ``share`` = the late change over ``chance - clean_late``: ``'supports'``
    when the whole interval of ``share`` is at most :data:`NOISE_SHARE`, ``'contradicts'`` when
    it lies above it, ``'inconclusive'`` when it straddles it. The attenuation ratio (late
    change over input change: below 1, the network damps the noise) is reported beside it.
    """
    claim = "input noise has a limited effect on the label smoothness of the layers"
    a = dict(attenuation)
    room = float(chance) - float(clean_late)
    shares = {
        f"share{suffix}": (a[f"delta_late{suffix}"] / room if room > 0 else float("nan"))
        for suffix in ("", "_low", "_high")
    }
    numbers = {
        **{
            key: a.get(key)
            for key in (
                "kind",
                "level",
                "delta_input",
                "delta_input_low",
                "delta_input_high",
                "delta_late",
                "delta_late_low",
                "delta_late_high",
                "ratio",
                "ratio_low",
                "ratio_high",
            )
        },
        "clean_late": float(clean_late),
        "chance": float(chance),
        **shares,
        "noise_share": NOISE_SHARE,
    }
    d_in = {
        "estimate": a["delta_input"],
        "low": a["delta_input_low"],
        "high": a["delta_input_high"],
    }
    d_late = {"estimate": a["delta_late"], "low": a["delta_late_low"], "high": a["delta_late_high"]}
    said = (
        f"{a['kind']} noise at {a['level']:g} changes the NNK label variation by "
        f"{_interval_text(d_in)} at the input and {_interval_text(d_late)} in blocks 8-10"
    )
    if _side(d_in) == 0:
        return Verdict(claim, "inconclusive", numbers, said + ": the input itself barely moves.")
    if not room > 0:
        return Verdict(claim, "inconclusive", numbers, said + ": the clean layers sit at chance.")
    share = (
        f"; that is {shares['share']:.0%} [{shares['share_low']:.0%}, {shares['share_high']:.0%}] "
        f"of the way from their clean value ({clean_late:.3f}) to chance ({chance:.3f}); late "
        f"over input {a['ratio']:.2f} [{a['ratio_low']:.2f}, {a['ratio_high']:.2f}]"
    )
    if shares["share_high"] <= NOISE_SHARE:
        return Verdict(claim, "supports", numbers, said + share + ".")
    if shares["share_low"] > NOISE_SHARE:
        return Verdict(claim, "contradicts", numbers, said + share + ".")
    return Verdict(claim, "inconclusive", numbers, said + share + ".")


def noise_claim_verdict(per_kind: Mapping[str, Verdict]) -> Verdict:
    """C3 on one dataset: every noise model's :func:`noise_attenuation_verdict` taken together.

    Parameters
    ----------
    per_kind : the verdict of each noise model, by its name.

    Returns
    -------
    ``'supports'`` when some noise model's verdict supports the claim and none contradicts it;
    ``'contradicts'`` when some contradicts it and none supports it; ``'inconclusive'``
    otherwise (the noise models disagree, or none decides).
    """
    claim = "input noise has a limited effect on the label smoothness of the layers"
    if not per_kind:
        raise ValueError("noise_claim_verdict: per_kind is empty")
    outcomes = {name: v.outcome for name, v in per_kind.items()}
    said = "; ".join(f"{name}: {outcome}" for name, outcome in outcomes.items())
    found = set(outcomes.values())
    if "supports" in found and "contradicts" not in found:
        return Verdict(claim, "supports", outcomes, said + ".")
    if "contradicts" in found and "supports" not in found:
        return Verdict(claim, "contradicts", outcomes, said + ".")
    return Verdict(claim, "inconclusive", outcomes, said + ".")
