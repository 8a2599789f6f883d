from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from blend.apps.registry.domain import age_on, check_digit, format_study_id, is_valid_study_id


def test_study_ids_carry_a_luhn_check_digit() -> None:
    assert check_digit(7992739871) == "3"  # the textbook Luhn example
    assert format_study_id(42) == "PRS-00042-" + check_digit(42)


@given(st.integers(min_value=1, max_value=99999))
def test_a_single_mistyped_digit_is_detected(number: int) -> None:
    study_id = format_study_id(number)
    assert is_valid_study_id(study_id)
    digits = study_id.split("-")[1]
    wrong = str((int(digits[-1]) + 1) % 10)
    assert not is_valid_study_id(f"PRS-{digits[:-1]}{wrong}-{study_id[-1]}")


def test_age_counts_completed_years() -> None:
    assert age_on(date(1960, 5, 17), date(2025, 5, 16)) == 64
    assert age_on(date(1960, 5, 17), date(2025, 5, 17)) == 65
