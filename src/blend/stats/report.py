"""The self-contained HTML analysis report (figures inline as SVG, no external assets).

Every number comes from results.json. A null is never printed as a bare dash when
the results say why it is null: the cell reads "not estimable" (or "not reached")
and the reason follows, from `not_estimable` on a block or `notes` beside it.
Keys added by later versions of the analysis (MMRM, Fine–Gray, first-stage F, the
CEA rules and counts) are shown when present and skipped when absent.
"""

from __future__ import annotations

import html
import math
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
.note{font-size:.9em;color:#555}.ne{font-style:italic;color:#666}.warn{color:#a23;font-weight:600}
"""
NOT_ESTIMABLE = "not estimable"
ARMS = ("intervention", "control")
BLEND_ARM_LABELS = {"intervention": "Same-day SBRT + surgery", "control": "Standard care"}

# Captions state what is drawn and how, so a figure copied out of the report stands alone.
CAPTIONS = {
    "consort": "Participant flow of the trial within the cohort (CONSORT-ROUTINE). Side "
    "boxes are the exclusions at each step; both arms are analysed as "
    "randomized, whatever the response to the offer.",
    "forest": "Difference in PF at week 4 (same-day − standard, 95% CI) by analysis. The "
    "δ rows are MI-ITT estimates under a stated departure from MAR, not "
    "estimates of the tipping point.",
    "tipping_point": "Tipping-point analysis: pooled MI-ITT difference (95% CI) as imputed "
    "intervention-arm PF at week 4 is shifted by δ points.",
    "pf_over_time": "PF by visit: observed means with t-based 95% CIs and the number of "
    "questionnaires per arm (left); arm differences from the longitudinal "
    "models (right; MMRM primary, random-intercept model sensitivity).",
    "overall_survival": "Kaplan–Meier overall survival with 95% CIs (Greenwood, log scale, as "
    "R's survfit). Ticks mark censored participants; curves end where "
    "fewer than 10% of an arm remain at risk; numbers at risk below.",
    "systemic_therapy_cif": "Cumulative incidence (Aalen–Johansen) of return to systemic "
    "therapy (solid) and of death without it (dashed), from treatment "
    "start; shaded: the 28-day window of the primary outcome. Curves "
    "end where fewer than 10% of an arm remain event-free.",
    "ce_plane": "Cost-effectiveness plane: bootstrap replicates of incremental QALYs and "
    "costs, with willingness-to-pay lines and the share of replicates per "
    "quadrant.",
    "ceac": "Cost-effectiveness acceptability curve: share of bootstrap replicates with a "
    "positive net monetary benefit at each willingness to pay.",
}


# --------------------------------------------------------------------- formatting
def fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return html.escape(str(value))


def fmt_p(p: float | None) -> str:
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def ci(pair: list[float | None] | None, digits: int = 2) -> str:
    pair = pair or [None, None]
    if pair[0] is None and pair[1] is None:
        return "–"
    return f"{fmt(pair[0], digits)} to {fmt(pair[1], digits)}"


def table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def figure(svgs: dict[str, str], name: str, caption: str | None = None) -> str:
    caption = caption or CAPTIONS.get(name, "")
    if name not in svgs:
        return f"<p class='note'>{html.escape(caption)} Not available for these data.</p>"
    return (
        f'<figure id="fig-{name}">{svgs[name]}<figcaption>{html.escape(caption)}'
        f"</figcaption></figure>"
    )


def not_estimable(reason: str | None = None, label: str = NOT_ESTIMABLE) -> str:
    """The cell text for a null value: the label and, when known, why."""
    why = f" ({html.escape(reason)})" if reason else ""
    return f"<span class='ne'>{label}{why}</span>"


def reason_for(block: dict[str, Any] | None, key: str | None = None) -> str | None:
    """Why `block` (or its value at dotted `key`) is null: `notes[key]`, else the block's."""
    if not isinstance(block, dict):
        return None
    notes = block.get("notes") or {}
    if key is not None and key in notes:
        return str(notes[key])
    return block.get("not_estimable")


def value_or_reason(block: dict[str, Any], key: str, value: Any, digits: int = 2) -> str:
    """`value` formatted, or "not estimable"/"not reached" with the reason from `block`."""
    if value is not None:
        return fmt(value, digits)
    reason = reason_for(block, key)
    if reason and reason.startswith("not reached"):
        return not_estimable(reason.removeprefix("not reached").lstrip(": "), "not reached")
    return not_estimable(reason) if reason else "–"


# ------------------------------------------------------------------------ methods
def methods_paragraph(results: dict[str, Any], strata: bool) -> str:
    """The statistical-methods text, generated from the run's configuration and rules."""
    meta, cea = results["meta"], results.get("cea", {})
    s = results.get("sensitivity", {})
    secondary = results.get("secondary", {})
    adjust = "baseline PF and the randomization strata" if strata else "baseline PF"
    parts = [
        "The primary outcome was EORTC QLQ-C15-PAL physical functioning (PF) at week 4. "
        "The intention-to-treat (ITT) effect of offering same-day SBRT and surgery was "
        "estimated by ANCOVA (ordinary least squares of PF at week 4 on randomized arm, "
        f"adjusted for {adjust}) in participants with both PF values, with classical "
        "standard errors and t-based 95% confidence intervals; a coefficient that the "
        "design does not identify (an aliased term) is reported as not estimable, as R's "
        "lm does. The complier average causal effect (CACE) was estimated by two-stage "
        "least squares with randomized arm as instrument for receipt of same-day "
        "treatment, with the first-stage F statistic reported (below 10: weak instrument).",
        "Missing PF among participants alive 28 days after treatment start was multiply "
        f"imputed by chained equations with predictive mean matching ({meta['imputations']} "
        f"imputations, seed {meta['seed']}), pooled with Rubin's rules and Barnard–Rubin "
        "degrees of freedom; predictors that are constant or entirely missing are dropped, "
        "as mice does.",
        _tipping_method(s),
        "A composite worst-rank analysis ranked deaths before week 4 worst (earlier death "
        "worse) and was tested with the Wilcoxon–Mann–Whitney test"
        + _rule(results.get("primary", {}).get("worst_rank", {}))
        + ".",
        _longitudinal_method(secondary),
        "Overall survival was summarised by Kaplan–Meier medians, a Cox hazard ratio "
        "(Efron ties) and the log-rank test; return to systemic therapy by Aalen–Johansen "
        "cumulative incidence with death as competing risk and a cause-specific Cox model"
        + (
            ", and by a Fine–Gray subdistribution hazards model"
            if "fine_gray" in secondary.get("systemic_therapy", {})
            else ""
        )
        + ".",
        _cea_method(cea, meta),
        "Each estimate succeeds or fails on its own: one that the data cannot support is "
        "reported as not estimable, with the reason, and the others are unaffected.",
    ]
    return " ".join(html.escape(p) for p in parts if p)


def _methods(r: dict[str, Any], art: dict[str, Any], pain: bool) -> str:
    strata = art.get("strata") is not None
    if not pain:
        return methods_paragraph(r, strata)
    return pain_methods_paragraph(r, strata)


def pain_methods_paragraph(results: dict[str, Any], strata: bool) -> str:
    """The methods text for a pain-response primary (risk difference, ITT and IV)."""
    p = results.get("primary", {})
    when = p.get("timepoint", "")
    iv = [e for e in p.get("estimands", []) if e != "itt"]
    adjust = ", with the randomization strata as exogenous covariates" if strata else ""
    parts = [
        f"The primary outcome was pain response at {when} by the international consensus "
        "definition (Chow 2012): complete or partial response is a response; pain "
        "progression and indeterminate response are not. Participants with a baseline "
        "worst pain of at least 2 and a baseline OMED were assessable.",
        "The intention-to-treat (ITT) effect of the offer was the difference in response "
        "proportions (intervention − control) with Newcombe's hybrid score 95% confidence "
        "interval and the pooled two-proportion z test; assessable participants without a "
        f"pain score and OMED at {when} (dead, withdrawn or not returned) counted as "
        "non-responders, and the same difference among those with an observed response is "
        "reported as a complete-case analysis.",
        (
            "The effect of receiving the intervention (complier average causal effect) was "
            "estimated by two-stage least squares of response (a linear probability model) "
            f"on receipt, with randomized arm as instrument{adjust}, heteroskedasticity-"
            "consistent (HC1) standard errors and t-based intervals on n − k degrees of "
            "freedom; the first-stage F statistic is reported (below 10: weak instrument)."
            if iv
            else ""
        ),
        "Secondary analyses (survival, adverse events, PROMs over time, costs) are those "
        "of the platform's standard analysis.",
        "Each estimate succeeds or fails on its own: one that the data cannot support is "
        "reported as not estimable, with the reason, and the others are unaffected.",
    ]
    return " ".join(html.escape(x) for x in parts if x)


def _pain_primary_section(
    r: dict[str, Any], svgs: dict[str, str], labels: dict[str, str]
) -> list[str]:
    p = r["primary"]
    when = html.escape(str(p.get("timepoint", "")))
    itt = p.get("itt") or {}
    rows = []
    for arm in ARMS:
        responders = (itt.get("responders") or {}).get(arm)
        n = (itt.get("denominator") or {}).get(arm)
        share = (itt.get("proportion") or {}).get(arm)
        missing = (itt.get("missing_as_non_responder") or {}).get(arm)
        rows.append(
            [
                html.escape(labels[arm]),
                fmt(n),
                fmt(responders),
                fmt(None if share is None else 100 * share, 1),
                fmt(missing),
            ]
        )
    arms = table(
        ["Arm", "Assessable", "Responders (CR or PR)", "%", "Counted non-responder (missing)"],
        rows,
    )
    effects = [
        effect_row("ITT risk difference (missing = non-responder)", itt, ""),
        effect_row("Complete case (observed response)", p.get("complete_case"), ""),
    ]
    for estimand in p.get("estimands", []):
        if estimand != "itt":
            x = p.get(estimand) or {}
            effects.append(
                effect_row(f"{estimand.upper()} (2SLS, HC1 SE)", x, _first_stage_note(x))
            )
    return [
        f"<h2>Primary outcome: pain response at {when}</h2>",
        arms,
        table(["Analysis", "n", "Difference", "SE", "95% CI", "p", "Note"], effects),
        "<p class='note'>Differences are proportions (intervention − control); the ITT "
        "interval is Newcombe's hybrid score interval.</p>",
        figure(
            svgs,
            "forest",
            f"Difference in pain response at {p.get('timepoint', '')} (percentage points, "
            "intervention − control, 95% CI) by analysis.",
        ),
    ]


def _rule(block: dict[str, Any]) -> str:
    rule = block.get("rule")
    return f" ({rule})" if rule else ""


def _tipping_method(s: dict[str, Any]) -> str:
    if s.get("tipping_direction"):
        return (
            "A delta-adjusted (MNAR) tipping-point analysis shifted the imputed "
            f"intervention-arm PF at week 4 ({s['tipping_direction']}); the tipping point "
            f"is the {s.get('tipping_rule', 'smallest δ at which significance changes')}."
        )
    return (
        "A delta-adjusted tipping-point analysis shifted imputed intervention-arm values "
        "by δ points."
    )


def _longitudinal_method(secondary: dict[str, Any]) -> str:
    mmrm = secondary.get("pf_mmrm")
    ri = secondary.get("pf_longitudinal") or {}
    text = ""
    if isinstance(mmrm, dict) and mmrm.get("model"):
        text = (
            f"PF over all post-baseline visits was analysed by a mixed model for repeated "
            f"measures ({mmrm['model']}); "
        )
    if ri.get("model"):
        role = " as a sensitivity analysis" if text else ""
        text += f"a random-intercept model ({ri['model']}) was fitted{role}."
    return text[:1].upper() + text[1:]


def _cea_method(cea: dict[str, Any], meta: dict[str, Any]) -> str:
    text = (
        f"QALYs were the area under the EQ-5D-5L (Dutch tariff) curve over "
        f"{cea.get('horizon_days', meta.get('horizon_days'))} days; costs, QALYs and net "
        f"benefit were compared with a paired non-parametric bootstrap within arms "
        f"({meta['bootstrap']} replicates, seed {meta['seed']})."
    )
    if cea.get("method"):
        text += f" Missing costs and QALYs: {cea['method']}."
    return text


# ------------------------------------------------------------------------- report
def write_report(result: AnalysisResult, svgs: dict[str, str], path: Path) -> None:
    r, art = result.results, result.artifacts
    meta = r["meta"]
    trial = html.escape(str(meta.get("trial") or art.get("trial") or "BLEND"))
    labels = art.get("arm_labels") or BLEND_ARM_LABELS
    pain = (r.get("primary") or {}).get("measure") == "pain_response"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{trial} trial analysis report</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{trial} trial — statistical analysis report</h1>",
        f"<p class='note'>Dataset SHA-256 {meta['dataset_sha256'][:16]}…, created "
        f"{meta['created_at']}, blend {fmt(meta['blend_version'])}.</p>",
        *[
            f"<p class='note'>Data warning: {html.escape(w)}</p>"
            for w in meta.get("data_warnings", [])
        ],
        *[
            f"<p class='note'>Not estimable: {html.escape(str(w))}</p>"
            for w in meta.get("not_estimable", [])
        ],
        "<h2>Methods</h2>",
        f"<p>{_methods(r, art, pain)}</p>",
        "<h2>Participant flow (CONSORT, TwiCs)</h2>",
        figure(svgs, "consort"),
        _linkage(r.get("consort") or {}),
        "<h2>Baseline characteristics (Table 1)</h2>",
        _table_one(art.get("table1") or [], labels),
        _offer_groups(r["secondary"].get("offer_groups") or []),
        *(
            _pain_primary_section(r, svgs, labels)
            if pain
            else [
                "<h2>Primary outcome: PF at week 4</h2>",
                _primary(r),
                figure(svgs, "forest"),
                _tipping(r.get("sensitivity", {})),
                figure(svgs, "tipping_point"),
            ]
        ),
        "<h2>Physical functioning and other C15-PAL scales over time</h2>",
        figure(svgs, "pf_over_time"),
        _longitudinal(r),
        _scales(art["scales"]) if art.get("scales") is not None else "",
        "<h2>PROM compliance</h2>",
        _compliance(art["compliance"]) if art.get("compliance") is not None else "",
        "<h2>Secondary endpoints</h2>",
        _secondary(r, labels),
        figure(svgs, "overall_survival"),
        figure(svgs, "systemic_therapy_cif", _cif_caption(r)),
        "<h2>Adverse events</h2>",
        _adverse(r, art),
        "<h2>Cost-effectiveness</h2>",
        _cea(r, labels),
        figure(svgs, "ce_plane"),
        figure(svgs, "ceac"),
        "</body></html>",
    ]
    path.write_text("\n".join(parts), encoding="utf-8")


def _linkage(consort: dict[str, Any]) -> str:
    """What routine data were linked, when, and the match rate (CONSORT-ROUTINE)."""
    note = consort.get("linkage")
    if not note:
        return "<p class='note'>No routine-data linkage was recorded for this dataset.</p>"
    rows = [
        [
            html.escape(str(run["source"])),
            html.escape(str(run["data"])),
            html.escape(str(run["on"])),
            fmt(run["records"]),
            "matched by the registry" if run.get("matched") is None else fmt(run["matched"]),
            "–" if run.get("match_rate") is None else f"{100 * run['match_rate']:.1f}%",
        ]
        for run in note
    ]
    return "<h3 id='linkage'>Routine-data linkage</h3>" + table(
        ["Registry", "What was linked", "When", "Records", "Matched", "Match rate"], rows
    )


def _cif_caption(r: dict[str, Any]) -> str:
    """The CIF caption, naming the window of this trial's primary timepoint."""
    from blend.stats.endpoints import DUE_DAYS

    timepoint = (r.get("primary") or {}).get("timepoint") or "w4"
    return CAPTIONS["systemic_therapy_cif"].replace(
        "the 28-day window", f"the {DUE_DAYS.get(timepoint, 28)}-day window"
    )


def _table_one(rows: list[dict[str, Any]], labels: dict[str, str] | None = None) -> str:
    labels = labels or BLEND_ARM_LABELS
    return table(
        ["Characteristic", labels["intervention"], labels["control"], "SMD"],
        [
            [
                html.escape(r["label"]).replace("  ", "&emsp;"),
                r["intervention"],
                r["control"],
                r["smd"],
            ]
            for r in rows
        ],
    )


def _offer_groups(rows: list[dict[str, Any]]) -> str:
    body = [
        [
            r["group"],
            str(r["n"]),
            r["age"],
            r["performance_status"],
            r["pf_baseline"],
            str(r["died_before_w4"]),
            str(r["pf_w4_observed"]),
        ]
        for r in rows
    ]
    return (
        "<h3>Intervention arm by response to the offer (not randomised; descriptive)</h3>"
        + table(
            [
                "Offer",
                "n",
                "Age, mean (SD)",
                "WHO PS, mean (SD)",
                "Baseline PF, mean (SD)",
                "Died before w4",
                "PF w4 observed",
            ],
            body,
        )
    )


# ------------------------------------------------------------------------ primary
def effect_row(name: str, x: dict[str, Any] | None, note: str = "") -> list[str]:
    """Analysis, n, estimate, SE, 95% CI, p, note; "not estimable" + reason when null."""
    x = x or {}
    n = str(x.get("n")) if x.get("n") is not None else "–"
    if x.get("estimate") is None:
        return [name, n, not_estimable(reason_for(x, "estimate")), "", "", "", note]
    return [
        name,
        n,
        fmt(x["estimate"]),
        fmt(x.get("se")),
        ci(x.get("ci95")),
        fmt_p(x.get("p")),
        note,
    ]


def _first_stage_note(cace: dict[str, Any]) -> str:
    """First-stage F and partial R² of the instrument, with the weak-instrument warning."""
    fs = cace.get("first_stage") or {}
    f = fs.get("f_statistic")
    if f is None:
        return ""
    shown = fmt(f, 1) if f >= 1 else f"{f:.2g}"  # F = 0.0014 must not read as 0.0
    text = f"first-stage F = {shown}"
    df = fs.get("df")
    if isinstance(df, list) and len(df) == 2:
        text = f"first-stage F({df[0]}, {df[1]}) = {shown}"
    if fs.get("partial_r2") is not None:
        text += f", partial R² = {fmt(fs['partial_r2'], 3)}"
    if fs.get("weak") or cace.get("warning"):
        warning = cace.get("warning") or "weak instrument (F < 10): the CACE is unreliable"
        text += f"; <span class='warn'>{html.escape(warning)}</span>"
    return text


def _mi_note(mi: dict[str, Any]) -> str:
    bits = []
    if mi.get("excluded_dead_by_w4") is not None:
        bits.append(f"{mi['excluded_dead_by_w4']} dead by week 4 not imputed")
    if mi.get("imputed_pf_w4") is not None:
        bits.append(f"{mi['imputed_pf_w4']} PF_w4 values imputed")
    dropped = mi.get("dropped_predictors") or []
    if dropped:
        bits.append(
            "dropped from the imputation model: "
            + ", ".join(
                f"{d.get('variable')} ({d.get('reason')})" if isinstance(d, dict) else str(d)
                for d in dropped
            )
        )
    if mi.get("df") is not None:
        bits.append(f"Barnard–Rubin df = {fmt(mi['df'], 1)}")
    return html.escape("; ".join(bits))


def _dropped_terms_note(x: dict[str, Any]) -> str:
    terms = x.get("dropped_terms") or []
    return html.escape(f"aliased, dropped: {', '.join(map(str, terms))}") if terms else ""


def _primary(r: dict[str, Any]) -> str:
    p = r["primary"]
    cace = p.get("cace") or {}
    rows = [
        effect_row(
            "ITT ANCOVA (complete case)", p.get("itt"), _dropped_terms_note(p.get("itt") or {})
        ),
        effect_row("CACE (2SLS)", cace, _first_stage_note(cace)),
        effect_row("ITT, multiple imputation", p.get("itt_mi"), _mi_note(p.get("itt_mi") or {})),
    ]
    return table(["Analysis", "n", "Estimate", "SE", "95% CI", "p", "Note"], rows) + _worst_rank(
        p.get("worst_rank") or {}
    )


def _worst_rank(w: dict[str, Any]) -> str:
    if w.get("p") is None and w.get("statistic") is None:
        return f"<p>Worst-rank composite: {not_estimable(reason_for(w, 'p'))}.</p>"
    ranked = w.get("ranked", w.get("n"))
    scope = f"{ranked} ranked"
    if w.get("randomized") is not None:
        scope += f" of {w['randomized']} randomized"
    excluded = w.get("excluded_alive_without_pf_w4", w.get("excluded"))
    if excluded:
        scope += f"; {excluded} alive without PF at week 4 not ranked"
    rule = f" Rule: {html.escape(w['rule'])}." if w.get("rule") else ""
    return (
        f"<p>Worst-rank composite ({scope}; {w.get('deaths_ranked', 0)} early deaths "
        f"ranked worst): W = {fmt(w.get('statistic'), 1)}, p = {fmt_p(w.get('p'))}.{rule}</p>"
    )


def _tipping(s: dict[str, Any]) -> str:
    delta = s.get("tipping_delta")
    direction = (
        f" Direction: {html.escape(s['tipping_direction'])}." if s.get("tipping_direction") else ""
    )
    if delta is None:
        reason = reason_for(s, "tipping_delta")
        if s.get("not_estimable"):
            return f"<p>Tipping point: {not_estimable(s['not_estimable'])}.</p>"
        return (
            f"<p>Tipping point: none — {html.escape(reason or 'significance did not change')}"
            f".{direction}</p>"
        )
    mcse = s.get("tipping_delta_mcse")
    noise = (
        f" (Monte-Carlo SE {fmt(mcse, 2)})"
        if mcse is not None
        else f" (Monte-Carlo SE {not_estimable(reason_for(s, 'tipping_delta_mcse'))})"
        if "tipping_delta_mcse" in s
        else ""
    )
    return (
        f"<p>Tipping point: significance changes at δ = {fmt(float(delta), 2)} points"
        f"{noise}.{direction} δ is a departure from MAR, not an effect estimate.</p>"
    )


# ------------------------------------------------------------------- longitudinal
def _longitudinal(r: dict[str, Any]) -> str:
    s = r["secondary"]
    models = [
        (title, s[key])
        for key, title in (
            ("pf_mmrm", "MMRM (primary longitudinal model)"),
            (
                "pf_longitudinal",
                "Random-intercept model" + (" (sensitivity)" if "pf_mmrm" in s else ""),
            ),
        )
        if isinstance(s.get(key), dict)
    ]
    return "".join(_model_table(title, m) for title, m in models)


def _model_table(title: str, m: dict[str, Any]) -> str:
    if m.get("not_estimable") and not m.get("arm_effect_by_timepoint"):
        return f"<h3>{html.escape(title)}</h3><p>{not_estimable(m['not_estimable'])}.</p>"
    effects = m.get("arm_effect_by_timepoint") or m.get("arm_effect_by_visit") or {}
    skipped = m.get("not_estimable_timepoints") or {}
    visits = [v for v in m.get("timepoints") or list(effects) + list(skipped)]
    rows = []
    for t in dict.fromkeys(visits):
        e = effects.get(t)
        if not e or e.get("estimate") is None:
            rows.append([t, not_estimable(skipped.get(t) or reason_for(e)), "", "", "", ""])
            continue
        rows.append(
            [
                t,
                fmt(e["estimate"]),
                fmt(e.get("se")),
                fmt(e.get("df"), 1),
                ci(e.get("ci95")),
                fmt_p(e.get("p")),
            ]
        )
    details = f"{m.get('observations', 0)} observations of {m.get('participants', 0)} participants"
    if m.get("reference_timepoint"):
        details += f"; reference visit {html.escape(str(m['reference_timepoint']))}"
    return (
        f"<h3>{html.escape(title)}</h3><p class='note'>{html.escape(m.get('model', ''))}; "
        f"{details}.</p>" + table(["Visit", "Arm effect", "SE", "df", "95% CI", "p"], rows)
    )


def _scales(scales: Any) -> str:
    rows = []
    for rec in scales.itertuples():
        rows.append(
            [rec.scale, rec.timepoint, rec.arm, fmt(rec.mean, 1), fmt(rec.std, 1), str(rec.count)]
        )
    return (
        "<details><summary>All C15-PAL scales by arm and timepoint</summary>"
        + table(["Scale", "Timepoint", "Arm", "Mean", "SD", "n"], rows)
        + "</details>"
    )


def _compliance(c: Any) -> str:
    rows = [
        [
            rec.timepoint,
            rec.arm,
            str(rec.expected),
            str(rec.received),
            f"{100 * rec.compliance:.0f}%" if rec.compliance == rec.compliance else "–",
            str(rec.died),
            str(rec.withdrawn),
            str(rec.other),
        ]
        for rec in c.itertuples()
    ]
    return table(
        [
            "Timepoint",
            "Arm",
            "Expected",
            "Received",
            "Compliance",
            "Died",
            "Withdrawn",
            "Other missing",
        ],
        rows,
    )


# ---------------------------------------------------------------------- secondary
def _ratio(block: dict[str, Any], key: str, label: str) -> str:
    value = block.get(key)
    if value is None:
        return f"{label} {not_estimable(reason_for(block, key))}"
    return f"{label} {fmt(value)} ({ci(block.get(f'{key}_ci95'))})"


def _secondary(r: dict[str, Any], labels: dict[str, str] | None = None) -> str:
    labels = labels or BLEND_ARM_LABELS
    s = r["secondary"]
    os_, st = s.get("overall_survival", {}), s.get("systemic_therapy", {})
    pr, hd = s.get("pain_response_w4", {}), s.get("hospital_days", {})
    medians = os_.get("median_days") or {}
    logrank = os_.get("logrank_p")
    rows = [
        [
            "Median overall survival, days",
            *[value_or_reason(os_, f"median_days.{a}", medians.get(a), 0) for a in ARMS],
            _ratio(os_, "hr", "HR")
            + "; log-rank p "
            + (
                fmt_p(logrank)
                if logrank is not None
                else not_estimable(reason_for(os_, "logrank_p"))
            ),
        ],
    ]
    for key, label, comparison in (
        (
            "cif_w4",
            "Systemic therapy restarted by week 4 (CIF)",
            _ratio(st, "cs_hr", "cause-specific HR"),
        ),
        ("cif_w12", "Systemic therapy restarted by week 12 (CIF)", _fine_gray(st)),
    ):
        values = st.get(key) or {}
        rows.append(
            [label, *[value_or_reason(st, f"{key}.{a}", values.get(a)) for a in ARMS], comparison]
        )
    rows.append(
        [
            "Pain response at w4, responders / assessable",
            *[
                f"{fmt((pr.get(a) or {}).get('responders'))} / "
                f"{fmt((pr.get(a) or {}).get('assessable'))}"
                for a in ARMS
            ],
            "difference "
            + (
                f"{fmt(pr['difference'])} ({ci(pr.get('difference_ci95'))})"
                if pr.get("difference") is not None
                else not_estimable(reason_for(pr, "difference"))
            ),
        ]
    )
    mean, median = hd.get("mean") or {}, hd.get("median") or {}
    rows.append(
        [
            "Hospital days, mean (median)",
            *[f"{fmt(mean.get(a), 1)} ({fmt(median.get(a), 0)})" for a in ARMS],
            f"Wilcoxon p {fmt_p(hd.get('p'))}",
        ]
    )
    return table(["Endpoint", labels["intervention"], labels["control"], "Comparison"], rows)


def _fine_gray(st: dict[str, Any]) -> str:
    fg = st.get("fine_gray")
    if not isinstance(fg, dict):
        return ""
    if fg.get("shr") is None:
        return f"Fine–Gray sHR {not_estimable(reason_for(st, 'fine_gray') or reason_for(fg))}"
    return f"Fine–Gray sHR {fmt(fg['shr'])} ({ci(fg.get('shr_ci95'))}); p {fmt_p(fg.get('p'))}"


def _adverse(r: dict[str, Any], art: dict[str, Any]) -> str:
    out = []
    for title, key in (
        ("By randomized arm (ITT)", "by_arm"),
        ("By treatment received (safety population)", "by_treatment_received"),
    ):
        groups = r["secondary"]["adverse_events"][key]
        names = list(groups)
        rows = []
        for cat in ("any", "grade_3_plus", "serious", "wound_complication", "related"):
            rows.append(
                [cat.replace("_", " ")]
                + [
                    f"{groups[g][cat]['participants']} ({fmt(groups[g][cat]['percent'], 0)}%); "
                    f"{groups[g][cat]['events']} events"
                    for g in names
                ]
            )
        header = ["Participants with ≥ 1"] + [
            f"{g} (n = {groups[g]['participants']})" for g in names
        ]
        out.append(f"<h3>{html.escape(title)}</h3>" + table(header, rows))
    terms = art.get("ae_terms")
    if terms is not None:
        rows = [
            [html.escape(str(term))] + [str(v) for v in values]
            for term, values in zip(terms.index, terms.to_numpy(), strict=True)
        ]
        header = ["Term"] + [f"{a} / {b}" for a, b in terms.columns]
        out.append("<h3>Participants by term and arm</h3>" + table(header, rows))
    return "\n".join(out)


# ---------------------------------------------------------------------------- CEA
QUADRANT_NAMES = {
    "NE": "more effective, more costly",
    "SE": "dominant: more effective, less costly",
    "SW": "less effective, less costly",
    "NW": "dominated: less effective, more costly",
}


def eur(value: float | None) -> str:
    """An amount in euros with a typographic minus before the sign: −€1,103."""
    if value is None:
        return "–"
    return f"−€{fmt(-value, 0)}" if value < 0 else f"€{fmt(float(value), 0)}"


def icer_statement(
    delta_qaly: float | None,
    delta_cost: float | None,
    icer: float | None,
    names: tuple[str, str] = ("same-day", "standard care"),
) -> str:
    """The ICER in the words of its quadrant: an ICER's sign alone is ambiguous."""
    first, second = names
    if delta_qaly is None or delta_cost is None or delta_qaly == 0:
        return "ICER not estimable (no difference in QALYs, or no estimate)."
    change = f"ΔQALY {fmt(delta_qaly, 4)}, Δcost {eur(delta_cost)}"
    if delta_qaly > 0 and delta_cost <= 0:
        return (
            f"On the point estimates {first} dominates {second}: more QALYs at lower "
            f"cost ({change}); no ICER is reported."
        )
    if delta_qaly < 0 and delta_cost >= 0:
        return (
            f"On the point estimates {first} is dominated by {second}: fewer QALYs "
            f"at higher cost ({change}); no ICER is reported."
        )
    ratio = icer if icer is not None else delta_cost / delta_qaly
    if delta_qaly > 0:
        return f"ICER: {eur(ratio)} per QALY gained (more effective, more costly; {change})."
    return f"ICER: a saving of {eur(ratio)} per QALY lost (less effective, less costly; {change})."


def _cea(r: dict[str, Any], labels: dict[str, str] | None = None) -> str:
    blend = labels is None or labels == BLEND_ARM_LABELS
    names = ("same-day", "standard care") if blend else ("the intervention", "the control")
    heads = ("Same-day", "Standard") if blend else ("Intervention", "Control")
    c = r["cea"]
    if c.get("not_estimable") and c.get("qaly", {}).get("difference") is None:
        return f"<p>Cost-effectiveness: {not_estimable(c['not_estimable'])}.</p>"
    b = c.get("bootstrap") or {}
    qaly, cost = c.get("qaly") or {}, c.get("cost") or {}
    rows = [
        [
            "QALYs (mean)",
            fmt(qaly.get("intervention"), 4),
            fmt(qaly.get("control"), 4),
            value_or_reason(c, "qaly.difference", qaly.get("difference"), 4),
            ci(b.get("delta_qaly_ci95"), 4),
        ],
        [
            "Costs (€, mean)",
            fmt(cost.get("intervention"), 0),
            fmt(cost.get("control"), 0),
            value_or_reason(c, "cost.difference", cost.get("difference"), 0),
            ci(b.get("delta_cost_ci95"), 0),
        ],
    ]
    inb = [
        [
            f"INB at €{int(k):,}/QALY",
            value_or_reason(c, f"inb.{k}", v, 0),
            ci((b.get("inb_ci95") or {}).get(k), 0),
        ]
        for k, v in (c.get("inb") or {}).items()
    ]
    statement = (c.get("icer_statement") if blend else None) or icer_statement(
        qaly.get("difference"), cost.get("difference"), c.get("icer"), names
    )
    quads = ", ".join(
        f"{k} ({QUADRANT_NAMES.get(k, k)}) {100 * v:.1f}%"
        for k, v in (b.get("quadrants") or {}).items()
    )
    n = c.get("n") or {}
    sample = (
        f"n = {n.get('intervention', '–')} {names[0].removeprefix('the ')} and "
        f"{n.get('control', '–')} {names[1].removeprefix('the ')}; horizon "
        f"{c.get('horizon_days')} days"
    )
    return (
        table(["", *heads, "Difference", "Bootstrap 95% CI"], rows)
        + f"<p>{html.escape(statement)} ({sample}).</p>"
        + (f"<p>Bootstrap replicates by quadrant: {html.escape(quads)}.</p>" if quads else "")
        + table(["Net benefit", "Estimate (€)", "Bootstrap 95% CI"], inb)
        + _cea_missing_data(c)
    )


def _cea_missing_data(c: dict[str, Any]) -> str:
    """The rules for missing costs and QALYs and how many participants each touched."""
    out = []
    rules = c.get("rules")
    if isinstance(rules, dict) and rules:
        out.append(
            "<h3>Missing costs and QALYs: rules</h3><ul>"
            + "".join(
                f"<li>{html.escape(str(k).replace('_', ' '))}: {html.escape(str(v))}</li>"
                for k, v in rules.items()
            )
            + "</ul>"
        )
    elif isinstance(rules, list) and rules:
        out.append(
            "<h3>Missing costs and QALYs: rules</h3><ul>"
            + "".join(f"<li>{html.escape(str(v))}</li>" for v in rules)
            + "</ul>"
        )
    counts = c.get("counts")
    if isinstance(counts, dict) and counts:
        out.append(
            "<h3>Missing costs and QALYs: counts</h3>"
            + table(
                ["", "Count"],
                [[html.escape(label), html.escape(str(v))] for label, v in _flatten(counts)],
            )
        )
    elif isinstance((c.get("n") or {}).get("excluded_missing_qaly"), int):
        out.append(
            f"<p class='note'>Excluded for a missing QALY: {c['n']['excluded_missing_qaly']}.</p>"
        )
    cc = c.get("complete_case")
    if isinstance(cc, dict) and cc:
        q, k = cc.get("qaly") or {}, cc.get("cost") or {}
        statement = cc.get("icer_statement") or icer_statement(
            q.get("difference"), k.get("difference"), cc.get("icer")
        )
        out.append(f"<p>Complete-case sensitivity analysis: {html.escape(statement)}</p>")
    return "".join(out)


def _flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in d.items():
        label = f"{prefix}{str(key).replace('_', ' ')}"
        if isinstance(value, dict):
            out += _flatten(value, f"{label}, ")
        else:
            out.append((label, value))
    return out
