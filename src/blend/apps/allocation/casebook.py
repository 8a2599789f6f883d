"""The randomization form in a participant's casebook (found by data management's form status)."""

from __future__ import annotations

from blend.apps.allocation.models import Allocation
from blend.apps.registry.models import Participant


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each form with data."""
    return (
        [("Randomization", "")]
        if Allocation.objects.filter(participant=participant).exists()
        else []
    )
