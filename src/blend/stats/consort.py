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

from typing import TYPE_CHECKING, Any

from blend.stats.errors import ContractError

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
    return {
        "cohort": int(ds.meta["cohort_participants"]),
        "screened": len(s),
        "randomization_consent": int(consent.sum()),
        "eligible": int(eligible.sum()),
        "randomized": len(p),
        "no_consent": {"no": int((s["randomization_consent"] == "no").sum()),
                       "postponed": int((s["randomization_consent"] == "postponed").sum())},
        "not_eligible": {"ineligible": int((consent & (s["eligibility"] == "ineligible")).sum()),
                         "pending": int((consent & (s["eligibility"] == "pending")).sum()),
                         "reasons": reasons.str.split(";").explode().value_counts().to_dict()},
        "eligible_not_randomized": int((eligible & ~s["randomized"].astype(bool)).sum()),
        "intervention": {
            "allocated": int(z.sum()), "offered": int((z & offered).sum()),
            "accepted": int((z & accepted).sum()),
            "refused": int((z & offered & ~accepted).sum()),
            "not_offered": int((z & ~offered).sum()), "received": int((z & received).sum()),
            "accepted_not_received": int((z & accepted & ~received).sum()),
            "analysed_primary": int((z & flag).sum()),
        },
        "control": {
            "allocated": int((~z).sum()), "received_standard": int((~z & ~received).sum()),
            "received_intervention": int((~z & received).sum()),
            "analysed_primary": int((~z & flag).sum()),
        },
    }


def invariant_violations(c: dict[str, Any]) -> list[str]:
    """Every invariant that does not hold, as readable text (empty when consistent)."""
    i, k = c["intervention"], c["control"]
    checks = [
        (c["cohort"] >= c["screened"], "cohort ≥ screened"),
        (c["screened"] >= c["randomization_consent"], "screened ≥ randomization_consent"),
        (c["randomization_consent"] >= c["eligible"], "randomization_consent ≥ eligible"),
        (c["eligible"] >= c["randomized"], "eligible ≥ randomized"),
        (c["randomized"] == i["allocated"] + k["allocated"],
         "randomized = intervention.allocated + control.allocated"),
        (i["allocated"] == i["offered"] + i["not_offered"],
         "intervention.allocated = offered + not_offered"),
        (i["offered"] == i["accepted"] + i["refused"], "offered = accepted + refused"),
        (i["received"] <= i["accepted"], "intervention.received ≤ accepted"),
        (k["allocated"] == k["received_standard"] + k["received_intervention"],
         "control.allocated = received_standard + received_intervention"),
        (i["analysed_primary"] <= i["allocated"], "intervention.analysed_primary ≤ allocated"),
        (k["analysed_primary"] <= k["allocated"], "control.analysed_primary ≤ allocated"),
    ]
    for name, arm in (("intervention", i), ("control", k)):
        if "follow_up" in arm:
            checks.append((arm["allocated"] == arm["analysed_primary"]
                           + sum(arm["follow_up"].values()),
                           f"{name}.allocated = analysed_primary + follow-up losses"))
    return [text for ok, text in checks if not ok]


def check_consort(c: dict[str, Any]) -> None:
    """Raise `ContractError` naming the first violated invariant."""
    broken = invariant_violations(c)
    if broken:
        raise ContractError("screening.csv + participants.csv", None, "CONSORT invariant",
                            broken[0], {"counts": {k: v for k, v in c.items()
                                                   if isinstance(v, int)}})
