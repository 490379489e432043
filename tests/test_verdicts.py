"""Every verdict the book prints, one test per outcome, on numbers made by hand."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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


# ------------------------------------------------------------------------------ chapter 5
def _kind(outcome: str) -> Verdict:
    return Verdict("noise is damped", outcome, {}, "")


@pytest.mark.parametrize(
    "outcomes, expected",
    [
        (("supports", "supports", "supports"), "supports"),
        (("supports", "contradicts", "supports"), "inconclusive"),  # the noise models disagree
        (("contradicts", "inconclusive", "contradicts"), "contradicts"),
        (("inconclusive", "inconclusive"), "inconclusive"),
        (("supports", "inconclusive"), "supports"),  # one decides, none disagrees
    ],
)
def test_noise_claim_verdict(outcomes, expected):
    per_kind = {f"kind{i}": _kind(o) for i, o in enumerate(outcomes)}
    verdict = v.noise_claim_verdict(per_kind)
    assert verdict.outcome == expected
    assert verdict.numbers == {f"kind{i}": o for i, o in enumerate(outcomes)}


def test_noise_claim_verdict_needs_a_noise_model():
    with pytest.raises(ValueError, match="empty"):
        v.noise_claim_verdict({})


# ------------------------------------------------------------------------------ chapter 6
def _gains(random_sides, motion_sides):
    """Deletion gains per block from interval sides (+1 above 0, -1 below, 0 across)."""
    rows = []
    for against, sides in (("random", random_sides), ("motion", motion_sides)):
        for layer, side in enumerate(sides, start=1):
            low, high = {1: (0.05, 0.2), -1: (-0.2, -0.05), 0: (-0.05, 0.05)}[side]
            rows.append({"curve": "deletion", "layer": layer, "against": against,
                         "estimate": (low + high) / 2, "low": low, "high": high})  # fmt: skip
    return pd.DataFrame(rows, columns=["curve", "layer", "against", "estimate", "low", "high"])


@pytest.mark.parametrize(
    "random, motion, outcome",
    [
        ([1, 1, 1, 0], [1, 1, 1, 0], "supports"),  # beats both orders in 3 of 4 blocks
        ([1, 1, 1, 1], [0, 0, 1, 0], "inconclusive"),  # beats chance, not the motion order
        ([1, 1, 1, 1], [-1, -1, -1, 0], "contradicts"),  # the motion order removes sooner
        ([-1, -1, -1, 1], [0, 0, 0, 0], "contradicts"),
        ([], [], "inconclusive"),
    ],
)
def test_faithfulness_verdict(random, motion, outcome):
    verdict = v.faithfulness_verdict(_gains(random, motion), "cell")
    assert verdict.outcome == outcome
    assert "cells" in verdict.claim


def _cascading(differences):
    """Cascading intervals of some blocks: seed-to-seed 0.5, the difference as given."""
    return _agreement(differences, other="every block random")


@pytest.mark.parametrize(
    "differences, outcome",
    [
        ([(0.1, 0.3)] * 3 + [(-0.1, 0.1)], "supports"),  # 3 of 4 blocks above 0
        ([(0.1, 0.3)] * 2 + [(-0.1, 0.1)] * 2, "inconclusive"),  # half is not a majority
        ([(-0.3, -0.1)] * 3 + [(0.1, 0.3)], "contradicts"),  # random weights closer
        ([], "inconclusive"),
    ],
)
def test_cascading_verdict_on_paired_intervals(differences, outcome):
    table = _cascading(differences)
    if table.empty:
        table = pd.DataFrame(columns=["other", "layer", "estimate", "low", "high"])
    verdict = v.cascading_verdict(table)
    assert verdict.outcome == outcome
    assert verdict.numbers["blocks"] == len(differences)


def _agreement(differences, other="shuffled labels"):
    """Agreement intervals of some blocks: seed-to-seed 0.5, the difference as given."""
    rows = []
    for layer, (low, high) in enumerate(differences, start=1):
        mid = (low + high) / 2
        rows += [
            {"other": "another seed", "layer": layer, "estimate": 0.5, "low": 0.4, "high": 0.6},
            {"other": other, "layer": layer, "estimate": 0.5 - mid,
             "low": 0.4 - mid, "high": 0.6 - mid},
            {"other": f"another seed - {other}", "layer": layer, "estimate": mid,
             "low": low, "high": high},
        ]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "differences, fit, outcome",
    [
        ([(-0.1, 0.1)] * 2 + [(0.2, 0.4)] * 2, 0.99, "supports"),  # late blocks 3, 4 above 0
        ([(-0.1, 0.1)] * 2 + [(0.2, 0.4)] * 2, 0.50, "inconclusive"),  # did not memorise
        ([(0.2, 0.4)] * 2 + [(-0.3, -0.1)] * 2, 0.99, "contradicts"),
        ([(0.2, 0.4)] * 2 + [(-0.1, 0.3)] * 2, 0.99, "inconclusive"),
    ],
)
def test_label_randomisation_verdict(differences, fit, outcome):
    verdict = v.label_randomisation_verdict(_agreement(differences), fit)
    assert verdict.outcome == outcome
    assert verdict.numbers["fit"] == fit and verdict.numbers["late_blocks"] == 2


@pytest.mark.parametrize(
    "sides, outcome",
    [
        ([1, 1, 1, -1], "supports"),
        ([-1, -1, -1, 1], "contradicts"),
        ([1, -1, 0, 0], "inconclusive"),
    ],
)
def test_map_smoothness_verdict(sides, outcome):
    bounds = {1: (0.05, 0.1), -1: (-0.1, -0.05), 0: (-0.05, 0.05)}
    table = pd.DataFrame(
        [{"layer": i + 1, "estimate": sum(bounds[s]) / 2, "low": bounds[s][0],
          "high": bounds[s][1]} for i, s in enumerate(sides)]
    )  # fmt: skip
    assert v.map_smoothness_verdict(table).outcome == outcome


def test_shuffled_memorised():
    assert v.shuffled_memorised(0.96) and not v.shuffled_memorised(0.9)
    assert not v.shuffled_memorised(np.nan)


# ------------------------------------------------------------------------------ chapter 7
def _row(estimate, low, high):
    return {"estimate": estimate, "low": low, "high": high}


@pytest.mark.parametrize(
    "early, late, outcome",
    [
        (_row(0.0, -0.05, 0.05), _row(-0.2, -0.3, -0.1), "supports"),
        (_row(0.03, 0.01, 0.05), _row(-0.2, -0.3, -0.1), "supports"),
        (_row(-0.1, -0.2, -0.05), _row(-0.2, -0.3, -0.1), "contradicts"),
        (_row(0.0, -0.05, 0.05), _row(0.1, 0.05, 0.2), "contradicts"),
        (_row(0.0, -0.05, 0.05), _row(-0.02, -0.08, 0.03), "inconclusive"),
    ],
)
def test_specificity_verdict(early, late, outcome):
    verdict = v.specificity_verdict(early, late, 2, 8)
    assert verdict.outcome == outcome
    assert verdict.numbers["early_k"] == 2 and verdict.numbers["late_k"] == 8


@pytest.mark.parametrize(
    "transfer, geometry, outcome",
    [
        ([5, 5, 8], [4, 5, 6], "supports"),  # 4 -> k = 5 and 6 -> k = 8 on the grid (2, 5, 8)
        ([np.nan, 5, 5], [np.nan, 3, 5], "supports"),
        ([2, 2, 5], [6, 7, 1], "contradicts"),
        ([5, 2, 8], [5, 7, 8], "inconclusive"),  # one split of three disagrees
        ([np.nan, np.nan, np.nan], [np.nan, np.nan, np.nan], "inconclusive"),
        ([5, 8, np.nan], [5, 2, 9], "inconclusive"),  # 9 lies beyond the grid: none
    ],
)
def test_transfer_layer_verdict(transfer, geometry, outcome):
    layers = pd.DataFrame(
        {"split": [0, 1, 2], "transfer_layer": transfer, "geometry_layer": geometry}
    )
    verdict = v.transfer_layer_verdict(layers, (2, 5, 8))
    assert verdict.outcome == outcome
    assert verdict.numbers["splits"] == 3


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


# clean late blocks at 0.1, chance at 0.9: the room to chance is 0.8, a quarter of it 0.2
@pytest.mark.parametrize(
    "row, outcome",
    [
        (_att((0.05, 0.03, 0.07), (0.01, 0.0, 0.02), (0.2, 0.0, 0.5)), "supports"),
        (_att((0.3, 0.2, 0.4), (0.19, 0.15, 0.2), (0.6, 0.4, 0.9)), "supports"),  # 0.2: at most
        (_att((0.5, 0.4, 0.6), (0.3, 0.25, 0.35), (0.6, 0.5, 0.7)), "contradicts"),  # damped, far
        (_att((0.05, 0.03, 0.07), (0.2, 0.1, 0.3), (4.0, 2.0, 6.0)), "inconclusive"),
        (_att((0.0, -0.01, 0.01), (0.0, -0.01, 0.01), (1.0, -5.0, 5.0)), "inconclusive"),
    ],
)
def test_noise_attenuation_verdict(row, outcome):
    from helpers.report.verdicts import noise_attenuation_verdict

    v = noise_attenuation_verdict(row, clean_late=0.1, chance=0.9)
    assert v.outcome == outcome and v.numbers["kind"] == "gaussian"
    assert v.numbers["share_high"] == pytest.approx(row["delta_late_high"] / 0.8)


def test_noise_attenuation_verdict_needs_room_to_chance():
    from helpers.report.verdicts import noise_attenuation_verdict

    row = _att((0.05, 0.03, 0.07), (0.01, 0.0, 0.02), (0.2, 0.0, 0.5))
    v = noise_attenuation_verdict(row, clean_late=0.9, chance=0.9)
    assert v.outcome == "inconclusive" and "at chance" in v.sentence
