"""A trial's arms and their timing rules (``treatment.toml``), as data (no Django).

Treatment is configuration, not code per trial: each arm lists the procedures it
records (radiotherapy with its prescription, surgery, ...) and the timing rules between
them, e.g. BLEND's same-day SBRT and surgery (``within_hours = 24``) against surgery then
radiotherapy at least 7 days later, or VERTICAL's single fraction of 18 Gy against 8 Gy.
A recorded treatment that breaks a rule is a protocol deviation (``Arm.deviations``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import MappingProxyType

from blend.protocol.cohort_config import START_RULES
from blend.protocol.errors import ProtocolError, Said
from blend.protocol.reading import Table

PROCEDURE_KINDS = ("radiotherapy", "surgery", "systemic", "other")
PRESCRIPTIONS = ("default", "fixed")  # the form starts from it | a different dose is a deviation
TIMING_LIMITS = ("within_hours", "at_least_days", "at_most_days")

When = date | datetime


@dataclass(frozen=True)
class Procedure:
    code: str
    kind: str
    label: str
    dose_gy: float | None = None
    fractions: int | None = None
    prescription: str | None = None
    schedules: tuple[str, ...] = ()  # radiotherapy schedules to choose from, when not prescribed
    constraints: Mapping[str, float] = field(default_factory=dict)  # dose constraints, Gy

    def dose_deviation(self, dose_gy: float | None, fractions: int | None) -> bool:
        """A fixed prescription delivered otherwise (unknown values are not a deviation)."""
        if self.prescription != "fixed" or dose_gy is None or fractions is None:
            return False
        return (float(dose_gy), int(fractions)) != (self.dose_gy, self.fractions)


@dataclass(frozen=True)
class TimingRule:
    first: str
    then: str
    limit: str  # one of TIMING_LIMITS
    amount: float

    def broken(self, first: When | None, then: When | None) -> bool:
        """Whether the recorded times break the rule (not while either is unknown).
        ``within_hours`` counts the hours between the two, in either order, as the treatment
        form always has; the day limits count calendar days from ``first`` to ``then``."""
        if first is None or then is None:
            return False
        if self.limit == "within_hours":
            if not isinstance(first, datetime) or not isinstance(then, datetime):
                return False  # hours need times of day
            return abs((then - first).total_seconds()) / 3600 > self.amount
        days = (_day(then) - _day(first)).days
        return days < self.amount if self.limit == "at_least_days" else days > self.amount

    def describe(self) -> str:
        if self.limit == "within_hours":
            return f"{self.then} within {self.amount:g} hours of {self.first}"
        bound = "at least" if self.limit == "at_least_days" else "at most"
        return f"{self.then} {bound} {self.amount:g} days after {self.first}"


def _day(value: When) -> date:
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class Arm:
    code: str
    label: str
    procedures: tuple[Procedure, ...]
    timing: tuple[TimingRule, ...]

    def procedure(self, code: str) -> Procedure:
        for procedure in self.procedures:
            if procedure.code == code:
                return procedure
        codes = [p.code for p in self.procedures]
        raise ProtocolError(f"arm {self.code}: procedure expected one of {codes}, got {code!r}")

    def deviations(self, when: Mapping[str, When | None]) -> list[str]:
        """The timing rules the recorded procedure times (procedure code → date or datetime)
        break, described."""
        return [
            rule.describe()
            for rule in self.timing
            if rule.broken(when.get(rule.first), when.get(rule.then))
        ]


@dataclass(frozen=True)
class TreatmentPlan:
    start_of_treatment: str
    arms: Mapping[str, Arm]

    def arm(self, code: str) -> Arm:
        try:
            return self.arms[code]
        except KeyError:
            raise ProtocolError(f"arm: expected one of {list(self.arms)}, got {code!r}") from None

    def start_day(self, arm: str, days: Mapping[str, date | None]) -> date | None:
        """Day 0 of the schedule from the recorded procedure days (code → day) of one arm,
        by ``start_of_treatment``; None until such a procedure has happened."""
        kinds = {p.code: p.kind for p in self.arm(arm).procedures}
        wanted = [
            day
            for code, day in days.items()
            if day is not None
            and code in kinds
            and self.start_of_treatment in ("first_treatment_day", kinds[code])
        ]
        return min(wanted) if wanted else None


def parse_treatment_plan(treatment: Table, arms: Sequence[str]) -> TreatmentPlan:
    """Validate ``treatment.toml`` against the trial's arms (``trial.toml`` ``arms``)."""
    treatment.only({"start_of_treatment", "arms"})
    start = treatment.choice("start_of_treatment", START_RULES)
    tables = treatment.table("arms")
    if sorted(tables.names()) != sorted(arms):
        raise tables.error(
            "",
            f"one table per arm of trial.toml: {', '.join(f'[arms.{a}]' for a in arms)}",
            Said(", ".join(f"[arms.{a}]" for a in tables.names()) or "none"),
        )
    plan = TreatmentPlan(
        start, MappingProxyType({code: _arm(code, tables.table(code)) for code in arms})
    )
    if start != "first_treatment_day":
        for arm in plan.arms.values():
            if start not in {p.kind for p in arm.procedures}:
                raise treatment.error(
                    "start_of_treatment",
                    f"a kind of procedure every arm has (arm {arm.code} has no {start})",
                    start,
                )
    return plan


def _arm(code: str, table: Table) -> Arm:
    table.only({"label", "procedures", "timing"})
    procedures = tuple(_procedure(t) for t in table.tables("procedures"))
    codes = [p.code for p in procedures]
    if not procedures or len(set(codes)) != len(codes):
        raise table.error(
            "procedures", "at least one [[procedures]] table, each with its own code", codes
        )
    timing = tuple(_timing(t, codes) for t in table.tables("timing", default=[]))
    return Arm(code, table.text("label"), procedures, timing)


def _procedure(table: Table) -> Procedure:
    table.only(
        {
            "code",
            "kind",
            "label",
            "dose_gy",
            "fractions",
            "prescription",
            "schedules",
            "constraints",
        }
    )
    kind = table.choice("kind", PROCEDURE_KINDS)
    procedure = Procedure(
        code=table.text("code"),
        kind=kind,
        label=table.text("label"),
        dose_gy=table.number("dose_gy", minimum=0.1) if "dose_gy" in table else None,
        fractions=table.integer("fractions", minimum=1) if "fractions" in table else None,
        prescription=table.choice("prescription", PRESCRIPTIONS)
        if "prescription" in table
        else None,
        schedules=table.texts("schedules", default=()),
        constraints=MappingProxyType(_constraints(table)),
    )
    prescribed = procedure.dose_gy is not None or procedure.fractions is not None
    if kind != "radiotherapy":
        for key in ("dose_gy", "fractions", "prescription", "schedules", "constraints"):
            if key in table:
                raise table.error(key, "no dose keys: only radiotherapy has a dose", table.raw[key])
    elif prescribed and (procedure.dose_gy is None or procedure.fractions is None):
        missing = "fractions" if procedure.fractions is None else "dose_gy"
        raise table.error(missing, "both dose_gy and fractions for a prescription", None)
    elif not prescribed and not procedure.schedules:
        raise table.error(
            "dose_gy", "a prescription (dose_gy and fractions) or a list of schedules", None
        )
    if prescribed and procedure.prescription is None:
        return replace(procedure, prescription="default")
    return procedure


def _constraints(table: Table) -> dict[str, float]:
    if "constraints" not in table:
        return {}
    constraints = table.table("constraints")
    return {name: constraints.number(name, minimum=0) for name in constraints.names()}


def _timing(table: Table, procedures: Sequence[str]) -> TimingRule:
    table.only({"first", "then", *TIMING_LIMITS})
    first, then = table.choice("first", procedures), table.choice("then", procedures)
    if first == then:
        raise table.error("then", f"another procedure than first ({first!r})", then)
    limits = [name for name in TIMING_LIMITS if name in table]
    if len(limits) != 1:
        raise table.error("", f"exactly one of {list(TIMING_LIMITS)}", Said(f"{limits or 'none'}"))
    return TimingRule(first, then, limits[0], table.number(limits[0], minimum=0))
