"""The screening panel on the participant page."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.registry.models import Participant
from blend.apps.screening.models import Screening, Status
from blend.apps.screening.services import latest_screening, why_final
from blend.apps.trials.http import current_trial


def participant_panel(
    request: AuthenticatedHttpRequest, participant: Participant
) -> dict[str, Any] | None:
    user = request.user
    trial = current_trial(request)
    screening = latest_screening(participant, trial)
    return {
        "template": "screening/_panel.html",
        "context": {
            "screening": screening,
            "trial": trial,
            "study_id": participant.study_id,
            "can_screen": user.can(Cap.SCREENING_WRITE, trial=trial)
            and why_final(participant, trial) is None,
            "can_confirm": user.can(Cap.ELIGIBILITY_CONFIRM, trial=trial)
            and screening is not None
            and screening.status == Status.ELIGIBLE
            and screening.confirmed_at is None,
        },
    }


def dashboard_cards(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    user, log = request.user, reverse("screening:log")
    if not user.can(Cap.PARTICIPANT_VIEW):
        return []
    trial = current_trial(request)
    screenings = Screening.objects.filter(trial=trial)
    cards: list[dict[str, Any]] = [
        {"label": f"screened for {trial}", "value": screenings.count(), "url": log}
    ]
    if user.can(Cap.SCREENING_WRITE, trial=trial):
        pending = screenings.filter(status=Status.PENDING).count()
        cards.append(
            {
                "label": "screenings pending (information missing)",
                "value": pending,
                "url": f"{log}?status=pending",
                "tone": "warn" if pending else "ok",
            }
        )
    if user.can(Cap.ELIGIBILITY_CONFIRM, trial=trial):
        waiting = screenings.filter(status=Status.ELIGIBLE, confirmed_at__isnull=True).count()
        cards.append(
            {
                "label": "eligible, awaiting your confirmation",
                "value": waiting,
                "url": f"{log}?status=eligible",
                "tone": "warn" if waiting else "ok",
            }
        )
    return cards
