"""Demo cohort facts: what the cohort records about most members at the multidisciplinary
meeting after cohort entry, through ``record_cohort_facts``. Most are potentially
eligible for BLEND or VERTICAL (some with facts still missing), others are excluded on
one fact, so each trial's worklist after ``make demo`` shows members to screen, pending
ones with what is missing, and the cohort denominator on the screening log.

Its own seeded generator (not ``ctx.rng``), so adding this step changes nothing that the
other apps' demo steps draw."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from blend.apps.prescreening.services import record_cohort_facts

SEED = "prescreening-demo"
THORACOLUMBAR = [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)]
# One fact that excludes a member from one trial or both (the others stay potentially eligible).
EXCLUSIONS: list[dict[str, Any]] = [
    {"life_expectancy_months": 2},
    {"prior_radiotherapy_index": True},
    {"spinal_cord_compression": True, "neurological_signs": "severe"},
    {"malignancy_proof": "none"},
    {"painful_lesions": 4},
    {"index_levels": ["S1", "S2"]},
]
# Facts not yet known for some members (pending on them).
GAPS = [
    ["life_expectancy_months"],
    ["pain_score"],
    ["malignancy_proof"],
    ["neurological_signs"],
    ["fit_for_radiosurgery"],
    ["levels_to_bridge", "kps"],
]


def cohort_facts(rng: random.Random, tumour: str) -> dict[str, Any]:
    start = rng.randrange(len(THORACOLUMBAR) - 2)
    unstable = rng.random() < 0.5
    facts: dict[str, Any] = {
        "index_levels": THORACOLUMBAR[start : start + rng.choice([1, 1, 2, 3])],
        "symptoms": rng.choice(
            [["local_pain"], ["mechanical_pain"], ["local_pain", "radicular_pain"]]
        ),
        "malignancy_proof": rng.choices(["histology", "radiology_clinical"], weights=[85, 15])[0],
        "radiographic_evidence": True,
        "bone_metastases_imaging": True,
        "radiotherapy_indicated": True,
        "surgery_indicated": unstable,
        "unstable_spine_needs_stabilization": unstable,
        "sins_total": rng.randint(7, 12) if unstable else rng.randint(3, 6),
        "max_segments_per_lesion": rng.randint(1, 3),
        "unaffected_vertebra_adjacent": True,
        "painful_lesions": rng.choice([1, 1, 2]),
        "spinal_cord_compression": False,
        "neurological_signs": rng.choices(["none", "mild"], weights=[75, 25])[0],
        "pain_score": rng.randint(4, 9),
        "life_expectancy_months": rng.choice([4, 6, 9, 12, 18, 24]),
        "prior_radiotherapy_index": False,
        "prior_surgery_index": False,
        "levels_to_bridge": rng.randint(2, 5),
        "radiotherapy_locations": 1,
        "asia_grade": rng.choices(["E", "D"], weights=[85, 15])[0],
        "asia_rapid_progression": False,
        "long_halflife_drugs": False,
        "can_lie_on_table": True,
        "fit_for_radiosurgery": True,
        "neurological_deficit_worsening": False,
        "mri_contraindicated": False,
        "radiosensitive_histology": tumour == "myeloma",
        "sbrt_feasible": True,
        "systemic_therapy_within_24h": False,
        "kps": rng.choice([60, 70, 80, 90]),
    }
    roll = rng.random()
    if roll < 0.25:
        facts.update(rng.choice(EXCLUSIONS))
    elif roll < 0.55:
        for key in rng.choice(GAPS):
            facts.pop(key, None)
    return facts


def populate(ctx: Any) -> None:  # ctx: demo's DemoContext (the demo app sits above this one)
    rng, nurse = random.Random(SEED), ctx.users["nurse"]
    for participant in ctx.participants:
        if rng.random() < 0.2:
            continue  # not yet discussed at the MDT: nothing recorded
        on = min(participant.registered_on + timedelta(days=rng.randint(0, 7)), ctx.today)
        record_cohort_facts(
            participant,
            cohort_facts(rng, participant.primary_tumour),
            on=on,
            user=nurse,
            source="MDT (demo)",
        )
