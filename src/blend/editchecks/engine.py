"""Declarative edit checks: ranges, required-if, cross-field rules and date order.

A check takes a mapping of values (a form's cleaned data, or a saved row plus the
participant's timeline) and returns findings. The same declarations run live in
forms (``EditCheckMixin``) and over the whole database (``blend check-data``), so a
rule is written once. Pure Python: no Django.

A finding is data, not a sentence: the check's code, the field it blames, the kind of
rule (:class:`Rule`), the value found, the value expected and where that expectation
comes from (another field or a timeline date). The Django layer turns it into words
in the reader's language, with the fields' labels (``blend.web.findings``);
:attr:`Finding.message` is a plain English rendering for logs and the command line.

A check stays silent while a value it needs is missing; "missing" is the business
of ``RequiredIf``. Timeline values (dates from other forms of the same participant)
are keyed ``timeline.<name>``. Reading them costs queries, so a form fetches only
the timeline dates its checks name (:func:`timeline_names`): a ``RequiredIf``
condition or a ``CrossField`` rule must not read a timeline date it does not name.

The texts a check declares in words (``RequiredIf.when``, ``CrossField.message``) are
English msgids: the app marks them for translation (``gettext_noop``) and the Django
layer translates them when it renders the finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

TIMELINE_PREFIX = "timeline."


class Rule(StrEnum):
    """The kind of rule a finding breaks: what the renderer has to say about it."""

    RANGE = "range"  # found is outside expected = (low, high)
    REQUIRED = "required"  # found is blank, though condition holds
    CROSS_FIELD = "cross_field"  # the rule in words (condition) fails on values
    DATE_ORDER = "date_order"  # found must be <relation> expected, the date of expected_from
    SCHEDULE_ORDER = "schedule_order"  # subject completed (found) before expected_from (expected)


class Relation(StrEnum):
    """How the blamed date must relate to the date it is compared with."""

    ON_OR_AFTER = "on_or_after"
    AFTER = "after"
    ON_OR_BEFORE = "on_or_before"
    BEFORE = "before"


_RELATION_WORDS = {
    Relation.ON_OR_AFTER: "on or after",
    Relation.AFTER: "after",
    Relation.ON_OR_BEFORE: "on or before",
    Relation.BEFORE: "before",
}


@dataclass(frozen=True)
class Finding:
    """One failed check, as data.

    ``field`` is the field to fix. ``found`` is its value; ``expected`` what the rule
    compared it with (``(low, high)`` for a range, a date for a date order) and
    ``expected_from`` where that came from (a field name or ``timeline.<name>``).
    ``condition`` is the rule or the condition in words (an English msgid) and
    ``values`` the (field, value) pairs a cross-field rule read. ``subject`` names what
    the finding is about when the field alone does not (the timepoint, for Q01).
    """

    check: str
    field: str
    rule: Rule
    found: Any = None
    expected: Any = None
    expected_from: str = ""
    relation: Relation | None = None
    condition: str = ""
    values: tuple[tuple[str, Any], ...] = ()
    label: str = ""
    subject: str = ""

    @property
    def message(self) -> str:
        """The finding in plain English with the fields' names (logs, ``blend check-data``)."""
        what = self.label or self.field
        if self.rule is Rule.RANGE:
            low, high = self.expected
            return f"{what}: expected {low:g}–{high:g}, got {self.found!r}"
        if self.rule is Rule.REQUIRED:
            return f"{what}: expected a value when {self.condition}; got nothing"
        if self.rule is Rule.CROSS_FIELD:
            found = ", ".join(f"{name}={value!s}" for name, value in self.values)
            return f"{what}: {self.condition}; got {found}"
        relation = _RELATION_WORDS[self.relation or Relation.ON_OR_AFTER]
        if self.rule is Rule.SCHEDULE_ORDER:
            return (
                f"{what}: expected {self.subject} {relation} "
                f"{self.expected_from} ({self.expected}), got {self.found}"
            )
        return (
            f"{what}: expected {relation} {self.expected_from} ({self.expected}), got {self.found}"
        )


def blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


@dataclass(frozen=True)
class Range:
    """A number within [low, high]."""

    code: str
    field: str
    low: float
    high: float
    label: str = ""

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.field,)

    def run(self, values: Mapping[str, Any]) -> list[Finding]:
        value = values.get(self.field)
        if blank(value):
            return []
        if not isinstance(value, int | float) or not self.low <= value <= self.high:
            return [
                Finding(
                    self.code,
                    self.field,
                    Rule.RANGE,
                    found=value,
                    expected=(self.low, self.high),
                    label=self.label,
                )
            ]
        return []


@dataclass(frozen=True)
class RequiredIf:
    """``field`` must have a value when ``condition(values)`` holds (described in words)."""

    code: str
    field: str
    condition: Callable[[Mapping[str, Any]], bool]
    when: str

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.field,)

    def run(self, values: Mapping[str, Any]) -> list[Finding]:
        if self.condition(values) and blank(values.get(self.field)):
            return [
                Finding(
                    self.code,
                    self.field,
                    Rule.REQUIRED,
                    found=values.get(self.field),
                    condition=self.when,
                )
            ]
        return []


@dataclass(frozen=True)
class CrossField:
    """A rule over several fields; silent unless every field in ``needs`` has a value.

    ``message`` says what the rule expects of the blamed field, without naming it (it is
    shown after the field's label): e.g. "must be 'fatal' for a grade 5 event"."""

    code: str
    field: str
    needs: tuple[str, ...]
    holds: Callable[[Mapping[str, Any]], bool]
    message: str

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.field, *self.needs)

    def run(self, values: Mapping[str, Any]) -> list[Finding]:
        if any(blank(values.get(name)) for name in self.needs):
            return []
        if self.holds(values):
            return []
        return [
            Finding(
                self.code,
                self.field,
                Rule.CROSS_FIELD,
                found=values.get(self.field),
                condition=self.message,
                values=tuple((name, values.get(name)) for name in self.needs),
            )
        ]


@dataclass(frozen=True)
class DateOrder:
    """``earlier`` ≤ ``later`` (or < when ``strict``); the finding is put on ``later``
    unless ``blame`` names the field to fix (then it must be on or before ``later``)."""

    code: str
    earlier: str
    later: str
    strict: bool = False
    blame: str = ""

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.earlier, self.later)

    def run(self, values: Mapping[str, Any]) -> list[Finding]:
        first, second = _as_date(values.get(self.earlier)), _as_date(values.get(self.later))
        if first is None or second is None:
            return []
        if second > first or (second == first and not self.strict):
            return []
        if self.blame == self.earlier:
            relation = Relation.BEFORE if self.strict else Relation.ON_OR_BEFORE
            found, expected, expected_from = first, second, self.later
        else:
            relation = Relation.AFTER if self.strict else Relation.ON_OR_AFTER
            found, expected, expected_from = second, first, self.earlier
        return [
            Finding(
                self.code,
                self.blame or self.later,
                Rule.DATE_ORDER,
                found=found,
                expected=expected,
                expected_from=expected_from,
                relation=relation,
            )
        ]


EditCheck = Range | RequiredIf | CrossField | DateOrder


def run_checks(checks: Iterable[EditCheck], values: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    for check in checks:
        findings += check.run(values)
    return findings


def timeline_names(checks: Iterable[EditCheck]) -> frozenset[str]:
    """The timeline dates (``timeline.<name>``, by name) that the checks read."""
    return frozenset(
        name.removeprefix(TIMELINE_PREFIX)
        for check in checks
        for name in check.reads
        if name.startswith(TIMELINE_PREFIX)
    )


def out_of_order(events: list[tuple[str, date, date | None]]) -> list[Finding]:
    """Q01: scheduled events (label, target day, done on) must be done in schedule order:
    a later timepoint completed before an earlier one is a date error in one of them.
    The finding's ``subject`` is the later timepoint, ``expected_from`` the earlier one."""
    findings, latest, latest_label = [], None, ""
    for label, _target, done in sorted(events, key=lambda e: e[1]):
        if done is None:
            continue
        if latest is not None and done < latest:
            findings.append(
                Finding(
                    "Q01",
                    "completed_on",
                    Rule.SCHEDULE_ORDER,
                    found=done,
                    expected=latest,
                    expected_from=latest_label,
                    relation=Relation.ON_OR_AFTER,
                    subject=label,
                )
            )
        if latest is None or done > latest:
            latest, latest_label = done, label
    return findings
