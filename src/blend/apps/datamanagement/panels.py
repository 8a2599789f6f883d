"""Data-management panel on the participant page: lock, sign-off, form status, queries."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from blend.apps.datamanagement import services
from blend.apps.datamanagement.models import QueryStatus


def participant_panel(request: HttpRequest, participant: Any) -> dict[str, Any] | None:
    signature = participant.signatures.first()
    return {"template": "datamanagement/_panel.html", "context": {
        "participant": participant,
        "lock": services.active_lock(participant),
        "db_lock": services.active_lock(None),
        "signature": signature,
        "signature_current": services.signature_is_current(signature) if signature else False,
        "statuses": services.casebook_status(participant),
        "queries": participant.queries.exclude(status=QueryStatus.CLOSED),
    }}
