"""Walk a cohort member through a second trial (VERTICAL) with the real services."""

from __future__ import annotations

from datetime import date
from typing import Any

from blend.apps.accounts.models import User
from blend.apps.registry.models import Participant
from blend.apps.screening.models import Screening
from blend.apps.screening.services import confirm_eligibility, save_screening
from tests.web.screening.flow import PASSWORD, SCREENED_ON

# The form-entered facts of a VERTICAL-eligible patient (consents come from the records).
VERTICAL_ELIGIBLE_FACTS: dict[str, Any] = {
    "malignancy_proof": "histology",
    "bone_metastases_imaging": True,
    "index_levels": ["T9"],
    "max_segments_per_lesion": 1,
    "unaffected_vertebra_adjacent": True,
    "painful_lesions": 1,
    "spinal_cord_compression": False,
    "neurological_signs": "none",
    "neurological_deficit_worsening": False,
    "kps": 80,
    "pain_score": 6,
    "mri_contraindicated": False,
    "radiosensitive_histology": False,
    "sbrt_feasible": True,
    "life_expectancy_months": 12,
    "systemic_therapy_within_24h": False,
    "prior_radiotherapy_index": False,
    "unstable_spine_needs_stabilization": False,
}


def screen_for_vertical(
    participant: Participant, nurse: User, on: date = SCREENED_ON, **changes: Any
) -> Screening:
    return save_screening(
        participant, {**VERTICAL_ELIGIBLE_FACTS, **changes}, on=on, user=nurse, trial="VERTICAL"
    )


def confirm_for_vertical(participant: Participant, personas: dict[str, User]) -> Screening:
    screen_for_vertical(participant, personas["nurse_nina"])
    return confirm_eligibility(
        participant, user=personas["investigator_ivo"], password=PASSWORD, trial="VERTICAL"
    )
