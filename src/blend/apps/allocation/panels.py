"""The randomization panel: the arm only for ``allocation.view``."""

from __future__ import annotations

from typing import Any

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.allocation import blinding
from blend.apps.allocation.models import Allocation
from blend.apps.consent.services import may_randomize
from blend.apps.registry.models import Participant
from blend.apps.screening.models import Screening
from blend.apps.trials.http import current_trial


def participant_panel(
    request: AuthenticatedHttpRequest, participant: Participant
) -> dict[str, Any] | None:
    user = request.user
    trial = current_trial(request)
    allocation = Allocation.objects.filter(participant=participant, trial=trial).first()
    confirmed = Screening.objects.filter(
        participant=participant, trial=trial, confirmed_at__isnull=False
    ).exists()
    if allocation is None and not confirmed:
        return None  # nothing to show before eligibility is confirmed
    return {
        "template": "allocation/_panel.html",
        "context": {
            "allocation": allocation,
            "show_arm": blinding.sees_arm(user, trial),
            "can_randomize": user.can(Cap.RANDOMIZE, trial=trial),
            "study_id": participant.study_id,
            "trial": trial,
        },
    }


def dashboard_cards(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    """Totals only: no counts per arm here (real-time arm counts help predict the next arm)."""
    user = request.user
    if not user.can(Cap.PARTICIPANT_VIEW):
        return []
    trial = current_trial(request)
    allocated = Allocation.objects.filter(trial=trial)
    cards: list[dict[str, Any]] = [
        {"label": f"randomized into {trial}", "value": allocated.count()}
    ]
    if user.can(Cap.RANDOMIZE, trial=trial):
        ready = [
            s.participant
            for s in Screening.objects.filter(trial=trial, confirmed_at__isnull=False)
            .exclude(participant_id__in=allocated.values("participant_id"))
            .select_related("participant")
        ]
        n = sum(1 for participant in ready if may_randomize(participant))
        cards.append(
            {
                "label": "confirmed eligible, ready to randomize",
                "value": n,
                "tone": "warn" if n else "ok",
            }
        )
    return cards
