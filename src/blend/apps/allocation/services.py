"""The allocation service: the only code that reads the seed and writes allocations."""

from __future__ import annotations

from blend.apps.allocation.models import Allocation
from blend.apps.registry.models import Participant


def arm_of(participant: Participant) -> str | None:
    """"intervention", "control", or None when not (yet) allocated.

    Callers must check ``allocation.view`` before showing the result to a person.
    """
    return Allocation.objects.filter(participant=participant).values_list("arm", flat=True).first()
