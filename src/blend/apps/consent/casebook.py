"""The consent form in a participant's casebook (found by data management's form status)."""

from __future__ import annotations

from blend.apps.consent.models import ConsentRecord
from blend.apps.registry.models import Participant

#: The fields a data query can be raised on (form → model and fields).
QUERY_FIELDS = {
    "Consent": (ConsentRecord, ("item", "answer", "effective_on", "form_version", "reason"))
}


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each form with data."""
    return [("Consent", "")] if participant.consents.exists() else []
