"""Every verdict the book prints, one test per outcome, on numbers made by hand.

Also the bug that moved the verdicts here: chapter 4's old "Verdict" cell attached an ``else``
to the wrong ``if`` and printed two contradictory lines; its logic is reproduced below on
numbers where it did, beside the one outcome of :func:`helpers.report.geometry_verdict`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import report
from helpers.report import verdicts as v
from helpers.report.verdicts import Verdict

BOOK = Path(__file__).resolve().parents[1] / "book"


# ------------------------------------------------------------------------------ the type
def test_a_verdict_prints_its_outcome_claim_and_sentence():
    verdict = Verdict("the sky is blue", "supports", {"blue": 0.9}, "90% of it is blue.")
    assert str(verdict) == "Supports the claim that the sky is blue: 90% of it is blue."
    assert verdict._repr_markdown_().startswith("**Supports** the claim that the sky is blue")
    with pytest.raises(ValueError, match="outcome"):
        Verdict("x", "maybe")
    with pytest.raises(AttributeError):
        verdict.outcome = "contradicts"  # frozen


# ------------------------------------------------------------------ chapter 4, the old bug
def old_chapter_4_cell(d_early: float, d_late: float, untrained_flat: bool) -> list[str]:
    """The lines the old "Verdict" cell of chapter 4 printed (its if/elif/if/else, verbatim)."""
    lines = []
    if d_late > 0.25 and d_late > 2 * max(d_early, 0.0):
        lines.append("=> consistent with the paper")
    elif d_early > 0.25 and d_early >= 0.5 * d_late:
        lines.append("=> not what the paper reports")
    if untrained_flat:
        lines.append("The separation is learned")
    else:  # meant for "neither of the above", attached to the untrained network's test
        lines.append("=> not consistent")
    return lines


def test_the_old_chapter_4_cell_contradicted_itself_and_the_verdict_does_not():
    # the late blocks do the work, and the untrained network is smooth too
    old = old_chapter_4_cell(0.1, 0.8, untrained_flat=False)
    assert "=> consistent with the paper" in old and "=> not consistent" in old  # both
    new = report.geometry_verdict(0.1, 0.8)
    assert new.outcome == "supports"
    learnt = v.learnt_verdict(input_lv=0.4, trained_late=0.08, untrained_late=0.05)
    assert learnt.outcome == "contradicts"  # said once, as a separate claim
    # the unclear case with a flat untrained network: the old cell printed no verdict at all
    old = old_chapter_4_cell(0.1, 0.2, untrained_flat=True)
    assert not any(line.startswith("=>") for line in old)
    assert report.geometry_verdict(0.1, 0.2).outcome == "inconclusive"


@pytest.mark.parametrize(
    "early, late",
    [(e, late) for e in np.linspace(-0.5, 1, 16) for late in np.linspace(-0.5, 1, 16)],
)
def test_the_geometry_verdict_has_exactly_one_outcome(early, late):
    assert report.geometry_verdict(early, late).outcome in v.OUTCOMES


# ------------------------------------------------------------------------------ chapter 4
@pytest.mark.parametrize(
    "early, late, outcome",
    [
        (0.1, 0.8, "supports"),
        (-0.2, 0.3, "supports"),  # rougher early, a real drop late
        (0.6, 0.8, "contradicts"),
        (0.1, 0.2, "inconclusive"),
        (0.2, 0.35, "inconclusive"),  # both drop, neither clearly more
        (np.nan, 0.8, "inconclusive"),
    ],
)
def test_geometry_verdict(early, late, outcome):
    verdict = report.geometry_verdict(early, late)
    assert verdict.outcome == outcome
    assert verdict.numbers["drop_late"] == late or np.isnan(late)


@pytest.mark.parametrize(
    "untrained, outcome",
    [(0.39, "supports"), (0.05, "contradicts"), (0.2, "inconclusive"), (np.nan, "inconclusive")],
)
def test_learnt_verdict(untrained, outcome):
    assert v.learnt_verdict(0.4, 0.08, untrained).outcome == outcome


# ------------------------------------------------------------------------------ chapter 5
LAST = pd.Series([0.05, 0.06, 0.07, 0.10, 0.20, 0.30], index=[0, 0.01, 0.025, 0.05, 0.1, 0.2])


def test_noise_verdict_supports_when_no_level_moves_the_last_block():
    verdict = v.noise_verdict(LAST.clip(upper=0.1), gap=0.4)  # moves at most 0.05 <= 0.1
    assert verdict.outcome == "supports" and verdict.numbers["robust_level"] == 0.2


def test_noise_verdict_contradicts_beyond_the_robust_level():
    verdict = v.noise_verdict(LAST, gap=0.4)
    assert verdict.outcome == "contradicts"
    assert verdict.numbers["robust_level"] == 0.05 and "5.0%" in verdict.sentence


@pytest.mark.parametrize("gap", [-0.1, 0.0, np.nan])
def test_noise_verdict_is_inconclusive_without_a_yardstick(gap):
    verdict = v.noise_verdict(LAST, gap=gap)
    assert verdict.outcome == "inconclusive" and np.isnan(verdict.numbers["robust_level"])


# ------------------------------------------------------------------------------ chapter 6
@pytest.mark.parametrize(
    "deletion, insertion, outcome",
    [
        ([-0.1, 0.1, 0.2, 0.3], [0.0, 0.1, 0.1, 0.2], "supports"),
        ([-0.1, -0.1, -0.2, 0.3], [0.0, 0.1, 0.1, 0.2], "contradicts"),
        ([-0.1, 0.1, -0.2, 0.3], [0.0, 0.1, 0.1, 0.2], "inconclusive"),  # half and half
        ([0.1, 0.1, 0.2, 0.3], [-0.1, -0.1, 0.0, 0.0], "inconclusive"),  # insertion disagrees
        ([], [], "inconclusive"),
    ],
)
def test_faithfulness_verdict(deletion, insertion, outcome):
    verdict = v.faithfulness_verdict(pd.Series(deletion, dtype=float), pd.Series(insertion))
    assert verdict.outcome == outcome


@pytest.mark.parametrize(
    "random, control, outcome",
    [(0.1, 0.5, "supports"), (0.6, 0.5, "contradicts"), (0.45, 0.5, "inconclusive")],
)
def test_cascading_verdict_against_the_seed_to_seed_control(random, control, outcome):
    assert v.cascading_verdict(random, control).outcome == outcome


@pytest.mark.parametrize(
    "shuffled, control, outcome",
    [(0.05, 0.5, "supports"), (0.5, 0.5, "contradicts"), (0.45, 0.5, "inconclusive")],
)
def test_label_randomisation_verdict(shuffled, control, outcome):
    verdict = v.label_randomisation_verdict(shuffled, control, 0.45, 0.5)
    assert verdict.outcome == outcome
    if outcome == "supports":
        assert "early blocks" in verdict.sentence  # 0.45 is within the margin of 0.5


@pytest.mark.parametrize(
    "maps, outcome",
    [
        ([0.3, 0.3, 0.3, 0.1], "supports"),
        ([0.1, 0.1, 0.1, 0.3], "contradicts"),
        ([0.1, 0.3, 0.2, 0.2], "inconclusive"),
    ],
)
def test_map_smoothness_verdict(maps, outcome):
    features = pd.Series(0.2, index=[1, 2, 3, 4])
    verdict = v.map_smoothness_verdict(pd.Series(maps, index=[1, 2, 3, 4]), features)
    assert verdict.outcome == outcome


def test_shuffled_memorised():
    assert v.shuffled_memorised(0.95) and not v.shuffled_memorised(0.5)
    assert not v.shuffled_memorised(np.nan)


# ------------------------------------------------------------------------------ chapter 7
@pytest.mark.parametrize(
    "few, many, outcome",
    [(0.80, 0.70, "supports"), (0.70, 0.80, "contradicts"), (0.80, 0.79, "inconclusive")],
)
def test_transfer_verdict(few, many, outcome):
    assert report.transfer_verdict(few, many, spread=0.02).outcome == outcome


@pytest.mark.parametrize(
    "lv, outcome",
    [
        ([0.3, 0.1, 0.2, 0.3], "supports"),
        ([0.3, 0.2, 0.15, 0.05], "contradicts"),
        ([0.3, 0.1, 0.12, 0.102], "inconclusive"),
        ([0.3], "inconclusive"),
    ],
)
def test_transfer_geometry_verdict(lv, outcome):
    assert v.transfer_geometry_verdict(pd.Series(lv)).outcome == outcome


# ------------------------------------------------------------------------------ chapters 2, 3
@pytest.mark.parametrize(
    "resampled, whole, outcome",
    [(0.8, 0.78, "supports"), (0.8, 0.6, "contradicts"), (0.8, np.nan, "inconclusive")],
)
def test_resampling_verdict(resampled, whole, outcome):
    assert v.resampling_verdict(resampled, whole).outcome == outcome


@pytest.mark.parametrize(
    "lv, outcome", [(0.3, "supports"), (0.05, "contradicts"), (np.nan, "inconclusive")]
)
def test_input_smoothness_verdict(lv, outcome):
    assert v.input_smoothness_verdict(lv).outcome == outcome


# ------------------------------------------------------------------------------ chapter 9
def test_midway_value_is_taken_at_half_the_depth():
    # four blocks: layer 2 is halfway; three blocks: layer 1 (1/3), not layer 2 (2/3)
    assert v.midway_value(pd.Series([0.5, 0.4, 0.3, 0.2, 0.1])) == 0.3
    assert v.midway_value(pd.Series([0.5, 0.4, 0.3, 0.2])) == 0.4
    assert v.midway_value(pd.Series([0.5])) == 0.5
    with pytest.raises(ValueError):
        v.midway_value(pd.Series([], dtype=float))


@pytest.mark.parametrize(
    "own, other, answer",
    [(0.1004, 0.1, "same"), (0.08, 0.1, "own"), (0.1, 0.08, "other"), (np.nan, 0.1, "same")],
)
def test_smoother_network(own, other, answer):
    assert v.smoother_network(own, other) == answer


# ------------------------------------------------------------------------------ the book
#: The parts of the book that print verdicts: a chapter's section, or the whole page (None).
JUDGED = {
    "04_embedding_geometry": "## Verdict",
    "05_noise": "## Verdict",
    "06_gradcam": "## What the data show",
    "07_transfer": "## What the data show",
    "10_results": None,
}


def code_cells(text: str) -> list[str]:
    """The sources of a MyST notebook's code cells, the ``parameters`` cell left out."""
    cells = re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, flags=re.S)
    return [c for c in cells if ":tags: [parameters]" not in c]


def section(text: str, heading: str | None) -> str:
    """The text under ``heading`` up to the next heading of its level (all of it for None)."""
    if heading is None:
        return text
    assert heading in text, f"no section {heading!r}"
    rest = text.split(heading, 1)[1]
    level = heading.split(" ")[0]
    return re.split(rf"^{level} ", rest, maxsplit=1, flags=re.M)[0]


@pytest.mark.parametrize("stem", sorted(JUDGED))
def test_the_verdict_cells_hold_no_threshold(stem):
    """A comparison with a number where the book judges is a verdict outside verdicts.py."""
    text = section((BOOK / f"{stem}.md").read_text(encoding="utf-8"), JUDGED[stem])
    found = [
        line.strip()
        for cell in code_cells(text)
        for line in cell.splitlines()
        if re.search(r"[<>]=? *-?[0-9.]*[0-9]", line)
    ]
    assert not found, f"{stem}: thresholds where the book judges: {found}"


@pytest.mark.parametrize(
    "diff, n, answer",
    [
        (0.1, 50, (5, "more")),
        (-0.04, 50, (2, "fewer")),
        (0.0, 50, (0, "as many")),
        (0.005, 50, (0, "as many")),  # a quarter of a clip is no clip
        (float("nan"), 50, (0, "as many")),
    ],
)
def test_correct_count_change(diff, n, answer):
    assert v.correct_count_change(diff, n) == answer


@pytest.mark.parametrize(
    "values, answer",
    [
        ([0.5, 0.4, 0.3], True),
        ([0.5, 0.4, 0.4], False),  # a tie is not smoother
        ([0.5, 0.6, 0.3], False),
        ([0.5], False),  # no steps
    ],
)
def test_steadily_smoother(values, answer):
    assert v.steadily_smoother(pd.Series(values)) is answer


def test_steadily_smoother_follows_the_layer_order_not_the_row_order():
    assert v.steadily_smoother(pd.Series([0.3, 0.5, 0.4], index=[2, 0, 1]))


# ------------------------------------------------------------------ verdicts on intervals
from helpers.report.verdicts import (  # noqa: E402
    depth_verdict,
    generic_early_verdict,
    readouts_agreement,
    rising_layer,
)


def _iv(estimate, low, high):
    return {"estimate": estimate, "low": low, "high": high}


@pytest.mark.parametrize(
    "slope, outcome",
    [
        (_iv(-0.002, -0.003, -0.001), "supports"),
        (_iv(0.002, 0.001, 0.003), "contradicts"),
        (_iv(-0.001, -0.003, 0.001), "inconclusive"),
        (_iv(np.nan, np.nan, np.nan), "inconclusive"),
    ],
)
def test_depth_verdict_outcomes(slope, outcome):
    v = depth_verdict(slope, _iv(-0.01, -0.02, 0.0))
    assert v.outcome == outcome
    assert v.numbers["slope_low"] == slope["low"] or np.isnan(slope["low"])
    assert "95% bootstrap interval" in v.sentence


@pytest.mark.parametrize(
    "early, late, growth, outcome",
    [
        (_iv(0.001, -0.002, 0.004), _iv(0.03, 0.01, 0.05), _iv(0.03, 0.01, 0.05), "supports"),
        # class-specific from the first blocks on, and not growing
        (_iv(0.02, 0.01, 0.03), _iv(0.02, 0.01, 0.03), _iv(0.0, -0.01, 0.01), "contradicts"),
        # the other-class networks are as smooth late
        (_iv(0.0, -0.01, 0.01), _iv(-0.01, -0.02, -0.001), _iv(-0.01, -0.02, 0.0), "contradicts"),
        # a gap early that also grows: neither prediction holds cleanly
        (_iv(0.01, 0.005, 0.02), _iv(0.04, 0.03, 0.05), _iv(0.03, 0.02, 0.04), "inconclusive"),
        (_iv(0.0, -0.01, 0.01), _iv(0.01, -0.01, 0.02), _iv(0.01, -0.01, 0.02), "inconclusive"),
    ],
)
def test_generic_early_verdict_outcomes(early, late, growth, outcome):
    v = generic_early_verdict(early, late, growth)
    assert v.outcome == outcome
    assert v.numbers["late_gap_low"] == late["low"]


def test_readouts_agreement_and_rising_layer():
    assert readouts_agreement({"lv": 1, "probe": 2, "cka": 3}).outcome == "supports"
    assert readouts_agreement({"lv": 1, "probe": 8}).outcome == "contradicts"
    v = readouts_agreement({"lv": 1, "probe": None})
    assert v.outcome == "inconclusive" and "probe: never" in v.sentence
    probe = pd.Series([0.4, 0.5, 0.9, 0.95, 1.0])  # half the gain (0.7) first reached at layer 2
    assert rising_layer(probe) == 2
    assert rising_layer(pd.Series([0.5, 0.4, 0.3])) is None


def _att(d_in, d_late, ratio):
    return {
        "kind": "gaussian",
        "level": 0.05,
        **{f"delta_input{s}": v for s, v in zip(("", "_low", "_high"), d_in)},
        **{f"delta_late{s}": v for s, v in zip(("", "_low", "_high"), d_late)},
        **{f"ratio{s}": v for s, v in zip(("", "_low", "_high"), ratio)},
    }


@pytest.mark.parametrize(
    "row, outcome",
    [
        (_att((0.05, 0.03, 0.07), (0.01, 0.0, 0.02), (0.2, 0.0, 0.5)), "supports"),
        (_att((0.05, 0.03, 0.07), (0.1, 0.08, 0.12), (2.0, 1.4, 3.0)), "contradicts"),
        (_att((0.05, 0.03, 0.07), (0.05, 0.02, 0.08), (1.0, 0.5, 1.5)), "inconclusive"),
        (_att((0.0, -0.01, 0.01), (0.0, -0.01, 0.01), (1.0, -5.0, 5.0)), "inconclusive"),
    ],
)
def test_noise_attenuation_verdict(row, outcome):
    from helpers.report.verdicts import noise_attenuation_verdict

    v = noise_attenuation_verdict(row)
    assert v.outcome == outcome and v.numbers["kind"] == "gaussian"
