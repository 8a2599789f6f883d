"""Pure consent rules (no Django): the state of each staged-consent item and the
two questions the rest of the platform asks. These functions are the only place
the rules live; ``services.may_randomize`` and ``services.may_send_questionnaires``
feed them from the database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    POSTPONED = "postponed"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Decision:
    """One consent event for one item: a yes/no/postponed answer or a withdrawal."""

    item: str
    answer: Answer
    effective_on: date
    sequence: int  # order of recording, to break ties on the same date


def current_states(decisions: Iterable[Decision], items: Sequence[str]) -> dict[str, Answer | None]:
    """The latest decision per item (None when nothing was ever recorded)."""
    states: dict[str, Answer | None] = {code: None for code in items}
    for decision in sorted(decisions, key=lambda d: (d.effective_on, d.sequence)):
        states[decision.item] = decision.answer
    return states


def missing_items(states: Mapping[str, Answer | None], required: Sequence[str]) -> list[str]:
    """Required items that are not a current 'yes', in protocol order."""
    return [code for code in required if states.get(code) != Answer.YES]


def consent_fact(state: Answer | None) -> bool | None:
    """One item's answer as a three-valued fact for the eligibility engine: a current yes →
    True; no or withdrawn → False; otherwise (not asked yet, postponed) → unknown."""
    if state == Answer.YES:
        return True
    return False if state in {Answer.NO, Answer.WITHDRAWN} else None


def check_withdrawal(states: Mapping[str, Answer | None], item: str) -> None:
    if states.get(item) != Answer.YES:
        raise ValueError(
            f"item {item}: expected a current 'yes' to withdraw, got {states.get(item) or 'nothing recorded'}"
        )


def version_covers(valid_from: date, valid_until: date | None, on: date) -> bool:
    return valid_from <= on and (valid_until is None or on <= valid_until)


def summary_as_of(decisions: Iterable[Decision], required: Sequence[str], on: date | None) -> str:
    """'yes' when every required item is a current yes on ``on`` (None = now), 'no' when any
    is no or withdrawn, else 'postponed' (the three values of screening.csv's consent column)."""
    known = [d for d in decisions if on is None or d.effective_on <= on]
    states = current_states(known, required)
    if not missing_items(states, required):
        return "yes"
    if any(states[item] in (Answer.NO, Answer.WITHDRAWN) for item in required):
        return "no"
    return "postponed"


def withdrawal_date(decisions: Iterable[Decision], items: Sequence[str]) -> date | None:
    """The earliest date on which one of ``items`` stands withdrawn (not consented again)."""
    latest: dict[str, Decision] = {}
    for decision in sorted(decisions, key=lambda d: (d.effective_on, d.sequence)):
        latest[decision.item] = decision
    dates = [
        d.effective_on
        for item, d in latest.items()
        if item in items and d.answer == Answer.WITHDRAWN
    ]
    return min(dates) if dates else None


def date_all_given(decisions: Iterable[Decision], required: Sequence[str]) -> date | None:
    """The date the last of the required items became a current yes, or None if one is not."""
    latest: dict[str, Decision] = {}
    for decision in sorted(decisions, key=lambda d: (d.effective_on, d.sequence)):
        if decision.item in required:
            latest[decision.item] = decision
    if len(latest) < len(required) or any(d.answer != Answer.YES for d in latest.values()):
        return None
    return max(d.effective_on for d in latest.values())
