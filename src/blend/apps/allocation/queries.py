"""Read-only questions about allocations that other apps ask."""

from __future__ import annotations

from blend.apps.allocation.models import Allocation
from blend.apps.registry.models import Participant

SCREENING_FINAL = "the participant is randomized: the screening is final"


def arm_of(participant: Participant) -> str | None:
    """ "intervention", "control", or None when not (yet) allocated.

    Callers must check ``allocation.view`` before showing the result to a person.
    """
    return Allocation.objects.filter(participant=participant).values_list("arm", flat=True).first()


def screening_final_once_randomized(participant: Participant) -> str | None:
    """Why the participant's screening may no longer change, or None while it may.

    The allocation rests on the screening's facts (eligibility, stratification), so once
    a participant is randomized the screening is final. Registered with the screening
    app at start-up (``AllocationConfig.ready``)."""
    return SCREENING_FINAL if Allocation.objects.filter(participant=participant).exists() else None
