"""The adverse-event panel on the participant page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from blend.apps.safety.models import AdverseEvent
from blend.apps.safety.services import report_hours


def participant_panel(request: HttpRequest, participant: Any) -> dict[str, Any] | None:
    hours = report_hours()
    events = list(AdverseEvent.objects.filter(participant=participant).order_by("onset_date", "id"))
    rows = [{"ae": ae, "overdue": ae.is_overdue(hours)} for ae in events]
    return {"template": "safety/_panel.html",
            "context": {"rows": rows, "participant": participant, "may_write": request.user.can("ae.write")}}
