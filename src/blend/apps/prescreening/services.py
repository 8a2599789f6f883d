"""Finding eligible members from cohort data (issue 12 item 5).

**Where this lives, and why.** The cohort records facts about its members once
(``CohortFact``: a key of the cohort's catalogue ``cohort/facts.toml``, a checked value,
when, from what source, by whom), whatever trial they may enter. Every trial's criteria
read them: each member is assessed on each trial (``blend.eligibility.cohort``, pure),
and each trial gets a worklist of members who are potentially eligible (eligible, or
pending on facts still missing) and not yet screened for it. This is its own app,
``prescreening``, above ``allocation`` in ``blend.dependency_graph.LAYERS``, because the
worklist shows who an overlap rule keeps out (``allocation.services.overlap_refusals``)
and the cohort denominator counts who was randomized; ``screening`` stays below
allocation and knows nothing of it. Two things of screening's are reached through its
extension points: the first screening of a member starts from the cohort's facts
(``screening.services.register_prefill``), and the screening log shows the cohort
denominator (``panels.screening_log_panel``).

**The facts of a member** are, for each trial, the recorded ones plus those other records
give (``RECORD_SOURCES``): the age at the assessment date (identity record, date of
birth), the consent items (consent records; always from there, never recorded here),
and, when not recorded, three from the registration: ``multiple_myeloma`` and
``radiosensitive_histology`` from the primary tumour, ``kps`` from the WHO/ECOG
performance status (``kps_from_ecog``).

**Queries** do not grow with the number of members: participants, identities, consent
decisions, cohort facts, the trial's screenings and allocations are each read in one
query. The exception is the overlap rules: ``overlap_refusals`` is asked per member, and
only for members already randomized in another trial (no rule can refuse anyone else).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.allocation.models import Allocation
from blend.apps.allocation.services import overlap_refusals
from blend.apps.audit.services import audited_delete, audited_save, record_event
from blend.apps.consent import domain as consent_rules
from blend.apps.consent.services import bulk_consent_states
from blend.apps.prescreening.models import CohortFact
from blend.apps.registry.domain import age_on
from blend.apps.registry.models import Identity, Participant
from blend.apps.screening.models import Screening, Status
from blend.apps.trials.lookup import get_trial, trial_code_or_default, trials_by_code
from blend.eligibility import EligibilityResult, FactError
from blend.eligibility.cohort import assess_cohort, checked_facts, potentially_eligible
from blend.eligibility.criteria import FactSpec
from blend.protocol import Refusal, Trial, load_cohort, load_protocol

# Facts that only other records give: never recorded as a cohort fact.
FROM_RECORDS = {
    "screening_date": "the assessment date",
    "date_of_birth": "the identity record",
    "age": "the identity record (date of birth)",
    "consent_randomization": "the consent records",
    "consent_questionnaires": "the consent records",
}
# Recordable besides the catalogue's keys: the six SINS components (the total is derived).
EXTRA_KEYS = ("sins_components",)

RECORD_SOURCES = {
    "age": gettext_lazy("identity record (date of birth), at the assessment date"),
    "consent_randomization": gettext_lazy("consent records"),
    "consent_questionnaires": gettext_lazy("consent records"),
    "multiple_myeloma": gettext_lazy("registration: primary tumour"),
    "radiosensitive_histology": gettext_lazy("registration: primary tumour"),
    "kps": gettext_lazy("registration: WHO/ECOG performance status"),
}

# The lower bound of each ECOG grade's usual Karnofsky band (ECOG 0 = KPS 90-100, 1 =
# 70-80, 3 = 30-40, 4 = 10-20). ECOG 2 is KPS 50-60, which straddles VERTICAL's KPS > 50,
# so it gives no KPS: the nurse records one.
KPS_FROM_ECOG = {0: 90, 1: 70, 3: 30, 4: 10}
RADIOSENSITIVE_TUMOURS = {"myeloma"}


class PrescreeningError(ValueError):
    """Refused input; ``errors`` maps a fact key (or field) to a message that names what
    was expected and what was received."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def catalogue() -> Mapping[str, FactSpec]:
    """The cohort's fact catalogue (``cohort/facts.toml``)."""
    return load_cohort().facts


def recordable_keys() -> list[str]:
    return [key for key in catalogue() if key not in FROM_RECORDS] + list(EXTRA_KEYS)


def _check_facts(facts: Any) -> dict[str, Any]:
    """The facts checked against the catalogue; None values kept (they remove a fact)."""
    if not isinstance(facts, Mapping) or not facts:
        raise PrescreeningError(
            {"facts": f"expected a non-empty object of fact: value, got {facts!r}"}
        )
    errors: dict[str, str] = {}
    known = recordable_keys()
    for key in facts:
        if key in FROM_RECORDS:
            errors[key] = (
                f"expected a fact the cohort records; {key!r} comes from {FROM_RECORDS[key]} "
                "and is never recorded by hand"
            )
        elif key not in known:
            errors[key] = f"unknown fact; expected one of {sorted(known)}, got {key!r}"
    to_check = {k: v for k, v in facts.items() if k not in errors and v is not None}
    try:
        checked = checked_facts(to_check, catalogue())
    except FactError as error:
        errors.update(error.errors)
        checked = {}
    if errors:
        raise PrescreeningError(errors)
    out = {key: None for key, value in facts.items() if value is None}
    for key in to_check:
        out[key] = to_check[key] if key == "sins_components" else checked[key]
    return out


@transaction.atomic
def record_cohort_facts(
    participant: Participant,
    facts: Mapping[str, Any],
    *,
    on: date,
    user: User,
    source: str,
    reason: str = "",
) -> list[CohortFact]:
    """Record facts the cohort knows about ``participant`` (a None value removes one).

    Every key must be in the cohort's catalogue and every value fit it; a bad one is
    refused with the key, what was expected and what was received, and nothing is
    written. Changing or removing a recorded value needs a reason (audit trail)."""
    check(user, Cap.PARTICIPANT_WRITE)
    errors: dict[str, str] = {}
    if not source.strip():
        errors["source"] = "expected where the facts come from (e.g. 'MDT 2026-03-02'); got nothing"
    if on < participant.registered_on:
        errors["recorded_on"] = (
            f"expected on or after cohort entry {participant.registered_on}, got {on}"
        )
    elif on > timezone.localdate():
        errors["recorded_on"] = f"expected today or earlier, got {on}"
    try:
        checked = _check_facts(facts)
    except PrescreeningError as error:
        errors.update(error.errors)
    if errors:
        raise PrescreeningError(errors)
    Participant.objects.select_for_update().filter(pk=participant.pk).first()
    existing = {row.key: row for row in CohortFact.objects.filter(participant=participant)}
    changed = [k for k, v in checked.items() if k in existing and existing[k].value != v]
    if changed and not reason.strip():
        raise PrescreeningError(
            {
                "reason": "expected a reason for change when changing recorded facts "
                f"({', '.join(changed)}); got nothing"
            }
        )
    saved: list[CohortFact] = []
    for key, value in checked.items():
        row = existing.get(key)
        if value is None:
            if row is not None:
                audited_delete(row, user=user, reason=reason)
            continue
        if row is not None and row.value == value:
            continue
        row = row or CohortFact(participant=participant, key=key)
        row.value, row.recorded_on, row.source, row.recorded_by = value, on, source, user
        audited_save(row, user=user, reason=reason if key in changed else "")
        saved.append(row)
    record_event(
        "cohort_facts.record",
        actor=user,
        participant=participant,
        reason=reason,
        details={"facts": sorted(checked), "source": source, "recorded_on": on.isoformat()},
    )
    return saved


def recorded_facts(participant: Participant) -> dict[str, Any]:
    """The participant's recorded cohort facts, key → value."""
    return dict(CohortFact.objects.filter(participant=participant).values_list("key", "value"))


def kps_from_ecog(ecog: int | None) -> int | None:
    return None if ecog is None else KPS_FROM_ECOG.get(ecog)


def _registration_facts(tumour: str, ecog: int | None) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if tumour and tumour != "unknown":
        facts["multiple_myeloma"] = tumour == "myeloma"
        if tumour in RADIOSENSITIVE_TUMOURS:
            facts["radiosensitive_histology"] = True
    kps = kps_from_ecog(ecog)
    if kps is not None:
        facts["kps"] = kps
    return facts


@dataclass(frozen=True)
class MemberFacts:
    """What is known about many members on one day, read in a fixed number of queries."""

    on: date
    participants: dict[int, dict[str, Any]]  # id → study_id, registered_on, site
    facts: dict[int, dict[str, Any]]  # id → every known fact (recorded and from records)
    recorded: dict[int, set[str]] = field(default_factory=dict)  # id → recorded keys


def member_facts(participants: QuerySet[Participant], on: date) -> MemberFacts:
    """The facts of every participant in ``participants`` on ``on``: four queries, whatever
    their number (participants, identities, consent decisions, cohort facts)."""
    rows: dict[int, dict[str, Any]] = {
        row["id"]: dict(row)
        for row in participants.values(
            "id",
            "study_id",
            "registered_on",
            "site__code",
            "primary_tumour",
            "performance_status",
        )
    }
    ids = list(rows)
    births = dict(
        Identity.objects.filter(participant__in=participants).values_list(
            "participant_id", "date_of_birth"
        )
    )
    states = bulk_consent_states(ids)
    protocol = load_protocol()
    recorded: dict[int, dict[str, Any]] = defaultdict(dict)
    for pid, key, value in CohortFact.objects.filter(participant__in=participants).values_list(
        "participant_id", "key", "value"
    ):
        recorded[pid][key] = value
    facts: dict[int, dict[str, Any]] = {}
    for pid, row in rows.items():
        known = _registration_facts(row["primary_tumour"], row["performance_status"])
        known.update(recorded.get(pid, {}))
        member_states = states.get(pid, {})
        known["consent_randomization"] = consent_rules.consent_fact(
            member_states.get(protocol.randomization_question)
        )
        known["consent_questionnaires"] = not consent_rules.missing_items(
            member_states, protocol.questionnaire_consent_items
        )
        known["screening_date"] = on.isoformat()
        if births.get(pid) is not None:
            known["age"] = age_on(births[pid], on)
        facts[pid] = {k: v for k, v in known.items() if v is not None}
    return MemberFacts(on, rows, facts, {pid: set(keys) for pid, keys in recorded.items()})


def assess_members(
    participants: QuerySet[Participant],
    trials: Iterable[str],
    on: date,
    errors: dict[str, str] | None = None,
) -> tuple[MemberFacts, dict[str, dict[int, EligibilityResult]]]:
    """Every member of ``participants`` assessed on each trial's criteria on ``on``.

    A member whose recorded facts no longer fit the catalogue (it changed since) is left
    out, with the problem in ``errors`` ("<participant id>: <fact>" → message)."""
    known = member_facts(participants, on)
    criteria = {code: get_trial(code).criteria for code in trials}
    errors = {} if errors is None else errors
    return known, assess_cohort(known.facts, criteria, catalogue(), errors)


def open_trials() -> list[str]:
    """The trials that are recruiting."""
    return [code for code, trial in trials_by_code().items() if trial.status == "recruiting"]


def prefill_from_cohort(participant: Participant, trial: str) -> dict[str, Any]:
    """The cohort's facts for a first screening for ``trial`` (the keys its criteria ask)."""
    asked = get_trial(trial).criteria.facts
    recorded = recorded_facts(participant)
    facts = _registration_facts(participant.primary_tumour, participant.performance_status)
    facts.update(recorded)
    return {k: v for k, v in facts.items() if k in asked or k == "sins_components"}


@dataclass(frozen=True)
class WorklistRow:
    participant_id: int
    study_id: str
    site: str
    registered_on: date
    status: str  # "eligible" | "pending" | "refused" (an overlap rule keeps the member out)
    missing: list[str]  # labels of the facts still missing (pending)
    undecided: dict[str, str]  # criterion code → what is missing
    refusals: list[Refusal]


@dataclass(frozen=True)
class Worklist:
    trial: Trial
    on: date
    rows: list[WorklistRow]
    assessed: int  # members with recorded cohort facts, not yet screened for the trial
    # Study IDs whose recorded facts no longer fit the cohort's catalogue (left out).
    unreadable: list[str] = field(default_factory=list)

    @property
    def to_screen(self) -> list[WorklistRow]:
        return [row for row in self.rows if not row.refusals]

    @property
    def refused(self) -> list[WorklistRow]:
        return [row for row in self.rows if row.refusals]


def _assessed(trial: str) -> QuerySet[Participant]:
    """Members with recorded cohort facts and no screening for ``trial``."""
    return (
        Participant.objects.filter(cohort_facts__isnull=False)
        .exclude(screenings__trial=trial)
        .distinct()
    )


def worklist(trial: str | None = None, on: date | None = None) -> Worklist:
    """Who to screen for ``trial``: every member with recorded cohort facts, not yet
    screened for it, on whom no criterion fails (eligible or pending), oldest cohort
    entry first. Members an overlap rule keeps out are listed apart, with the rule and
    the day it stops applying."""
    code = trial_code_or_default(trial)
    on = on or timezone.localdate()
    config = get_trial(code)
    candidates = _assessed(code)
    errors: dict[str, str] = {}
    known, verdicts = assess_members(candidates, [code], on, errors)
    labels = config.criteria.facts
    # Only a member randomized in another trial can be refused by an overlap rule.
    elsewhere = Participant.objects.in_bulk(
        Allocation.objects.filter(participant__in=candidates)
        .exclude(trial=code)
        .values_list("participant_id", flat=True)
    )
    rows = []
    for pid, result in verdicts[code].items():
        if not potentially_eligible(result):
            continue
        row = known.participants[pid]
        refusals: list[Refusal] = []
        if pid in elsewhere:
            refusals = overlap_refusals(elsewhere[pid], code, on)
        rows.append(
            WorklistRow(
                participant_id=pid,
                study_id=row["study_id"],
                site=row["site__code"],
                registered_on=row["registered_on"],
                status="refused" if refusals else result.status,
                missing=[labels[key].label for key in result.missing_facts],
                undecided=result.undecided,
                refusals=refusals,
            )
        )
    rows.sort(key=lambda r: (r.status != Status.ELIGIBLE, r.registered_on, r.study_id))
    bad = {int(key.split(":")[0]) for key in errors}
    return Worklist(
        config,
        on,
        rows,
        assessed=len(known.participants) - len(bad),
        unreadable=sorted(known.participants[pid]["study_id"] for pid in bad),
    )


def trial_period(trial: Trial, on: date) -> tuple[date | None, date]:
    """The trial's period (``exports.toml`` period_start/period_end; an empty end is ``on``)."""
    exports = trial.section("exports")
    start = str(exports.get("period_start") or "")
    end = str(exports.get("period_end") or "")
    return (
        date.fromisoformat(start) if start else None,
        min(date.fromisoformat(end), on) if end else on,
    )


def cohort_denominator(trial: str | None = None, on: date | None = None) -> dict[str, Any]:
    """The CONSORT boxes from the cohort down (CONSORT for TwiCs/routine data, Kwakkenbos
    2021): cohort members registered in the trial's period; of them, assessed on recorded
    cohort facts; potentially eligible on those facts; screened; eligible at screening;
    randomized. ``potentially_eligible_not_screened`` are the members who would otherwise
    vanish from the diagram. A fixed number of queries, whatever the cohort's size."""
    code = trial_code_or_default(trial)
    on = on or timezone.localdate()
    config = get_trial(code)
    start, end = trial_period(config, on)
    in_period = Participant.objects.filter(registered_on__lte=end)
    if start is not None:
        in_period = in_period.filter(registered_on__gte=start)
    members = in_period.count()
    assessed_qs = in_period.filter(cohort_facts__isnull=False).distinct()
    known, verdicts = assess_members(assessed_qs, [code], on)
    screened = dict(
        Screening.objects.filter(trial=code, participant__in=in_period).values_list(
            "participant_id", "status"
        )
    )
    potential = {pid for pid, r in verdicts[code].items() if potentially_eligible(r)}
    randomized = Allocation.objects.filter(trial=code, participant__in=in_period).count()
    return {
        "trial": code,
        "period_start": start,
        "period_end": end,
        "in_period": members,
        "assessed": len(verdicts[code]),
        "not_assessed": members - len(verdicts[code]),
        "potentially_eligible": len(potential),
        "ineligible_on_cohort_facts": len(verdicts[code]) - len(potential),
        "potentially_eligible_not_screened": len(potential - set(screened)),
        "screened": len(screened),
        "eligible": sum(1 for status in screened.values() if status == Status.ELIGIBLE),
        "randomized": randomized,
    }


def missing_summary(rows: Collection[WorklistRow]) -> dict[str, int]:
    """How often each fact is what keeps a pending member pending, most frequent first."""
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        for label in row.missing:
            counts[label] += 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def members_to_assess(trial: str | None = None) -> int:
    """How many members have recorded cohort facts and no screening for ``trial`` (one
    COUNT query; the worklist tells which of them are potentially eligible)."""
    return _assessed(trial_code_or_default(trial)).count()
