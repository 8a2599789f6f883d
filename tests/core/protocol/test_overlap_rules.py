"""Overlap rules between trials are configuration, and say for how long they refuse."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from blend.protocol import Membership, clear_caches, load_cohort, load_trials

THIRD = Path(__file__).parent / "trials" / "PALLIATE"


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLEND_TRIALS_DIRS", raising=False)
    monkeypatch.delenv("BLEND_PROTOCOL_DIR", raising=False)
    clear_caches()


def test_not_while_in_another_trials_primary_outcome_window() -> None:
    trials, cohort = load_trials(), load_cohort()
    blend = trials["BLEND"]
    in_vertical = Membership("VERTICAL", date(2026, 1, 5), treatment_started_on=date(2026, 1, 8))
    # VERTICAL's primary is w12: its window closes on day 84 + 7 = 91 after the start of treatment.
    (refusal,) = blend.overlap_refusals([in_vertical], trials, cohort, on=date(2026, 3, 1))
    assert refusal.rule.kind == "not_during_primary_window" and refusal.trial == "VERTICAL"
    assert (
        refusal.reason == "in the primary-outcome window of VERTICAL until 2026-04-09"
    )  # 8 January + 91
    assert refusal.lifts_on == date(2026, 4, 10)
    assert blend.overlap_refusals([in_vertical], trials, cohort, on=date(2026, 4, 10)) == []


def test_a_window_that_has_not_started_gives_no_end_date_yet() -> None:
    trials, cohort = load_trials(), load_cohort()
    waiting = Membership("VERTICAL", date(2026, 1, 5))
    (refusal,) = trials["BLEND"].overlap_refusals([waiting], trials, cohort, on=date(2026, 9, 1))
    assert refusal.lifts_on is None and "not yet recorded" in refusal.reason


def test_one_treatment_episode_one_trial() -> None:
    trials, cohort = load_trials(), load_cohort()
    long_ago = Membership("VERTICAL", date(2020, 1, 5), date(2020, 1, 6), episode="T8 lesion 2020")
    blend = trials["BLEND"]
    (refusal,) = blend.overlap_refusals(
        [long_ago], trials, cohort, on=date(2026, 1, 1), episode="T8 lesion 2020"
    )
    assert (refusal.rule.kind, refusal.lifts_on) == ("one_treatment_episode", None)
    assert (
        blend.overlap_refusals(
            [long_ago], trials, cohort, on=date(2026, 1, 1), episode="L2 lesion 2026"
        )
        == []
    )


def test_never_after_another_trial_and_rules_limited_to_named_trials() -> None:
    trials, cohort = load_trials([THIRD]), load_cohort()
    palliate = trials["PALLIATE"]
    vertical_long_ago = Membership("VERTICAL", date(2018, 1, 5), date(2018, 1, 6))
    (refusal,) = palliate.overlap_refusals([vertical_long_ago], trials, cohort, on=date(2026, 1, 1))
    assert (refusal.rule.describe(), refusal.lifts_on) == ("never after VERTICAL", None)
    in_blend = Membership("BLEND", date(2026, 1, 5), date(2026, 1, 6))
    (window,) = palliate.overlap_refusals([in_blend], trials, cohort, on=date(2026, 1, 20))
    assert window.lifts_on == date(2026, 2, 7)  # BLEND's w4 window closes on day 31
    assert (
        palliate.overlap_refusals(
            [Membership("PALLIATE", date(2026, 1, 5))], trials, cohort, on=date(2026, 1, 20)
        )
        == []
    )  # its own randomization is not an overlap
