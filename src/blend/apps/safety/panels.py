"""The adverse-event panel on the participant page."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.outbox.services import undelivered
from blend.apps.safety.models import AdverseEvent
from blend.apps.safety.services import SAE_TEMPLATE, report_hours


def participant_panel(request: AuthenticatedHttpRequest, participant: Any) -> dict[str, Any] | None:
    hours = report_hours()
    events = list(AdverseEvent.objects.filter(participant=participant).order_by("onset_date", "id"))
    rows = [{"ae": ae, "overdue": ae.is_overdue(hours)} for ae in events]
    return {
        "template": "safety/_panel.html",
        "context": {
            "rows": rows,
            "participant": participant,
            "may_write": request.user.can("ae.write"),
        },
    }


def dashboard_cards(request: Any) -> list[dict[str, Any]]:
    """SAE reports past their deadline and deaths awaiting an SAE review."""
    from django.urls import reverse

    from blend.apps.safety.services import deaths_needing_review, overdue_saes

    if not request.user.can(Cap.PARTICIPANT_VIEW):
        return []
    overdue, reviews, url = (
        len(overdue_saes()),
        len(deaths_needing_review()),
        reverse("safety:overview"),
    )
    not_delivered = undelivered().filter(template_code=SAE_TEMPLATE).count()
    return [
        {
            "label": _("SAE notifications not delivered"),
            "value": not_delivered,
            "url": reverse("outbox:undelivered"),
            "tone": "bad" if not_delivered else "ok",
        },
        {
            "label": "SAE reports overdue",
            "value": overdue,
            "url": url,
            "tone": "bad" if overdue else "ok",
        },
        {
            "label": "deaths awaiting SAE review",
            "value": reviews,
            "url": url,
            "tone": "warn" if reviews else "ok",
        },
    ]
