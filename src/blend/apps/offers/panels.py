"""The offer panel: intervention arm only, and only for roles that may see arms
(an offer's existence reveals the arm)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.allocation import blinding
from blend.apps.allocation.models import Allocation, Arm
from blend.apps.offers.acceptance import offer_counts
from blend.apps.offers.models import Offer
from blend.apps.offers.services import offer_worklist
from blend.apps.registry.models import Participant
from blend.apps.trials.http import current_trial


def participant_panel(
    request: AuthenticatedHttpRequest, participant: Participant
) -> dict[str, Any] | None:
    user = request.user
    trial = current_trial(request)
    if not blinding.sees_arm(user, trial):
        return None
    if not Allocation.objects.filter(
        participant=participant, trial=trial, arm=Arm.INTERVENTION
    ).exists():
        return None
    offer = (
        Offer.objects.select_related("offered_by")
        .filter(participant=participant, trial=trial)
        .first()
    )
    return {
        "template": "offers/_panel.html",
        "context": {
            "offer": offer,
            "study_id": participant.study_id,
            "trial": trial,
            "can_write": user.can(Cap.OFFER_WRITE, trial=trial),
        },
    }


def dashboard_cards(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    user, trial = request.user, current_trial(request)
    if not blinding.sees_arm(user, trial):
        return []
    cards = [_acceptance_card(user, trial)]
    if user.can(Cap.OFFER_WRITE, trial=trial):
        n = offer_worklist(trial).count()
        cards.insert(
            0,
            {
                "label": "offers to make or decide",
                "value": n,
                "url": reverse("offers:worklist"),
                "tone": "warn" if n else "ok",
            },
        )
    return cards


def _acceptance_card(user: Any, trial: str) -> dict[str, Any]:
    counts = offer_counts(trial, user=user)
    value = (
        f"{counts.accepted / counts.decided:.0%} ({counts.accepted}/{counts.decided})"
        if counts.decided
        else "–"
    )
    return {
        "label": "acceptance of the offer",
        "value": value,
        "url": reverse("offers:acceptance"),
        "tone": "ok",
    }
