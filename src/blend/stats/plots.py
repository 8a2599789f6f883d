"""Figures of the analysis report (matplotlib `Figure` objects on the Agg canvas; no pyplot).

Each `*_figure` function takes plain inputs (result dicts, arrays, a DataFrame) and
returns a `Figure`; none raises on degenerate data: what cannot be drawn is drawn as
"not estimable". `save_figures` writes every figure as PNG and SVG and returns the SVG
text for the self-contained report. The conventions (tail cut, confidence bands, what
each forest row is) are documented in docs/analysis.md, section "Figures".

This module is only imported when figures are drawn; it takes matplotlib from
`blend.stats.mpl2d` (2-D only: the 3-D toolkit is never imported).
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from blend.stats.consort import FLOW_ARROWS, FLOW_COLUMNS, FlowBox, flow_boxes
from blend.stats.distributions import norm_quantile, t_quantile
from blend.stats.mpl2d import (
    Figure,
    FigureCanvasAgg,
    FuncFormatter,
    MaxNLocator,
    blended_transform_factory,
    matplotlib,
)
from blend.stats.survival import cumulative_incidence

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.text import Text

    from blend.stats.analysis import AnalysisResult

ARMS = ("intervention", "control")
COLOURS = {"intervention": "#1b6ca8", "control": "#d1495b"}
LABELS = {"intervention": "Same-day SBRT + surgery", "control": "Standard care"}
SHORT_LABELS = {"intervention": "Same-day", "control": "Standard"}
FONT = 9
NOT_ESTIMABLE = "not estimable"
# Curves stop where fewer than this fraction of an arm is still at risk: the tail of a
# KM or CIF curve rests on a handful of people and its jumps mislead (Pocock, Clayton &
# Altman, Lancet 2002;359:1686). The numbers at risk under the axis show the rest.
TAIL_FRACTION = 0.10
PNG_DPI = 150
VISIT_LABELS = {
    "baseline": "BL",
    "w1": "W1",
    "w2": "W2",
    "w4": "W4",
    "w6": "W6",
    "w8": "W8",
    "w12": "W12",
    "m6": "M6",
    "m12": "M12",
}
PRIMARY_WINDOW_DAYS = 28  # PF at week 4 is the primary outcome
WEEK_12_DAYS = 84
CE_LAMBDAS = (20_000, 50_000, 80_000)


# --------------------------------------------------------------------- writing
FIGURE_CAPTIONS = {
    "consort": "Participant flow (CONSORT-ROUTINE, trial within a cohort).",
    "forest": "Treatment effect on PF at week 4 by analysis (95% CI).",
    "tipping_point": "Tipping-point analysis of the MI-ITT (MNAR δ-adjustment).",
    "pf_over_time": "PF over time: observed means by arm and model-estimated differences.",
    "overall_survival": "Kaplan–Meier overall survival.",
    "systemic_therapy_cif": "Cumulative incidence of return to systemic therapy and of "
    "death without it.",
    "ce_plane": "Cost-effectiveness plane (bootstrap replicates).",
    "ceac": "Cost-effectiveness acceptability curve.",
}


def versus(short: dict[str, str] | None = None) -> tuple[str, str]:
    """The arms as a difference reads them: BLEND's "same-day" and "standard", else the
    short labels as given."""
    if short is None or short == SHORT_LABELS:
        return "same-day", "standard"
    return short["intervention"], short["control"]


def arm_labels(result: AnalysisResult) -> tuple[dict[str, str], dict[str, str]]:
    """(legend labels, short labels) of the arms: the dataset's `arm_labels` (contract 1.1);
    BLEND's own short forms, else the long label up to its first comma."""
    labels = result.artifacts.get("arm_labels") or LABELS
    if labels == LABELS:
        return dict(LABELS), dict(SHORT_LABELS)
    return dict(labels), {arm: labels[arm].split(",")[0][:24] for arm in ARMS}


def primary_window(result: AnalysisResult) -> tuple[str, int]:
    """The label and day of the primary outcome's timepoint (week 4 for BLEND)."""
    from blend.stats.endpoints import DUE_DAYS

    timepoint = (result.results.get("primary") or {}).get("timepoint") or "w4"
    days = DUE_DAYS.get(timepoint, PRIMARY_WINDOW_DAYS)
    label = VISIT_LABELS.get(timepoint, timepoint).replace("W", "week ").replace("M", "month ")
    return label, days


def figure_makers(result: AnalysisResult) -> dict[str, Callable[[], Figure]]:
    """One zero-argument figure builder per report figure, in report order."""
    r, art = result.results, result.artifacts
    wide = art.get("wide")
    cea = art.get("cea")
    sensitivity = r.get("sensitivity", {})
    labels, short = arm_labels(result)
    makers: dict[str, Callable[[], Figure]] = {
        "consort": lambda: consort_figure(r["consort"], labels),
        "forest": lambda: forest_figure(r),
        "tipping_point": lambda: tipping_figure(
            sensitivity.get("tipping_point") or [],
            sensitivity.get("tipping_delta"),
            sensitivity.get("not_estimable") or note_for(r, "MI-ITT"),
            sensitivity.get("tipping_delta_mcse"),
        ),
        "pf_over_time": lambda: scale_over_time_figure(
            art.get("scales"), "PF", longitudinal_models(r), labels=labels, short=short
        ),
        "overall_survival": lambda: km_figure(
            overall_survival_data(wide) if wide is not None else {},
            survival_summary(r),
            labels=labels,
            short=short,
        ),
        "systemic_therapy_cif": lambda: cif_figure(
            systemic_therapy_data(wide) if wide is not None else {},
            competing_risks_summary(r, short),
            short=short,
            window=primary_window(result),
        ),
        "ce_plane": lambda: ce_plane_figure(
            getattr(cea, "replicates_", None),
            (getattr(cea, "delta_qaly_", math.nan), getattr(cea, "delta_cost_", math.nan)),
            note_for(r, "cost-effectiveness"),
            short,
        ),
        "ceac": lambda: ceac_figure(
            r.get("cea", {}).get("ceac") or [], note_for(r, "cost-effectiveness"), short
        ),
    }
    if "sensitivity" not in r:  # no PF tipping point: the primary outcome is not PF
        del makers["tipping_point"]
    return makers


def save_figures(result: AnalysisResult, out: Path) -> dict[str, str]:
    """Write every figure to `out` as PNG and SVG; return {name: svg text}."""
    svgs = {}
    trial = (result.results.get("meta") or {}).get("trial") or result.artifacts.get("trial")
    for name, make in figure_makers(result).items():
        try:
            fig = make()
        except (KeyError, ValueError, IndexError, TypeError) as exc:
            # A safety net: the report still renders, and says what went wrong.
            fig = not_estimable_figure(FIGURE_CAPTIONS[name], f"{type(exc).__name__}: {exc}")
        svgs[name] = write_figure(fig, out, name, trial)
    return svgs


def write_figure(fig: Figure, out: Path, name: str, trial: str | None = None) -> str:
    """Save `fig` as OUT/name.png and OUT/name.svg; return the <svg> element.

    With `trial`, both files carry the title "<trial>: <caption>" in their metadata
    (SVG <title>/dc:title, PNG tEXt Title), so a figure copied out names its trial.
    """
    title = {"Title": f"{trial}: {FIGURE_CAPTIONS.get(name, name)}"} if trial else {}
    # SVG text stays text (small, searchable) and ids are deterministic (identical reruns).
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "blend"}):
        fig.savefig(out / f"{name}.png", dpi=PNG_DPI, metadata=title)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", dpi=PNG_DPI, metadata={"Date": None, **title})
    svg = buffer.getvalue()
    (out / f"{name}.svg").write_text(svg, encoding="utf-8")
    return svg[svg.index("<svg") :]


def note_for(results: dict[str, Any], analysis: str) -> str | None:
    """The `meta.not_estimable` reason recorded for `analysis`, if any."""
    for note in results.get("meta", {}).get("not_estimable", []):
        text = note if isinstance(note, str) else str(note.get("reason", note))
        if text.startswith(f"{analysis}:"):
            reason = text[len(analysis) + 1 :].strip()
            wrapper = "not estimable from these data ("
            if reason.startswith(wrapper) and reason.endswith(")"):
                reason = reason[len(wrapper) : -1]
            return reason
    return None


# ---------------------------------------------------------------------- basics
def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)  # text can be measured before saving (the CONSORT layout)
    return fig


def _style(ax: Axes) -> None:
    """Open axes (no top/right spines), as journals print them."""
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=FONT)


def not_estimable_figure(title: str, reason: str | None = None) -> Figure:
    """A small figure that says the analysis behind it could not be estimated."""
    fig = new_figure(7.5, 1.3)
    text = f"{title.rstrip('.')}: {NOT_ESTIMABLE}"
    if reason:
        text += "\n" + textwrap.fill(reason, 110)
    fig.text(
        0.5, 0.5, text, ha="center", va="center", fontsize=FONT, color="#444", gid="not-estimable"
    )
    return fig


def _finite(*values: Any) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


def _effect_parts(effect: dict[str, Any] | None) -> tuple[float, float, float] | None:
    """(estimate, lower, upper) when all three are finite numbers, else None."""
    if not effect:
        return None
    ci95 = effect.get("ci95") or [None, None]
    parts = (effect.get("estimate"), *ci95[:2])
    return parts if len(parts) == 3 and _finite(*parts) else None


# ------------------------------------------------------------------- CONSORT
BOX_PAD = 0.45  # box padding, in font sizes
ROW_GAP_PT = 14.0
MARGIN_PT = 8.0
FLOW_WIDTH_IN = 10.0


def consort_figure(c: dict[str, Any], labels: dict[str, str] | None = None) -> Figure:
    """The TwiCs flow diagram: rows of boxes measured, stacked, then joined by arrows.

    Every box text has the gid `consort-<box name>` and every arrow
    `consort-arrow-<source>-<target>`, which the tests (and SVG readers) use.
    """
    boxes = flow_boxes(c, labels)
    fig = new_figure(FLOW_WIDTH_IN, 10.0)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.axis("off")
    texts = {b.name: _flow_text(ax, b) for b in boxes}
    sizes = _measure(fig, texts)
    width_pt = FLOW_WIDTH_IN * 72
    rows = sorted({b.row for b in boxes})
    row_height = {r: max(sizes[b.name][1] for b in boxes if b.row == r) for r in rows}
    height_pt = 2 * MARGIN_PT + sum(row_height.values()) + ROW_GAP_PT * (len(rows) - 1)
    fig.set_size_inches(FLOW_WIDTH_IN, height_pt / 72)
    ax.set_xlim(0, width_pt)
    ax.set_ylim(0, height_pt)  # one data unit is one point at any dpi
    centre_y, top = {}, height_pt - MARGIN_PT
    for r in rows:
        centre_y[r] = top - row_height[r] / 2
        top -= row_height[r] + ROW_GAP_PT
    rects = {}
    for b in boxes:
        x, y = FLOW_COLUMNS[b.column] * width_pt, centre_y[b.row]
        w, h = sizes[b.name]
        texts[b.name].set_position((x, y))
        rects[b.name] = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    _flow_arrows(ax, rects)
    return fig


def _flow_text(ax: Axes, box: FlowBox) -> Text:
    side_list = "\n  " in box.text
    return ax.text(
        0,
        0,
        box.text,
        ha="center",
        va="center",
        fontsize=FONT,
        multialignment="left" if side_list else "center",
        gid=f"consort-{box.name}",
        bbox={
            "boxstyle": f"square,pad={BOX_PAD}",
            "lw": 0.9,
            "fc": "#f3f3f3" if box.side else "white",
            "ec": "#333",
        },
    )


def _measure(fig: Figure, texts: dict[str, Text]) -> dict[str, tuple[float, float]]:
    """Width and height of each text's box (text plus padding), in points."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    sizes = {}
    for name, text in texts.items():
        extent = text.get_window_extent(renderer)
        pad = 2 * BOX_PAD * FONT
        sizes[name] = (extent.width * 72 / fig.dpi + pad, extent.height * 72 / fig.dpi + pad)
    return sizes


def _flow_arrows(ax: Axes, rects: dict[str, tuple[float, float, float, float]]) -> None:
    """Trunks run down the centre of a column; branches leave them sideways at the box."""
    for arrow in FLOW_ARROWS:
        x0, y0, x1, _ = rects[arrow.source]
        tx0, ty0, tx1, ty1 = rects[arrow.target]
        sx = (x0 + x1) / 2
        gid = f"consort-arrow-{arrow.source}-{arrow.target}"
        if arrow.kind == "trunk":
            _arrow(ax, [(sx, y0), ((tx0 + tx1) / 2, ty1)], gid)
        elif arrow.kind == "branch":
            ty = (ty0 + ty1) / 2
            _arrow(ax, [(sx, ty), (tx0 if tx0 > sx else tx1, ty)], gid)
        else:  # split: down, across to the arm's column, down into its box
            tx = (tx0 + tx1) / 2
            mid = ty1 + ROW_GAP_PT / 2
            _arrow(ax, [(sx, y0), (sx, mid), (tx, mid), (tx, ty1)], gid)


def _arrow(ax: Axes, points: list[tuple[float, float]], gid: str) -> None:
    """A polyline whose last segment carries the arrow head."""
    xs, ys = zip(*points, strict=True)
    if len(points) > 2:
        ax.plot(xs[:-1], ys[:-1], color="#333", lw=0.9, gid=f"{gid}-path")
    ax.annotate(
        "",
        xy=points[-1],
        xytext=points[-2],
        gid=gid,
        arrowprops={
            "arrowstyle": "-|>",
            "color": "#333",
            "lw": 0.9,
            "shrinkA": 0,
            "shrinkB": 0,
            "mutation_scale": 9,
        },
    )


# --------------------------------------------------------------------- forest
@dataclass(frozen=True)
class ForestRow:
    """One line of the forest plot: a section header or an effect (None = not estimable)."""

    label: str
    effect: dict[str, Any] | None = None
    header: bool = False
    note: str = ""


def _percent(effect: dict[str, Any] | None) -> dict[str, Any] | None:
    """A proportion difference in percentage points (estimate and ci95 × 100)."""
    if not isinstance(effect, dict) or not _finite(effect.get("estimate")):
        return effect
    ci95 = effect.get("ci95") or [None, None]
    return {
        **effect,
        "estimate": 100 * effect["estimate"],
        "ci95": [None if v is None else 100 * v for v in ci95],
    }


def pain_forest_rows(results: dict[str, Any]) -> list[ForestRow]:
    """The rows of a pain-response primary, in percentage points."""
    p = results.get("primary", {})
    rows = [
        ForestRow("Primary analysis", header=True),
        ForestRow("ITT, risk difference (missing = non-responder)", _percent(p.get("itt"))),
        ForestRow("Supportive analyses", header=True),
        ForestRow("Complete case (observed response)", _percent(p.get("complete_case"))),
    ]
    for estimand in p.get("estimands", []):
        if estimand != "itt":
            block = p.get(estimand) or {}
            rows.append(
                ForestRow(
                    f"{estimand.upper()}, 2SLS (effect of receiving the intervention)",
                    _percent(block),
                    note=_instrument_note(block),
                )
            )
    return rows


def forest_rows(results: dict[str, Any]) -> list[ForestRow]:
    """The rows, labelled by what each estimate is (the δ rows are MNAR scenarios)."""
    p = results.get("primary", {})
    if p.get("measure") == "pain_response":
        return pain_forest_rows(results)
    s = results.get("secondary", {})
    rows = [
        ForestRow("Primary analysis", header=True),
        ForestRow("ITT, ANCOVA, complete case", p.get("itt")),
        ForestRow("Supportive analyses", header=True),
        ForestRow("ITT, multiple imputation (MAR)", p.get("itt_mi")),
        ForestRow(
            "CACE, 2SLS (effect of receiving same-day)",
            p.get("cace"),
            note=_instrument_note(p.get("cace") or {}),
        ),
        ForestRow("Sensitivity analyses", header=True),
    ]
    tipping = results.get("sensitivity", {}).get("tipping_point") or []
    for delta in (10.0, 20.0):
        row = next((r for r in tipping if r.get("delta") == delta), None)
        if row is not None:
            # The shift's sign says which way imputed values moved (toward the null).
            shift = row.get("shift", -delta)
            rows.append(
                ForestRow(f"MI (MNAR), imputed same-day PF {_signed(shift, 0, True)} points", row)
            )
    for label, by_visit in longitudinal_models(results):
        rows.append(ForestRow(f"{label}, week 4", by_visit.get("w4")))
    if not any(label for label, _ in longitudinal_models(results)):
        rows.append(
            ForestRow(
                "Longitudinal model, week 4",
                (s.get("pf_longitudinal") or {}).get("arm_effect_by_timepoint", {}).get("w4"),
            )
        )
    return rows


def _instrument_note(cace: dict[str, Any]) -> str:
    """The first-stage F of the CACE, flagged below 10 (a weak instrument)."""
    first_stage = cace.get("first_stage")
    value = (
        first_stage.get("f_statistic")
        if isinstance(first_stage, dict)
        else cace.get("first_stage_f")
    )
    if not isinstance(value, int | float) or not math.isfinite(value):
        return ""
    f = float(value)
    shown = f"{f:.1f}" if f >= 1 else f"{f:.2g}"  # F = 0.0014 must not read as 0.0
    return f"first-stage F = {shown}" + ("; weak instrument" if f < 10 else "")


FOREST_CAP = 100.0  # PF is 0–100: no difference beyond ±100 points is meaningful


def forest_figure(results: dict[str, Any]) -> Figure:
    """One row per analysis; an interval off the scale ends in an arrow at the axis edge.

    The axis spans the intervals of the analyses with a usable estimate: a CACE with a
    weak instrument (CI of ± thousands of points) would otherwise squeeze every other
    row into a dot. Its numbers still appear, in full, in the column on the right.
    """
    rows = forest_rows(results)
    fig = new_figure(9.0, 0.36 * len(rows) + 1.5)
    ax = fig.add_axes((0.37, 0.9 / fig.get_figheight(), 0.34, 1 - 1.15 / fig.get_figheight()))
    _style(ax)
    ax.spines["left"].set_visible(False)
    y = np.arange(len(rows))[::-1].astype(float)
    right = blended_transform_factory(ax.transAxes, ax.transData)
    drawn = [
        (yi, row, _effect_parts(row.effect))
        for yi, row in zip(y, rows, strict=True)
        if not row.header
    ]
    xmin, xmax = _forest_limits(
        [(parts, "weak instrument" in row.note) for _, row, parts in drawn if parts]
    )
    for yi, row, parts in drawn:
        if parts is None:
            ax.text(
                1.03,
                yi,
                NOT_ESTIMABLE,
                transform=right,
                va="center",
                fontsize=FONT,
                style="italic",
                color="#666",
                gid="forest-not-estimable",
            )
            continue
        _forest_interval(ax, yi, parts, xmin, xmax)
        est, lo, hi = parts
        text = f"{_signed(est)} ({_signed(lo)} to {_signed(hi)})"
        ax.text(
            1.03,
            yi,
            text + (f"\n{row.note}" if row.note else ""),
            transform=right,
            va="center",
            fontsize=FONT if not row.note else FONT - 1,
            color="#a23" if "weak" in row.note else "black",
            gid="forest-estimate",
        )
    ax.axvline(0, color="#999", ls="--", lw=0.9)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_yticks(y, [r.label for r in rows])
    ax.tick_params(axis="y", length=0, pad=9)  # room for an off-scale arrow at the edge
    for label, row in zip(ax.get_yticklabels(), rows, strict=True):
        label.set_fontweight("bold" if row.header else "normal")
    ax.text(
        1.03,
        len(rows) - 0.4,
        "Difference (95% CI)",
        transform=right,
        va="top",
        fontsize=FONT,
        fontweight="bold",
    )
    pain = results.get("primary", {}).get("measure") == "pain_response"
    if pain:
        when = VISIT_LABELS.get(results["primary"].get("timepoint"), "").replace("W", "week ")
        ax.set_xlabel(
            f"Difference in pain response at {when}, percentage points (intervention − control)",
            fontsize=FONT,
        )
        favours = (("← favours control"), ("favours intervention →"))
    else:
        ax.set_xlabel("Difference in PF at week 4, points (same-day − standard)", fontsize=FONT)
        favours = ("← favours standard care", "favours same-day →")
    for x, ha, text in ((0.0, "left", favours[0]), (1.0, "right", favours[1])):
        ax.annotate(
            text,
            (x, 0),
            xycoords="axes fraction",
            xytext=(0, -30),
            ha=ha,
            va="top",
            textcoords="offset points",
            fontsize=FONT - 1,
            color="#555",
        )
    if not pain:
        fig.text(
            0.01,
            0.02,
            _tipping_sentence(results),
            fontsize=FONT - 1,
            color="#444",
            gid="forest-tipping-note",
        )
    return fig


def _forest_limits(intervals: list[tuple[tuple[float, float, float], bool]]) -> tuple[float, float]:
    """x limits from the usable intervals (weak-instrument ones only if nothing else), 0
    included, never beyond ±FOREST_CAP."""
    usable = [parts for parts, weak in intervals if not weak] or [p for p, _ in intervals]
    values = [0.0] + [v for est, lo, hi in usable for v in (lo, hi)]
    lo, hi = max(min(values), -FOREST_CAP), min(max(values), FOREST_CAP)
    pad = 0.08 * (hi - lo) if hi > lo else 5.0
    return lo - pad, hi + pad


def _forest_interval(
    ax: Axes, yi: float, parts: tuple[float, float, float], xmin: float, xmax: float
) -> None:
    est, lo, hi = parts
    ax.plot([max(lo, xmin), min(hi, xmax)], [yi, yi], color="#333", lw=1.1, gid="forest-interval")
    for end, edge, marker in ((lo, xmin, "<"), (hi, xmax, ">")):
        if (end < edge) if marker == "<" else (end > edge):
            ax.plot(edge, yi, marker, color="#333", ms=5, clip_on=False, gid="forest-off-scale")
    if xmin <= est <= xmax:
        ax.plot(est, yi, "s", color=COLOURS["intervention"], ms=5.5)


def _signed(value: float, digits: int = 1, plus: bool = False) -> str:
    """A number with a typographic minus, as the axis tick labels print it."""
    text = f"{value:{'+' if plus else ''},.{digits}f}".replace("-", "−")
    return text


def _tipping_sentence(results: dict[str, Any]) -> str:
    """The tipping point under the forest plot: a δ (a departure from MAR), not an effect."""
    s = results.get("sensitivity", {})
    delta = s.get("tipping_delta")
    if s.get("not_estimable") or not (s.get("tipping_point") or []):
        return f"Tipping point: {NOT_ESTIMABLE}."
    if not _finite(delta):
        why = (s.get("notes") or {}).get("tipping_delta") or "significance does not change"
        return f"Tipping point: none ({why})."
    mcse = s.get("tipping_delta_mcse")
    noise = f", Monte-Carlo SE {mcse:.1f}" if _finite(mcse) else ""
    return (
        f"Tipping point (a departure from MAR, not an effect estimate): significance at "
        f"5% changes at δ = {delta:.1f} points{noise}."
    )


# -------------------------------------------------------------- tipping point
def tipping_figure(
    rows: list[dict[str, Any]],
    tipping_delta: float | None = None,
    reason: str | None = None,
    mcse: float | None = None,
) -> Figure:
    """Pooled MI-ITT effect (95% CI) against the MNAR shift δ, with the tipping δ marked.

    δ is the size of the shift; the rows' `shift` gives its sign (lowered or raised).
    The tipping δ's Monte-Carlo SE, when known, is drawn as a ±1.96 MCSE band.
    """
    rows = [r for r in rows if _finite(r.get("delta"))]
    if not rows or not any(_effect_parts(r) for r in rows):
        return not_estimable_figure(FIGURE_CAPTIONS["tipping_point"], reason)
    fig = new_figure(7.5, 3.6)
    ax = fig.add_axes((0.11, 0.17, 0.86, 0.78))
    _style(ax)
    d = np.array([r["delta"] for r in rows], float)
    est = np.array([_num(r.get("estimate")) for r in rows])
    lo = np.array([_num((r.get("ci95") or [None, None])[0]) for r in rows])
    hi = np.array([_num((r.get("ci95") or [None, None])[1]) for r in rows])
    ax.fill_between(d, lo, hi, color=COLOURS["intervention"], alpha=0.2, lw=0, label="95% CI")
    ax.plot(d, est, color=COLOURS["intervention"], marker="o", ms=3, label="pooled estimate")
    ax.axhline(0, color="#999", ls="--", lw=0.9)
    if _finite(tipping_delta):
        label = f"tipping point δ = {tipping_delta:.1f}"
        if tipping_delta is not None and mcse is not None and _finite(mcse):
            ax.axvspan(
                tipping_delta - 1.96 * mcse,
                tipping_delta + 1.96 * mcse,
                color="#999",
                alpha=0.2,
                lw=0,
                gid="tipping-mcse",
            )
            label += f" (Monte-Carlo SE {mcse:.2f})"
        ax.axvline(tipping_delta, color="#333", lw=0.9, ls=":")  # type: ignore[arg-type]
        # The label goes on the side of the line with more room, so it is never cut off.
        left = tipping_delta > (d.min() + d.max()) / 2
        ax.annotate(
            label,
            (tipping_delta, 0),
            fontsize=FONT,
            xycoords=("data", "axes fraction"),
            xytext=(-4 if left else 4, 4),
            textcoords="offset points",
            va="bottom",
            ha="right" if left else "left",
            gid="tipping-delta",
            bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none"},
        )
    ax.set_xlim(d.min() - 0.5, d.max() + 0.5)  # an MCSE band must not widen the δ range
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    way = "lowered" if any(_num(r.get("shift", -r["delta"])) < 0 for r in rows) else "raised"
    ax.set_xlabel(
        f"δ: imputed intervention-arm PF at week 4 {way} by δ points (MNAR)", fontsize=FONT
    )
    ax.set_ylabel("MI-ITT difference in PF (95% CI)", fontsize=FONT)
    ax.legend(frameon=False, fontsize=FONT - 1, loc="best")
    return fig


def _num(value: Any) -> float:
    return float(value) if _finite(value) else math.nan


# ------------------------------------------------------------- PF over time
def longitudinal_models(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, {visit: effect}) of every longitudinal PF model in the results, MMRM first.

    Any `secondary.pf_*` block with per-visit arm effects counts, so a model added to
    results.json (the MMRM) appears here without a change to this module.
    """
    found = []
    for key, block in (results.get("secondary") or {}).items():
        if not (key.startswith("pf_") and isinstance(block, dict)):
            continue
        by_visit = next(
            (
                block[k]
                for k in ("arm_effect_by_visit", "arm_effect_by_timepoint")
                if isinstance(block.get(k), dict)
            ),
            None,
        )
        if by_visit is None:
            continue
        # Visits with data but no arm effect are shown as "n.e.", not left out.
        skipped = block.get("not_estimable_timepoints") or {}
        by_visit = {**{t: None for t in skipped}, **by_visit}
        found.append((_model_label(key, str(block.get("model", ""))), by_visit))
    return sorted(found, key=lambda item: not item[0].startswith("MMRM"))


def _model_label(key: str, model: str) -> str:
    text = f"{key} {model}".lower()
    if "mmrm" in text or "unstructured" in text:
        return "MMRM"
    if "random intercept" in text or "random-intercept" in text:
        return "Random-intercept model"
    return "Longitudinal model"


def scale_over_time_figure(
    scales: pd.DataFrame | None,
    scale: str,
    models: list[tuple[str, dict[str, Any]]] | None = None,
    labels: dict[str, str] | None = None,
    short: dict[str, str] | None = None,
) -> Figure:
    """Observed mean (95% t CI) by arm and visit with n per visit; model differences beside.

    Only visits with at least one observation get a tick (no empty ticks).
    """
    from blend.stats.dataset import TIMEPOINTS

    data = scales[scales["scale"] == scale] if scales is not None and len(scales) else None
    if data is None or not len(data) or not (data["count"] > 0).any():
        return not_estimable_figure(FIGURE_CAPTIONS["pf_over_time"], "no observed values")
    visits = [t for t in TIMEPOINTS if (data.loc[data["timepoint"] == t, "count"] > 0).any()]
    fig = new_figure(10.0, 4.6)
    ax = fig.add_axes((0.1, 0.32, 0.5, 0.61))
    _style(ax)
    table = {}
    for offset, arm in ((-0.09, "intervention"), (0.09, "control")):
        d = data[data["arm"] == arm].set_index("timepoint").reindex(visits)
        n = d["count"].fillna(0).astype(int).to_numpy()
        table[arm] = n.tolist()
        half = np.array([_t_half_width(sd, int(k)) for sd, k in zip(d["std"], n, strict=True)])
        x = np.arange(len(visits)) + offset
        ax.errorbar(
            x,
            d["mean"],
            yerr=half,
            marker="o",
            ms=4,
            capsize=2.5,
            lw=1.2,
            color=COLOURS[arm],
            label=(labels or LABELS)[arm],
        )
    ax.set_xticks(range(len(visits)), [VISIT_LABELS.get(v, v) for v in visits])
    ax.set_xlim(-0.5, len(visits) - 0.5)
    ax.set_ylim(0, 100)
    ax.set_ylabel(f"{scale}, mean (95% CI)", fontsize=FONT)
    ax.set_title("Observed", fontsize=FONT, loc="left")
    ax.legend(frameon=False, fontsize=FONT - 1, loc="lower left")
    _risk_table(
        fig,
        ax,
        (0.1, 0.04, 0.5, 0.12),
        list(range(len(visits))),
        table,
        "Number of questionnaires",
        short,
    )
    ax.set_xlabel("Visit (BL baseline, W week, M month)", fontsize=FONT)
    _model_panel(fig, [v for v in visits if v != "baseline"], models or [], short)
    return fig


def _t_half_width(sd: float, n: int) -> float:
    if n < 2 or not _finite(sd):
        return math.nan
    return t_quantile(0.975, n - 1) * sd / math.sqrt(n)


def _model_panel(
    fig: Figure,
    visits: list[str],
    models: list[tuple[str, dict[str, Any]]],
    short: dict[str, str] | None = None,
) -> None:
    """Arm difference per visit from each longitudinal model (MMRM primary)."""
    ax = fig.add_axes((0.69, 0.32, 0.29, 0.61), label="model estimates")
    _style(ax)
    ax.set_title("Model-estimated difference", fontsize=FONT, loc="left")
    ax.axhline(0, color="#999", ls="--", lw=0.9)
    shown = [v for v in visits if any(v in by_visit for _, by_visit in models)]
    if not models or not shown:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.text(
            0.5,
            0.5,
            f"Longitudinal model: {NOT_ESTIMABLE}",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=FONT,
            style="italic",
            color="#666",
            gid="model-not-estimable",
        )
        return
    width = 0.28 if len(models) > 1 else 0.0
    styles = ("o", "s", "^")
    for i, (label, by_visit) in enumerate(models):
        offset = (i - (len(models) - 1) / 2) * width
        legend_label: str | None = label
        for j, visit in enumerate(shown):
            parts = _effect_parts(by_visit.get(visit))
            if parts is None:
                ax.text(
                    j + offset,
                    0,
                    "n.e.",
                    ha="center",
                    va="bottom",
                    fontsize=FONT - 2,
                    color="#666",
                    rotation=90,
                    gid="model-not-estimable",
                )
                continue
            est, lo, hi = parts
            ax.errorbar(
                j + offset,
                est,
                yerr=[[est - lo], [hi - est]],
                capsize=2.5,
                lw=1.1,
                marker=styles[i % 3],
                ms=4,
                color="#333" if i == 0 else "#888",
                label=legend_label,
            )
            legend_label = None  # one legend entry per model
    ax.set_xticks(range(len(shown)), [VISIT_LABELS.get(v, v) for v in shown])
    ax.set_xlim(-0.5, len(shown) - 0.5)
    first, second = versus(short)
    ax.set_ylabel(f"{first[:1].upper()}{first[1:]} − {second}, PF points (95% CI)", fontsize=FONT)
    if ax.get_legend_handles_labels()[0]:  # every visit n.e.: nothing to name
        ax.legend(frameon=False, fontsize=FONT - 1, loc="best")


# ------------------------------------------------------------------- survival
@dataclass(frozen=True)
class SurvivalCurve:
    """Kaplan–Meier estimate at every distinct observed time, with a log-scale 95% CI."""

    times: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    estimate: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    durations: np.ndarray  # sorted, for the number at risk at any time

    @property
    def n(self) -> int:
        return len(self.durations)

    def at_risk_at(self, t: float) -> int:
        """Participants with an observed time ≥ t (R `summary.survfit` n.risk)."""
        return int(self.n - np.searchsorted(self.durations, t, side="left"))

    def tail_cut(self, fraction: float = TAIL_FRACTION) -> float:
        """The last observed time at which at least `fraction` of the arm is at risk."""
        keep = self.at_risk >= fraction * self.n
        return float(self.times[keep][-1]) if keep.any() else 0.0


def kaplan_meier_curve(durations: Any, events: Any, level: float = 0.95) -> SurvivalCurve:
    """KM with Greenwood's variance and R's default `conf.type = "log"` interval.

    CI = S · exp(± z · √Σ d / (n (n − d))), the upper limit capped at 1; where S = 0
    the interval is undefined (NaN), as R's NA.
    """
    t = np.asarray(durations, float)
    e = np.asarray(events, bool)
    times, inverse = np.unique(t, return_inverse=True)
    removed = np.bincount(inverse, minlength=len(times)).astype(float)
    deaths = np.bincount(inverse, weights=e, minlength=len(times))
    at_risk = removed[::-1].cumsum()[::-1]
    z = norm_quantile(1 - (1 - level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(1 - deaths / at_risk)
        se_log = np.sqrt(np.cumsum(deaths / (at_risk * (at_risk - deaths))))
        lower = np.where(s > 0, s * np.exp(-z * se_log), math.nan)
        upper = np.where(s > 0, np.minimum(1.0, s * np.exp(z * se_log)), math.nan)
    return SurvivalCurve(times, at_risk, deaths, removed - deaths, s, lower, upper, np.sort(t))


def overall_survival_data(wide: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(days from randomization to death or last contact, died) per arm, as `_survival`."""
    days = (wide["last_contact"] - wide["randomized_on"]).dt.days.to_numpy(float)
    dead = wide["death_date"].notna().to_numpy()
    z = wide["z"].to_numpy()
    return {arm: (days[z == v], dead[z == v]) for arm, v in (("intervention", 1), ("control", 0))}


def systemic_therapy_data(wide: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(days from treatment start, status 0 censored / 1 restart / 2 death first) per arm."""
    t = wide[wide["treatment_start"].notna()]
    restart = t["systemic_restart_date"].notna()
    dead = t["death_date"].notna()
    end = t["systemic_restart_date"].where(restart, t["death_date"].where(dead, t["last_contact"]))
    days = (end - t["treatment_start"]).dt.days.to_numpy(float)
    status = np.where(restart, 1, np.where(dead, 2, 0))
    z = t["z"].to_numpy()
    return {arm: (days[z == v], status[z == v]) for arm, v in (("intervention", 1), ("control", 0))}


def survival_summary(results: dict[str, Any]) -> str | None:
    """ "HR … (95% CI …); log-rank p …" for the KM figure, from results.json."""
    os_ = (results.get("secondary") or {}).get("overall_survival") or {}
    return _ratio_text(
        "Cox HR", os_.get("hr"), os_.get("hr_ci95"), ("log-rank p", os_.get("logrank_p"))
    )


def competing_risks_summary(
    results: dict[str, Any], short: dict[str, str] | None = None
) -> str | None:
    """The cause-specific and Fine–Gray hazard ratios of restart, for the CIF figure."""
    st = (results.get("secondary") or {}).get("systemic_therapy") or {}
    fg = st.get("fine_gray") or {}
    parts = [
        _ratio_text("cause-specific HR", st.get("cs_hr"), st.get("cs_hr_ci95")),
        _ratio_text("Fine–Gray sHR", fg.get("shr"), fg.get("shr_ci95"), ("p", fg.get("p"))),
    ]
    text = "; ".join(p for p in parts if p)
    first, second = versus(short)
    return f"Restart, {first} vs {second}: {text}" if text else None


def _ratio_text(name: str, value: Any, ci95: Any, p: tuple[str, Any] | None = None) -> str | None:
    if not _finite(value):
        return None
    lo, hi = (ci95 or [None, None])[:2]
    text = f"{name} {value:.2f}" + (f" ({lo:.2f} to {hi:.2f})" if _finite(lo, hi) else "")
    if p is not None and _finite(p[1]):
        text += f", {p[0]} {'< 0.001' if p[1] < 0.001 else f'{p[1]:.3f}'}"
    return text


def km_figure(
    data: dict[str, tuple[np.ndarray, np.ndarray]],
    summary: str | None = None,
    labels: dict[str, str] | None = None,
    short: dict[str, str] | None = None,
) -> Figure:
    """KM by arm: 95% CI band, censor marks, tail cut at 10% at risk, numbers at risk."""
    curves = {
        arm: kaplan_meier_curve(*data[arm]) for arm in ARMS if arm in data and len(data[arm][0])
    }
    if not curves:
        return not_estimable_figure(FIGURE_CAPTIONS["overall_survival"], "no participants")
    fig, ax = _survival_axes()
    cut = {arm: c.tail_cut() for arm, c in curves.items()}
    for arm, c in curves.items():
        keep = c.times <= cut[arm]
        t = np.concatenate([[0.0], c.times[keep]])
        ax.step(
            t,
            np.concatenate([[1.0], c.estimate[keep]]),
            where="post",
            color=COLOURS[arm],
            lw=1.4,
            label=(labels or LABELS)[arm],
            gid=f"km-{arm}",
        )
        ax.fill_between(
            t,
            np.concatenate([[1.0], c.lower[keep]]),
            np.concatenate([[1.0], c.upper[keep]]),
            step="post",
            lw=0,
            color=COLOURS[arm],
            alpha=0.15,
            gid=f"km-ci-{arm}",
        )
        marks = keep & (c.censored > 0)
        ax.plot(
            c.times[marks],
            c.estimate[marks],
            ls="none",
            marker="|",
            ms=6,
            mew=1,
            color=COLOURS[arm],
            gid=f"km-censored-{arm}",
        )
    ax.plot([], [], ls="none", marker="|", ms=6, mew=1, color="#333", label="censored")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("Overall survival (95% CI)", fontsize=FONT)
    ax.set_xlabel("Days since randomization", fontsize=FONT)
    _legend_above(ax, ncol=3)
    ticks = _day_ticks(ax, max(cut.values()))
    _risk_table(
        fig,
        ax,
        RISK_TABLE_RECT,
        ticks,
        {arm: [c.at_risk_at(t) for t in ticks] for arm, c in curves.items()},
        "Number at risk",
        short,
    )
    _tail_note(fig, summary)
    return fig


def cif_figure(
    data: dict[str, tuple[np.ndarray, np.ndarray]],
    summary: str | None = None,
    short: dict[str, str] | None = None,
    window: tuple[str, int] = ("week 4", PRIMARY_WINDOW_DAYS),
) -> Figure:
    """Aalen–Johansen CIF of restart (solid) and of death first (dashed) by arm."""
    arms = [arm for arm in ARMS if arm in data and len(data[arm][0])]
    if not arms:
        return not_estimable_figure(FIGURE_CAPTIONS["systemic_therapy_cif"], "no participants")
    fig, ax = _survival_axes()
    risk = {arm: kaplan_meier_curve(data[arm][0], data[arm][1] > 0) for arm in arms}
    cut = {arm: risk[arm].tail_cut() for arm in arms}
    xmax = max(max(cut.values()), WEEK_12_DAYS)
    window_label, window_days = window
    ax.axvspan(0, window_days, color="#ececec", lw=0, zorder=0)
    ax.text(
        window_days / 2,
        0.99,
        f"{window_label}\n(primary\noutcome)",
        ha="center",
        va="top",
        fontsize=FONT - 2,
        color="#555",
        transform=ax.get_xaxis_transform(),
        gid="cif-primary-window",
    )
    ax.axvline(WEEK_12_DAYS, color="#aaa", lw=0.8, ls=":")
    ax.text(
        WEEK_12_DAYS,
        0.99,
        " week 12",
        ha="left",
        va="top",
        fontsize=FONT - 2,
        color="#555",
        transform=ax.get_xaxis_transform(),
    )
    for arm in arms:
        days, status = data[arm]
        for cause, ls, what in (
            (1, "-", "systemic therapy restarted"),
            (2, "--", "death without restart"),
        ):
            t, f = cumulative_incidence(days, status, cause)
            keep = t <= cut[arm]
            ax.step(
                np.concatenate([[0.0], t[keep], [cut[arm]]]),
                np.concatenate([[0.0], f[keep], [f[keep][-1] if keep.any() else 0.0]]),
                where="post",
                color=COLOURS[arm],
                ls=ls,
                lw=1.4,
                label=f"{(short or SHORT_LABELS)[arm]}: {what}",
                gid=f"cif-{arm}-cause{cause}",
            )
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("Cumulative incidence", fontsize=FONT)
    ax.set_xlabel("Days since treatment start", fontsize=FONT)
    _legend_above(ax, ncol=2)
    ticks = _day_ticks(ax, xmax)
    _risk_table(
        fig,
        ax,
        RISK_TABLE_RECT,
        ticks,
        {arm: [risk[arm].at_risk_at(t) for t in ticks] for arm in arms},
        "Number at risk (event-free)",
        short,
    )
    _tail_note(fig, summary)
    return fig


RISK_TABLE_RECT = (0.15, 0.075, 0.82, 0.115)


def _survival_axes() -> tuple[Figure, Axes]:
    fig = new_figure(7.5, 5.0)
    ax = fig.add_axes((0.15, 0.345, 0.82, 0.545))
    _style(ax)
    return fig, ax


def _legend_above(ax: Axes, ncol: int) -> None:
    """The legend above the axes, where it can never hide a curve."""
    ax.legend(
        frameon=False,
        fontsize=FONT - 1,
        ncol=ncol,
        loc="lower left",
        bbox_to_anchor=(0, 1.01),
        borderaxespad=0,
        handlelength=2.4,
    )


def _day_ticks(ax: Axes, xmax: float) -> list[float]:
    """Round tick positions from 0 to `xmax` days; the axis ends at `xmax`."""
    xmax = max(float(xmax), 1.0)
    ticks = [
        float(t)
        for t in MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]).tick_values(0, xmax)
        if 0 <= t <= xmax
    ]
    ax.set_xlim(0, xmax)
    ax.set_xticks(ticks)
    return ticks


def _tail_note(fig: Figure, summary: str | None = None) -> None:
    """The tail-cut rule and, above it, the model summary (bottom left)."""
    fig.text(
        0.01,
        0.005,
        f"Curves end where fewer than {TAIL_FRACTION:.0%} of an arm remain at risk.",
        ha="left",
        va="bottom",
        fontsize=FONT - 2,
        color="#666",
        gid="tail-note",
    )
    if summary:
        fig.text(
            0.01,
            0.03,
            summary,
            ha="left",
            va="bottom",
            fontsize=FONT - 2,
            color="#333",
            gid="survival-summary",
        )


def _risk_table(
    fig: Figure,
    ax: Axes,
    rect: tuple[float, float, float, float],
    ticks: list[float],
    counts: dict[str, list[int]],
    title: str,
    short: dict[str, str] | None = None,
) -> Axes:
    """A row of counts per arm under `ax`, one under each tick (axes label = `title`)."""
    table = fig.add_axes(rect, label=title)
    table.set_xlim(ax.get_xlim())
    table.set_ylim(-0.6, len(counts) - 0.2)
    table.axis("off")
    table.text(
        0,
        len(counts) - 0.2,
        title,
        transform=blended_transform_factory(table.transAxes, table.transData),
        fontsize=FONT - 1,
        fontweight="bold",
        va="bottom",
        ha="left",
    )
    label_at = blended_transform_factory(ax.transAxes, table.transData)
    for row, (arm, values) in enumerate(counts.items()):
        y = len(counts) - 1 - row
        # Right-aligned 24 pt left of the axis: clear of a count centred on x = 0.
        table.annotate(
            (short or SHORT_LABELS)[arm],
            (0, y),
            xycoords=label_at,
            xytext=(-24, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=FONT - 1,
            color=COLOURS[arm],
        )
        for t, value in zip(ticks, values, strict=True):
            table.text(
                t, y, f"{value:,}", ha="center", va="center", fontsize=FONT - 1, gid=f"risk-{arm}"
            )
    return table


# ------------------------------------------------------------------------ CEA
QUADRANTS = {  # (x side, y side): label; x = incremental QALYs, y = incremental cost
    ("right", "top"): ("NE", "more effective,\nmore costly"),
    ("left", "top"): ("NW", "dominated: less\neffective, more costly"),
    ("right", "bottom"): ("SE", "dominant: more\neffective, less costly"),
    ("left", "bottom"): ("SW", "less effective,\nless costly"),
}
QUADRANT_ROOM = 0.27  # each side of the origin gets at least this share of an axis


def ce_plane_figure(
    replicates: np.ndarray | None,
    point: tuple[float, float],
    reason: str | None = None,
    short: dict[str, str] | None = None,
) -> Figure:
    """Bootstrap (ΔQALY, Δcost) cloud with the point estimate, λ lines and the quadrants.

    The axes always contain the origin, so each quadrant label sits in its quadrant.
    """
    if replicates is None or not len(replicates) or not np.isfinite(replicates).any():
        return not_estimable_figure(FIGURE_CAPTIONS["ce_plane"], reason)
    reps = replicates[np.isfinite(replicates).all(axis=1)]
    de, dc = reps[:, 0], reps[:, 1]
    fig = new_figure(9.0, 5.4)
    ax = fig.add_axes((0.13, 0.11, 0.6, 0.85))
    _style(ax)
    ax.scatter(de, dc, s=3, alpha=0.25, color=COLOURS["intervention"], rasterized=True, lw=0)
    ax.plot(
        [],
        [],
        "o",
        ms=3,
        color=COLOURS["intervention"],
        alpha=0.5,
        label=f"bootstrap replicates ({len(reps):,})",
    )
    if _finite(*point):
        ax.plot(*point, "o", color="black", ms=5, label="point estimate")
    xlim, ylim = _around_origin(de), _around_origin(dc)
    xs = np.array(xlim)
    for lam, ls in zip(CE_LAMBDAS, (":", "--", "-."), strict=True):
        ax.plot(xs, lam * xs, ls=ls, color="#555", lw=0.9, label=f"λ = €{lam:,}/QALY")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.axhline(0, color="#777", lw=0.8)
    ax.axvline(0, color="#777", lw=0.8)
    shares = _quadrant_shares(de, dc)
    for (xside, yside), (code, text) in QUADRANTS.items():
        ax.text(
            0.985 if xside == "right" else 0.015,
            0.985 if yside == "top" else 0.015,
            f"{code}: {text}\n{shares[code]:.1%} of replicates",
            transform=ax.transAxes,
            ha=xside,
            va=yside,
            fontsize=FONT - 1,
            color="#333",
            gid=f"quadrant-{code}",
            zorder=5,
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none", "alpha": 0.9},
        )
    ax.set_xlabel("Incremental QALYs ({} − {})".format(*versus(short)), fontsize=FONT)
    ax.set_ylabel("Incremental cost, €", fontsize=FONT)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}".replace("-", "−")))
    fig.legend(
        *ax.get_legend_handles_labels(),
        loc="center left",
        bbox_to_anchor=(0.75, 0.5),
        frameon=False,
        fontsize=FONT - 1,
    )
    return fig


def _around_origin(values: np.ndarray) -> tuple[float, float]:
    """Limits that hold the data and 0, with room on both sides of 0 for the labels.

    A cloud wholly on one side of 0 would leave the other quadrants a sliver too narrow
    for their label, so each side gets at least `QUADRANT_ROOM` of the axis.
    """
    lo, hi = min(float(values.min()), 0.0), max(float(values.max()), 0.0)
    span = hi - lo or 1.0
    lo, hi = lo - 0.2 * span, hi + 0.2 * span
    f = QUADRANT_ROOM
    if -lo < f * (hi - lo):
        lo = -f * hi / (1 - f)
    if hi < f * (hi - lo):
        hi = -f * lo / (1 - f)
    return lo, hi


def _quadrant_shares(de: np.ndarray, dc: np.ndarray) -> dict[str, float]:
    """Share of replicates per quadrant, as `cea.bootstrap_summary` counts them."""
    return {
        "NE": float(((de > 0) & (dc > 0)).mean()),
        "SE": float(((de > 0) & (dc <= 0)).mean()),
        "SW": float(((de <= 0) & (dc <= 0)).mean()),
        "NW": float(((de <= 0) & (dc > 0)).mean()),
    }


def ceac_figure(
    ceac: list[list[float]], reason: str | None = None, short: dict[str, str] | None = None
) -> Figure:
    """P(cost-effective) against willingness to pay; the y axis is exactly 0 to 1.

    The curve is not clipped and the top spine is hidden, so a curve at 1 stays visible.
    """
    arr = np.asarray(ceac, float)
    if arr.ndim != 2 or not len(arr) or not np.isfinite(arr).all():
        return not_estimable_figure(FIGURE_CAPTIONS["ceac"], reason)
    fig = new_figure(7.5, 4.0)
    ax = fig.add_axes((0.1, 0.14, 0.86, 0.8))
    _style(ax)
    ax.plot(
        arr[:, 0],
        arr[:, 1],
        color=COLOURS["intervention"],
        lw=1.8,
        clip_on=False,
        zorder=3,
        gid="ceac-curve",
    )
    for lam in CE_LAMBDAS:
        if arr[0, 0] <= lam <= arr[-1, 0]:
            p = float(np.interp(lam, arr[:, 0], arr[:, 1]))
            ax.axvline(lam, color="#bbb", lw=0.8, ls=":")
            ax.annotate(
                f"{p:.2f}",
                (lam, p),
                xytext=(4, -10 if p > 0.9 else 4),
                textcoords="offset points",
                fontsize=FONT - 1,
                gid="ceac-lambda",
            )
    ax.set_xlim(arr[0, 0], arr[-1, 0])
    ax.set_ylim(0, 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"€{v / 1000:,.0f}k" if v else "€0"))
    ax.set_xlabel("Willingness to pay per QALY gained", fontsize=FONT)
    ax.set_ylabel(f"Probability {versus(short)[0]} is cost-effective", fontsize=FONT)
    return fig
