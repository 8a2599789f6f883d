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

import hashlib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.allocation.models import Allocation
from blend.apps.allocation.services import overlap_refusals
from blend.apps.audit.services import audited_delete, audited_save, record_event
from blend.apps.consent import domain as consent_rules
from blend.apps.consent.models import ConsentRecord
from blend.apps.consent.services import bulk_consent_states
from blend.apps.prescreening.models import CohortFact, MemberVerdict, Origin, Rank, VerdictSync
from blend.apps.registry.domain import age_on
from blend.apps.registry.models import Identity, Participant
from blend.apps.screening.models import Screening, Status
from blend.apps.trials.lookup import get_trial, trial_code_or_default, trials_by_code
from blend.eligibility import EligibilityResult, FactError
from blend.eligibility.cohort import assess_cohort, checked_facts
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
        # Entered by staff: no longer an import waiting for the nurse's confirmation.
        row.origin, row.replaced_value = Origin.ENTERED, None
        row.confirmed_at = row.confirmed_by = None
        audited_save(row, user=user, reason=reason if key in changed else "")
        saved.append(row)
    record_event(
        "cohort_facts.record",
        actor=user,
        participant=participant,
        reason=reason,
        details={"facts": sorted(checked), "source": source, "recorded_on": on.isoformat()},
    )
    refresh_members([participant.pk])  # every trial's stored verdict on the member
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


# ------------------------------------------------------------------ stored verdicts
#
# Bump when the way a member's facts are put together changes (``member_facts``,
# ``_registration_facts``, ``KPS_FROM_ECOG``): every stored verdict is then stale.
VERDICT_LOGIC = "1"
# How far before the last check's start the next one reads the history tables, so a
# transaction that wrote a history row before that start but committed after it is seen.
SYNC_MARGIN = timedelta(minutes=10)
CHUNK = 1000  # members assessed and written at a time by a whole-trial refresh


def _history_sources() -> list[tuple[Any, str]]:
    """Every history table whose rows change what ``member_facts`` reads, with the field
    naming the member: registration, identity (date of birth), consent, cohort facts."""
    return [
        (Participant.history.model, "id"),
        (Identity.history.model, "participant_id"),
        (ConsentRecord.history.model, "participant_id"),
        (CohortFact.history.model, "participant_id"),
    ]


def verdict_fingerprint(trial: str) -> str:
    """What a trial's stored verdicts depend on besides the members' records: its
    criteria (facts and rules), the cohort's catalogue, the consent items read as facts
    and ``VERDICT_LOGIC``. A change to any of them makes every stored verdict stale."""
    protocol = load_protocol()
    parts = [
        VERDICT_LOGIC,
        repr(get_trial(trial).criteria),
        repr(sorted(catalogue().items())),
        repr((protocol.randomization_question, tuple(protocol.questionnaire_consent_items))),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _valid_until(criteria: Any, on: date, birth: date | None) -> date | None:
    """The first day the verdict of ``on`` may differ with no record changing: the next
    day if a criterion reads the assessment date itself, the next birthday if one reads
    the age (from the date of birth), else none."""
    asked = {leaf.fact for criterion in criteria.active for leaf in criterion.rule.leaves()}
    if "screening_date" in asked:
        return on + timedelta(days=1)
    if "age" in asked and birth is not None:
        for year in (on.year, on.year + 1):
            try:
                birthday = birth.replace(year=year)
            except ValueError:  # 29 February: the age turns over on 1 March
                birthday = date(year, 3, 1)
            if birthday > on:
                return birthday
    return None


def _verdict_rows(
    participants: QuerySet[Participant], trials: Collection[str], on: date
) -> list[MemberVerdict]:
    """The verdicts of ``participants`` with recorded cohort facts on each trial."""
    with_facts = participants.filter(cohort_facts__isnull=False).distinct()
    errors: dict[str, str] = {}
    known, verdicts = assess_members(with_facts, trials, on, errors)
    births = dict(
        Identity.objects.filter(participant__in=with_facts).values_list(
            "participant_id", "date_of_birth"
        )
    )
    bad: dict[int, list[str]] = defaultdict(list)
    for key, text in errors.items():
        who, fact = key.split(":", 1)
        bad[int(who)].append(f"{fact.strip()}: {text}")
    ranks: dict[str, Rank] = {Status.ELIGIBLE: Rank.ELIGIBLE, Status.PENDING: Rank.PENDING}
    rows = []
    for code in trials:
        config, fingerprint = get_trial(code), verdict_fingerprint(code)
        for pid, member in known.participants.items():
            common: dict[str, Any] = {
                "participant_id": pid,
                "trial": code,
                "registered_on": member["registered_on"],
                "study_id": member["study_id"],
                "fingerprint": fingerprint,
                "computed_on": on,
            }
            result = verdicts[code].get(pid)
            if result is None:
                rows.append(
                    MemberVerdict(**common, rank=Rank.UNREADABLE, error="; ".join(bad[pid]))
                )
                continue
            rows.append(
                MemberVerdict(
                    **common,
                    rank=ranks.get(result.status, Rank.INELIGIBLE),
                    missing=result.missing_facts,
                    undecided=result.undecided,
                    valid_until=_valid_until(config.criteria, on, births.get(pid)),
                )
            )
    return rows


def refresh_members(participant_ids: Collection[int], on: date | None = None) -> int:
    """Assess these members again on every trial and store the verdicts (a member without
    recorded cohort facts loses theirs). The prescreening service calls it when it
    records a member's facts; ``sync_verdicts`` when other records changed. Returns the
    number of verdicts stored."""
    return _store(list(participant_ids), list(trials_by_code()), on or timezone.localdate())


def _store(ids: list[int], trials: list[str], on: date) -> int:
    stored = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = _verdict_rows(Participant.objects.filter(pk__in=chunk), trials, on)
        with transaction.atomic():
            MemberVerdict.objects.filter(participant_id__in=chunk, trial__in=trials).delete()
            MemberVerdict.objects.bulk_create(rows, batch_size=CHUNK)
        stored += len(rows)
    return stored


def refresh_trial(
    trial: str, on: date | None = None, progress: Callable[[int, int], None] | None = None
) -> int:
    """Assess every member with recorded cohort facts on ``trial`` from scratch and
    replace its stored verdicts (lazily when the trial's fingerprint changed)."""
    return refresh_trials([trial], on, progress)


def refresh_trials(
    trials: Collection[str],
    on: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """``refresh_trial`` for several trials in one pass over the cohort (each member's
    facts are read and checked once): ``blend prescreen-refresh``. ``progress(done,
    total)`` is called after each chunk of members. Holds the trials' sync rows for the
    duration, so two refreshes do not interleave. Returns the number of verdicts stored."""
    on = on or timezone.localdate()
    codes = sorted(trials)
    started = timezone.now()
    with transaction.atomic():
        for code in codes:
            VerdictSync.objects.get_or_create(
                trial=code, defaults={"fingerprint": "", "started_at": started}
            )
        list(VerdictSync.objects.select_for_update().filter(trial__in=codes).order_by("trial"))
        with_facts = Participant.objects.filter(cohort_facts__isnull=False).values("pk")
        MemberVerdict.objects.filter(trial__in=codes).exclude(
            participant_id__in=with_facts
        ).delete()
        ids = list(with_facts.distinct().order_by("pk").values_list("pk", flat=True))
        stored = 0
        for start in range(0, len(ids), CHUNK):
            stored += _store(ids[start : start + CHUNK], codes, on)
            if progress is not None:
                progress(min(start + CHUNK, len(ids)), len(ids))
        for code in codes:
            VerdictSync.objects.filter(trial=code).update(
                fingerprint=verdict_fingerprint(code), started_at=started
            )
    return stored


def _changed_members(trial: str, since: datetime, on: date) -> set[int]:
    """Members whose stored verdict on ``trial`` may be stale: a history row of what their
    facts are read from written since ``since``, a verdict that no longer holds on ``on``,
    or recorded cohort facts without a verdict (facts written without history, e.g. by a
    bulk load). One query each, whatever the cohort's size."""
    changed: set[int] = set()
    for model, member_field in _history_sources():
        changed.update(
            model.objects.filter(history_date__gte=since)
            .values_list(member_field, flat=True)
            .distinct()
        )
    verdicts = MemberVerdict.objects.filter(trial=trial)
    for stale in (verdicts.filter(valid_until__lte=on), verdicts.filter(computed_on__gt=on)):
        changed.update(stale.values_list("participant_id", flat=True))
    has_facts = CohortFact.objects.filter(participant_id=OuterRef("pk"))
    has_verdict = MemberVerdict.objects.filter(trial=trial, participant_id=OuterRef("pk"))
    changed.update(
        Participant.objects.filter(Exists(has_facts))
        .exclude(Exists(has_verdict))
        .values_list("pk", flat=True)
    )
    return changed


def sync_verdicts(trial: str, on: date | None = None) -> int:
    """Bring ``trial``'s stored verdicts up to date for ``on`` (today) before they are
    read: the whole trial when its fingerprint changed (criteria, catalogue), else only
    the members whose records changed since the last check (``_changed_members``).
    Returns the number of verdicts assessed again (0 when nothing changed)."""
    on = on or timezone.localdate()
    started = timezone.now()
    sync = VerdictSync.objects.filter(trial=trial).first()
    if sync is None or sync.fingerprint != verdict_fingerprint(trial):
        return refresh_trial(trial, on)
    changed = _changed_members(trial, sync.started_at - SYNC_MARGIN, on)
    if not changed and started - sync.started_at < SYNC_MARGIN:
        return 0
    with transaction.atomic():
        VerdictSync.objects.select_for_update().filter(trial=trial).first()
        stored = _store(sorted(changed), [trial], on)
        VerdictSync.objects.filter(trial=trial).update(started_at=started)
    return stored


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
    to_confirm: int = 0  # imported facts waiting for the nurse's confirmation


def unconfirmed_counts(participant_ids: Collection[int]) -> dict[int, int]:
    """How many imported facts wait for the nurse's confirmation, per member (one query)."""
    rows = (
        CohortFact.objects.filter(participant_id__in=participant_ids, confirmed_at__isnull=True)
        .exclude(origin=Origin.ENTERED)
        .order_by()
        .values_list("participant_id")
        .annotate(n=Count("pk"))
        .values_list("participant_id", "n")
    )
    return dict(rows)


@dataclass(frozen=True)
class Worklist:
    """One page of a trial's worklist, with the counts over the whole of it.

    ``rows`` are the members to screen (never randomized in another trial, so no overlap
    rule can keep them out); ``others`` a page of the potentially eligible members
    randomized in another trial, each with the overlap rules that keep them out (none:
    they may be screened too). The rules are asked for that page alone, so the queries of
    a request are bounded by the page sizes, not by the cohort."""

    trial: Trial
    on: date
    rows: list[WorklistRow]  # this page of the members to screen, in worklist order
    assessed: int  # members with recorded cohort facts, not yet screened for the trial
    eligible: int = 0  # of them, eligible on the cohort facts (not in another trial)
    pending: int = 0  # of them, pending on facts still missing (not in another trial)
    page: int = 1
    pages: int = 1
    per_page: int = 50
    others: list[WorklistRow] = field(default_factory=list)  # page of those in another trial
    in_other_trial: int = 0  # potentially eligible, not screened, randomized elsewhere
    others_page: int = 1
    others_pages: int = 1
    # Study IDs whose recorded facts no longer fit the cohort's catalogue (left out).
    unreadable: list[str] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)  # label → pending members it keeps

    @property
    def to_screen(self) -> list[WorklistRow]:
        return self.rows + [row for row in self.others if not row.refusals]

    @property
    def refused(self) -> list[WorklistRow]:
        return [row for row in self.others if row.refusals]

    @property
    def total(self) -> int:
        return self.eligible + self.pending


def _not_screened(trial: str) -> QuerySet[MemberVerdict]:
    """The trial's stored verdicts on members not screened for it (a join: screening and
    its withdrawal change this at once, with no verdict to recompute)."""
    screened = Screening.objects.filter(trial=trial, participant_id=OuterRef("participant_id"))
    return MemberVerdict.objects.filter(trial=trial).exclude(Exists(screened))


def _assessed(trial: str) -> QuerySet[Participant]:
    """Members with recorded cohort facts and no screening for ``trial``."""
    return (
        Participant.objects.filter(cohort_facts__isnull=False)
        .exclude(screenings__trial=trial)
        .distinct()
    )


def _page_of(total: int, page: int, per_page: int) -> tuple[int, int, slice]:
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    return page, pages, slice((page - 1) * per_page, page * per_page)


def worklist(
    trial: str | None = None,
    on: date | None = None,
    *,
    page: int = 1,
    per_page: int = 50,
    others_page: int | None = None,
    others_per_page: int = 20,
) -> Worklist:
    """Who to screen for ``trial``: members with recorded cohort facts, not yet screened
    for it, on whom no criterion fails (eligible or pending), eligible first and then by
    cohort entry; one page of them, and one page of those randomized in another trial
    with the overlap rules that keep them out and the day each stops applying (only when
    ``others_page`` is given: the rules are asked member by member). The stored verdicts are brought up to date first (``sync_verdicts``), then read by
    indexed queries, so the number of queries does not grow with the cohort."""
    code = trial_code_or_default(trial)
    on = on or timezone.localdate()
    config = get_trial(code)
    sync_verdicts(code, on)
    elsewhere = Allocation.objects.filter(participant_id=OuterRef("participant_id")).exclude(
        trial=code
    )
    open_rows = _not_screened(code).annotate(elsewhere=Exists(elsewhere))
    counts: dict[tuple[int, bool], int] = {
        (rank, other): n
        for rank, other, n in open_rows.values_list("rank", "elsewhere")
        .annotate(n=Count("pk"))
        .values_list("rank", "elsewhere", "n")
    }
    eligible, pending = counts.get((Rank.ELIGIBLE, False), 0), counts.get((Rank.PENDING, False), 0)
    in_other = counts.get((Rank.ELIGIBLE, True), 0) + counts.get((Rank.PENDING, True), 0)
    labels = config.criteria.facts
    order = ("rank", "registered_on", "study_id")
    listed = open_rows.filter(rank__lte=Rank.PENDING).select_related("participant__site")
    page, pages, window = _page_of(eligible + pending, page, per_page)
    show_others = others_page is not None
    others_page, others_pages, others_window = _page_of(in_other, others_page or 1, others_per_page)

    def row(found: MemberVerdict, refusals: list[Refusal], to_confirm: int = 0) -> WorklistRow:
        return WorklistRow(
            participant_id=found.participant_id,
            study_id=found.study_id,
            site=found.participant.site.code,
            registered_on=found.registered_on,
            status="refused" if refusals else found.status,
            missing=[labels[key].label for key in found.missing if key in labels],
            undecided=found.undecided,
            refusals=refusals,
            to_confirm=to_confirm,
        )

    shown = list(listed.filter(elsewhere=False).order_by(*order)[window])
    waiting = unconfirmed_counts([found.participant_id for found in shown])
    rows = [row(found, [], waiting.get(found.participant_id, 0)) for found in shown]
    others = (
        []
        if not show_others
        else [
            row(found, overlap_refusals(found.participant, code, on))
            for found in listed.filter(elsewhere=True).order_by(*order)[others_window]
        ]
    )
    missing: dict[str, int] = defaultdict(int)
    for keys in open_rows.filter(rank=Rank.PENDING).values_list("missing", flat=True):
        for key in keys:
            if key in labels:
                missing[labels[key].label] += 1
    unreadable = sorted(open_rows.filter(rank=Rank.UNREADABLE).values_list("study_id", flat=True))
    return Worklist(
        config,
        on,
        rows,
        assessed=sum(counts.values()) - len(unreadable),
        eligible=eligible,
        pending=pending,
        page=page,
        pages=pages,
        per_page=per_page,
        others=others,
        in_other_trial=in_other,
        others_page=others_page,
        others_pages=others_pages,
        unreadable=unreadable,
        missing=dict(sorted(missing.items(), key=lambda item: (-item[1], item[0]))),
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
    sync_verdicts(code, on)
    verdicts = dict(
        MemberVerdict.objects.filter(trial=code, participant__in=in_period)
        .exclude(rank=Rank.UNREADABLE)
        .values_list("participant_id", "rank")
    )
    screened = dict(
        Screening.objects.filter(trial=code, participant__in=in_period).values_list(
            "participant_id", "status"
        )
    )
    potential = {pid for pid, rank in verdicts.items() if rank <= Rank.PENDING}
    randomized = Allocation.objects.filter(trial=code, participant__in=in_period).count()
    return {
        "trial": code,
        "period_start": start,
        "period_end": end,
        "in_period": members,
        "assessed": len(verdicts),
        "not_assessed": members - len(verdicts),
        "potentially_eligible": len(potential),
        "ineligible_on_cohort_facts": len(verdicts) - len(potential),
        "potentially_eligible_not_screened": len(potential - set(screened)),
        "screened": len(screened),
        "eligible": sum(1 for status in screened.values() if status == Status.ELIGIBLE),
        "randomized": randomized,
    }


def members_to_assess(trial: str | None = None) -> int:
    """How many members have recorded cohort facts and no screening for ``trial`` (one
    COUNT query; the worklist tells which of them are potentially eligible)."""
    return _assessed(trial_code_or_default(trial)).count()
