"""The screening panel on the participant page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from blend.apps.accounts.roles import Cap
from blend.apps.allocation.models import Allocation
from blend.apps.screening.models import Status
from blend.apps.screening.services import latest_screening


def participant_panel(request: HttpRequest, participant: Any) -> dict[str, Any] | None:
    user = request.user
    screening = latest_screening(participant)
    allocated = Allocation.objects.filter(participant=participant).exists()
    return {"template": "screening/_panel.html", "context": {
        "screening": screening,
        "study_id": participant.study_id,
        "can_screen": user.can(Cap.SCREENING_WRITE) and not allocated,
        "can_confirm": user.can(Cap.ELIGIBILITY_CONFIRM) and screening is not None
        and screening.status == Status.ELIGIBLE and screening.confirmed_at is None,
    }}
