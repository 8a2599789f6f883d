"""The worklist's dashboard card and the cohort denominator on the screening log."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.prescreening.models import CohortFact
from blend.apps.prescreening.services import (
    cohort_denominator,
    members_to_assess,
    unconfirmed_counts,
)
from blend.apps.registry.models import Participant
from blend.apps.trials.http import current_trial


def dashboard_cards(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    if not request.user.can(Cap.SCREENING_WRITE):
        return []
    trial = current_trial(request)
    # One COUNT: the dashboard stays fast at any cohort size; the page assesses them.
    n = members_to_assess(trial)
    return [
        {
            "label": f"with cohort facts, not yet screened for {trial}: see who to screen",
            "value": n,
            "url": reverse("prescreening:worklist"),
            "tone": "warn" if n else "ok",
        }
    ]


def screening_log_panel(request: AuthenticatedHttpRequest, trial: str) -> dict[str, Any] | None:
    """The CONSORT boxes from the cohort down, above the screening log."""
    if not request.user.can(Cap.PARTICIPANT_VIEW):
        return None
    return {
        "template": "prescreening/_denominator.html",
        "context": {
            "counts": cohort_denominator(trial),
            "can_screen": request.user.can(Cap.SCREENING_WRITE),
        },
    }


def participant_panel(
    request: AuthenticatedHttpRequest, participant: Participant
) -> dict[str, Any] | None:
    if not request.user.can(Cap.PARTICIPANT_VIEW):
        return None
    return {
        "template": "prescreening/_panel.html",
        "context": {
            "count": CohortFact.objects.filter(participant=participant).count(),
            "to_confirm": unconfirmed_counts([participant.pk]).get(participant.pk, 0),
            "study_id": participant.study_id,
            "can_write": request.user.can(Cap.PARTICIPANT_WRITE),
        },
    }
