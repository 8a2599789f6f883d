"""Declarative edit checks: ranges, required-if, cross-field rules and date order.

A check takes a mapping of values (a form's cleaned data, or a saved row plus the
participant's timeline) and returns findings. The same declarations run live in
forms (``EditCheckMixin``) and over the whole database (``blend check-data``), so a
rule is written once. Pure Python: no Django.

A check stays silent while a value it needs is missing; "missing" is the business
of ``RequiredIf``. Timeline values (dates from other forms of the same participant)
are keyed ``timeline.<name>``. Reading them costs queries, so a form fetches only
the timeline dates its checks name (:func:`timeline_names`): a ``RequiredIf``
condition or a ``CrossField`` rule must not read a timeline date it does not name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

TIMELINE_PREFIX = "timeline."


@dataclass(frozen=True)
class Finding:
    check: str
    field: str
    message: str


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
            what = self.label or self.field
            return [
                Finding(
                    self.code,
                    self.field,
                    f"{what}: expected {self.low:g}–{self.high:g}, got {value!r}",
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
                    f"{self.field}: expected a value when {self.when}; got nothing",
                )
            ]
        return []


@dataclass(frozen=True)
class CrossField:
    """A rule over several fields; silent unless every field in ``needs`` has a value."""

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
        found = ", ".join(f"{name}={values.get(name)!s}" for name in self.needs)
        return [Finding(self.code, self.field, f"{self.message}; got {found}")]


@dataclass(frozen=True)
class DateOrder:
    """``earlier`` ≤ ``later`` (or < when ``strict``); the finding is put on ``later``
    unless ``blame`` names the field to fix."""

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
        relation = "after" if self.strict else "on or after"
        return [
            Finding(
                self.code,
                self.blame or self.later,
                f"{self.later}: expected {relation} {self.earlier} ({first}), got {second}",
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
    a later timepoint completed before an earlier one is a date error in one of them."""
    findings, latest, latest_label = [], None, ""
    for label, _target, done in sorted(events, key=lambda e: e[1]):
        if done is None:
            continue
        if latest is not None and done < latest:
            findings.append(
                Finding(
                    "Q01",
                    "completed_on",
                    f"completed_on: expected {label} on or after "
                    f"{latest_label} ({latest}), got {done}",
                )
            )
        if latest is None or done > latest:
            latest, latest_label = done, label
    return findings
