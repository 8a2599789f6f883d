"""Adverse-event reports in a participant's casebook (found by data management's form status)."""

from __future__ import annotations

from blend.apps.registry.models import Participant
from blend.apps.safety.models import AdverseEvent


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each report, one visit per report."""
    pks = (
        AdverseEvent.objects.filter(participant=participant)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [("Adverse event", f"AE {pk}") for pk in pks]
