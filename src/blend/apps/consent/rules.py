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


def check_withdrawal(states: Mapping[str, Answer | None], item: str) -> None:
    if states.get(item) != Answer.YES:
        raise ValueError(
            f"item {item}: expected a current 'yes' to withdraw, got {states.get(item) or 'nothing recorded'}"
        )


def version_covers(valid_from: date, valid_until: date | None, on: date) -> bool:
    return valid_from <= on and (valid_until is None or on <= valid_until)
