"""The offer forms in a participant's casebook, one per trial (found by data
management's form status)."""

from __future__ import annotations

from blend.apps.offers.models import Offer
from blend.apps.registry.models import Participant
from blend.apps.trials.lookup import form_name


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each form with data."""
    trials = Offer.objects.filter(participant=participant).values_list("trial", flat=True)
    return [(form_name("Offer", trial), "") for trial in trials.order_by("trial")]
