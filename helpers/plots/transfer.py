"""Figures of the transfer study (chapter 7): accuracy by configuration, and the geometry link.

Both draw tables of :class:`helpers.studies.transfer.TransferResult`, one column per dataset,
never wider than the page (:mod:`helpers.plots.style`).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from helpers.plots.style import book_subplots

__all__ = ["plot_transfer"]

#: Yosinski et al.'s configurations: colour, marker and the words of the legend.
_MODES = (
    ("BnB", "C0", "s", "BnB: target network's blocks 1..k frozen"),
    ("AnB", "C3", "o", "AnB: source network's blocks 1..k frozen"),
    ("AnB+", "C2", "^", "AnB+: source blocks fine-tuned"),
)


def plot_transfer(results: Mapping[str, object]):
    """Per dataset: target top-1 by configuration and k, and the geometry link below.

    Parameters
    ----------
    results : per dataset name, a :class:`~helpers.studies.transfer.TransferResult`.

    Returns
    -------
    The figure: one column per dataset. On top, the target test top-1 of AnB, AnB+ and BnB
    against k (all training clips; mean over splits and seeds, bars the 95% bootstrap interval
    over test clips) with training from scratch as a band. Below, the NNK label variation of the
    source network (A) and the target network (B) on the target's test clips per layer (splits
    pooled), with the gap's 95% interval shaded around A's curve.
    """
    names = list(results)
    fig, axes = book_subplots(2, len(names), panel=(4.5, 3.2), squeeze=False)
    for col, name in enumerate(names):
        res = results[name]
        acc = res.accuracy[res.accuracy["shots"] == 0]
        ax = axes[0, col]
        scratch = acc[acc["mode"] == "scratch"].iloc[0]
        ax.axhspan(scratch["low"], scratch["high"], color="0.85", lw=0)
        ax.axhline(scratch["estimate"], color="0.4", lw=1, ls="--", label="from scratch (k = 0)")
        offsets = np.linspace(-0.15, 0.15, len(_MODES))
        for (mode, color, marker, label), dx in zip(_MODES, offsets):
            part = acc[acc["mode"] == mode].sort_values("k")
            err = [part["estimate"] - part["low"], part["high"] - part["estimate"]]
            ax.errorbar(
                part["k"] + dx, part["estimate"], yerr=err, color=color, marker=marker, ms=4,
                capsize=2, label=label,
            )  # fmt: skip
        ax.set_xticks(sorted(acc.loc[acc["mode"] != "scratch", "k"].unique()))
        ax.set_xlabel("transferred blocks k")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{name}: target test top-1")
        geo = res.geometry
        ax = axes[1, col]
        if geo.empty:
            ax.set_axis_off()
            continue
        pooled = geo[geo["split"] == "all"].sort_values("layer")
        ax.plot(pooled["layer"], pooled["target"], color="C0", marker="s", ms=3, label="B")
        ax.plot(pooled["layer"], pooled["source"], color="C3", marker="o", ms=3, label="A")
        # A's curve with the gap's interval: where the band clears B's curve, A is rougher
        ax.fill_between(
            pooled["layer"],
            pooled["target"] + pooled["low"],
            pooled["target"] + pooled["high"],
            color="C3",
            alpha=0.2,
            lw=0,
            label="A, gap's 95% interval",
        )
        ax.set_xticks(list(pooled["layer"]))
        ax.set_xlabel("layer (0 = input)")
        ax.set_ylim(bottom=0)
        ax.set_title(f"{name}: target's test clips")
    axes[0, 0].set_ylabel("top-1")
    axes[1, 0].set_ylabel("NNK label variation")
    # the legends below the axes, where they hide no curve
    axes[0, -1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(0, -0.2), frameon=False)
    axes[1, -1].legend(fontsize="small", loc="best")
    fig.tight_layout()
    return fig
