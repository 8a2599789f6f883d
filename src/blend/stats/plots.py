"""Figures of the analysis report (matplotlib, Agg; no pyplot state).

Each `*_figure` function takes plain results/artifacts and returns a
`matplotlib.figure.Figure`; `save_figures` writes every figure as PNG and SVG and
returns the SVG text for embedding in the self-contained report.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from blend.stats.analysis import AnalysisResult

COLOURS = {"intervention": "#1b6ca8", "control": "#d1495b"}
LABELS = {"intervention": "Same-day SBRT + surgery", "control": "Standard care"}


def _figure(width: float, height: float, left: float = 0.1, bottom: float = 0.13) -> Figure:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: small, searchable SVG
    matplotlib.rcParams["svg.hashsalt"] = "blend"  # deterministic SVG ids
    # Fixed margins: constrained layout would cost a second per report at 10,000.
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=left, right=0.97, bottom=bottom, top=0.96)
    return fig


def save_figures(result: AnalysisResult, out: Path) -> dict[str, str]:
    """Write every figure to `out` as PNG and SVG; return {name: svg text}."""
    makers = {
        "consort": lambda: consort_figure(result.results["consort"]),
        "forest": lambda: forest_figure(result.results),
        "pf_over_time": lambda: scale_over_time_figure(result.artifacts["scales"], "PF"),
        "overall_survival": lambda: km_figure(result.artifacts["km"]),
        "systemic_therapy_cif": lambda: cif_figure(result.artifacts["cif"]),
        "ce_plane": lambda: ce_plane_figure(result.artifacts["cea"]),
        "ceac": lambda: ceac_figure(result.results["cea"]["ceac"]),
        "tipping_point": lambda: tipping_figure(result.results["sensitivity"]["tipping_point"]),
    }
    svgs = {}
    for name, make in makers.items():
        try:
            fig = make()
        except (KeyError, ValueError, IndexError, TypeError):
            continue  # its analysis was not estimable; the report says so
        fig.savefig(out / f"{name}.png", dpi=100)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
        svg = buffer.getvalue()
        (out / f"{name}.svg").write_text(svg, encoding="utf-8")
        svgs[name] = svg[svg.index("<svg"):]
    return svgs


# ------------------------------------------------------------------ CONSORT
def consort_figure(c: dict[str, Any]) -> Figure:
    """The TwiCs flow: cohort → consent → eligible → randomized → offered/not informed."""
    fig = _figure(9, 10, left=0.01, bottom=0.01)
    ax = fig.add_subplot()
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.axis("off")
    i, k = c["intervention"], c["control"]
    box = _box_drawer(ax)
    box(35, 95, f"Cohort participants in period\nN = {c['cohort']} (screened {c['screened']})")
    box(78, 86, f"No randomization consent\nrefused {c['no_consent']['no']}, "
                f"postponed {c['no_consent']['postponed']}", side=True)
    box(35, 80, f"Broad consent for randomization\nn = {c['randomization_consent']}")
    ne = c["not_eligible"]
    box(78, 71, f"Not eligible {ne['ineligible']}, pending {ne['pending']}\n"
                f"eligible, not randomized {c['eligible_not_randomized']}", side=True)
    box(35, 65, f"Eligible\nn = {c['eligible']}")
    box(35, 53, f"Randomized\nn = {c['randomized']}")
    box(18, 39, f"Allocated to same-day SBRT + surgery\n(offered) n = {i['allocated']}\n"
                f"offered {i['offered']}, not offered {i['not_offered']}")
    box(78, 39, f"Allocated to standard care\n(not informed) n = {k['allocated']}")
    box(10, 24, f"Accepted n = {i['accepted']}\nreceived {i['received']}, "
                f"not received {i['accepted_not_received']}", small=True)
    box(34, 24, f"Refused n = {i['refused']}\n→ standard care", small=True)
    box(78, 24, f"Received standard care {k['received_standard']}\n"
                f"same-day outside trial {k['received_intervention']}")
    box(18, 7, _analysed_text(i))
    box(78, 7, _analysed_text(k))
    for (x0, y0), (x1, y1) in [((35, 91), (35, 84)), ((35, 76), (35, 69)), ((35, 61), (35, 57)),
                               ((35, 49), (18, 44)), ((35, 49), (78, 43)), ((18, 34), (10, 28)),
                               ((18, 34), (34, 28)), ((78, 35), (78, 28)), ((18, 20), (18, 13)),
                               ((78, 20), (78, 13)), ((35, 88), (62, 86)), ((35, 73), (62, 71))]:
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "->", "color": "#444"})
    return fig


def _analysed_text(arm: dict[str, Any]) -> str:
    text = f"Analysed (ITT, complete case) n = {arm['analysed_primary']}"
    f = arm.get("follow_up")
    if f:
        text += (f"\nnot analysed: died before w4 {f['died_before_w4']},\n"
                 f"alive without PF w4 {f['alive_pf_w4_missing']}, "
                 f"no baseline PF {f['pf_baseline_missing']}")
    return text


def _box_drawer(ax: Any) -> Any:
    def box(x: float, y: float, text: str, side: bool = False, small: bool = False) -> None:
        ax.text(x, y, text, ha="center", va="center", fontsize=7.5 if small else 8.5,
                bbox={"boxstyle": "round,pad=0.5", "fc": "#f4f4f4" if side else "white",
                      "ec": "#333"})
    return box


# ------------------------------------------------------------------- forest
def forest_figure(results: dict[str, Any]) -> Figure:
    p = results["primary"]
    rows = [("ITT ANCOVA (complete case)", p["itt"]), ("CACE (2SLS)", p["cace"]),
            ("ITT, multiple imputation", p["itt_mi"])]
    tipping = results["sensitivity"]["tipping_point"]
    for r in tipping:
        if r["delta"] in (10.0, 20.0):
            rows.append((f"MI, δ = {r['delta']:.0f} (tipping point)", r))
    long = results["secondary"]["pf_longitudinal"]["arm_effect_by_timepoint"]["w4"]
    rows.append(("Longitudinal model, w4", long))
    fig = _figure(7.5, 0.5 * len(rows) + 1.2, left=0.36, bottom=0.22)
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    for yi, (_, r) in zip(y, rows, strict=True):
        lo, hi = r["ci95"]
        ax.plot([lo, hi], [yi, yi], color="#333")
        ax.plot(r["estimate"], yi, "s", color=COLOURS["intervention"])
    ax.axvline(0, color="#999", ls="--", lw=1)
    ax.set_yticks(y, [name for name, _ in rows])
    ax.set_xlabel("Difference in PF at week 4 (points, 95% CI); > 0 favours same-day")
    return fig


def scale_over_time_figure(scales: Any, scale: str) -> Figure:
    from blend.stats.dataset import TIMEPOINTS

    fig = _figure(7.5, 4)
    ax = fig.add_subplot()
    data = scales[scales["scale"] == scale]
    for offset, arm in ((-0.08, "intervention"), (0.08, "control")):
        d = data[data["arm"] == arm].set_index("timepoint").reindex(TIMEPOINTS).dropna()
        x = np.array([TIMEPOINTS.index(t) for t in d.index]) + offset
        half = 1.96 * d["std"] / np.sqrt(d["count"])
        ax.errorbar(x, d["mean"], yerr=half, marker="o", capsize=3, color=COLOURS[arm],
                    label=LABELS[arm])
    ax.set_xticks(range(len(TIMEPOINTS)), TIMEPOINTS)
    ax.set_ylabel(f"{scale} (mean, 95% CI)")
    ax.set_ylim(0, 100)
    ax.legend(frameon=False)
    return fig


def km_figure(km: dict[str, Any]) -> Figure:
    fig = _figure(7.5, 4)
    ax = fig.add_subplot()
    for arm, f in km.items():
        t = np.concatenate([[0], f.timeline_])
        s = np.concatenate([[1], f.survival_])
        ax.step(t, s, where="post", color=COLOURS[arm], label=LABELS[arm])
    ax.set_xlabel("Days since randomization")
    ax.set_ylabel("Overall survival")
    ax.set_ylim(0, 1.02)
    ax.legend(frameon=False)
    return fig


def cif_figure(cif: dict[str, Any]) -> Figure:
    fig = _figure(7.5, 4)
    ax = fig.add_subplot()
    for arm, (t, c) in cif.items():
        ax.step(np.concatenate([[0], t]), np.concatenate([[0], c]), where="post",
                color=COLOURS[arm], label=LABELS[arm])
    for day in (28, 84):
        ax.axvline(day, color="#bbb", lw=0.8, ls=":")
    ax.set_xlabel("Days since treatment start")
    ax.set_ylabel("Cumulative incidence of systemic restart")
    ax.set_ylim(0, 1.02)
    ax.legend(frameon=False)
    return fig


def ce_plane_figure(cea: Any) -> Figure:
    fig = _figure(6.5, 5, left=0.16, bottom=0.11)
    ax = fig.add_subplot()
    de, dc = cea.replicates_[:, 0], cea.replicates_[:, 1]
    ax.scatter(de, dc, s=3, alpha=0.25, color=COLOURS["intervention"], rasterized=True,
               label="bootstrap replicates")
    ax.plot(cea.delta_qaly_, cea.delta_cost_, "o", color="black", label="point estimate")
    ax.axhline(0, color="#777", lw=0.8)
    ax.axvline(0, color="#777", lw=0.8)
    xs = np.array(ax.get_xlim())
    for lam, ls in ((20_000, ":"), (50_000, "--"), (80_000, "-.")):
        ax.plot(xs, lam * xs, ls=ls, color="#555", lw=0.9, label=f"λ = €{lam:,}")
    ax.set_xlim(xs)
    ax.set_xlabel("Incremental QALYs")
    ax.set_ylabel("Incremental cost (€)")
    ax.legend(frameon=False, fontsize=8)
    return fig


def ceac_figure(ceac: list[list[float]]) -> Figure:
    fig = _figure(7, 4)
    ax = fig.add_subplot()
    arr = np.asarray(ceac)
    ax.plot(arr[:, 0], arr[:, 1], color=COLOURS["intervention"])
    for lam in (20_000, 50_000, 80_000):
        ax.axvline(lam, color="#bbb", lw=0.8, ls=":")
    ax.set_ylim(0, 1)
    ax.set_xlabel("Willingness to pay per QALY (€)")
    ax.set_ylabel("P(same-day is cost-effective)")
    return fig


def tipping_figure(rows: list[dict[str, Any]]) -> Figure:
    fig = _figure(7, 3.5)
    ax = fig.add_subplot()
    d = np.array([r["delta"] for r in rows])
    est = np.array([r["estimate"] for r in rows])
    lo = np.array([r["ci95"][0] for r in rows])
    hi = np.array([r["ci95"][1] for r in rows])
    ax.fill_between(d, lo, hi, color=COLOURS["intervention"], alpha=0.2)
    ax.plot(d, est, color=COLOURS["intervention"])
    ax.axhline(0, color="#999", ls="--", lw=1)
    ax.set_xlabel("δ subtracted from imputed intervention-arm PF at w4 (points)")
    ax.set_ylabel("Pooled ITT effect (95% CI)")
    return fig
