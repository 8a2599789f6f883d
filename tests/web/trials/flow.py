"""Walk a cohort member through a second trial (VERTICAL) with the real services."""

from __future__ import annotations

from datetime import date
from typing import Any

from blend.apps.accounts.models import User
from blend.apps.registry.models import Participant
from blend.apps.screening.models import Screening
from blend.apps.screening.services import confirm_eligibility, save_screening
from tests.eligible_facts import VERTICAL_ELIGIBLE_FACTS
from tests.web.screening.flow import PASSWORD, SCREENED_ON


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
