"""Pure rules of the cohort registry (no Django)."""

from __future__ import annotations

from datetime import date

# The cohort's cohort.toml [identifiers] sets both; these are PRESENT's, for callers that
# name none.
STUDY_ID_PREFIX = "PRS"
STUDY_ID_DIGITS = 5


def check_digit(number: int) -> str:
    """A Luhn mod-10 check digit, so that a mistyped study ID is caught at once."""
    digits = [int(d) for d in str(number)][::-1]
    total = 0
    for i, d in enumerate(digits):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return str((10 - total % 10) % 10)


def format_study_id(
    number: int, prefix: str = STUDY_ID_PREFIX, digits: int = STUDY_ID_DIGITS
) -> str:
    return f"{prefix}-{number:0{digits}d}-{check_digit(number)}"


def is_valid_study_id(text: str, prefix: str = STUDY_ID_PREFIX) -> bool:
    parts = text.split("-")
    if len(parts) != 3 or parts[0] != prefix or not parts[1].isdigit():
        return False
    return parts[2] == check_digit(int(parts[1]))


def age_on(date_of_birth: date, on: date) -> int:
    """Completed years on ``on``."""
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - int(before_birthday)
