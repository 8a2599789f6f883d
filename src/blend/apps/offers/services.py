"""The offer workflow for participants allocated to the intervention."""

from __future__ import annotations

from blend.apps.offers.models import Offer
from blend.apps.registry.models import Participant


def offer_state(participant: Participant) -> str | None:
    """"offered", "accepted", "refused", "not_offered", or None (no offer recorded;
    always None for control participants)."""
    return Offer.objects.filter(participant=participant).values_list("state", flat=True).first()
