"""Data-management panel on the participant page: lock, sign-off, form status, queries."""

from __future__ import annotations

from typing import Any

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.datamanagement import services
from blend.apps.datamanagement.models import QueryStatus
from blend.apps.trials.http import current_trial


def participant_panel(request: AuthenticatedHttpRequest, participant: Any) -> dict[str, Any] | None:
    """The cohort's lock and sign-off, and those of the trial chosen in the switcher."""
    trial = current_trial(request)
    scopes = []
    for scope in ("", trial):
        signature = services.latest_signature(participant, scope)
        scopes.append(
            {
                "trial": scope,
                "lock": services.active_lock(participant, scope),
                "db_lock": services.active_lock(None, scope),
                "signature": signature,
                "signature_current": (
                    services.signature_is_current(signature) if signature else False
                ),
            }
        )
    return {
        "template": "datamanagement/_panel.html",
        "context": {
            "participant": participant,
            "scopes": scopes,
            "statuses": services.casebook_status(participant, request.user),
            "queries": participant.queries.exclude(status=QueryStatus.CLOSED),
        },
    }


def dashboard_cards(request: Any) -> list[dict[str, Any]]:
    """Open data queries assigned to the user's role."""
    from django.urls import reverse

    from blend.apps.datamanagement.models import Query, QueryStatus

    role = request.user.role
    if not role or not request.user.can(Cap.PARTICIPANT_VIEW):
        return []
    mine = Query.objects.filter(status=QueryStatus.OPEN, assigned_role=role).count()
    return [
        {
            "label": "open queries for your role",
            "value": mine,
            "url": reverse("datamanagement:overview"),
            "tone": "warn" if mine else "ok",
        }
    ]
