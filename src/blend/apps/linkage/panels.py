"""The data manager's dashboard card: registry answers waiting in the conflict queue."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.linkage.models import ConflictState, LinkageConflict


def dashboard_cards(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    if not request.user.can(Cap.LINKAGE):
        return []
    waiting = LinkageConflict.objects.filter(state=ConflictState.OPEN).count()
    return [
        {
            "label": _("registry linkage conflicts waiting"),
            "value": waiting,
            "url": reverse("linkage:overview"),
            "tone": "warn" if waiting else "ok",
        }
    ]
