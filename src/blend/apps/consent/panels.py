"""The consent dashboard card: what consent over time needs of the staff today."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.urls import reverse

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.consent.over_time import (
    postponed_count,
    postponed_for,
    reconsent_count,
    refresh_count,
)

# The count is a reminder, not a register: it may be five minutes old, so the dashboard
# does not run the three worklists on every visit (the worklist page itself is always live).
CARD_SECONDS = 300
CARD_KEY = "blend.consent.dashboard-count"


def _waiting() -> int:
    return postponed_count() + reconsent_count() + refresh_count()


def participant_panel(request: AuthenticatedHttpRequest, participant: Any) -> dict[str, Any] | None:
    """A reminder for staff on the participant page: randomization consent postponed, to be
    asked again in person at the next visit (never a message to the member)."""
    if not request.user.can(Cap.CONSENT_WRITE):
        return None
    waiting = postponed_for(participant)
    if waiting is None:
        return None
    return {"template": "consent/_postponed_panel.html", "context": {"waiting": waiting}}


def dashboard_cards(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    if not request.user.can(Cap.CONSENT_WRITE):
        return []
    n = cache.get_or_set(CARD_KEY, _waiting, CARD_SECONDS)
    return [
        {
            "label": "consent to re-ask or refresh",
            "value": n,
            "url": reverse("consent:over-time"),
            "tone": "warn" if n else "ok",
        }
    ]
