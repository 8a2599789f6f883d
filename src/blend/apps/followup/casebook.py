"""Follow-up's forms in a participant's casebook (found by data management's form status):
the vital status, then one questionnaire per completed timepoint, in schedule order."""

from __future__ import annotations

from blend.apps.followup.models import Assessment, VitalStatus
from blend.apps.registry.models import Participant


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each form with data."""
    forms = (
        [("Vital status", "")]
        if VitalStatus.objects.filter(participant=participant).exists()
        else []
    )
    done = Assessment.objects.filter(participant=participant, completed_on__isnull=False).order_by(
        "target_on"
    )
    return forms + [
        ("Questionnaire", timepoint) for timepoint in done.values_list("timepoint", flat=True)
    ]
