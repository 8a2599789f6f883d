"""The registration's checks, in one place: the web form, the service (and so the API)
and the CSV import all run these, so no entry point accepts what another refuses.

Each problem names the field, what was expected and what was received, in the active
language (the messages are the form's). ``registration_problems`` is what the service
runs before it writes; the form runs the same functions from its ``clean`` methods
and its edit checks through ``EditCheckMixin``.

Hospital numbers are compared case-insensitively everywhere (``h1234567`` is
``H1234567``): :func:`hospital_key` is the one normalisation, and the database holds
a unique index on it (``identity_unique_hospital_number_ci``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _

from blend.apps.registry.editchecks import REGISTRATION
from blend.apps.registry.models import Identity
from blend.editchecks import run_checks
from blend.web.findings import describe

HOSPITAL_NUMBER = re.compile(r"^[A-Za-z0-9-]{4,30}$")
PHONE = re.compile(r"^\+?[0-9 ]{8,20}$")
EARLIEST_BIRTH = date(1900, 1, 1)


@dataclass(frozen=True)
class Problem:
    """One refused value: ``field``, the sentence for the reader, and the structured
    ``expected`` / ``received`` (the API returns all four)."""

    field: str
    message: str
    expected: str
    received: str

    def as_dict(self) -> dict[str, str]:
        return {
            "field": self.field,
            "in": "body",
            "message": self.message,
            "expected": self.expected,
            "received": self.received,
        }


class RegistrationInvalid(ValueError):
    """The registration breaks a rule of the form; ``problems`` lists each one."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))


def hospital_key(number: str) -> str:
    """The form in which hospital numbers are compared (case-insensitive)."""
    return number.strip().upper()


def date_problems(
    born: date | None,
    entered: date | None,
    diagnosed: date | None,
    *,
    today: date | None = None,
) -> list[Problem]:
    """Plausibility of the three registration dates (any may be missing)."""
    today = today or timezone.localdate()
    out = []
    if entered and entered > today:
        out.append(
            Problem(
                "registered_on",
                _("Expected today or earlier, got %(d)s.") % {"d": entered},
                f"today ({today}) or earlier",
                str(entered),
            )
        )
    if born and not (EARLIEST_BIRTH <= born <= today):
        out.append(
            Problem(
                "date_of_birth",
                _("Expected a date between 1900 and today, got %(d)s.") % {"d": born},
                f"a date between {EARLIEST_BIRTH} and today ({today})",
                str(born),
            )
        )
    if born and entered and entered < born:
        out.append(
            Problem(
                "registered_on",
                _("Cohort entry cannot be before the date of birth."),
                f"on or after the date of birth ({born})",
                str(entered),
            )
        )
    if diagnosed and entered and diagnosed > entered:
        out.append(
            Problem(
                "metastases_diagnosed_on",
                _("Expected on or before the cohort entry date, got %(d)s.") % {"d": diagnosed},
                f"on or before the cohort entry date ({entered})",
                str(diagnosed),
            )
        )
    if born and diagnosed and diagnosed < born:
        out.append(
            Problem(
                "metastases_diagnosed_on",
                _("Cannot be before the date of birth."),
                f"on or after the date of birth ({born})",
                str(diagnosed),
            )
        )
    return out


def registered_hospital_keys(numbers: Iterable[str]) -> set[str]:
    """Which of ``numbers`` (compared case-insensitively) are already in the cohort."""
    keys = {hospital_key(n) for n in numbers}
    if not keys:
        return set()
    return set(
        Identity.objects.annotate(key=Upper("hospital_number"))
        .filter(key__in=keys)
        .values_list("key", flat=True)
    )


def duplicate_problem(number: str) -> Problem:
    return Problem(
        "hospital_number",
        _("This hospital number is already registered in the cohort."),
        "a hospital number not yet in the cohort (compared without regard to case)",
        number,
    )


def contact_problems(hospital_number: str, email: str, phone: str) -> list[Problem]:
    """The formats the form's fields check: hospital number, e-mail and phone."""
    out = []
    if not HOSPITAL_NUMBER.fullmatch(hospital_number or ""):
        out.append(
            Problem(
                "hospital_number",
                _("Expected 4–30 letters, digits or hyphens."),
                "4–30 letters, digits or hyphens",
                hospital_number,
            )
        )
    if email:
        try:
            validate_email(email)
        except ValidationError:
            out.append(
                Problem(
                    "email",
                    _("Enter a valid email address."),
                    "an e-mail address such as name@example.org",
                    email,
                )
            )
    if phone and not PHONE.fullmatch(phone):
        out.append(
            Problem(
                "phone",
                _("Expected a phone number of 8–20 digits, optionally starting with +."),
                "8–20 digits, optionally starting with +",
                phone,
            )
        )
    return out


def edit_check_problems(values: Mapping[str, Any]) -> list[Problem]:
    """The registration's edit checks (``registry.editchecks.REGISTRATION``)."""
    return [
        Problem(
            finding.field,
            f"[{finding.check}] {describe(finding)}",
            str(finding.condition or finding.expected),
            str(finding.found),
        )
        for finding in run_checks(REGISTRATION, dict(values))
    ]


def registration_problems(data: Any, *, check_duplicate: bool = True) -> list[Problem]:
    """Every rule the registration form applies, for a ``Registration``."""
    problems = contact_problems(data.hospital_number, data.email, data.phone)
    problems += date_problems(data.date_of_birth, data.registered_on, data.metastases_diagnosed_on)
    if not any(p.field in {"date_of_birth", "registered_on"} for p in problems):
        problems += edit_check_problems(
            {"date_of_birth": data.date_of_birth, "registered_on": data.registered_on}
        )
    if (
        check_duplicate
        and not any(p.field == "hospital_number" for p in problems)
        and registered_hospital_keys([data.hospital_number])
    ):
        problems.append(duplicate_problem(data.hospital_number))
    return problems
