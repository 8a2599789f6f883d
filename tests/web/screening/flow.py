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
from tests.eligible_facts import ELIGIBLE_FORM_FACTS

PASSWORD = "correct-horse-battery-9"  # tests/web/conftest.py
SCREENED_ON = date(2025, 3, 10)


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
