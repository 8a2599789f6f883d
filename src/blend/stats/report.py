"""The self-contained HTML analysis report (figures inline as SVG, no external assets)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from blend.stats.analysis import AnalysisResult

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1000px;margin:2em auto;
 padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:2px solid #1b6ca8;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#eef3f8}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}figcaption{font-size:.9em;color:#555}
.note{font-size:.9em;color:#555}
"""


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return html.escape(str(value))


def fmt_p(p: float | None) -> str:
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def ci(pair: list[float | None], digits: int = 2) -> str:
    return f"{fmt(pair[0], digits)} to {fmt(pair[1], digits)}"


def table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def figure(svgs: dict[str, str], name: str, caption: str) -> str:
    if name not in svgs:
        return f"<p class='note'>{html.escape(caption)} Not available for these data.</p>"
    return (f'<figure id="fig-{name}">{svgs[name]}<figcaption>{html.escape(caption)}'
            f"</figcaption></figure>")


def methods_paragraph(results: dict[str, Any], strata: bool) -> str:
    """The statistical-methods text, generated from the run's configuration."""
    meta, cea = results["meta"], results["cea"]
    adjust = "baseline PF and the randomization strata" if strata else "baseline PF"
    return (
        "The primary outcome was EORTC QLQ-C15-PAL physical functioning (PF) at week 4. "
        f"The intention-to-treat (ITT) effect of offering same-day SBRT and surgery was estimated "
        f"by ANCOVA (ordinary least squares of PF at week 4 on randomized arm, adjusted for "
        f"{adjust}) in participants with both PF values, with classical standard errors and "
        "t-based 95% confidence intervals. The complier average causal effect (CACE) was "
        "estimated by two-stage least squares with randomized arm as instrument for receipt of "
        "same-day treatment. "
        f"Missing PF among participants alive 28 days after treatment start was multiply "
        f"imputed by chained equations with predictive mean matching ({meta['imputations']} "
        f"imputations, seed {meta['seed']}), pooled with Rubin's rules and Barnard–Rubin "
        "degrees of freedom; a delta-adjusted tipping-point analysis subtracted δ = 0–20 points "
        "from imputed intervention-arm values. A composite worst-rank analysis ranked deaths "
        "before week 4 worst (earlier death worse) and was tested with the Wilcoxon–Mann–Whitney "
        "test. Overall survival was summarised by Kaplan–Meier medians, a Cox hazard ratio "
        "(Efron ties) and the log-rank test; return to systemic therapy by Aalen–Johansen "
        "cumulative incidence with death as competing risk and a cause-specific Cox model. "
        f"QALYs were the area under the EQ-5D-5L (Dutch tariff) curve over "
        f"{cea['horizon_days']} days; costs, QALYs and net benefit were compared with a paired "
        f"non-parametric bootstrap within arms ({meta['bootstrap']} replicates, seed "
        f"{meta['seed']})."
    )


def write_report(result: AnalysisResult, svgs: dict[str, str], path: Path) -> None:
    r, art = result.results, result.artifacts
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>BLEND trial analysis report</title>", f"<style>{CSS}</style></head><body>",
        "<h1>BLEND trial — statistical analysis report</h1>",
        f"<p class='note'>Dataset SHA-256 {r['meta']['dataset_sha256'][:16]}…, created "
        f"{r['meta']['created_at']}, blend {fmt(r['meta']['blend_version'])}.</p>",
        *[f"<p class='note'>Data warning: {html.escape(w)}</p>"
          for w in r["meta"].get("data_warnings", [])],
        *[f"<p class='note'>Not estimable: {html.escape(w)}</p>"
          for w in r["meta"].get("not_estimable", [])],
        "<h2>Methods</h2>", f"<p>{methods_paragraph(r, art['strata'] is not None)}</p>",
        "<h2>Participant flow (CONSORT, TwiCs)</h2>",
        figure(svgs, "consort", "CONSORT-ROUTINE flow of the trial within the cohort."),
        "<h2>Baseline characteristics (Table 1)</h2>", _table_one(art["table1"]),
        _offer_groups(r["secondary"]["offer_groups"]),
        "<h2>Primary outcome: PF at week 4</h2>", _primary(r),
        figure(svgs, "forest", "Treatment effects on PF at week 4."),
        figure(svgs, "tipping_point", "Tipping-point analysis (MNAR δ-adjustment)."),
        "<h2>Physical functioning and other C15-PAL scales over time</h2>",
        figure(svgs, "pf_over_time", "PF by arm and timepoint (observed data)."),
        _longitudinal(r), _scales(art["scales"]),
        "<h2>PROM compliance</h2>", _compliance(art["compliance"]),
        "<h2>Secondary endpoints</h2>", _secondary(r),
        figure(svgs, "overall_survival", "Kaplan–Meier overall survival."),
        figure(svgs, "systemic_therapy_cif", "Cumulative incidence of return to systemic "
               "therapy (death competing)."),
        "<h2>Adverse events</h2>", _adverse(r, art),
        "<h2>Cost-effectiveness</h2>", _cea(r),
        figure(svgs, "ce_plane", "Cost-effectiveness plane (bootstrap replicates)."),
        figure(svgs, "ceac", "Cost-effectiveness acceptability curve."),
        "</body></html>",
    ]
    path.write_text("\n".join(parts), encoding="utf-8")


def _table_one(rows: list[dict[str, Any]]) -> str:
    return table(["Characteristic", "Same-day SBRT + surgery", "Standard care", "SMD"],
                 [[html.escape(r["label"]).replace("  ", "&emsp;"), r["intervention"],
                   r["control"], r["smd"]] for r in rows])


def _offer_groups(rows: list[dict[str, Any]]) -> str:
    body = [[r["group"], str(r["n"]), r["age"], r["performance_status"], r["pf_baseline"],
             str(r["died_before_w4"]), str(r["pf_w4_observed"])] for r in rows]
    return ("<h3>Intervention arm by response to the offer (not randomised; descriptive)</h3>"
            + table(["Offer", "n", "Age, mean (SD)", "WHO PS, mean (SD)",
                     "Baseline PF, mean (SD)", "Died before w4", "PF w4 observed"], body))


def _primary(r: dict[str, Any]) -> str:
    p = r["primary"]
    rows = [[name, str(x.get("n", "–")), fmt(x["estimate"]), fmt(x["se"]), ci(x["ci95"]),
             fmt_p(x["p"])] for name, x in (("ITT ANCOVA (complete case)", p["itt"]),
                                            ("CACE (2SLS)", p["cace"]),
                                            ("ITT, multiple imputation", p["itt_mi"]))]
    w = p["worst_rank"]
    extra = (f"<p>Worst-rank composite (n = {w['n']}, {w['deaths_ranked']} early deaths ranked "
             f"worst): W = {fmt(w['statistic'], 1)}, p = {fmt_p(w['p'])}. MI df (Barnard–Rubin) "
             f"= {fmt(p['itt_mi']['df'], 1)}.</p>")
    return table(["Analysis", "n", "Estimate", "SE", "95% CI", "p"], rows) + extra


def _longitudinal(r: dict[str, Any]) -> str:
    m = r["secondary"]["pf_longitudinal"]
    rows = [[t, fmt(v["estimate"]), fmt(v["se"]), ci(v["ci95"])]
            for t, v in m["arm_effect_by_timepoint"].items()]
    return (f"<p>Longitudinal model: {html.escape(m['model'])}; "
            f"{m.get('observations', 0)} observations of {m.get('participants', 0)} "
            "participants.</p>"
            + table(["Timepoint", "Arm effect", "SE", "95% CI"], rows))


def _scales(scales: Any) -> str:
    rows = []
    for rec in scales.itertuples():
        rows.append([rec.scale, rec.timepoint, rec.arm, fmt(rec.mean, 1), fmt(rec.std, 1),
                     str(rec.count)])
    return ("<details><summary>All C15-PAL scales by arm and timepoint</summary>"
            + table(["Scale", "Timepoint", "Arm", "Mean", "SD", "n"], rows) + "</details>")


def _compliance(c: Any) -> str:
    rows = [[rec.timepoint, rec.arm, str(rec.expected), str(rec.received),
             f"{100 * rec.compliance:.0f}%" if rec.compliance == rec.compliance else "–",
             str(rec.died), str(rec.withdrawn), str(rec.other)] for rec in c.itertuples()]
    return table(["Timepoint", "Arm", "Expected", "Received", "Compliance", "Died",
                  "Withdrawn", "Other missing"], rows)


def _secondary(r: dict[str, Any]) -> str:
    s = r["secondary"]
    os_, st, pr, hd = (s["overall_survival"], s["systemic_therapy"], s["pain_response_w4"],
                       s["hospital_days"])
    rows = [
        ["Median overall survival, days", fmt(os_["median_days"]["intervention"], 0),
         fmt(os_["median_days"]["control"], 0),
         f"HR {fmt(os_['hr'])} ({ci(os_['hr_ci95'])}); log-rank p {fmt_p(os_['logrank_p'])}"],
        ["Systemic therapy restarted by week 4 (CIF)", fmt(st["cif_w4"]["intervention"]),
         fmt(st["cif_w4"]["control"]),
         f"cause-specific HR {fmt(st['cs_hr'])} ({ci(st['cs_hr_ci95'])})"],
        ["Systemic therapy restarted by week 12 (CIF)", fmt(st["cif_w12"]["intervention"]),
         fmt(st["cif_w12"]["control"]), ""],
        ["Pain response at w4, responders / assessable",
         f"{pr['intervention']['responders']} / {pr['intervention']['assessable']}",
         f"{pr['control']['responders']} / {pr['control']['assessable']}",
         f"difference {fmt(pr['difference'])} ({ci(pr['difference_ci95'])})"],
        ["Hospital days, mean (median)",
         f"{fmt(hd['mean']['intervention'], 1)} ({fmt(hd['median']['intervention'], 0)})",
         f"{fmt(hd['mean']['control'], 1)} ({fmt(hd['median']['control'], 0)})",
         f"Wilcoxon p {fmt_p(hd['p'])}"],
    ]
    return table(["Endpoint", "Same-day SBRT + surgery", "Standard care", "Comparison"], rows)


def _adverse(r: dict[str, Any], art: dict[str, Any]) -> str:
    out = []
    for title, key in (("By randomized arm (ITT)", "by_arm"),
                       ("By treatment received (safety population)", "by_treatment_received")):
        groups = r["secondary"]["adverse_events"][key]
        names = list(groups)
        rows = []
        for cat in ("any", "grade_3_plus", "serious", "wound_complication", "related"):
            rows.append([cat.replace("_", " ")] + [
                f"{groups[g][cat]['participants']} ({fmt(groups[g][cat]['percent'], 0)}%); "
                f"{groups[g][cat]['events']} events" for g in names])
        header = ["Participants with ≥ 1"] + [f"{g} (n = {groups[g]['participants']})"
                                              for g in names]
        out.append(f"<h3>{html.escape(title)}</h3>" + table(header, rows))
    terms = art["ae_terms"]
    rows = [[html.escape(str(term))] + [str(v) for v in values]
            for term, values in zip(terms.index, terms.to_numpy(), strict=True)]
    header = ["Term"] + [f"{a} / {b}" for a, b in terms.columns]
    out.append("<h3>Participants by term and arm</h3>" + table(header, rows))
    return "\n".join(out)


def _cea(r: dict[str, Any]) -> str:
    c = r["cea"]
    b = c["bootstrap"]
    rows = [
        ["QALYs (mean)", fmt(c["qaly"]["intervention"], 4), fmt(c["qaly"]["control"], 4),
         fmt(c["qaly"]["difference"], 4), ci(b["delta_qaly_ci95"], 4)],
        ["Costs (€, mean)", fmt(c["cost"]["intervention"], 0), fmt(c["cost"]["control"], 0),
         fmt(c["cost"]["difference"], 0), ci(b["delta_cost_ci95"], 0)],
    ]
    inb = [[f"INB at €{int(k):,}/QALY", fmt(v, 0), ci(b["inb_ci95"][k], 0)]
           for k, v in c["inb"].items()]
    quads = ", ".join(f"{k} {100 * v:.1f}%" for k, v in b["quadrants"].items())
    return (table(["", "Same-day", "Standard", "Difference", "Bootstrap 95% CI"], rows)
            + f"<p>ICER: €{fmt(c['icer'], 0)} per QALY gained (horizon {c['horizon_days']} days;"
            f" n = {c['n']['intervention']} + {c['n']['control']}). CE-plane quadrants: "
            f"{quads}.</p>" + table(["Net benefit", "Estimate (€)", "Bootstrap 95% CI"], inb))
