"""The offer forms in a participant's casebook, one per trial (found by data
management's form status)."""

from __future__ import annotations

from blend.apps.offers.models import Offer
from blend.apps.registry.models import Participant
from blend.apps.trials.lookup import form_name

#: Only the intervention arm is offered the treatment: an offer form's existence reveals
#: the arm, so it is hidden from anyone without ``allocation.view`` in its trial
#: (``allocation.blinding``).
ARM_SPECIFIC_FORMS = ("Offer",)


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each form with data."""
    trials = Offer.objects.filter(participant=participant).values_list("trial", flat=True)
    return [(form_name("Offer", trial), "") for trial in trials.order_by("trial")]
