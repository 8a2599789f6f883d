"""Demo screening: a realistic subset of the cohort is screened for BLEND. Most are
eligible, many are not (with varied, often several, reasons), some are pending, and the
investigator confirms the eligible ones. Everything goes through the real services."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from blend.apps.screening.models import Screening
from blend.apps.screening.services import confirm_eligibility, save_screening
from blend.eligibility import SINS_COMPONENTS

THORACOLUMBAR = [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)]
SYMPTOMS = ["local_pain", "mechanical_pain", "radicular_pain", "neurological_symptoms"]
UNSTABLE_SINS = {
    "location": ["junctional", "mobile", "semi_rigid"],
    "pain": ["mechanical", "occasional"],
    "bone_lesion": ["lytic", "mixed"],
    "alignment": ["normal", "de_novo_deformity", "subluxation"],
    "collapse": ["under_50", "over_50", "none_over_50_involved"],
    "posterolateral": ["unilateral", "bilateral", "none"],
}
STABLE_SINS = {
    "location": "semi_rigid",
    "pain": "occasional",
    "bone_lesion": "blastic",
    "alignment": "normal",
    "collapse": "none",
    "posterolateral": "none",
}

# reason -> the fact changes that produce it (weights give a realistic mix).
VIOLATIONS: list[tuple[int, dict[str, Any]]] = [
    (16, {"life_expectancy_months": 2}),
    (12, {"asia_grade": "C"}),
    (8, {"asia_grade": "D", "asia_rapid_progression": True}),
    (12, {"levels_to_bridge": 7}),
    (8, {"radiotherapy_locations": 2}),
    (10, {"prior_radiotherapy_index": True}),
    (5, {"prior_surgery_index": True}),
    (6, {"long_halflife_drugs": True}),
    (7, {"can_lie_on_table": False}),
    (7, {"fit_for_radiosurgery": False}),
    (9, {"sins_components": STABLE_SINS}),
    (6, {"surgery_indicated": False}),
]
PENDING_GAPS = [
    ["life_expectancy_months"],
    ["asia_rapid_progression"],
    ["levels_to_bridge", "bilsky_grade"],
    ["fit_for_radiosurgery"],
    ["malignancy_proof"],
]


def _levels(rng: random.Random) -> list[str]:
    start = rng.randrange(len(THORACOLUMBAR) - 2)
    return THORACOLUMBAR[start : start + rng.choice([1, 1, 2, 2, 3])]


def eligible_facts(rng: random.Random, tumour: str) -> dict[str, Any]:
    return {
        "index_levels": _levels(rng),
        "symptoms": sorted(set(rng.sample(SYMPTOMS[:3], rng.randint(1, 2)))),
        "sins_components": {k: rng.choice(v) for k, v in UNSTABLE_SINS.items()},
        "bilsky_grade": rng.choice(["0", "1a", "1a", "1b", "1c"]),
        "radiotherapy_indicated": True,
        "surgery_indicated": True,
        "malignancy_proof": rng.choices(["histology", "radiology_clinical"], weights=[85, 15])[0],
        "radiographic_evidence": True,
        "levels_to_bridge": rng.randint(2, 5),
        "radiotherapy_locations": 1,
        "prior_surgery_index": False,
        "prior_radiotherapy_index": False,
        "multiple_myeloma": tumour == "myeloma",
        "asia_grade": rng.choices(["E", "D"], weights=[85, 15])[0],
        "asia_rapid_progression": False,
        "long_halflife_drugs": False,
        "life_expectancy_months": rng.choice([4, 6, 6, 9, 12, 12, 18, 24]),
        "can_lie_on_table": True,
        "fit_for_radiosurgery": True,
    }


def _sins_ok(facts: dict[str, Any]) -> None:
    """Keep the 'eligible' profiles unstable enough (SINS >= 7): the generator may draw low."""
    from blend.eligibility.facts import sins_total

    while (sins_total(facts["sins_components"]) or 0) < 7:
        facts["sins_components"]["pain"] = "mechanical"
        facts["sins_components"]["bone_lesion"] = "lytic"
        facts["sins_components"]["location"] = "junctional"


def demo_facts(rng: random.Random, tumour: str) -> dict[str, Any]:
    facts = eligible_facts(rng, tumour)
    _sins_ok(facts)
    roll = rng.random()
    if roll < 0.30:  # ineligible: one reason, sometimes two
        for _ in range(1 if rng.random() < 0.75 else 2):
            facts.update(
                rng.choices([c for _, c in VIOLATIONS], weights=[w for w, _ in VIOLATIONS])[0]
            )
    elif roll < 0.40:  # pending: information still missing
        gap = rng.choice(PENDING_GAPS)
        if gap == ["asia_rapid_progression"]:
            facts["asia_grade"] = "D"
        for key in gap:
            facts.pop(key, None)
    assert set(facts["sins_components"]) == set(SINS_COMPONENTS)
    return facts


def at(day: date, rng: random.Random) -> datetime:
    moment = timezone.make_aware(
        datetime.combine(day, time(rng.randint(8, 16), rng.randint(0, 59)))
    )
    return min(moment, timezone.now() - timedelta(minutes=5))


def populate(ctx: Any) -> None:  # ctx: demo's DemoContext (the demo app sits above this one)
    rng, nurse, investigator = ctx.rng, ctx.users["nurse"], ctx.users["investigator"]
    for participant in ctx.participants:
        if rng.random() > 0.55 or (ctx.today - participant.registered_on).days < 2:
            continue  # not referred for BLEND screening (e.g. no spinal instability)
        on = min(participant.registered_on + timedelta(days=rng.randint(1, 10)), ctx.today)
        screening = save_screening(
            participant, demo_facts(rng, participant.primary_tumour), on=on, user=nurse
        )
        confirm_on = on + timedelta(days=rng.randint(0, 2))
        if screening.status == "eligible" and confirm_on < ctx.today:
            confirm_eligibility(
                participant, user=investigator, password=ctx.password, now=at(confirm_on, rng)
            )
    _screen_for_vertical(ctx, investigator, nurse)
    ctx.extra["screened"] = Screening.objects.count()


def vertical_facts(rng: random.Random) -> dict[str, Any]:
    """The screening facts of a VERTICAL candidate: painful, stable spinal metastases; about
    one in six is not eligible (an unstable spine, cord compression or a low KPS)."""
    facts: dict[str, Any] = {
        "malignancy_proof": "histology",
        "bone_metastases_imaging": True,
        "index_levels": [rng.choice(THORACOLUMBAR)],
        "max_segments_per_lesion": rng.choice([1, 1, 2, 3]),
        "unaffected_vertebra_adjacent": True,
        "painful_lesions": rng.choice([1, 1, 2]),
        "spinal_cord_compression": False,
        "neurological_signs": rng.choice(["none", "none", "mild"]),
        "neurological_deficit_worsening": False,
        "kps": rng.choice([60, 70, 70, 80, 90]),
        "pain_score": rng.randint(4, 9),
        "mri_contraindicated": False,
        "radiosensitive_histology": False,
        "sbrt_feasible": True,
        "life_expectancy_months": rng.choice([6, 9, 12, 24]),
        "systemic_therapy_within_24h": False,
        "prior_radiotherapy_index": False,
        "unstable_spine_needs_stabilization": False,
    }
    if rng.random() < 0.17:
        facts.update(
            rng.choice(
                [
                    {"unstable_spine_needs_stabilization": True},
                    {"spinal_cord_compression": True},
                    {"kps": 40},
                ]
            )
        )
    return facts


def _screen_for_vertical(ctx: Any, investigator: Any, nurse: Any) -> None:
    """VERTICAL's screenings, at cohort entry (2015-2019), on its own criteria; and a few
    long-term survivors screened for BLEND years later for a new lesion (members screened
    for both trials: BLEND excludes radiotherapy before at the index level)."""
    rng = random.Random(f"vertical-screening-{len(ctx.participants)}")
    members = ctx.extra.get("vertical_cohort", [])
    for participant in members:
        on = participant.registered_on + timedelta(days=rng.randint(0, 7))
        screening = save_screening(
            participant, vertical_facts(rng), on=on, user=nurse, trial="VERTICAL"
        )
        if screening.status == "eligible":
            confirm_eligibility(
                participant,
                user=investigator,
                password=ctx.password,
                now=at(on + timedelta(days=1), rng),
                trial="VERTICAL",
            )
    for participant in members[-3:]:
        on = ctx.today - timedelta(days=rng.randint(20, 120))
        facts = {**demo_facts(rng, participant.primary_tumour), "prior_radiotherapy_index": True}
        save_screening(participant, facts, on=on, user=nurse, trial="BLEND")
