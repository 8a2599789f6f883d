"""Edit checks of the cohort registration: the registration form and the saved participant.

Run live by ``RegistrationForm`` and ``ParticipantEditForm``; ``blend check-data``
runs ``PARTICIPANT`` over every saved participant (``CHECK_SETS``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext_noop

from blend.apps.registry.models import Participant
from blend.editchecks import CheckSet, CrossField, DateOrder, EditCheck, Range

FORM = "Cohort registration"
AGE_RULE = gettext_noop("must give an age of 18–110 years at cohort entry")


def _age_between(born_key: str, lo: int, hi: int) -> Callable[[Mapping[str, Any]], bool]:
    def holds(v: Mapping[str, Any]) -> bool:
        born, entered = v[born_key], v["registered_on"]
        born_year = born if isinstance(born, int) else born.year
        return lo <= entered.year - born_year <= hi

    return holds


PARTICIPANT: tuple[EditCheck, ...] = (
    Range("P01", "performance_status", 0, 4, "WHO/ECOG performance status"),
    DateOrder("P02", "metastases_diagnosed_on", "registered_on", blame="metastases_diagnosed_on"),
    CrossField(
        "P03",
        "birth_year",
        ("birth_year", "registered_on"),
        _age_between("birth_year", 18, 110),
        AGE_RULE,
    ),
)

# On the form only: a saved participant is checked on the year of birth (P03).
REGISTRATION: tuple[EditCheck, ...] = (
    CrossField(
        "R01",
        "date_of_birth",
        ("date_of_birth", "registered_on"),
        _age_between("date_of_birth", 18, 110),
        AGE_RULE,
    ),
)

CHECK_SETS = [
    CheckSet(FORM, PARTICIPANT, model=Participant, participant_field="id"),
    CheckSet(FORM, REGISTRATION),
]
