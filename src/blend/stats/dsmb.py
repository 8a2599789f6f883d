"""`blend report dsmb`: the safety report for the data-safety monitoring board.

Recruitment (screening flow and randomizations per month), adverse and serious
adverse events by arm and by treatment received, and deaths (with deaths within
30 days of treatment start). Written as self-contained `dsmb_report.html` plus
`dsmb.json`.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blend.stats import endpoints
from blend.stats.consort import consort_counts
from blend.stats.report import CSS, fmt, table

if TYPE_CHECKING:
    from blend.stats.dataset import AnalysisDataset


def dsmb_summary(ds: AnalysisDataset) -> dict[str, Any]:
    p = ds.participants.copy()
    p["treatment_received"] = (
        p["received_intervention"].astype(bool).map({True: "same-day", False: "standard"})
    )
    month = p["randomized_on"].dt.strftime("%Y-%m")
    deaths = p[p["death_date"].notna()]
    within30 = deaths["treatment_start"].notna() & (
        (deaths["death_date"] - deaths["treatment_start"]).dt.days <= 30
    )
    saes = ds.adverse_events[ds.adverse_events["serious"].astype(bool)]
    return {
        "recruitment": {
            **{
                k: v
                for k, v in consort_counts(ds).items()
                if k in ("cohort", "screened", "randomization_consent", "eligible", "randomized")
            },
            "by_arm": p["arm"].value_counts().to_dict(),
            "per_month": month.value_counts().sort_index().to_dict(),
        },
        "adverse_events": {
            "by_arm": endpoints.ae_summary(p, ds.adverse_events, "arm"),
            "by_treatment_received": endpoints.ae_summary(
                p, ds.adverse_events, "treatment_received"
            ),
        },
        "serious_adverse_events": saes.assign(
            arm=saes["study_id"].map(p.set_index("study_id")["arm"])
        )
        .groupby(["arm", "term"])
        .size()
        .rename("events")
        .reset_index()
        .to_dict(orient="records"),
        "deaths": {
            "by_arm": deaths["arm"].value_counts().to_dict(),
            "within_30_days_of_treatment": deaths.loc[within30, "arm"].value_counts().to_dict(),
        },
    }


def write_dsmb_report(ds: AnalysisDataset, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    s = dsmb_summary(ds)
    (out / "dsmb.json").write_text(json.dumps(s, indent=2, default=str) + "\n", encoding="utf-8")
    rec = s["recruitment"]
    arms = ("intervention", "control")
    trial = html.escape(ds.trial)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{trial} DSMB safety report</title><style>{CSS}</style></head><body>",
        f"<h1>{trial} — DSMB safety report</h1>",
        f"<p class='note'>Period {ds.meta['period_start']} to {ds.meta['period_end']}; dataset "
        f"SHA-256 {ds.sha256[:16]}…</p>",
        "<h2>Recruitment</h2>",
        table(
            ["Step", "n"],
            [
                [k.replace("_", " "), str(rec[k])]
                for k in ("cohort", "screened", "randomization_consent", "eligible", "randomized")
            ],
        ),
        table(["Month", "Randomized"], [[m, str(n)] for m, n in rec["per_month"].items()]),
        "<h2>Adverse events</h2>",
    ]
    for title, key in (
        ("By randomized arm", "by_arm"),
        ("By treatment received", "by_treatment_received"),
    ):
        groups = s["adverse_events"][key]
        rows = [
            [cat.replace("_", " ")]
            + [
                f"{groups[g][cat]['participants']} ({fmt(groups[g][cat]['percent'], 0)}%); "
                f"{groups[g][cat]['events']} events"
                for g in groups
            ]
            for cat in ("any", "grade_3_plus", "serious", "wound_complication", "related")
        ]
        parts.append(
            f"<h3>{title}</h3>"
            + table(
                ["Participants with ≥ 1"]
                + [f"{g} (n = {groups[g]['participants']})" for g in groups],
                rows,
            )
        )
    parts.append(
        "<h3>Serious adverse events by term</h3>"
        + table(
            ["Arm", "Term", "Events"],
            [
                [html.escape(str(r["arm"])), html.escape(str(r["term"])), str(r["events"])]
                for r in s["serious_adverse_events"]
            ],
        )
    )
    d = s["deaths"]
    parts.append(
        "<h2>Deaths</h2>"
        + table(
            ["", *arms],
            [
                ["Deaths", *[str(d["by_arm"].get(a, 0)) for a in arms]],
                [
                    "Within 30 days of treatment start",
                    *[str(d["within_30_days_of_treatment"].get(a, 0)) for a in arms],
                ],
            ],
        )
    )
    parts.append("</body></html>")
    path = out / "dsmb_report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
