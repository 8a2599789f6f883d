"""Offers made through the real services, for the tests of what is built from them."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from blend.apps.accounts.models import User
from blend.apps.offers import services
from tests.web.screening.flow import randomized

VERSION = "BLEND ICF v2.0 (2022-09-09)"


def make_offers(
    make_participant: Any, personas: dict[str, User], *, accepted: int, refused: int, pending: int
) -> None:
    """Randomize into the intervention arm until there are enough, offer each, and decide
    the first ``accepted`` (yes) and the next ``refused`` (no, "Too tired")."""
    nurse, today = personas["nurse_nina"], timezone.localdate()
    people = [
        randomized(make_participant, personas, "intervention")
        for _ in range(accepted + refused + pending)
    ]
    for participant in people:
        services.make_offer(participant, on=today, user=nurse)
    for participant in people[:accepted]:
        services.record_acceptance(participant, on=today, consent_version=VERSION, user=nurse)
    for participant in people[accepted : accepted + refused]:
        services.record_refusal(participant, on=today, reason="Too tired", user=nurse)
