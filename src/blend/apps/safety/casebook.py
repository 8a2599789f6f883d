"""Adverse-event reports in a participant's casebook (found by data management's form status)."""

from __future__ import annotations

from blend.apps.registry.models import Participant
from blend.apps.safety.models import AdverseEvent

#: The fields a data query can be raised on (form → model and fields).
QUERY_FIELDS = {
    "Adverse event": (
        AdverseEvent,
        (
            "term",
            "other_term",
            "grade",
            "onset_date",
            "resolved_on",
            "serious",
            "seriousness",
            "related_sbrt",
            "related_surgery",
            "action_taken",
            "outcome",
            "description",
            "aware_at",
            "reported_at",
        ),
    )
}


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each report, one visit per report."""
    pks = (
        AdverseEvent.objects.filter(participant=participant)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [("Adverse event", f"AE {pk}") for pk in pks]
