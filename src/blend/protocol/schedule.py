"""The schedule of assessments: parse and validate ``schedule.toml``, and compute the
dates of every timepoint from the start of treatment. No Django.

The schedule is the cohort's routine questionnaire schedule and the same for both
arms (TwiCs: a control participant must get exactly what any cohort member gets), so
nothing here knows about arms: ``plan(anchor)`` takes only the start of treatment.
The cohort's file (``cohort/schedule.toml``) has no primary timepoint: each trial names
its own, and ``with_primary`` gives the schedule as that trial reads it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from typing import Any

from blend.protocol import ProtocolError, load_protocol

# The analysis contract's codes (docs/follow-up.md). A protocol may add later timepoints
# (PRESENT+ follows up to 5 years, e.g. "m24"), named "w<weeks>" or "m<months>".
TIMEPOINT_CODES = ("baseline", "w1", "w2", "w4", "w6", "w8", "w12", "m6", "m12")
CODE_PATTERN = re.compile(r"baseline|w[1-9][0-9]?|m[1-9][0-9]?")
COST_CODE = "cost"
COST_KINDS = ("count", "yesno")
FORBIDDEN_KEYS = ("arm", "arms", "intervention", "control")
WHERE = "schedule.toml"


@dataclass(frozen=True)
class Timepoint:
    code: str
    label_en: str
    label_nl: str
    day: int
    before: int
    after: int
    instruments: tuple[str, ...]

    def label(self, language: str) -> str:
        return self.label_nl if language == "nl" else self.label_en


@dataclass(frozen=True)
class MessageStep:
    """One participant message per open window: ``day`` days after the window opens."""

    step: str
    template: str
    day: int


@dataclass(frozen=True)
class CostItem:
    key: str
    text_en: str
    text_nl: str
    kind: str
    maximum: int | None


@dataclass(frozen=True)
class CostQuestionnaire:
    title_en: str
    title_nl: str
    period_en: str
    period_nl: str
    items: tuple[CostItem, ...]


@dataclass(frozen=True)
class Window:
    """The dates of one timepoint for one participant (all inclusive)."""

    code: str
    target: date
    opens: date
    closes: date


@dataclass(frozen=True)
class Schedule:
    timepoints: tuple[Timepoint, ...]
    primary: str | None  # None in the cohort's routine schedule: the primary is a trial's
    messages: tuple[MessageStep, ...]
    cost: CostQuestionnaire

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(tp.code for tp in self.timepoints)

    def timepoint(self, code: str) -> Timepoint:
        for tp in self.timepoints:
            if tp.code == code:
                return tp
        raise ProtocolError(f"timepoint: expected one of {', '.join(self.codes)}, got {code!r}")

    def plan(self, anchor: date) -> list[Window]:
        """Every timepoint's target day and window, counted from the start of treatment."""
        return [window_for(tp, anchor) for tp in self.timepoints]

    def message_days(self, window: Window) -> list[tuple[MessageStep, date]]:
        """The message steps that fall inside the window, with the day each is due."""
        due = [(step, window.opens + timedelta(days=step.day)) for step in self.messages]
        return [(step, on) for step, on in due if on <= window.closes]

    @property
    def instruments(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for tp in self.timepoints:
            seen.update(dict.fromkeys(tp.instruments))
        return tuple(seen)


def window_for(tp: Timepoint, anchor: date) -> Window:
    target = anchor + timedelta(days=tp.day)
    return Window(
        tp.code, target, target - timedelta(days=tp.before), target + timedelta(days=tp.after)
    )


def _get(mapping: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in mapping:
        raise ProtocolError(f"{where}: expected key {key!r}, found {sorted(mapping)}")
    value = mapping[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ProtocolError(f"{where}: {key} expected {_kind_name(kind)}, got {value!r}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(
        {int: "a whole number", str: "text", list: "a list"}.get(k, k.__name__) for k in kinds
    )


def _timepoint(raw: Mapping[str, Any], index: int) -> Timepoint:
    where = f"{WHERE} timepoints[{index}]"
    for key in FORBIDDEN_KEYS:
        if key in raw:
            raise ProtocolError(
                f"{where}: key {key!r} is not allowed: the schedule is the cohort's and the same "
                "for both arms (TwiCs); remove it"
            )
    instruments = _get(raw, "instruments", list, where)
    if not instruments or not all(isinstance(i, str) for i in instruments):
        raise ProtocolError(
            f"{where}: instruments expected a non-empty list of codes, got {instruments!r}"
        )
    tp = Timepoint(
        code=_get(raw, "code", str, where),
        label_en=_get(raw, "label_en", str, where),
        label_nl=_get(raw, "label_nl", str, where),
        day=_get(raw, "day", int, where),
        before=_get(raw, "before", int, where),
        after=_get(raw, "after", int, where),
        instruments=tuple(instruments),
    )
    if tp.before < 0 or tp.after < 0:
        raise ProtocolError(
            f"{where} ({tp.code}): before/after expected ≥ 0 days, got {tp.before}/{tp.after}"
        )
    return tp


def _messages(raw: Sequence[Mapping[str, Any]]) -> tuple[MessageStep, ...]:
    steps = []
    for index, item in enumerate(raw):
        where = f"{WHERE} messages[{index}]"
        step = MessageStep(
            _get(item, "step", str, where),
            _get(item, "template", str, where),
            _get(item, "day", int, where),
        )
        if step.day < 0:
            raise ProtocolError(
                f"{where} ({step.step}): day expected ≥ 0 (days after the window opens), got {step.day}"
            )
        steps.append(step)
    names = [s.step for s in steps]
    if len(set(names)) != len(names):
        raise ProtocolError(f"{WHERE} messages: step names must be unique, got {names}")
    days = [s.day for s in steps]
    if days != sorted(set(days)):
        raise ProtocolError(f"{WHERE} messages: days expected strictly increasing, got {days}")
    return tuple(steps)


def _cost(raw: Mapping[str, Any]) -> CostQuestionnaire:
    where = f"{WHERE} [cost]"
    items = []
    for index, item in enumerate(_get(raw, "items", list, where)):
        item_where = f"{where} items[{index}]"
        kind = _get(item, "kind", str, item_where)
        if kind not in COST_KINDS:
            raise ProtocolError(f"{item_where}: kind expected one of {COST_KINDS}, got {kind!r}")
        maximum = item.get("maximum")
        if kind == "count" and (not isinstance(maximum, int) or maximum < 1):
            raise ProtocolError(
                f"{item_where}: maximum expected a whole number ≥ 1 for a count, got {maximum!r}"
            )
        items.append(
            CostItem(
                _get(item, "key", str, item_where),
                _get(item, "text_en", str, item_where),
                _get(item, "text_nl", str, item_where),
                kind,
                maximum,
            )
        )
    keys = [i.key for i in items]
    if not keys or len(set(keys)) != len(keys):
        raise ProtocolError(f"{where}: item keys expected non-empty and unique, got {keys}")
    return CostQuestionnaire(
        _get(raw, "title_en", str, where),
        _get(raw, "title_nl", str, where),
        _get(raw, "period_en", str, where),
        _get(raw, "period_nl", str, where),
        tuple(items),
    )


def parse_schedule(
    raw: Mapping[str, Any], known_instruments: Collection[str] | None = None
) -> Schedule:
    """Parse and validate the section; every inconsistency raises ProtocolError naming it."""
    return _checked(_parsed(raw, routine=False), known_instruments)


def parse_routine_schedule(
    raw: Mapping[str, Any], known_instruments: Collection[str] | None = None
) -> Schedule:
    """The cohort's routine schedule (``cohort/schedule.toml``): a schedule without a primary
    timepoint, which belongs to each trial (``trials/<code>/trial.toml``)."""
    if "primary" in raw:
        raise ProtocolError(
            f"{WHERE}: key 'primary' is not allowed in the cohort's schedule: each trial names its "
            "primary timepoint ([primary_outcome] timepoint in its trial.toml); remove it"
        )
    return _checked(_parsed(raw, routine=True), known_instruments)


def with_primary(schedule: Schedule, primary: str) -> Schedule:
    """The routine schedule as one trial reads it: with that trial's primary timepoint."""
    if primary not in schedule.codes:
        raise ProtocolError(
            f"{WHERE}: primary {primary!r} is not a timepoint; expected one of {list(schedule.codes)}"
        )
    return replace(schedule, primary=primary)


def _parsed(raw: Mapping[str, Any], *, routine: bool) -> Schedule:
    timepoints = tuple(_timepoint(t, i) for i, t in enumerate(_get(raw, "timepoints", list, WHERE)))
    return Schedule(
        timepoints=timepoints,
        primary=None if routine else _get(raw, "primary", str, WHERE),
        messages=_messages(_get(raw, "messages", list, WHERE)),
        cost=_cost(_get(raw, "cost", dict, WHERE)),
    )


def _checked(schedule: Schedule, known_instruments: Collection[str] | None) -> Schedule:
    problems = consistency_problems(schedule, known_instruments)
    if problems:
        raise ProtocolError(f"{WHERE}: " + "; ".join(problems))
    return schedule


def consistency_problems(
    schedule: Schedule, known_instruments: Collection[str] | None = None
) -> list[str]:
    """Every reason the schedule cannot be used (empty when it is consistent)."""
    problems = _code_problems(schedule) + _day_problems(schedule)
    if known_instruments is not None:
        allowed = {*known_instruments, COST_CODE}
        for tp in schedule.timepoints:
            unknown = [i for i in tp.instruments if i not in allowed]
            if unknown:
                problems.append(
                    f"{tp.code}: unknown instrument {unknown[0]!r}; expected one of {sorted(allowed)}"
                )
    for tp in schedule.timepoints:
        if len(set(tp.instruments)) != len(tp.instruments):
            problems.append(f"{tp.code}: an instrument is listed twice in {list(tp.instruments)}")
    return problems


def _code_problems(schedule: Schedule) -> list[str]:
    problems = []
    codes = schedule.codes
    unknown = [c for c in codes if not CODE_PATTERN.fullmatch(c)]
    if unknown:
        problems.append(
            f"timepoint code {unknown[0]!r}: expected 'baseline', 'w<weeks>' or 'm<months>' "
            f"(the analysis uses {' '.join(TIMEPOINT_CODES)})"
        )
    missing = [c for c in TIMEPOINT_CODES if c not in codes]
    if missing and codes and not unknown:
        problems.append(
            f"timepoints {missing} are missing: the analysis dataset needs every code of "
            f"{' '.join(TIMEPOINT_CODES)}"
        )
    if len(set(codes)) != len(codes):
        problems.append(f"timepoint codes must be unique, got {list(codes)}")
    if "baseline" not in codes:
        problems.append("a 'baseline' timepoint is required")
    if schedule.primary is not None and schedule.primary not in codes:
        problems.append(
            f"primary {schedule.primary!r} is not a timepoint; expected one of {list(codes)}"
        )
    return problems


def _day_problems(schedule: Schedule) -> list[str]:
    """Targets strictly increasing, baseline before treatment, no window reaching another
    timepoint's target day (windows may touch: an answer belongs to the link it came by)."""
    problems = []
    tps = schedule.timepoints
    days = [tp.day for tp in tps]
    if days != sorted(days) or len(set(days)) != len(days):
        problems.append(
            f"target days must be strictly increasing, got {dict(zip(schedule.codes, days, strict=True))}"
        )
    for tp in tps:
        if tp.code == "baseline" and (tp.day != 0 or tp.after != 0):
            problems.append(
                f"baseline must be before treatment (day 0, after 0), got day {tp.day}, after {tp.after}"
            )
        elif tp.code != "baseline" and tp.day - tp.before <= 0:
            problems.append(
                f"{tp.code}: window opens on day {tp.day - tp.before}, expected after treatment (day ≥ 1)"
            )
        for other in tps:
            if other is not tp and tp.day - tp.before <= other.day <= tp.day + tp.after:
                problems.append(
                    f"{tp.code}: window (days {tp.day - tp.before}..{tp.day + tp.after}) "
                    f"contains the target day of {other.code} (day {other.day})"
                )
    return problems


@cache
def load_schedule() -> Schedule:
    """The schedule of the loaded protocol, validated against the instrument library
    (cached like ``load_protocol``; tests that change the protocol call ``cache_clear``)."""
    from blend.instruments import instrument_codes

    return parse_schedule(load_protocol().section("schedule"), instrument_codes())
