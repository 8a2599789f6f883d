"""The treatment form in a participant's casebook (found by data management's form status)."""

from __future__ import annotations

from blend.apps.registry.models import Participant
from blend.apps.treatment.models import TreatmentRecord


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each form with data."""
    return (
        [("Treatment", "")]
        if TreatmentRecord.objects.filter(participant=participant).exists()
        else []
    )
