"""The randomization panel: the arm only for ``allocation.view``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from blend.apps.accounts.roles import Cap
from blend.apps.allocation.models import Allocation
from blend.apps.screening.models import Screening


def participant_panel(request: HttpRequest, participant: Any) -> dict[str, Any] | None:
    user = request.user
    allocation = Allocation.objects.filter(participant=participant).first()
    confirmed = Screening.objects.filter(participant=participant, confirmed_at__isnull=False).exists()
    if allocation is None and not confirmed:
        return None  # nothing to show before eligibility is confirmed
    return {"template": "allocation/_panel.html", "context": {
        "allocation": allocation,
        "show_arm": user.can(Cap.ALLOCATION_VIEW),
        "can_randomize": user.can(Cap.RANDOMIZE),
        "study_id": participant.study_id,
    }}
