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


def pooled_by_quarter(rates: dict[tuple[str, str], Rate]) -> dict[str, Rate]:
    """The per-(timepoint, quarter) rates summed over the timepoints, per quarter."""
    done: dict[str, int] = defaultdict(int)
    closed: dict[str, int] = defaultdict(int)
    for (_timepoint, q), rate in rates.items():
        done[q] += rate.completed
        closed[q] += rate.closed
    return {q: Rate(done[q], closed[q]) for q in sorted(closed)}


def engagement_png(rates: dict[tuple[str, str], Rate], timepoints: list[str], title: str) -> bytes:
    """Return rate per quarter over every timepoint, with its Wilson 95% band (a line per
    timepoint was unreadable: nine noisy lines over a few patients a quarter each).
    ``timepoints`` names what is pooled, in the caption. matplotlib only when drawn."""
    import io

    from blend.stats.mpl2d import PercentFormatter
    from blend.stats.plots import FONT, PNG_DPI, new_figure

    fig = new_figure(7.5, 3.4)
    pooled = pooled_by_quarter(rates)
    if not pooled:
        fig.set_figheight(1.3)
        fig.text(0.02, 0.5, f"{title}: no questionnaire window has closed yet", fontsize=FONT + 1)
    else:
        ax = fig.add_subplot()
        quarters = list(pooled)
        x = range(len(quarters))
        low, high = zip(*(pooled[q].interval or (0.0, 0.0) for q in quarters), strict=True)
        ax.fill_between(
            x, low, high, color="#1b6ca8", alpha=0.18, linewidth=0, label="Wilson 95% CI"
        )
        ax.plot(
            x,
            [pooled[q].rate or 0.0 for q in quarters],  # every pooled quarter has closed windows
            color="#1b6ca8",
            marker="o",
            markersize=3,
            label="returned",
        )
        step = max(1, len(quarters) // 12)  # about a dozen labels, whatever the span
        ax.set_xticks(list(x)[::step], quarters[::step], rotation=45, ha="right")
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel("questionnaires returned", fontsize=FONT)
        ax.set_title(f"{title} ({', '.join(timepoints)} pooled)", fontsize=FONT + 1, loc="left")
        ax.legend(fontsize=FONT - 1, frameon=False, loc="lower left")
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=FONT)
        fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Title": title})
    return buffer.getvalue()
