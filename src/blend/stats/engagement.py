"""The cohort's engagement: questionnaire return per timepoint and site, and over time
(no Django).

A TwiCs trial takes its outcomes from the cohort's routine questionnaires, so a falling
return rate costs every trial power at once; one site falling behind shows first. The
rate counts the windows that have closed: completed / (completed + missed); windows of
members who died or withdrew questionnaire consent ("stopped") are not expected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from blend.stats.endpoints import wilson


@dataclass(frozen=True)
class Window:
    timepoint: str
    site: str
    closes_on: date
    status: str  # completed | missed | stopped | upcoming | due | overdue


@dataclass(frozen=True)
class Rate:
    completed: int
    closed: int  # completed + missed

    @property
    def rate(self) -> float | None:
        return self.completed / self.closed if self.closed else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.completed, self.closed) if self.closed else None


def _rates(windows: Iterable[Window], key: object) -> dict[object, Rate]:
    done: dict[object, int] = defaultdict(int)
    closed: dict[object, int] = defaultdict(int)
    for window in windows:
        if window.status not in ("completed", "missed"):
            continue
        k = key(window)  # type: ignore[operator]
        closed[k] += 1
        done[k] += window.status == "completed"
    return {k: Rate(done[k], closed[k]) for k in closed}


def by_timepoint_and_site(windows: Iterable[Window]) -> dict[tuple[str, str], Rate]:
    """Return rate per (timepoint, site), over every closed window."""
    return _rates(windows, lambda w: (w.timepoint, w.site))  # type: ignore[return-value]


def quarter(on: date) -> str:
    return f"{on.year}-Q{(on.month - 1) // 3 + 1}"


def by_quarter(windows: Iterable[Window]) -> dict[tuple[str, str], Rate]:
    """Return rate per (timepoint, quarter in which the window closed)."""
    return _rates(windows, lambda w: (w.timepoint, quarter(w.closes_on)))  # type: ignore[return-value]


def engagement_png(rates: dict[tuple[str, str], Rate], timepoints: list[str], title: str) -> bytes:
    """Return rate per quarter, a line per timepoint (matplotlib only when drawn)."""
    import io

    from matplotlib.ticker import PercentFormatter

    from blend.stats.plots import FONT, PNG_DPI, new_figure

    fig = new_figure(7.5, 3.6)
    ax = fig.add_subplot()
    quarters = sorted({q for _, q in rates})
    if not quarters:
        fig.set_figheight(1.3)
        fig.text(0.02, 0.5, f"{title}: no questionnaire window has closed yet", fontsize=FONT + 1)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=PNG_DPI)
        return buffer.getvalue()
    for timepoint in timepoints:
        points = [
            (i, rate)
            for i, q in enumerate(quarters)
            if (timepoint, q) in rates and (rate := rates[timepoint, q].rate) is not None
        ]
        if points:
            ax.plot([i for i, _ in points], [r for _, r in points], marker="o", label=timepoint)
    ax.set_xticks(range(len(quarters)), quarters, rotation=45, ha="right")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("questionnaires returned", fontsize=FONT)
    ax.set_title(title, fontsize=FONT + 1, loc="left")
    ax.legend(fontsize=FONT - 1, frameon=False, ncols=min(len(timepoints), 5), loc="lower left")
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=FONT)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Title": title})
    return buffer.getvalue()
