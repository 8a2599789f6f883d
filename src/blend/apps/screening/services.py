"""Screening services: record the facts, assess them, confirm eligibility."""

from __future__ import annotations

from blend.apps.registry.models import Participant
from blend.apps.screening.models import Screening


def latest_screening(participant: Participant) -> Screening | None:
    """The participant's current screening, or None when never screened."""
    return Screening.objects.filter(participant=participant).select_related("confirmed_by").first()
