"""The registry's form in a participant's casebook (found by data management's form status)."""

from __future__ import annotations

from blend.apps.registry.models import Participant

#: The fields a data query can be raised on (form → model and fields; labels are the
#: fields' verbose names). Data management validates raised queries against these.
QUERY_FIELDS = {
    "Cohort registration": (
        Participant,
        (
            "registered_on",
            "sex",
            "birth_year",
            "primary_tumour",
            "metastases_diagnosed_on",
            "performance_status",
        ),
    )
}


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each form with data: every participant has a registration."""
    return [("Cohort registration", "")]
