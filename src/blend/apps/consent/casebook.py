"""The consent form in a participant's casebook (found by data management's form status)."""

from __future__ import annotations

from blend.apps.registry.models import Participant


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each form with data."""
    return [("Consent", "")] if participant.consents.exists() else []
