"""The accounts app's dashboard cards (``overview.panels``): grant requests waiting for
a second person, and the grants of the last 30 days (two-person rule, docs/security.md §2).
Shown to those who manage staff; each links to the grants page, which lists them."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from blend.apps.accounts import services
from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.models import GrantStatus


def dashboard_cards(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    if not request.user.can(Cap.USERS_MANAGE):
        return []
    pending = services.pending_grants()
    applied = [
        g
        for g in services.recent_grants()
        if g.status in {GrantStatus.APPROVED, GrantStatus.BOOTSTRAP}
    ]
    url = reverse("accounts:grants")
    cards: list[dict[str, Any]] = [
        {
            "label": _("grant requests waiting for a second person"),
            "value": len(pending),
            "url": url,
            "tone": "warn" if pending else "ok",
        },
        {"label": _("grants applied in the last 30 days"), "value": len(applied), "url": url},
    ]
    return cards
