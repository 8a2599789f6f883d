"""The analysis dataset of ``docs/contracts/analysis-dataset.md``, built from the database.

Everything is read in bulk (one query per table), so 10,000 participants export in
seconds. No direct identifier is read into any row: the date of birth is used for the age
and dropped.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, overload

from django.db import NotSupportedError, models
from django.db.models import F, Func, Max, TextField
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


def _rows(model: type[models.Model], *fields: str, **filters: Any) -> list[tuple[Any, ...]]:
    return list(model._default_manager.filter(**filters).values_list(*fields))


@dataclass
class Sources:
    """Every table the dataset is derived from, read once."""

    trial: str
    study_ids: dict[int, str]
    participants: dict[int, dict[str, Any]]
    birth_dates: dict[int, date]
    decisions: dict[int, list[rules.Decision]]
    screenings: list[tuple[Any, ...]]
    allocations: list[tuple[Any, ...]]
    offers: dict[int, tuple[Any, ...]]
    treatments: dict[int, TreatmentRecord]
    vital: dict[int, tuple[date, date | None]]
    systemic: dict[int, list[date]]
    admissions: dict[int, list[tuple[date, date | None, bool]]]
    neuro: dict[int, list[tuple[date, str]]]
    reinterventions: dict[int, list[tuple[date, str]]]
    #: The day of each participant's latest submitted questionnaire.
    last_response: dict[int, date]
    #: (participant, day, the cost questionnaire's answers) of each submitted
    #: questionnaire with cost answers, in the order they were stored.
    cost_answers: list[tuple[int, date | None, dict[str, Any]]]


def _grouped(rows: Iterable[tuple[Any, ...]]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = defaultdict(list)
    for pid, *rest in rows:
        out[pid].append(rest[0] if len(rest) == 1 else tuple(rest))
    return out


def _treatments(trial: str) -> dict[int, TreatmentRecord]:
    return {t.participant_id: t for t in TreatmentRecord.objects.filter(trial=trial)}


def load_sources(trial: str | None = None) -> Sources:
    """Every table the dataset of ``trial`` (the default trial for None) is derived from:
    the trial's own screenings, allocations, offers and treatments, and the cohort's
    routine data."""
    code = trial_code_or_default(trial)
    fields = [
        "id",
        "study_id",
        "sex",
        "primary_tumour",
        "performance_status",
        "registered_on",
        "birth_year",
    ]
    participants = {row["id"]: row for row in Participant.objects.values(*fields)}
    decisions: dict[int, list[rules.Decision]] = defaultdict(list)
    for pid, item, answer, on, pk in ConsentRecord.objects.values_list(
        "participant_id", "item", "answer", "effective_on", "id"
    ):
        decisions[pid].append(rules.Decision(item, rules.Answer(answer), on, pk))
    return Sources(
        trial=code,
        study_ids={pid: row["study_id"] for pid, row in participants.items()},
        participants=participants,
        birth_dates=dict(Identity.objects.values_list("participant_id", "date_of_birth")),
        decisions=decisions,
        screenings=_rows(
            Screening, "participant_id", "screened_on", "status", "reasons", "facts", trial=code
        ),
        allocations=_rows(
            Allocation, "participant_id", "allocated_at", "arm", "stratum", trial=code
        ),
        offers={r[0]: r for r in _rows(Offer, "participant_id", "state", "reason", trial=code)},
        treatments=_treatments(code),
        vital={
            r[0]: (r[1], r[2])
            for r in _rows(VitalStatus, "participant_id", "last_contact_on", "died_on")
        },
        systemic=_grouped(_rows(SystemicTherapy, "participant_id", "started_on")),
        admissions=_grouped(
            _rows(
                HospitalAdmission,
                "participant_id",
                "admitted_on",
                "discharged_on",
                "index_treatment",
            )
        ),
        neuro=_grouped(_rows(NeuroAssessment, "participant_id", "assessed_on", "asia_grade")),
        reinterventions=_grouped(_rows(ReIntervention, "participant_id", "performed_on", "kind")),
        last_response=dict(
            _submitted()
            .filter(completed_on__isnull=False)
            .values("participant_id")
            .annotate(last=Max("completed_on"))
            .values_list("participant_id", "last")
        ),
        # Only the cost answers are decoded, of the questionnaires that hold them.
        cost_answers=[
            (pid, on, cost)
            for pid, on, cost in _submitted()
            .filter(completed_on__isnull=False, answers__has_key="cost")
            .order_by("pk")
            .values_list("participant_id", "completed_on", "answers__cost")
            if isinstance(cost, dict)
        ],
    )


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


def screening_rows(src: Sources, randomized_on: dict[int, date]) -> Iterator[dict[str, Any]]:
    for pid, screened_on, status, reasons, _facts in sorted(
        src.screenings, key=lambda r: src.study_ids[r[0]]
    ):
        yield (
            {
                "study_id": src.study_ids[pid],
                "screened_on": screened_on,
                "randomization_consent": randomization_consent(
                    src.decisions.get(pid, []), randomized_on.get(pid)
                ),
                "eligibility": status,
                "ineligibility_reasons": ";".join(sorted(reasons or {}))
                if status != "eligible"
                else "",
                "randomized": pid in randomized_on,
            }
        )


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
    state, reason = (offer[1], offer[2]) if offer else (None, None)
    offered = state in {"offered", "accepted", "refused"}
    # an offer still awaiting the decision counts as not (yet) accepted: the contract wants a boolean
    return {
        "offered": offered,
        "accepted": (state == "accepted") if offered else None,
        "refusal_reason": (reason or "not given") if state == "refused" else "",
    }


def _last_contact(src: Sources, pid: int, known: list[date | None]) -> date:
    vital = src.vital.get(pid)
    if vital and vital[1]:
        return vital[1]
    dates = [d for d in [*known, vital[0] if vital else None] if d is not None]
    return max(dates)


def participant_rows(src: Sources, today: date) -> Iterator[dict[str, Any]]:
    facts = {r[0]: r[4] or {} for r in src.screenings}
    last_response = src.last_response
    for pid, allocated_at, arm, stratum in sorted(
        src.allocations, key=lambda r: src.study_ids[r[0]]
    ):
        p, randomized_on = src.participants[pid], local_day(allocated_at)
        record = src.treatments.get(pid)
        start = treatment_start(record)
        death = (src.vital.get(pid) or (None, None))[1]
        restart = [
            d for d in src.systemic.get(pid, []) if d >= (start or randomized_on)
        ]  # a restart, not ongoing
        accepted_received = received_intervention(record)
        yield (
            {
                "study_id": p["study_id"],
                "randomized_on": randomized_on,
                "arm": arm,
                "stratum": stratum or "",
                **_offer_columns(arm, src.offers.get(pid)),
                "received_intervention": accepted_received,
                "treatment_start": start,
                "death_date": death,
                "last_contact": _last_contact(
                    src, pid, [randomized_on, start, last_response.get(pid)]
                ),
                "withdrawn_on": withdrawn_on(src.decisions.get(pid, []), randomized_on),
                "age": age_on(src.birth_dates[pid], randomized_on)
                if pid in src.birth_dates
                else randomized_on.year - p["birth_year"],
                "sex": p["sex"],
                "primary_tumour": p["primary_tumour"],
                "sins_total": facts.get(pid, {}).get("sins_total"),
                "performance_status": p["performance_status"],
                "systemic_restart_date": min(restart) if restart else None,
                "hospital_days": hospital_days(src.admissions.get(pid, []), today),
                "neuro_deterioration": neuro_deterioration(src.neuro.get(pid, []), start),
            }
        )


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

    def __iter__(self) -> Iterator[str]:
        """The file's lines after its header, as ``write_csv`` quotes them (every field)."""
        labels = [f"{_quoted(neutralise(i))},{_quoted(neutralise(s))}," for _c, _sc, i, s in SCORES]
        days, moments, numbers = _Texts(_iso), _Texts(neutralise), _Texts(_number)
        group: tuple[str, Any] | None = None
        subject = day = ""
        # The day's questionnaires: the start of their lines, and their scores.
        pending: list[tuple[str, list[Any]]] = []
        for chunk in raw_chunks(self._queryset()):
            for study_id, timepoint, on, *values in chunk:
                if (study_id, on) != group:  # a participant's day: its rows sorted together
                    yield from _day_lines(pending, labels, numbers)
                    group, pending = (study_id, on), []
                    subject, day = _quoted(neutralise(study_id)), days[on]
                pending.append((f"{subject},{moments[timepoint]},{day},", values))
        yield from _day_lines(pending, labels, numbers)


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


def adverse_event_rows(
    study_ids: dict[int, str], randomized_on: dict[int, date], trial: str | None = None
) -> list[dict[str, Any]]:
    """The trial's AEs: attributed to it, onset on or after randomization (earlier events
    are the baseline condition). One row per event: its initial report, updated by the
    latest follow-up report."""
    rows = []
    events = AdverseEvent.objects.filter(
        follow_up_of__isnull=True,
        participant_id__in=list(randomized_on),
        trial=trial_code_or_default(trial),
    )
    for ae in events.order_by("participant__study_id", "onset_date", "id").prefetch_related(
        "follow_ups"
    ):
        if ae.onset_date < randomized_on[ae.participant_id]:
            continue
        latest = max([ae, *ae.follow_ups.all()], key=lambda a: a.pk)
        rows.append(
            {
                "study_id": study_ids[ae.participant_id],
                "term": latest.term_label,
                "grade": latest.grade,
                "serious": latest.serious,
                "onset_date": ae.onset_date,
                "related": latest.related,
            }
        )
    return rows


def _cost_lines(
    src: Sources, pid: int, start: date, end: date, prices: dict[str, float]
) -> dict[str, float]:
    costs: dict[str, float] = defaultdict(float)
    record = src.treatments.get(pid)
    within = lambda day: day is not None and start <= day <= end  # noqa: E731
    if record is not None and within(record.surgery_day):
        costs["surgery"] += prices["surgery"]
    if record is not None and within(record.radiotherapy_day):
        costs["radiotherapy"] += prices["radiotherapy"]
    for admitted, discharged, _index in src.admissions.get(pid, []):
        if within(admitted):
            costs["hospital_stay"] += ((min(discharged or end, end)) - admitted).days * prices[
                "hospital_day"
            ]
    for performed_on, kind in src.reinterventions.get(pid, []):
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


def cost_rows(src: Sources, randomized_on: dict[int, date]) -> Iterator[dict[str, Any]]:
    prices = {k: float(v) for k, v in config(src.trial)["unit_costs"].items()}
    horizon = timedelta(days=int(config(src.trial).get("horizon_days", 182)))
    per: dict[int, dict[str, float]] = {
        pid: _cost_lines(src, pid, on, on + horizon, prices) for pid, on in randomized_on.items()
    }
    for pid, completed_on, cost in src.cost_answers:
        if pid in randomized_on and completed_on and completed_on <= randomized_on[pid] + horizon:
            _questionnaire_costs(per[pid], {"cost": cost}, prices)
    for pid in sorted(per, key=src.study_ids.__getitem__):  # by study ID, then category
        for category, amount in sorted(per[pid].items()):
            if amount > 0:
                yield {
                    "study_id": src.study_ids[pid],
                    "category": category,
                    "amount_eur": round(amount, 2),
                }


CONTRACT_VERSION = "1.1"


@dataclass(frozen=True)
class AnalysisDataset:
    meta: dict[str, Any]
    #: Each file's rows, made as the file is written: dicts by column, or (assessments.csv,
    #: the largest) its text rows, streamed from the database.
    files: dict[str, Iterable[dict[str, Any]] | AssessmentRows]


def build_analysis_dataset(today: date | None = None, trial: str | None = None) -> AnalysisDataset:
    today = today or timezone.localdate()
    src = load_sources(trial)
    randomized_on = {pid: local_day(at) for pid, at, _arm, _stratum in src.allocations}
    exports, trial_config = config(src.trial), get_trial(src.trial)
    period_start = date.fromisoformat(exports["period_start"])
    period_end = date.fromisoformat(exports["period_end"]) if exports.get("period_end") else today
    cohort = sum(
        period_start <= p["registered_on"] <= period_end for p in src.participants.values()
    )
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
    files: dict[str, Iterable[dict[str, Any]] | AssessmentRows] = {
        "screening.csv": screening_rows(src, randomized_on),
        "participants.csv": participant_rows(src, today),
        "assessments.csv": AssessmentRows(src.trial),
        "adverse_events.csv": adverse_event_rows(src.study_ids, randomized_on, src.trial),
        "costs.csv": cost_rows(src, randomized_on),
    }
    return AnalysisDataset(meta, files)


def write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> int:
    """One contract file. Text values are neutralised (a ``'`` before a leading ``=``,
    ``+``, ``-``, ``@``, tab or CR: only free text such as a refusal reason or an 'other'
    AE term can start so) and every field is quoted, as OWASP asks; numbers, dates and
    booleans are typed values and are written as they are."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(columns)
        n = 0
        for n, row in enumerate(rows, start=1):  # noqa: B007 - n is the count
            writer.writerow(
                [neutralise(v) if type(v) is str else fmt(v) for v in (row[c] for c in columns)]
            )
    return n


def write_analysis_dataset(folder: Path, dataset: AnalysisDataset) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.json").write_text(
        json.dumps(dataset.meta, indent=2) + "\n", encoding="utf-8"
    )
    counts = {}
    for name, columns in FILES.items():
        rows = dataset.files[name]
        if isinstance(rows, AssessmentRows):
            counts[name] = write_text_rows(folder / name, columns, rows)
        else:
            counts[name] = write_csv(folder / name, columns, rows)
    return counts


def write_text_rows(path: Path, columns: list[str], lines: Iterable[str]) -> int:
    """A contract file whose lines are made already (``AssessmentRows``): the header as
    ``write_csv`` writes it, then the lines, written in large blocks."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(columns)
        stream = iter(lines)
        while block := list(islice(stream, 20_000)):
            handle.write("".join(block))
            n += len(block)
    return n
