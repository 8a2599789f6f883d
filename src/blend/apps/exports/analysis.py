"""The analysis dataset of ``docs/contracts/analysis-dataset.md``, built from the database.

Every table is read with one query and streamed from its cursor: the files with a row per
participant walk their tables side by side in study-ID order (``_Rows``), holding one
participant at a time, so memory does not grow with the cohort. No direct identifier is read into any row: the date of birth is used for the age
and dropped.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, overload

from django.db import NotSupportedError, models
from django.db.models import F, Func, Max, OuterRef, Subquery, TextField
from django.db.models.functions import Collate
from django.utils import timezone

from blend.apps.allocation.models import Allocation
from blend.apps.consent import domain as rules
from blend.apps.consent.models import ConsentRecord
from blend.apps.exports.neutralise import neutralise
from blend.apps.exports.tables import binary_collation, raw_chunks
from blend.apps.followup.models import (
    HospitalAdmission,
    NeuroAssessment,
    ReIntervention,
    SystemicTherapy,
    VitalStatus,
)
from blend.apps.offers.models import Offer
from blend.apps.questionnaires.models import Response
from blend.apps.registry.domain import age_on
from blend.apps.registry.models import Identity, Participant
from blend.apps.safety.models import AdverseEvent
from blend.apps.screening.models import Screening
from blend.apps.treatment.models import TreatmentRecord
from blend.apps.treatment.services import (
    is_configured,
    received_allocated_intervention,
    start_from_record,
)
from blend.apps.trials.lookup import get_trial, trial_code_or_default
from blend.protocol import load_protocol

SCREENING_COLUMNS = [
    "study_id",
    "screened_on",
    "randomization_consent",
    "eligibility",
    "ineligibility_reasons",
    "randomized",
]
PARTICIPANT_COLUMNS = [
    "study_id",
    "randomized_on",
    "arm",
    "stratum",
    "offered",
    "accepted",
    "refusal_reason",
    "received_intervention",
    "treatment_start",
    "death_date",
    "last_contact",
    "withdrawn_on",
    "age",
    "sex",
    "primary_tumour",
    "sins_total",
    "performance_status",
    "systemic_restart_date",
    "hospital_days",
    "neuro_deterioration",
]
ASSESSMENT_COLUMNS = ["study_id", "timepoint", "assessed_on", "instrument", "scale", "value"]
AE_COLUMNS = ["study_id", "term", "grade", "serious", "onset_date", "related"]
COST_COLUMNS = ["study_id", "category", "amount_eur"]
FILES = {
    "screening.csv": SCREENING_COLUMNS,
    "participants.csv": PARTICIPANT_COLUMNS,
    "assessments.csv": ASSESSMENT_COLUMNS,
    "adverse_events.csv": AE_COLUMNS,
    "costs.csv": COST_COLUMNS,
}

# platform instrument code -> (contract instrument, {platform scale: contract scale})
INSTRUMENT_MAP: dict[str, tuple[str, dict[str, str]]] = {
    "qlq-c15-pal": (
        "qlq-c15-pal",
        {s: s for s in ("PF", "EF", "FA", "NV", "PA", "DY", "SL", "AP", "CO", "QL")},
    ),
    "eq5d5l-nl": ("eq5d5l-nl", {"index": "index", "vas": "vas"}),
    "pain-nrs": ("pain", {"worst_pain": "worst_pain"}),
    "omed": ("pain", {"omed": "omed"}),
}
ASIA_ORDER = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}


def config(trial: str | None = None) -> dict[str, Any]:
    """The trial's exports.toml (recruitment period, unit costs, cost horizon)."""
    return get_trial(trial).section("exports")


def fmt(value: Any) -> str:
    """The contract's text form: ISO dates, true/false, empty for missing (exact types first: it runs per cell)."""
    kind = type(value)
    if kind is str:
        return value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is float:
        return f"{value:.10g}"
    if kind is int:
        return str(value)
    if kind is date:
        return value.isoformat()
    if isinstance(value, datetime):
        return local_day(value).isoformat()
    return str(value)


@overload
def local_day(value: datetime | date) -> date: ...
@overload
def local_day(value: None) -> None: ...
def local_day(value: datetime | date | None) -> date | None:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _in_study_order(
    qs: models.QuerySet[Any], subject: str, order: tuple[str, ...] | None = None
) -> models.QuerySet[Any]:
    """``qs`` by study ID in code-point order (as Python sorts text, so a walk and
    ``sorted`` agree), each participant's rows in ``order`` (by default the table's own
    ordering, as the rows were read before the walk), then by key."""
    then = qs.model._meta.ordering if order is None else order
    return qs.order_by(Collate(subject, binary_collation(qs.db)), *then, "pk")


def _by_subject(
    qs: models.QuerySet[Any],
    *fields: str,
    subject: str = "participant__study_id",
    order: tuple[str, ...] | None = None,
) -> Iterator[tuple[str, Any]]:
    """(study ID, row) for each row of ``qs``, in study-ID order, streamed from the
    cursor: the row is the one field's value, or the tuple of ``fields``."""
    rows = (
        _in_study_order(qs, subject, order).values_list(subject, *fields).iterator(chunk_size=CHUNK)
    )
    if len(fields) == 1:
        return iter(rows)
    return ((row[0], row[1:]) for row in rows)


CHUNK = 5000


class _Rows:
    """One table's rows by study ID, read as a walk in study-ID order reaches each
    participant: only the rows of one participant are held, so the files that have a
    row per participant are written in memory that does not grow with the cohort."""

    def __init__(self, rows: Iterator[tuple[str, Any]]) -> None:
        self._rows = rows
        self._head = next(rows, None)

    def of(self, study_id: str) -> list[Any]:
        """The rows of ``study_id`` (the rows of earlier study IDs are passed over: the
        walk is over another table, e.g. only the randomized)."""
        found = []
        while (head := self._head) is not None and head[0] <= study_id:
            if head[0] == study_id:
                found.append(head[1])
            self._head = next(self._rows, None)
        return found

    def last(self, study_id: str) -> Any:
        """The participant's row of a table with at most one (None without)."""
        found = self.of(study_id)
        return found[-1] if found else None


def _decisions() -> _Rows:
    rows = _by_subject(ConsentRecord.objects.all(), "item", "answer", "effective_on", "id")
    return _Rows(
        (study_id, rules.Decision(item, rules.Answer(answer), on, pk))
        for study_id, (item, answer, on, pk) in rows
    )


def _allocations(trial: str) -> Iterator[tuple[str, Any]]:
    return _by_subject(Allocation.objects.filter(trial=trial), "allocated_at", "arm", "stratum")


def _treatments(trial: str) -> _Rows:
    records = _in_study_order(
        TreatmentRecord.objects.filter(trial=trial), "participant__study_id"
    ).annotate(subject_study_id=F("participant__study_id"))
    return _Rows((t.subject_study_id, t) for t in records.iterator(chunk_size=CHUNK))


def _last_responses() -> _Rows:
    """The day of each participant's latest submitted questionnaire."""
    days = (
        _submitted()
        .filter(completed_on__isnull=False)
        .values("participant_id", "participant__study_id")
        .annotate(last=Max("completed_on"))
        .order_by(Collate("participant__study_id", binary_collation(Response.objects.db)))
        .values_list("participant__study_id", "last")
    )
    return _Rows(iter(days.iterator(chunk_size=CHUNK)))


def _cost_answers() -> _Rows:
    """(day, the cost questionnaire's answers) of each submitted questionnaire with cost
    answers, a participant's in the order they were stored. Only these are decoded."""
    rows = _by_subject(
        _submitted().filter(completed_on__isnull=False, answers__has_key="cost"),
        "completed_on",
        "answers__cost",
        order=(),
    )
    return _Rows((s, (on, cost)) for s, (on, cost) in rows if isinstance(cost, dict))


def _submitted() -> models.QuerySet[Response]:
    return Response.objects.filter(status="submitted")


def randomization_consent(decisions: list[rules.Decision], on: date | None) -> str:
    """yes / no / postponed for the randomization-consent items, as of ``on`` (None = now)."""
    return rules.summary_as_of(decisions, load_protocol().randomization_consent_items, on)


def withdrawn_on(decisions: list[rules.Decision], randomized_on: date) -> date | None:
    """When an item further data collection needs was withdrawn (and not consented again).
    A withdrawal before randomization counts from the randomization date: no trial data were collected."""
    withdrawn = rules.withdrawal_date(decisions, load_protocol().questionnaire_consent_items)
    return max(withdrawn, randomized_on) if withdrawn else None


def screening_row(
    study_id: str,
    screening: tuple[Any, ...],
    decisions: list[rules.Decision],
    randomized_on: date | None,
) -> dict[str, Any]:
    screened_on, status, reasons, _facts = screening
    return {
        "study_id": study_id,
        "screened_on": screened_on,
        "randomization_consent": randomization_consent(decisions, randomized_on),
        "eligibility": status,
        "ineligibility_reasons": ";".join(sorted(reasons or {})) if status != "eligible" else "",
        "randomized": randomized_on is not None,
    }


def received_intervention(record: TreatmentRecord | None) -> bool:
    """BLEND: same-day SBRT and surgery actually given (both started, on one calendar day).
    A trial recorded as its treatment.toml says: every procedure of the intervention arm
    given, none at another dose than prescribed."""
    if record is not None and is_configured(record):
        return received_allocated_intervention(record)
    if record is None or record.pathway != "same_day":
        return False
    return bool(
        record.radiotherapy_day
        and record.surgery_day
        and record.radiotherapy_day == record.surgery_day
    )


def treatment_start(record: TreatmentRecord | None) -> date | None:
    if record is None:
        return None
    return start_from_record(record)


def hospital_days(admissions: list[tuple[date, date | None, bool]], today: date) -> int:
    return sum(
        ((discharged or today) - admitted).days
        for admitted, discharged, index in admissions
        if index
    )


def neuro_deterioration(assessments: list[tuple[date, str]], start: date | None) -> bool | None:
    """A decline of at least one ASIA grade from the last grade before treatment to any grade by week 12."""
    if start is None:
        return None
    graded = sorted((on, ASIA_ORDER[g]) for on, g in assessments if g in ASIA_ORDER)
    before = [grade for on, grade in graded if on <= start]
    after = [grade for on, grade in graded if start < on <= start + timedelta(weeks=12)]
    if not before or not after:
        return None
    return min(after) < before[-1]


def _offer_columns(arm: str, offer: tuple[Any, ...] | None) -> dict[str, Any]:
    if arm != "intervention":
        return {"offered": None, "accepted": None, "refusal_reason": ""}
    state, reason = offer if offer else (None, None)
    offered = state in {"offered", "accepted", "refused"}
    # an offer still awaiting the decision counts as not (yet) accepted: the contract wants a boolean
    return {
        "offered": offered,
        "accepted": (state == "accepted") if offered else None,
        "refusal_reason": (reason or "not given") if state == "refused" else "",
    }


def _last_contact(vital: tuple[date, date | None] | None, known: list[date | None]) -> date:
    if vital and vital[1]:
        return vital[1]
    dates = [d for d in [*known, vital[0] if vital else None] if d is not None]
    return max(dates)


class SubjectFiles:
    """screening.csv, participants.csv and costs.csv (a row or a few per participant),
    made in one walk over the participants in study-ID order with every table they are
    derived from read beside it (``_Rows``): each table is read once, and only one
    participant's rows are held."""

    NAMES = ("screening.csv", "participants.csv", "costs.csv")

    def __init__(self, trial: str, today: date) -> None:
        self.trial, self.today = trial, today

    def __iter__(self) -> Iterator[tuple[list[dict[str, Any]], ...]]:
        """Each participant's rows of the three files (in ``NAMES`` order)."""
        src = _Sources(self.trial)
        prices = {k: float(v) for k, v in config(self.trial)["unit_costs"].items()}
        horizon = timedelta(days=int(config(self.trial).get("horizon_days", 182)))
        for study_id, person in src.people:
            screening, allocation = src.screenings.last(study_id), src.allocations.last(study_id)
            if screening is None and allocation is None:
                continue
            decisions = src.decisions.of(study_id)
            randomized_on = local_day(allocation[0]) if allocation is not None else None
            screened = (
                []
                if screening is None
                else [screening_row(study_id, screening, decisions, randomized_on)]
            )
            if allocation is None or randomized_on is None:
                yield screened, [], []
                continue
            record = src.treatments.last(study_id)
            admissions = src.admissions.of(study_id)
            yield (
                screened,
                [
                    participant_row(
                        src,
                        study_id,
                        person,
                        allocation,
                        randomized_on,
                        screening,
                        decisions,
                        record,
                        admissions,
                        self.today,
                    )
                ],
                cost_rows(
                    study_id,
                    _cost_lines(
                        record,
                        admissions,
                        src.reinterventions.of(study_id),
                        randomized_on,
                        randomized_on + horizon,
                        prices,
                    ),
                    src.cost_answers.of(study_id),
                    randomized_on + horizon,
                    prices,
                ),
            )


class _Sources:
    """The tables the per-participant files are derived from, each in study-ID order."""

    def __init__(self, trial: str) -> None:
        self.people = _by_subject(
            Participant.objects.all(),
            "sex",
            "primary_tumour",
            "performance_status",
            "birth_year",
            subject="study_id",
        )
        self.screenings = _Rows(
            _by_subject(
                Screening.objects.filter(trial=trial), "screened_on", "status", "reasons", "facts"
            )
        )
        self.allocations = _Rows(_allocations(trial))
        self.births = _Rows(_by_subject(Identity.objects.all(), "date_of_birth"))
        self.decisions = _decisions()
        self.offers = _Rows(_by_subject(Offer.objects.filter(trial=trial), "state", "reason"))
        self.treatments = _treatments(trial)
        self.vital = _Rows(_by_subject(VitalStatus.objects.all(), "last_contact_on", "died_on"))
        self.systemic = _Rows(_by_subject(SystemicTherapy.objects.all(), "started_on"))
        self.admissions = _Rows(
            _by_subject(
                HospitalAdmission.objects.all(), "admitted_on", "discharged_on", "index_treatment"
            )
        )
        self.neuro = _Rows(_by_subject(NeuroAssessment.objects.all(), "assessed_on", "asia_grade"))
        self.reinterventions = _Rows(
            _by_subject(ReIntervention.objects.all(), "performed_on", "kind")
        )
        self.last_response = _last_responses()
        self.cost_answers = _cost_answers()


def participant_row(
    src: _Sources,
    study_id: str,
    person: tuple[Any, ...],
    allocation: tuple[Any, ...],
    randomized_on: date,
    screening: tuple[Any, ...] | None,
    decisions: list[rules.Decision],
    record: TreatmentRecord | None,
    admissions: list[tuple[date, date | None, bool]],
    today: date,
) -> dict[str, Any]:
    sex, tumour, performance, birth_year = person
    _allocated_at, arm, stratum = allocation
    start = treatment_start(record)
    vital, births = src.vital.last(study_id), src.births.of(study_id)
    restart = [
        d for d in src.systemic.of(study_id) if d >= (start or randomized_on)
    ]  # a restart, not ongoing
    facts = (screening[3] if screening is not None else None) or {}
    return {
        "study_id": study_id,
        "randomized_on": randomized_on,
        "arm": arm,
        "stratum": stratum or "",
        **_offer_columns(arm, src.offers.last(study_id)),
        "received_intervention": received_intervention(record),
        "treatment_start": start,
        "death_date": (vital or (None, None))[1],
        "last_contact": _last_contact(
            vital, [randomized_on, start, src.last_response.last(study_id)]
        ),
        "withdrawn_on": withdrawn_on(decisions, randomized_on),
        "age": age_on(births[-1], randomized_on) if births else randomized_on.year - birth_year,
        "sex": sex,
        "primary_tumour": tumour,
        "sins_total": facts.get("sins_total"),
        "performance_status": performance,
        "systemic_restart_date": min(restart) if restart else None,
        "hospital_days": hospital_days(admissions, today),
        "neuro_deterioration": neuro_deterioration(src.neuro.of(study_id), start),
    }


#: (platform instrument, platform scale, contract instrument, contract scale), in the
#: order the contract file lists a questionnaire's scores (by instrument, then scale).
SCORES = sorted(
    (
        (code, scale, instrument, contract_scale)
        for code, (instrument, scales) in INSTRUMENT_MAP.items()
        for scale, contract_scale in scales.items()
    ),
    key=lambda s: (s[2], s[3]),
)


class ScoreText(Func):
    """The JSON text of the number at ``scores[code][scale]``, or NULL when it is absent or
    not a number (true/false are not scores). Read in SQL, so a questionnaire's document is
    never decoded in Python; the text is the document's own, so ``float`` reads it as the
    JSON decoder would."""

    output_field = TextField()

    def __init__(self, expression: Any, code: str, scale: str) -> None:
        super().__init__(expression)
        self.code, self.scale = code, scale

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        path = f'$."{self.code}"."{self.scale}"'
        return (
            f"CASE WHEN json_type({sql}, %s) IN ('integer', 'real') THEN {sql} -> %s END",
            [*params, path, *params, path],
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"CASE WHEN jsonb_typeof({sql} -> %s -> %s) = 'number' THEN {sql} -> %s ->> %s END",
            [*params, self.code, self.scale, *params, self.code, self.scale],
        )

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        raise NotSupportedError(
            f"scores are read on SQLite and PostgreSQL, not {connection.vendor}"
        )


class AssessmentRows:
    """The rows of assessments.csv as text, streamed from the database (one query, in
    study-ID order), one questionnaire at a time: the file is the largest of the dataset
    (one row per score), so it is never held in memory. Rows are sorted by study ID,
    day, instrument and scale, as the contract lists them."""

    def __init__(self, trial: str) -> None:
        self.trial = trial

    def _queryset(self) -> models.QuerySet[Any]:
        randomized = Allocation.objects.filter(trial=self.trial).values("participant_id")
        return (
            _submitted()
            .filter(completed_on__isnull=False, participant_id__in=randomized)
            .order_by(
                Collate("participant__study_id", binary_collation(Response.objects.db)),
                "completed_on",
                "pk",
            )
            .values_list(
                "participant__study_id",
                "assessment__timepoint",
                "completed_on",
                *[ScoreText(F("scores"), code, scale) for code, scale, _i, _s in SCORES],
            )
        )

    def __iter__(self) -> Iterator[list[str]]:
        """The file's lines after its header, as ``write_csv`` quotes them (every field),
        a participant's day at a time (a list of lines: one yield per line would cost
        more than making the line)."""
        labels = [f"{_quoted(neutralise(i))},{_quoted(neutralise(s))}," for _c, _sc, i, s in SCORES]
        days, moments, numbers = _Texts(_iso), _Texts(neutralise), _Texts(_number)
        group: tuple[str, Any] | None = None
        subject = day = ""
        # The day's questionnaires: the start of their lines, and their scores.
        pending: list[tuple[str, list[Any]]] = []
        for chunk in raw_chunks(self._queryset()):
            for study_id, timepoint, on, *values in chunk:
                if (study_id, on) != group:  # a participant's day: its rows sorted together
                    if pending:
                        yield _day_lines(pending, labels, numbers)
                    group, pending = (study_id, on), []
                    subject, day = _quoted(neutralise(study_id)), days[on]
                pending.append((f"{subject},{moments[timepoint]},{day},", values))
        if pending:
            yield _day_lines(pending, labels, numbers)


class _Texts(dict[Any, str]):
    """A value's quoted CSV text, made once per distinct value (days, timepoints and
    scores repeat across a cohort)."""

    def __init__(self, text: Any) -> None:
        super().__init__()
        self.text = text

    def __missing__(self, value: Any) -> str:
        self[value] = quoted = _quoted(self.text(value))
        return quoted


def _quoted(text: str) -> str:
    """A field as ``csv.QUOTE_ALL`` writes it."""
    return '"' + text.replace('"', '""') + '"'


def _number(json_text: str) -> str:
    return fmt(float(json_text))


def _day_lines(
    pending: list[tuple[str, list[Any]]], labels: list[str], numbers: _Texts
) -> list[str]:
    """One participant's lines of one day, by instrument and scale. One questionnaire's
    scores come in that order already; of two on one day, each score's lines keep the
    order the questionnaires were stored in (a stable sort)."""
    if len(pending) == 1:
        head, values = pending[0]
        return [
            f"{head}{label}{numbers[v]}\n"
            for label, v in zip(labels, values, strict=True)
            if v is not None
        ]
    lines = [
        (i, f"{head}{label}{numbers[v]}\n")
        for head, values in pending
        for i, (label, v) in enumerate(zip(labels, values, strict=True))
        if v is not None
    ]
    lines.sort(key=lambda line: line[0])
    return [line for _i, line in lines]


def _iso(day: Any) -> str:
    return day if type(day) is str else day.isoformat()


def adverse_event_rows(trial: str) -> Iterator[dict[str, Any]]:
    """The trial's AEs: attributed to it, of a randomized participant, onset on or after
    randomization (earlier events are the baseline condition). One row per event: its
    initial report, updated by the latest follow-up report. Streamed, with the follow-up
    reports fetched per 2,000 events."""
    allocations = Allocation.objects.filter(trial=trial)
    allocated_at = allocations.filter(participant_id=OuterRef("participant_id")).values(
        "allocated_at"
    )[:1]
    events = (
        AdverseEvent.objects.filter(
            follow_up_of__isnull=True,
            participant_id__in=allocations.values("participant_id"),
            trial=trial,
        )
        .annotate(subject_study_id=F("participant__study_id"), randomized_at=Subquery(allocated_at))
        .order_by("participant__study_id", "onset_date", "id")
        .prefetch_related("follow_ups")
    )
    for ae in events.iterator(chunk_size=2000):
        if ae.onset_date < local_day(ae.randomized_at):
            continue
        latest = max([ae, *ae.follow_ups.all()], key=lambda a: a.pk)
        yield {
            "study_id": ae.subject_study_id,
            "term": latest.term_label,
            "grade": latest.grade,
            "serious": latest.serious,
            "onset_date": ae.onset_date,
            "related": latest.related,
        }


def _cost_lines(
    record: TreatmentRecord | None,
    admissions: list[tuple[date, date | None, bool]],
    reinterventions: list[tuple[date, str]],
    start: date,
    end: date,
    prices: dict[str, float],
) -> dict[str, float]:
    costs: dict[str, float] = defaultdict(float)
    within = lambda day: day is not None and start <= day <= end  # noqa: E731
    if record is not None and within(record.surgery_day):
        costs["surgery"] += prices["surgery"]
    if record is not None and within(record.radiotherapy_day):
        costs["radiotherapy"] += prices["radiotherapy"]
    for admitted, discharged, _index in admissions:
        if within(admitted):
            costs["hospital_stay"] += ((min(discharged or end, end)) - admitted).days * prices[
                "hospital_day"
            ]
    for performed_on, kind in reinterventions:
        if within(performed_on):
            key = "radiotherapy" if kind == "radiotherapy" else "surgery"
            costs[key] += prices[
                "reintervention_radiotherapy" if kind == "radiotherapy" else "surgery"
            ]
    return costs


def _questionnaire_costs(
    costs: dict[str, float], answers: dict[str, Any], prices: dict[str, float]
) -> None:
    """Care use and work from the cost questionnaire (hospital nights come from the clinical records)."""
    given = answers.get("cost") or {}
    count = lambda key: float(given.get(key) or 0)  # noqa: E731
    costs["outpatient"] += (
        count("gp_visits") * prices["gp_visit"]
        + count("specialist_visits") * prices["specialist_visit"]
        + count("physio_sessions") * prices["physio_session"]
    )
    costs["homecare"] += count("homecare_hours") * prices["homecare_hour"]
    costs["productivity"] += count("sick_days") * prices["productivity_day"]


def cost_rows(
    study_id: str,
    costs: dict[str, float],
    answers: list[tuple[date | None, dict[str, Any]]],
    end: date,
    prices: dict[str, float],
) -> list[dict[str, Any]]:
    """One participant's rows of costs.csv: the clinical ``costs`` and the cost
    questionnaires within the horizon (``end``), by category."""
    for completed_on, cost in answers:
        if completed_on and completed_on <= end:
            _questionnaire_costs(costs, {"cost": cost}, prices)
    return [
        {"study_id": study_id, "category": category, "amount_eur": round(amount, 2)}
        for category, amount in sorted(costs.items())
        if amount > 0
    ]


CONTRACT_VERSION = "1.1"


@dataclass(frozen=True)
class AnalysisDataset:
    meta: dict[str, Any]
    #: The files' rows, made as the files are written: the three per-participant files in
    #: one walk, assessments.csv (the largest) as its text lines, the AEs as dicts.
    subjects: SubjectFiles
    assessments: AssessmentRows
    adverse_events: Iterable[dict[str, Any]]


def build_analysis_dataset(today: date | None = None, trial: str | None = None) -> AnalysisDataset:
    today = today or timezone.localdate()
    code = trial_code_or_default(trial)
    exports, trial_config = config(code), get_trial(code)
    period_start = date.fromisoformat(exports["period_start"])
    period_end = date.fromisoformat(exports["period_end"]) if exports.get("period_end") else today
    cohort = Participant.objects.filter(registered_on__range=(period_start, period_end)).count()
    primary = trial_config.primary_outcome
    meta = {
        # Contract 1.1 (docs/contracts/analysis-dataset.md): any trial, its primary outcome.
        "contract_version": CONTRACT_VERSION,
        "trial": trial_config.code,
        "protocol_version": trial_config.protocol_version,
        "primary_outcome": {
            "measure": primary.measure,
            "timepoint": primary.timepoint,
            "analysis": primary.analysis,
            "estimands": list(primary.estimands),
        },
        "arm_labels": {code: arm.label for code, arm in trial_config.treatment.arms.items()},
        "cohort_participants": cohort,
        "period_start": period_start.isoformat(),
        "period_end": period_end.isoformat(),
        "exported_at": timezone.now().isoformat(timespec="seconds"),
    }
    return AnalysisDataset(
        meta, SubjectFiles(code, today), AssessmentRows(code), adverse_event_rows(code)
    )


def write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> int:
    """One contract file. Text values are neutralised (a ``'`` before a leading ``=``,
    ``+``, ``-``, ``@``, tab or CR: only free text such as a refusal reason or an 'other'
    AE term can start so) and every field is quoted, as OWASP asks; numbers, dates and
    booleans are typed values and are written as they are."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = _contract_writer(handle, columns)
        n = 0
        for n, row in enumerate(rows, start=1):  # noqa: B007 - n is the count
            writer.writerow(_cells(columns, row))
    return n


def _contract_writer(handle: IO[str], columns: list[str]) -> Any:
    """A contract file's CSV writer (every field quoted), its header written."""
    writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    return writer


def _cells(columns: list[str], row: dict[str, Any]) -> list[str]:
    return [neutralise(v) if type(v) is str else fmt(v) for v in (row[c] for c in columns)]


def write_subject_files(folder: Path, subjects: SubjectFiles) -> dict[str, int]:
    """screening.csv, participants.csv and costs.csv, written side by side in one walk."""
    counts = dict.fromkeys(SubjectFiles.NAMES, 0)
    with ExitStack() as stack:
        writers = [
            _contract_writer(
                stack.enter_context((folder / name).open("w", encoding="utf-8", newline="")),
                FILES[name],
            )
            for name in SubjectFiles.NAMES
        ]
        for rows_of_files in subjects:
            for name, writer, rows in zip(SubjectFiles.NAMES, writers, rows_of_files, strict=True):
                writer.writerows([_cells(FILES[name], row) for row in rows])
                counts[name] += len(rows)
    return counts


def write_analysis_dataset(folder: Path, dataset: AnalysisDataset) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.json").write_text(
        json.dumps(dataset.meta, indent=2) + "\n", encoding="utf-8"
    )
    counts = write_subject_files(folder, dataset.subjects)
    counts["assessments.csv"] = write_text_rows(
        folder / "assessments.csv", ASSESSMENT_COLUMNS, dataset.assessments
    )
    counts["adverse_events.csv"] = write_csv(
        folder / "adverse_events.csv", AE_COLUMNS, dataset.adverse_events
    )
    return {name: counts[name] for name in FILES}  # in the files' order, as before


def write_text_rows(path: Path, columns: list[str], blocks: Iterable[list[str]]) -> int:
    """A contract file whose lines are made already (``AssessmentRows``, in lists): the
    header as ``write_csv`` writes it, then the lines, written in large blocks."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(columns)
        pending: list[str] = []
        for block in blocks:
            pending += block
            if len(pending) >= 20_000:
                handle.write("".join(pending))
                n, pending = n + len(pending), []
        handle.write("".join(pending))
    return n + len(pending)
