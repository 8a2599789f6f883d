"""The offer form in a participant's casebook (found by data management's form status)."""

from __future__ import annotations

from blend.apps.offers.models import Offer
from blend.apps.registry.models import Participant


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each form with data."""
    return [("Offer", "")] if Offer.objects.filter(participant=participant).exists() else []
