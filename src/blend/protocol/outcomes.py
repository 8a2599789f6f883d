"""A trial's outcomes, mapped onto the cohort's routine measurements (the trial's
``schedule.toml``; no Django).

TwiCs trials take their outcomes from the cohort: a control participant gets exactly
what any cohort member gets, so nothing reveals the trial. A trial's schedule therefore
adds no contact for controls: every outcome is read at a cohort timepoint that already
gives its instruments. Measurements beyond the cohort's are allowed only for those who
accepted the offer (they know they are in the trial), and are labelled as extra.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from blend.protocol.errors import ProtocolError, Said
from blend.protocol.reading import Table
from blend.protocol.schedule import COST_CODE, Schedule

ACCEPTORS = "acceptors"  # the only audience of an extra measurement
ROUTINE_KEYS = ("primary", "timepoints", "messages", "cost")  # the cohort's, never a trial's
ARM_KEYS = ("arm", "arms", "intervention", "control")


@dataclass(frozen=True)
class Outcome:
    measure: str
    label: str
    instruments: tuple[str, ...]
    score: str | None  # "<instrument>.<scale>", or None (e.g. the cost questionnaire)
    timepoints: tuple[str, ...]


@dataclass(frozen=True)
class ExtraMeasurement:
    """A measurement only those who accepted the offer get: at a cohort timepoint
    (``timepoint``) or at a contact of its own (``day``, ``before``, ``after``)."""

    code: str
    label: str
    audience: str
    instruments: tuple[str, ...]
    timepoint: str | None = None
    day: int | None = None
    before: int = 0
    after: int = 0

    extra = True  # labelled as such wherever it is shown or exported


@dataclass(frozen=True)
class TrialSchedule:
    outcomes: tuple[Outcome, ...]
    extra: tuple[ExtraMeasurement, ...] = ()

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(outcome.measure for outcome in self.outcomes)

    def outcome(self, measure: str) -> Outcome:
        for outcome in self.outcomes:
            if outcome.measure == measure:
                return outcome
        raise ProtocolError(f"outcome: expected one of {list(self.measures)}, got {measure!r}")


def parse_trial_schedule(
    schedule: Table, routine: Schedule, instruments: Collection[str], scales: dict[str, set[str]]
) -> TrialSchedule:
    """Validate a trial's ``schedule.toml`` against the cohort's routine schedule.

    ``instruments`` are the instrument codes the cohort may give (``blend.instruments``);
    ``scales`` maps each to its scale keys, for the ``score`` of an outcome.
    """
    schedule.forbid(ROUTINE_KEYS, "the routine schedule is the cohort's: cohort/schedule.toml")
    schedule.only({"outcomes", "extra"})
    outcomes = tuple(_outcome(t, routine, instruments, scales) for t in schedule.tables("outcomes"))
    measures = [o.measure for o in outcomes]
    if not outcomes or len(set(measures)) != len(measures):
        raise schedule.error(
            "outcomes", "at least one [[outcomes]] table, each with its own measure", measures
        )
    extra = tuple(_extra(t, routine, instruments) for t in schedule.tables("extra", default=[]))
    codes = [e.code for e in extra]
    if len(set(codes)) != len(codes):
        raise schedule.error("extra", "each [[extra]] with its own code", codes)
    return TrialSchedule(outcomes, extra)


def _outcome(
    table: Table, routine: Schedule, instruments: Collection[str], scales: dict[str, set[str]]
) -> Outcome:
    table.forbid(ARM_KEYS, "an outcome is measured alike in both arms")
    table.only({"measure", "label", "instruments", "score", "timepoints"})
    outcome = Outcome(
        measure=table.text("measure"),
        label=table.text("label"),
        instruments=_instruments(table, instruments),
        score=_score(table, scales) if "score" in table else None,
        timepoints=table.texts("timepoints"),
    )
    for timepoint in outcome.timepoints:
        _check_routine_contact(table, routine, timepoint, outcome.instruments)
    return outcome


def _check_routine_contact(
    table: Table, routine: Schedule, timepoint: str, instruments: tuple[str, ...]
) -> None:
    """Refuse an outcome the cohort's schedule does not already measure: it would contact
    controls (a visit, or a questionnaire, the cohort does not give)."""
    if timepoint not in routine.codes:
        raise table.error(
            "timepoints",
            f"timepoints of the cohort's schedule ({', '.join(routine.codes)}): "
            "another would add a contact for controls",
            timepoint,
        )
    given = routine.timepoint(timepoint).instruments
    for instrument in instruments:
        if instrument not in given:
            raise table.error(
                "instruments",
                f"instruments the cohort gives at {timepoint} "
                f"({', '.join(given)}): another would add a questionnaire for "
                "controls",
                instrument,
            )


def _instruments(table: Table, known: Collection[str]) -> tuple[str, ...]:
    instruments = table.texts("instruments")
    allowed = [*known, COST_CODE]
    for instrument in instruments:
        if instrument not in allowed:
            raise table.error(
                "instruments", f"codes of blend.instruments or {COST_CODE!r}", instrument
            )
    return instruments


def _score(table: Table, scales: dict[str, set[str]]) -> str:
    score = table.text("score")
    instrument, _, scale = score.partition(".")
    if instrument not in scales or scale not in scales[instrument]:
        known = sorted(scales.get(instrument, ()))
        expected = (
            f"'{instrument}.<scale>' with a scale of {known}"
            if known
            else "'<instrument>.<scale>' naming an instrument of blend.instruments"
        )
        raise table.error("score", expected, score)
    return score


def _extra(table: Table, routine: Schedule, instruments: Collection[str]) -> ExtraMeasurement:
    table.forbid(
        ARM_KEYS, "an extra measurement is for those who accepted the offer, not for an arm"
    )
    table.only({"code", "label", "audience", "instruments", "timepoint", "day", "before", "after"})
    audience = table.text("audience")
    if audience != ACCEPTORS:
        raise table.error(
            "audience",
            f"{ACCEPTORS!r}: an extra measurement for anyone else would "
            "contact controls (or those who refused)",
            audience,
        )
    code = table.text("code")
    if code in routine.codes:
        raise table.error("code", "a code of its own, not one of the cohort's timepoints", code)
    extra = ExtraMeasurement(
        code=code,
        label=table.text("label"),
        audience=audience,
        instruments=_instruments(table, instruments),
        timepoint=table.choice("timepoint", routine.codes) if "timepoint" in table else None,
        day=table.integer("day", minimum=0) if "day" in table else None,
        before=table.integer("before", minimum=0, default=0),
        after=table.integer("after", minimum=0, default=0),
    )
    if (extra.timepoint is None) == (extra.day is None):
        raise table.error(
            "timepoint",
            "either timepoint (a cohort timepoint) or day (a contact of its own), not both",
            Said("both" if extra.day is not None else "neither"),
        )
    return extra
