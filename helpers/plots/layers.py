"""Figures of per-layer measures with their intervals and controls (chapters 4 and 5).

Each function draws tables of :mod:`helpers.report.chapters` (one row per layer), so it works
on any study's numbers; the layout follows :mod:`helpers.plots.style`: one column per dataset,
never wider than the page.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from helpers.plots.style import book_subplots

__all__ = ["plot_generic_control", "plot_noise_layers", "plot_separation"]

#: The panels of :func:`plot_separation`: the table's columns drawn in each, with their labels.
_LV_LINES = (
    ("untrained", "untrained network", "C3", "-", "s"),
    ("shuffled", "shuffled labels", "C1", "-", "^"),
    ("all neighbours", "trained, any subject's neighbours", "C0", "--", None),
    ("training clips", "trained, training subjects' clips", "C0", ":", None),
)


def _layers_axis(ax, index) -> None:
    ax.set_xlabel("layer (0 = input)")
    ax.set_xticks(list(index))


def plot_separation(
    tables: Mapping[str, pd.DataFrame], references: Mapping[str, Mapping[str, float]]
):
    """Three rows of panels per dataset: NNK label variation, the authors' kNN error, readouts.

    Parameters
    ----------
    tables : per dataset name, :func:`helpers.report.chapters.separation_table` (indexed by
        layer; the columns ``trained``, ``low``, ``high``, ``seed_low``, ``seed_high``, and those
        of the controls, the readouts and ``knn error*`` that are present).
    references : per dataset name, the study's ``reference`` (``chance``, ``floor``, ``k``).

    Returns
    -------
    The figure: one column per dataset; row 1 the NNK label variation of the trained networks
    (95% bootstrap band, seed range as error bars) with the controls and the chance level; row
    2 the authors' kNN error with its chance level and its floor for ``k`` and the class sizes;
    row 3 the cross-subject linear probe and linear CKA with the input and the last block.
    """
    names = list(tables)
    fig, axes = book_subplots(3, len(names), panel=(4.5, 3.2), squeeze=False, sharex="col")
    for col, name in enumerate(names):
        t, ref = tables[name], references[name]
        ax = axes[0, col]
        ax.fill_between(t.index, t["low"], t["high"], color="C0", alpha=0.25, lw=0)
        ax.errorbar(
            t.index,
            t["trained"],
            yerr=[t["trained"] - t["seed_low"], t["seed_high"] - t["trained"]],
            color="C0",
            marker="o",
            ms=3,
            capsize=2,
            label="trained (band: 95% interval)",
        )
        for column, label, color, style, marker in _LV_LINES:
            if column in t:
                ax.plot(t.index, t[column], style, color=color, marker=marker, ms=3, label=label)
        ax.axhline(ref["chance"], color="grey", lw=1, ls="-.", label="chance")
        ax.set_ylim(0, max(1.05 * ref["chance"], float(np.nanmax(t["high"])) * 1.05))
        ax.set_title(f"{name}: NNK label variation")
        ax = axes[1, col]
        for column, label, color in (
            ("knn error", "trained", "C0"),
            ("knn error untrained", "untrained", "C3"),
            ("knn error shuffled", "shuffled labels", "C1"),
        ):
            if column in t:
                ax.plot(t.index, t[column], color=color, marker="o", ms=3, label=label)
        ax.axhline(ref["chance"], color="grey", lw=1, ls="-.", label="chance")
        ax.axhline(
            ref["floor"],
            color="k",
            lw=1,
            ls=":",
            label=f"floor, k = {int(ref['k'])}, equal weights",
        )
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{name}: authors' kNN error")
        ax = axes[2, col]
        ax.plot(t.index, t["probe"], color="C0", marker="o", ms=3, label="probe, trained")
        for column, label, color in (
            ("probe untrained", "probe, untrained", "C3"),
            ("probe shuffled", "probe, shuffled", "C1"),
        ):
            if column in t:
                ax.plot(t.index, t[column], color=color, marker="s", ms=3, label=label)
        ax.plot(t.index, t["cka input"], "--", color="C2", label="CKA with the input")
        ax.plot(t.index, t["cka last"], "--", color="C4", label="CKA with the last block")
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{name}: readouts")
        _layers_axis(ax, t.index)
    for row in range(3):
        axes[row, 0].legend(fontsize="small", loc="best")
    axes[0, 0].set_ylabel("label variation")
    axes[1, 0].set_ylabel("error")
    axes[2, 0].set_ylabel("probe top-1 / CKA")
    fig.tight_layout()
    return fig


def plot_generic_control(tables: Mapping[str, pd.DataFrame]):
    """The C2 control per dataset: networks trained on these classes or on other classes.

    Parameters
    ----------
    tables : per dataset name, :func:`helpers.report.chapters.separation_table` with the
        columns ``these classes``, ``other classes``, ``gap``, ``gap_low``, ``gap_high``
        (datasets without them are left out).

    Returns
    -------
    The figure, or ``None`` when no dataset has the control: one column per dataset; on top the
    NNK label variation of both kinds of network on the target classes' test clips, below their
    gap (other minus these) with its 95% bootstrap interval and the line of no gap.
    """
    names = [n for n, t in tables.items() if "gap" in t]
    if not names:
        return None
    fig, axes = book_subplots(2, len(names), panel=(4.5, 3.0), squeeze=False, sharex="col")
    for col, name in enumerate(names):
        t = tables[name]
        ax = axes[0, col]
        ax.plot(t.index, t["these classes"], marker="o", ms=3, label="trained on every class")
        ax.plot(t.index, t["other classes"], marker="s", ms=3, label="trained on other classes")
        ax.set_ylim(bottom=0)
        ax.set_title(f"{name}: target classes' test clips")
        ax = axes[1, col]
        ax.fill_between(t.index, t["gap_low"], t["gap_high"], color="C2", alpha=0.3, lw=0)
        ax.plot(t.index, t["gap"], color="C2", marker="o", ms=3, label="gap, 95% interval")
        ax.axhline(0, color="k", lw=1)
        ax.set_title(f"{name}: other minus every")
        _layers_axis(ax, t.index)
    axes[0, 0].set_ylabel("NNK label variation")
    axes[1, 0].set_ylabel("gap")
    axes[0, 0].legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_noise_layers(summaries: Mapping[str, pd.DataFrame]):
    """Per dataset, each noise model's change of NNK label variation and neighbour stability.

    Parameters
    ----------
    summaries : per dataset name, the noise study's ``summary`` (columns ``kind``, ``level``,
        ``layer``, ``delta``, ``low``, ``high``, ``stability``; one level per kind).

    Returns
    -------
    The figure: one column per dataset; on top the change under noise with its paired 95%
    interval where the study computed one (the input and the late blocks), below the share of
    each clip's neighbours that stay its neighbours.
    """
    names = list(summaries)
    fig, axes = book_subplots(2, len(names), panel=(4.5, 3.0), squeeze=False, sharex="col")
    for col, name in enumerate(names):
        s = summaries[name]
        for i, (kind, part) in enumerate(s.groupby("kind", sort=False)):
            part = part.sort_values("layer")
            level = part["level"].iloc[0]
            color = f"C{i}"
            ax = axes[0, col]
            ax.plot(part["layer"], part["delta"], color=color, marker="o", ms=3,
                    label=f"{kind} {level:g}")  # fmt: skip
            has = part.dropna(subset=["low", "high"])
            ax.errorbar(
                has["layer"],
                has["delta"],
                yerr=[has["delta"] - has["low"], has["high"] - has["delta"]],
                fmt="none",
                color=color,
                capsize=3,
            )
            axes[1, col].plot(part["layer"], part["stability"], color=color, marker="o", ms=3)
        axes[0, col].axhline(0, color="k", lw=1)
        axes[0, col].set_title(f"{name}: change under noise")
        axes[1, col].set_ylim(0, 1.02)
        axes[1, col].set_title(f"{name}: neighbours kept")
        _layers_axis(axes[1, col], sorted(s["layer"].unique()))
    axes[0, 0].set_ylabel("NNK label variation change")
    axes[1, 0].set_ylabel("share of neighbours")
    axes[0, 0].legend(fontsize="small")
    fig.tight_layout()
    return fig
