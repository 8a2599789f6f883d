"""The acceptance monitor's figure: offers over time, and the acceptance rate with its
Wilson 95% band against the acceptance the sample size assumed (matplotlib, Agg).

Imported only when the figure is drawn (the trial page, the DSMB report); matplotlib comes
from `blend.stats.mpl2d` (2-D only).
"""

from __future__ import annotations

import io

from blend.stats.acceptance import AcceptanceSummary
from blend.stats.mpl2d import AutoDateLocator, ConciseDateFormatter, Figure, PercentFormatter
from blend.stats.plots import FONT, PNG_DPI, new_figure

LINES = (  # (field, label, colour, style)
    ("offered", "offers made", "#555555", "-"),
    ("accepted", "accepted", "#1b6ca8", "-"),
    ("refused", "refused", "#d1495b", "-"),
    ("pending", "not yet decided", "#e09f3e", "--"),
)


def acceptance_figure(
    summary: AcceptanceSummary, *, trial: str, assumed_acceptance: float | None = None
) -> Figure:
    """Two panels sharing the date axis; says so plainly when there is nothing to draw."""
    fig = new_figure(7.5, 5.2)
    if not summary.series:
        fig.set_figheight(1.3)
        fig.text(0.02, 0.5, f"{trial}: no offers yet", fontsize=FONT + 1, va="center")
        return fig
    counts, rates = fig.subplots(2, 1, sharex=True, height_ratios=(1, 1))
    days = [point.on for point in summary.series]
    for field, label, colour, style in LINES:
        values = [getattr(point, field) for point in summary.series]
        counts.step(days, values, where="post", color=colour, linestyle=style, label=label)
    counts.set_ylabel("participants (cumulative)", fontsize=FONT)
    counts.legend(fontsize=FONT - 1, frameon=False, loc="upper left", ncols=2)
    counts.set_title(f"{trial}: offers of the intervention", fontsize=FONT + 1, loc="left")

    known = [p for p in summary.series if p.rate is not None]
    rates.step([p.on for p in known], [p.rate for p in known], where="post", color="#1b6ca8")
    rates.fill_between(
        [p.on for p in known],
        [p.low for p in known],
        [p.high for p in known],
        step="post",
        color="#1b6ca8",
        alpha=0.18,
        linewidth=0,
        label="Wilson 95% CI",
    )
    if assumed_acceptance is not None:
        rates.axhline(
            assumed_acceptance,
            color="#333333",
            linestyle=":",
            label=f"assumed in the sample size ({assumed_acceptance:.0%})",
        )
    rates.set_ylim(0, 1)
    rates.yaxis.set_major_formatter(PercentFormatter(1.0))
    rates.set_ylabel("acceptance among decided offers", fontsize=FONT)
    rates.legend(fontsize=FONT - 1, frameon=False, loc="lower left")
    locator = AutoDateLocator()
    rates.xaxis.set_major_locator(locator)
    rates.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    for ax in (counts, rates):
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=FONT)
    fig.tight_layout()
    return fig


def acceptance_png(
    summary: AcceptanceSummary, *, trial: str, assumed_acceptance: float | None = None
) -> bytes:
    fig = acceptance_figure(summary, trial=trial, assumed_acceptance=assumed_acceptance)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Title": f"{trial}: acceptance"})
    return buffer.getvalue()
