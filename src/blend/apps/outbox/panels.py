"""The outbox's dashboard card: messages whose delivery failed and that have not been
sent (still retrying, or given up), so a failing mail server or SMS gateway is seen."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.outbox.services import undelivered


def dashboard_cards(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    if not request.user.can(Cap.PARTICIPANT_VIEW):
        return []
    failing = undelivered().count()
    return [
        {
            "label": _("messages failing delivery"),
            "value": failing,
            "url": reverse("outbox:undelivered"),
            "tone": "bad" if failing else "ok",
        }
    ]
