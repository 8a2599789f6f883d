"""`blend report dsmb`: the safety report for the data-safety monitoring board, of the
one trial the dataset is for (`blend export analysis --trial CODE`, or `blend
dsmb-report --trial CODE OUT` from the database).

Recruitment (screening flow and randomizations per month), the trial's CONSORT counts
from the cohort down, adverse events by arm, by grade and by treatment received, serious
adverse events, deaths (with deaths within 30 days of treatment start), and the
completeness of follow-up per timepoint. The DSMB meets in an **open** session, with the
trial team, and a **closed** one, without: the open report (`dsmb_open.html`) pools the
arms (recruitment, CONSORT to randomized, pooled safety and completeness), the closed
report (`dsmb_report.html`) splits every section by arm. Both pages are self-contained;
`dsmb.json` holds both, each section marked ``open`` or ``closed``.
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


GRADES = (1, 2, 3, 4, 5)


def _by_grade(p: Any, aes: Any, group: str | None) -> dict[str, Any]:
    """Per group (or pooled, ``group`` None): participants whose worst event had each CTCAE
    grade, and the events of each grade."""
    aes = aes.assign(
        group="all" if group is None else aes["study_id"].map(p.set_index("study_id")[group])
    )
    levels = ["all"] if group is None else sorted(p[group].unique())
    out: dict[str, Any] = {}
    for level in levels:
        mine = aes[aes["group"] == level]
        worst = mine.groupby("study_id")["grade"].max()
        out[str(level)] = {
            str(g): {
                "participants_worst": int((worst == g).sum()),
                "events": int((mine["grade"] == g).sum()),
            }
            for g in GRADES
        }
    return out


def _completeness(p: Any, assessments: Any, group: str | None) -> dict[str, Any]:
    """Per timepoint: participants randomized, with a returned questionnaire (any scored
    row), and the percentage, per group or pooled. The denominator is everyone randomized
    (deaths included, so the reader sees the loss in both)."""
    members = p.set_index("study_id")
    returned = assessments.drop_duplicates(["study_id", "timepoint"])
    levels = ["all"] if group is None else sorted(p[group].unique())
    out: dict[str, Any] = {}
    for timepoint in sorted(returned["timepoint"].unique(), key=_timepoint_order):
        ids = returned.loc[returned["timepoint"] == timepoint, "study_id"]
        row = {}
        for level in levels:
            in_group = members.index if group is None else members.index[members[group] == level]
            n, done = len(in_group), int(ids.isin(in_group).sum())
            row[str(level)] = {
                "randomized": n,
                "returned": done,
                "percent": 100.0 * done / n if n else None,
            }
        out[str(timepoint)] = row
    return out


def _timepoint_order(code: str) -> tuple[int, int]:
    if code == "baseline":
        return (0, 0)
    unit, number = code[0], code[1:]
    return (1 if unit == "w" else 2, int(number) if number.isdigit() else 0)


def _offer_records(p: Any) -> list[Any]:
    """The intervention arm's offers as the acceptance monitor reads them. The dataset has
    no offer dates, so each offer is dated by its randomization (the figure is by month of
    randomization; days to decision are not known here)."""
    from blend.stats.acceptance import OfferRecord

    records = []
    for row in p[p["offered"].notna()].itertuples():
        on = row.randomized_on.date() if hasattr(row.randomized_on, "date") else None
        if not bool(row.offered):
            records.append(OfferRecord("not_offered", None, on, ""))
        elif row.accepted is None or row.accepted != row.accepted:  # NaN: not yet decided
            records.append(OfferRecord("offered", on, None))
        elif bool(row.accepted):
            records.append(OfferRecord("accepted", on, on))
        else:
            records.append(OfferRecord("refused", on, on, str(row.refusal_reason or "")))
    return records


def _acceptance(p: Any) -> dict[str, Any]:
    from blend.stats.acceptance import summarise

    found = summarise(_offer_records(p))
    return {
        "offered": found.offered,
        "accepted": found.accepted,
        "refused": found.refused,
        "pending": found.pending,
        "not_offered": found.not_offered,
        "rate": found.rate,
        "wilson_95": list(found.interval) if found.interval else None,
        "reasons": [list(r) for r in found.reasons],
    }


def dsmb_summary(ds: AnalysisDataset) -> dict[str, Any]:
    p = ds.participants.copy()
    labels = ds.meta.get("arm_labels") or {}
    received = {
        True: f"received {labels.get('intervention', 'intervention')}",
        False: f"received {labels.get('control', 'control')}",
    }
    p["treatment_received"] = p["received_intervention"].astype(bool).map(received)
    month = p["randomized_on"].dt.strftime("%Y-%m")
    deaths = p[p["death_date"].notna()]
    within30 = deaths["treatment_start"].notna() & (
        (deaths["death_date"] - deaths["treatment_start"]).dt.days <= 30
    )
    saes = ds.adverse_events[ds.adverse_events["serious"].astype(bool)]
    consort = consort_counts(ds)
    return {
        "trial": ds.trial,
        "sections": {
            "open": ["recruitment", "consort_open", "safety_pooled", "completeness_pooled"],
            "closed": [
                "consort",
                "acceptance",
                "adverse_events",
                "by_grade",
                "serious_adverse_events",
                "deaths",
                "completeness",
            ],
        },
        "consort_open": {
            k: consort[k]
            for k in ("cohort", "screened", "randomization_consent", "eligible", "randomized")
        },
        "consort": consort,
        "acceptance": _acceptance(p),
        "safety_pooled": {
            "events": len(ds.adverse_events),
            "participants_with_event": int(ds.adverse_events["study_id"].nunique()),
            "serious_events": len(saes),
            "deaths": len(deaths),
            "by_grade": _by_grade(p, ds.adverse_events, None)["all"],
        },
        "by_grade": _by_grade(p, ds.adverse_events, "arm"),
        "completeness_pooled": {
            t: row["all"] for t, row in _completeness(p, ds.assessments, None).items()
        },
        "completeness": _completeness(p, ds.assessments, "arm"),
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
    parts.append(
        "<h3>By CTCAE grade</h3>"
        + table(
            ["Grade", *[f"{a}: participants (worst) / events" for a in s["by_grade"]]],
            [
                [str(g)]
                + [
                    f"{s['by_grade'][a][str(g)]['participants_worst']} / "
                    f"{s['by_grade'][a][str(g)]['events']}"
                    for a in s["by_grade"]
                ]
                for g in GRADES
            ],
        )
    )
    parts.append(_consort_table(s["consort"]))
    parts.append(_acceptance_section(ds, ds.participants, s["acceptance"]))
    parts.append(_completeness_table(s["completeness"], "Completeness of follow-up by arm"))
    parts.append("</body></html>")
    path = out / "dsmb_report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    _write_open(ds, s, out / "dsmb_open.html")
    return path


def _acceptance_section(ds: AnalysisDataset, p: Any, a: dict[str, Any]) -> str:
    """Acceptance of the offer (closed: offers exist in the intervention arm only), with the
    acceptance monitor's figure by month of randomization."""
    import base64

    from blend.stats.acceptance import summarise
    from blend.stats.acceptance_plot import acceptance_png

    rate = "–" if a["rate"] is None else f"{fmt(100 * a['rate'], 1)}%"
    ci = (
        ""
        if a["wilson_95"] is None
        else f" (Wilson 95% CI {fmt(100 * a['wilson_95'][0], 1)}–{fmt(100 * a['wilson_95'][1], 1)}%)"
    )
    png = acceptance_png(summarise(_offer_records(p)), trial=ds.trial)
    return (
        "<h2>Acceptance of the offer</h2>"
        + table(
            ["Offered", "Accepted", "Refused", "Not yet decided", "Could not go ahead"],
            [[str(a[k]) for k in ("offered", "accepted", "refused", "pending", "not_offered")]],
        )
        + f"<p>Acceptance among decided offers: {rate}{ci}.</p>"
        + table(
            ["Reason for refusal", "Participants"],
            [[html.escape(r), str(n)] for r, n in a["reasons"]],
        )
        + "<p class='note'>Dated by randomization (the dataset holds no offer dates).</p>"
        + "<img alt='Offers and acceptance over time' src='data:image/png;base64,"
        + base64.b64encode(png).decode()
        + "' width='750'>"
    )


def _consort_table(c: dict[str, Any]) -> str:
    rows = [
        [k.replace("_", " "), str(c[k])]
        for k in ("cohort", "screened", "randomization_consent", "eligible", "randomized")
    ]
    for arm in ("intervention", "control"):
        for key, value in (c.get(arm) or {}).items():
            # The DSMB sees the flow while follow-up runs: no primary analysis yet, so no
            # "analysed" box (it would read 0 and suggest that nobody is analysed).
            if key == "analysed_primary":
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                rows.append([f"{arm}: {key.replace('_', ' ')}", str(value)])
    return "<h2>CONSORT (TwiCs), from the cohort</h2>" + table(["Box", "n"], rows)


def _completeness_table(rows: dict[str, Any], title: str) -> str:
    groups = sorted({g for row in rows.values() for g in row})
    return f"<h2>{html.escape(title)}</h2>" + table(
        ["Timepoint", *[f"{g}: returned / randomized (%)" for g in groups]],
        [
            [t]
            + [
                f"{row[g]['returned']} / {row[g]['randomized']} ({fmt(row[g]['percent'], 0)}%)"
                if g in row
                else "–"
                for g in groups
            ]
            for t, row in rows.items()
        ],
    )


def _write_open(ds: AnalysisDataset, s: dict[str, Any], path: Path) -> None:
    """The open session's report: nothing split by arm."""
    trial = html.escape(ds.trial)
    rec, pooled = s["recruitment"], s["safety_pooled"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{trial} DSMB open report</title><style>{CSS}</style></head><body>",
        f"<h1>{trial} — DSMB open report (arms pooled)</h1>",
        f"<p class='note'>Open session: no result is split by arm (the closed report is "
        f"dsmb_report.html). Period {ds.meta['period_start']} to {ds.meta['period_end']}; "
        f"dataset SHA-256 {ds.sha256[:16]}…</p>",
        "<h2>Recruitment</h2>",
        table(["Step", "n"], [[k.replace("_", " "), str(v)] for k, v in s["consort_open"].items()]),
        table(["Month", "Randomized"], [[m, str(n)] for m, n in rec["per_month"].items()]),
        "<h2>Safety, all arms together</h2>",
        table(
            ["", "n"],
            [
                ["Adverse events", str(pooled["events"])],
                ["Participants with ≥ 1 adverse event", str(pooled["participants_with_event"])],
                ["Serious adverse events", str(pooled["serious_events"])],
                ["Deaths", str(pooled["deaths"])],
            ],
        ),
        table(
            ["Grade", "Participants (worst) / events"],
            [
                [
                    str(g),
                    f"{pooled['by_grade'][str(g)]['participants_worst']} / "
                    f"{pooled['by_grade'][str(g)]['events']}",
                ]
                for g in GRADES
            ],
        ),
        _completeness_table(
            {t: {"all": row} for t, row in s["completeness_pooled"].items()},
            "Completeness of follow-up, all arms together",
        ),
        "</body></html>",
    ]
    path.write_text("\n".join(parts), encoding="utf-8")
