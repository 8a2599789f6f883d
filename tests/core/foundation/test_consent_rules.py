from __future__ import annotations

from datetime import date

import pytest

from blend.apps.consent.domain import (
    Answer,
    Decision,
    check_withdrawal,
    current_states,
    missing_items,
    version_covers,
)

ITEMS = ("a", "b", "c", "d", "e")


def test_the_latest_decision_per_item_wins_and_unrecorded_items_are_none() -> None:
    decisions = [
        Decision("c", Answer.POSTPONED, date(2025, 1, 1), 1),
        Decision("c", Answer.YES, date(2025, 2, 1), 2),
        Decision("b", Answer.NO, date(2025, 1, 1), 3),
    ]
    states = current_states(decisions, ITEMS)
    assert states == {"a": None, "b": Answer.NO, "c": Answer.YES, "d": None, "e": None}


def test_same_day_decisions_are_ordered_by_recording_sequence() -> None:
    decisions = [
        Decision("a", Answer.WITHDRAWN, date(2025, 1, 1), 9),
        Decision("a", Answer.YES, date(2025, 1, 1), 2),
    ]
    assert current_states(decisions, ITEMS)["a"] == Answer.WITHDRAWN


@pytest.mark.parametrize("state", [None, Answer.NO, Answer.POSTPONED, Answer.WITHDRAWN])
def test_anything_but_a_current_yes_counts_as_missing(state: Answer | None) -> None:
    assert missing_items({"a": Answer.YES, "c": state}, ["a", "c"]) == ["c"]


def test_only_a_current_yes_can_be_withdrawn() -> None:
    check_withdrawal({"b": Answer.YES}, "b")
    with pytest.raises(ValueError, match="item b: expected a current 'yes'"):
        check_withdrawal({"b": Answer.POSTPONED}, "b")


def test_version_validity_includes_both_ends_and_open_ended_versions() -> None:
    assert version_covers(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31))
    assert version_covers(date(2024, 1, 1), None, date(2030, 1, 1))
    assert not version_covers(date(2024, 1, 1), date(2024, 12, 31), date(2025, 1, 1))
    assert not version_covers(date(2024, 1, 1), None, date(2023, 12, 31))


def test_the_consent_summary_is_yes_no_or_postponed_as_of_a_date() -> None:
    from blend.apps.consent.domain import summary_as_of

    decisions = [
        Decision("c", Answer.POSTPONED, date(2025, 1, 1), 1),
        Decision("d", Answer.YES, date(2025, 1, 1), 2),
        Decision("c", Answer.YES, date(2025, 2, 1), 3),
        Decision("d", Answer.WITHDRAWN, date(2025, 3, 1), 4),
    ]
    assert summary_as_of(decisions, ["c", "d"], date(2025, 1, 15)) == "postponed"
    assert summary_as_of(decisions, ["c", "d"], date(2025, 2, 15)) == "yes"
    assert summary_as_of(decisions, ["c", "d"], None) == "no"


def test_the_withdrawal_date_ignores_items_consented_again_and_other_items() -> None:
    from blend.apps.consent.domain import withdrawal_date

    decisions = [
        Decision("b", Answer.WITHDRAWN, date(2025, 1, 1), 1),
        Decision("b", Answer.YES, date(2025, 2, 1), 2),
        Decision("a", Answer.WITHDRAWN, date(2025, 4, 1), 3),
        Decision("e", Answer.WITHDRAWN, date(2025, 3, 1), 4),
    ]
    assert withdrawal_date(decisions, ["a", "b"]) == date(2025, 4, 1)
    assert withdrawal_date(decisions[:2], ["a", "b"]) is None


def test_the_date_all_items_were_given_is_the_last_of_them() -> None:
    from blend.apps.consent.domain import date_all_given

    decisions = [
        Decision("a", Answer.YES, date(2025, 1, 1), 1),
        Decision("c", Answer.POSTPONED, date(2025, 1, 1), 2),
        Decision("c", Answer.YES, date(2025, 3, 1), 3),
    ]
    assert date_all_given(decisions, ["a", "c"]) == date(2025, 3, 1)
    assert date_all_given(decisions[:2], ["a", "c"]) is None
    assert date_all_given(decisions, ["a", "c", "d"]) is None
