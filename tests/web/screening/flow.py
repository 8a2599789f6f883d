"""Helpers shared by the screening, allocation and offers tests: walk a participant
through the real services (no shortcuts into the tables)."""

from __future__ import annotations

from datetime import date
from typing import Any

from blend.apps.accounts.models import User
from blend.apps.allocation.models import Allocation
from blend.apps.allocation.services import randomize
from blend.apps.registry.models import Participant
from blend.apps.screening.models import Screening
from blend.apps.screening.services import confirm_eligibility, save_screening

PASSWORD = "correct-horse-battery-9"  # tests/web/conftest.py
SCREENED_ON = date(2025, 3, 10)

# The form-entered facts of an eligible patient (age and consent (c) come from the records).
ELIGIBLE_FORM_FACTS: dict[str, Any] = {
    "index_levels": ["T7", "T8"],
    "symptoms": ["mechanical_pain"],
    "sins_total": 9,
    "bilsky_grade": "1b",
    "radiotherapy_indicated": True,
    "surgery_indicated": True,
    "malignancy_proof": "histology",
    "radiographic_evidence": True,
    "levels_to_bridge": 4,
    "radiotherapy_locations": 1,
    "prior_surgery_index": False,
    "prior_radiotherapy_index": False,
    "multiple_myeloma": False,
    "asia_grade": "E",
    "long_halflife_drugs": False,
    "life_expectancy_months": 12,
    "can_lie_on_table": True,
    "fit_for_radiosurgery": True,
}


def screen(participant: Participant, nurse: User, **changes: Any) -> Screening:
    return save_screening(
        participant, {**ELIGIBLE_FORM_FACTS, **changes}, on=SCREENED_ON, user=nurse
    )


def screen_and_confirm(participant: Participant, personas: dict[str, User]) -> Screening:
    screen(participant, personas["nurse_nina"])
    return confirm_eligibility(participant, user=personas["investigator_ivo"], password=PASSWORD)


def randomized(
    make_participant: Any, personas: dict[str, User], arm: str, limit: int = 40
) -> Participant:
    """Randomize fresh participants through the real service until one lands in ``arm``."""
    for _ in range(limit):
        participant = make_participant()
        screen_and_confirm(participant, personas)
        if randomize(participant, user=personas["nurse_nina"]).arm == arm:
            return participant
    raise AssertionError(f"no {arm} allocation in {limit} tries")


def arms() -> list[str]:
    return list(Allocation.objects.order_by("sequence_number").values_list("arm", flat=True))
