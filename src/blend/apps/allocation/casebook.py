"""The randomization form in a participant's casebook (found by data management's form status)."""

from __future__ import annotations

from blend.apps.allocation.models import Allocation
from blend.apps.registry.models import Participant
from blend.apps.trials.lookup import form_name


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each form with data: one randomization form per trial."""
    trials = Allocation.objects.filter(participant=participant).values_list("trial", flat=True)
    return [(form_name("Randomization", trial), "") for trial in trials.order_by("trial")]
