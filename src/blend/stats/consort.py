"""TwiCs CONSORT flow counts and their arithmetic invariants.

Flow: cohort → screened → randomization consent → eligible → randomized →
intervention (offered → accepted / refused; not offered) and control (not informed)
→ analysed. The invariants (documented in docs/analysis.md) are:

1. cohort ≥ screened ≥ randomization_consent ≥ eligible ≥ randomized;
2. randomized = intervention.allocated + control.allocated;
3. intervention.allocated = offered + not_offered; offered = accepted + refused;
4. intervention.received ≤ accepted (only an accepted offer can be received);
5. control.allocated = received_standard + received_intervention;
6. analysed_primary ≤ allocated in each arm;
7. when follow-up reasons are given: allocated = analysed_primary + died before week 4
   + alive without PF at week 4 + without baseline PF (the reasons are disjoint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from blend.stats.errors import ContractError
from blend.stats.linkage import linkage_lines

if TYPE_CHECKING:
    import pandas as pd

    from blend.stats.dataset import AnalysisDataset


def consort_counts(ds: AnalysisDataset, analysed: pd.Series | None = None) -> dict[str, Any]:
    """Counts for the flow diagram; `analysed` flags the complete-case primary sample."""
    s, p = ds.screening, ds.participants
    consent = s["randomization_consent"] == "yes"
    eligible = consent & (s["eligibility"] == "eligible")
    z = p["arm"] == "intervention"
    offered = p["offered"].fillna(False).astype(bool)
    accepted = p["accepted"].fillna(False).astype(bool)
    received = p["received_intervention"].astype(bool)
    flag = analysed if analysed is not None else p["study_id"].map(lambda _: False)
    reasons = s.loc[consent & (s["eligibility"] == "ineligible"), "ineligibility_reasons"]
    counts = {
        "cohort": int(ds.meta["cohort_participants"]),
        "screened": len(s),
        "randomization_consent": int(consent.sum()),
        "eligible": int(eligible.sum()),
        "randomized": len(p),
        "no_consent": {
            "no": int((s["randomization_consent"] == "no").sum()),
            "postponed": int((s["randomization_consent"] == "postponed").sum()),
        },
        "not_eligible": {
            "ineligible": int((consent & (s["eligibility"] == "ineligible")).sum()),
            "pending": int((consent & (s["eligibility"] == "pending")).sum()),
            "reasons": reasons.str.split(";").explode().value_counts().to_dict(),
        },
        "eligible_not_randomized": int((eligible & ~s["randomized"].astype(bool)).sum()),
        "intervention": {
            "allocated": int(z.sum()),
            "offered": int((z & offered).sum()),
            "accepted": int((z & accepted).sum()),
            "refused": int((z & offered & ~accepted).sum()),
            "not_offered": int((z & ~offered).sum()),
            "received": int((z & received).sum()),
            "accepted_not_received": int((z & accepted & ~received).sum()),
            "analysed_primary": int((z & flag).sum()),
        },
        "control": {
            "allocated": int((~z).sum()),
            "received_standard": int((~z & ~received).sum()),
            "received_intervention": int((~z & received).sum()),
            "analysed_primary": int((~z & flag).sum()),
        },
    }
    if ds.meta.get("linkage"):  # routine-data linkage (CONSORT-ROUTINE): stated, not counted
        counts["linkage"] = ds.meta["linkage"]
    return counts


def invariant_violations(c: dict[str, Any]) -> list[str]:
    """Every invariant that does not hold, as readable text (empty when consistent)."""
    i, k = c["intervention"], c["control"]
    checks = [
        (c["cohort"] >= c["screened"], "cohort ≥ screened"),
        (c["screened"] >= c["randomization_consent"], "screened ≥ randomization_consent"),
        (c["randomization_consent"] >= c["eligible"], "randomization_consent ≥ eligible"),
        (c["eligible"] >= c["randomized"], "eligible ≥ randomized"),
        (
            c["randomized"] == i["allocated"] + k["allocated"],
            "randomized = intervention.allocated + control.allocated",
        ),
        (
            i["allocated"] == i["offered"] + i["not_offered"],
            "intervention.allocated = offered + not_offered",
        ),
        (i["offered"] == i["accepted"] + i["refused"], "offered = accepted + refused"),
        (i["received"] <= i["accepted"], "intervention.received ≤ accepted"),
        (
            k["allocated"] == k["received_standard"] + k["received_intervention"],
            "control.allocated = received_standard + received_intervention",
        ),
        (i["analysed_primary"] <= i["allocated"], "intervention.analysed_primary ≤ allocated"),
        (k["analysed_primary"] <= k["allocated"], "control.analysed_primary ≤ allocated"),
    ]
    for name, arm in (("intervention", i), ("control", k)):
        if "follow_up" in arm:
            checks.append(
                (
                    arm["allocated"] == arm["analysed_primary"] + sum(arm["follow_up"].values()),
                    f"{name}.allocated = analysed_primary + follow-up losses",
                )
            )
    return [text for ok, text in checks if not ok]


def check_consort(c: dict[str, Any]) -> None:
    """Raise `ContractError` naming the first violated invariant."""
    broken = invariant_violations(c)
    if broken:
        raise ContractError(
            "screening.csv + participants.csv",
            None,
            "CONSORT invariant",
            broken[0],
            {"counts": {k: v for k, v in c.items() if isinstance(v, int)}},
        )


# ------------------------------------------------------------- flow diagram layout
# The diagram follows the CONSORT-ROUTINE flow for trials within cohorts (Kwakkenbos et
# al., BMJ 2021;373:n857): the cohort first, every exclusion as a side box at the step
# where it happens, allocation "to be offered" vs "not informed", and one main line per
# arm from allocation to analysis (the ITT analysis takes the arm as randomized, so the
# arrow to "analysed" must not start from the accepters). The layout is pure data
# (columns, rows, text, arrows); `plots.consort_figure` measures and draws it.
@dataclass(frozen=True)
class FlowBox:
    """One box: its name, column, row, text and whether it is a side (exclusion) box."""

    name: str
    column: str
    row: int
    text: str
    side: bool = False


@dataclass(frozen=True)
class FlowArrow:
    """`trunk` runs down between main boxes; `branch` leaves a trunk sideways to a box."""

    source: str
    target: str
    kind: str  # "trunk" | "branch" | "split"


# Horizontal centre of each column as a fraction of the figure width.
FLOW_COLUMNS = {
    "main": 0.36,
    "exclusion": 0.76,
    "intervention": 0.17,
    "intervention_side": 0.47,
    "control": 0.80,
}


def _n(value: int | None) -> str:
    return "n = –" if value is None else f"n = {value:,}"


def flow_boxes(c: dict[str, Any], labels: dict[str, str] | None = None) -> list[FlowBox]:
    """Every box of the TwiCs flow diagram, in drawing order, with the counts filled in.

    `labels` are the dataset's arm labels (contract 1.1 `arm_labels`); without them, or
    with BLEND's, the boxes read as BLEND's (same-day SBRT + surgery vs standard care).
    """
    if labels and labels.get("intervention") != "Same-day SBRT + surgery":
        return _generic_boxes(flow_boxes(c), c, labels)
    i, k = c["intervention"], c["control"]
    no_consent = c.get("no_consent", {})
    not_eligible = c.get("not_eligible", {})
    boxes = [
        FlowBox(
            "cohort", "main", 0, f"Cohort participants in the trial period\n({_n(c['cohort'])})"
        ),
        FlowBox(
            "not_screened",
            "exclusion",
            1,
            f"Cohort members never screened\nfor the trial ({_n(c['cohort'] - c['screened'])})",
            side=True,
        ),
        FlowBox("screened", "main", 2, f"Screened for the trial\n({_n(c['screened'])})"),
        FlowBox("no_consent", "exclusion", 3, _no_consent_text(no_consent), side=True),
        FlowBox(
            "consented",
            "main",
            4,
            f"Broad consent to randomization\n({_n(c['randomization_consent'])})",
        ),
        FlowBox("not_eligible", "exclusion", 5, _not_eligible_text(not_eligible), side=True),
        FlowBox("eligible", "main", 6, f"Eligible\n({_n(c['eligible'])})"),
        FlowBox(
            "eligible_not_randomized",
            "exclusion",
            7,
            f"Eligible, not randomized\n({_n(c.get('eligible_not_randomized'))})",
            side=True,
        ),
        FlowBox("randomized", "main", 8, f"Randomized\n({_n(c['randomized'])})"),
        FlowBox(
            "allocated_intervention",
            "intervention",
            9,
            f"Allocated to be offered same-day\nSBRT + surgery ({_n(i['allocated'])})",
        ),
        FlowBox(
            "allocated_control",
            "control",
            9,
            f"Allocated to standard care, not\ninformed of the trial ({_n(k['allocated'])})\n"
            f"  received standard care: {k['received_standard']:,}\n"
            f"  received same-day outside the trial: {k['received_intervention']:,}",
        ),
        FlowBox(
            "offered",
            "intervention_side",
            10,
            f"Offered same-day treatment ({_n(i['offered'])})\n"
            f"  accepted: {i['accepted']:,} (received {i['received']:,}, "
            f"not received {i.get('accepted_not_received', 0):,})\n"
            f"  declined: {i['refused']:,}",
            side=True,
        ),
        FlowBox(
            "not_offered",
            "intervention_side",
            11,
            f"Not offered ({_n(i['not_offered'])})",
            side=True,
        ),
    ]
    for arm, counts in (("intervention", i), ("control", k)):
        boxes.append(FlowBox(f"follow_up_{arm}", arm, 12, _follow_up_text(counts)))
        boxes.append(
            FlowBox(
                f"analysed_{arm}",
                arm,
                13,
                f"Analysed, ITT complete case\n({_n(counts['analysed_primary'])})",
            )
        )
    if c.get("linkage"):
        boxes.append(FlowBox("linkage", "main", 14, _linkage_text(c["linkage"]), side=True))
    return boxes


def _linkage_text(note: list[dict[str, Any]]) -> str:
    """The routine data linked, below the flow: one line per registry (no arrow: linkage
    covers the cohort, not one step of the flow)."""
    import textwrap

    lines = ["Linked with routine data:"]
    for line in linkage_lines(note):
        wrapped = textwrap.wrap(line, 70)
        lines += ["  " + wrapped[0], *("    " + more for more in wrapped[1:])]
    return "\n".join(lines)


FLOW_ARROWS = [
    FlowArrow("cohort", "screened", "trunk"),
    FlowArrow("cohort", "not_screened", "branch"),
    FlowArrow("screened", "consented", "trunk"),
    FlowArrow("screened", "no_consent", "branch"),
    FlowArrow("consented", "eligible", "trunk"),
    FlowArrow("consented", "not_eligible", "branch"),
    FlowArrow("eligible", "randomized", "trunk"),
    FlowArrow("eligible", "eligible_not_randomized", "branch"),
    FlowArrow("randomized", "allocated_intervention", "split"),
    FlowArrow("randomized", "allocated_control", "split"),
    # The intervention arm as a whole runs on to follow-up; offer and refusal hang off it.
    FlowArrow("allocated_intervention", "follow_up_intervention", "trunk"),
    FlowArrow("allocated_intervention", "offered", "branch"),
    FlowArrow("allocated_intervention", "not_offered", "branch"),
    FlowArrow("follow_up_intervention", "analysed_intervention", "trunk"),
    FlowArrow("allocated_control", "follow_up_control", "trunk"),
    FlowArrow("follow_up_control", "analysed_control", "trunk"),
]


def _no_consent_text(no_consent: dict[str, int]) -> str:
    refused, postponed = no_consent.get("no", 0), no_consent.get("postponed", 0)
    return (
        f"No consent to randomization ({_n(refused + postponed)})\n"
        f"  refused: {refused:,}\n  postponed: {postponed:,}"
    )


def _not_eligible_text(not_eligible: dict[str, Any]) -> str:
    lines = [f"Not eligible ({_n(not_eligible.get('ineligible', 0))})"]
    reasons = not_eligible.get("reasons") or {}
    if reasons:
        lines.append("  reasons (one person may have several):")
        lines += [f"    {str(r).replace('_', ' ')}: {n:,}" for r, n in reasons.items()]
    lines.append(f"Eligibility pending ({_n(not_eligible.get('pending', 0))})")
    return "\n".join(lines)


FOLLOW_UP_LABELS = {
    "died_before_w4": "died before week 4",
    "alive_pf_w4_missing": "alive, no PF at week 4",
    "pf_baseline_missing": "no baseline PF",
    "baseline_pain_below_2": "baseline worst pain below 2",
    "baseline_pain_or_omed_missing": "no baseline pain score or OMED",
}


def _follow_up_text(arm: dict[str, Any]) -> str:
    missing = arm["allocated"] - arm["analysed_primary"]
    f = arm.get("follow_up") or {}
    pain = "baseline_pain_below_2" in f
    what = "Not assessable for the primary outcome" if pain else "Primary outcome not available"
    text = f"{what} ({_n(missing)})"
    for key, count in f.items():
        text += f"\n  {FOLLOW_UP_LABELS.get(key, key.replace('_', ' '))}: {count:,}"
    return text


def _generic_boxes(
    boxes: list[FlowBox], c: dict[str, Any], labels: dict[str, str]
) -> list[FlowBox]:
    """BLEND's boxes with the arm texts of another trial."""
    import textwrap
    from dataclasses import replace

    i, k = c["intervention"], c["control"]
    intervention = "\n".join(textwrap.wrap(labels["intervention"], 34))
    control = "\n".join(textwrap.wrap(labels["control"], 34))
    text = {
        "allocated_intervention": f"Allocated to be offered\n{intervention} ({_n(i['allocated'])})",
        "allocated_control": f"Allocated to the control arm\n{control}\n"
        f"not informed of the trial ({_n(k['allocated'])})\n"
        f"  received the control treatment: {k['received_standard']:,}\n"
        f"  received the intervention outside the trial: {k['received_intervention']:,}",
        "offered": f"Offered the intervention ({_n(i['offered'])})\n"
        f"  accepted: {i['accepted']:,} (received {i['received']:,}, "
        f"not received {i.get('accepted_not_received', 0):,})\n"
        f"  declined: {i['refused']:,}",
    }
    pain = "baseline_pain_below_2" in (i.get("follow_up") or {})
    out = []
    for box in boxes:
        if box.name in text:
            box = replace(box, text=text[box.name])
        elif box.name.startswith("analysed_") and pain:
            arm = c[box.name.removeprefix("analysed_")]
            box = replace(
                box,
                text=f"Analysed, ITT (assessable;\nmissing = non-responder) "
                f"({_n(arm['analysed_primary'])})",
            )
        out.append(box)
    return out
