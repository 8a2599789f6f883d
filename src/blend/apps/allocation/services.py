"""The allocation service: the only code that reads the randomization seed and writes
allocations.

Each trial has its own sequence, seed, commitment and chain. ``randomize`` locks the
member's row and then the trial's allocation sequence row (``allocation.sequence``), so
allocations get gapless sequence numbers, the log chain stays linear, and two trials
randomizing the same member at once are decided one after the other: the trial's overlap
rules (``overlap.toml``) are checked under those locks against the member's allocations
in every other trial. The arm comes from the pure engine
(``blend.randomization.allocate_next``), the log record's hash from the pure chain
(``blend.randomization.chain``). The unique constraint on (participant, trial) is the
backstop against a double allocation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists
from django.utils import timezone

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.allocation import group_commit, ledger
from blend.apps.allocation.anchoring import anchor_head, anchors_after_lock
from blend.apps.allocation.commitment import ensure_commitment
from blend.apps.allocation.errors import (
    AllocationError,
    AlreadyRandomized,
    ConsentMissing,
    NotEligible,
    RandomizationUnavailable,
)
from blend.apps.allocation.group_commit import Group, GroupCommit, Pending
from blend.apps.allocation.models import Allocation
from blend.apps.allocation.sequence import (
    advance_in_memory,
    configured_chain_key,
    configured_seed,
    create_sequence_row,
    durable_commit,
    stratum_history,
)
from blend.apps.audit.services import PreparedEvent, events_insert, prepare_event
from blend.apps.consent.services import randomization_consent_missing
from blend.apps.registry.models import Participant
from blend.apps.screening.models import Screening, Status
from blend.apps.trials.lookup import get_trial, trials_by_code
from blend.protocol import Membership, Refusal, Trial, load_cohort
from blend.randomization import DesignSpec
from blend.randomization.chain import KEYED, Link, extend_keyed
from blend.randomization.engine import Placement, allocate_in_order

# Takes the participant and a trial code; returns the day treatment started in that
# trial, or None. The treatment app registers it at start-up (it sits above this one).
TreatmentStartSource = Callable[[Participant, str], date | None]
_treatment_start_sources: list[TreatmentStartSource] = []


def register_treatment_start_source(source: TreatmentStartSource) -> None:
    """Tell the overlap rules where a trial's start of treatment is recorded."""
    if source not in _treatment_start_sources:
        _treatment_start_sources.append(source)


__all__ = [
    # what callers of ``randomize`` catch: part of this service's surface
    "AllocationError",
    "AlreadyRandomized",
    "ConsentMissing",
    "NotEligible",
    "RandomizationUnavailable",
    "memberships",
    "overlap_refusals",
    "randomize",
    "register_treatment_start_source",
]


@dataclass(frozen=True)
class _Context:
    seed: bytes
    spec: DesignSpec
    trial: str
    config: Trial
    chain_key: bytes


def _context(trial: str | None) -> _Context:
    config = get_trial(trial)
    return _Context(
        configured_seed(config.code),
        config.design,
        config.code,
        config,
        configured_chain_key(config.code),
    )


def _already_randomized(participant: Participant, trial: str) -> AlreadyRandomized:
    return AlreadyRandomized(
        f"participant {participant.study_id}: already randomized in {trial}; "
        "an allocation is final and is never repeated"
    )


def _check_may_randomize(participant: Participant, trial: str) -> tuple[datetime, dict[str, Any]]:
    """The confirmation time and the screening facts, or an AllocationError saying what
    is missing (one query for the trial's screening and whether the member is already
    allocated in it, then the consent service)."""
    allocated = Allocation.objects.filter(participant=participant, trial=trial)
    row = (
        Screening.objects.filter(participant=participant, trial=trial)
        .annotate(allocated=Exists(allocated))
        .values_list("status", "confirmed_at", "facts", "allocated")
        .first()
    )
    status, confirmed_at, facts, already = row or (None, None, {}, allocated.exists())
    if already:
        raise _already_randomized(participant, trial)
    if status != Status.ELIGIBLE:
        raise NotEligible(
            f"eligibility: expected a screening with status eligible, got {status or 'not screened'}"
        )
    if confirmed_at is None:
        raise NotEligible(
            "eligibility: expected an investigator's confirmation; it is not confirmed yet"
        )
    missing = randomization_consent_missing(participant)
    if missing:
        raise ConsentMissing(
            f"consent: expected a current 'yes' to items {', '.join(missing)} before randomization"
        )
    return confirmed_at, facts or {}


def _factor_value(participant: Participant, facts: dict[str, Any], name: str) -> str:
    if name in {"centre", "center", "site"}:
        return participant.site.code
    value = facts.get(name)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        raise NotEligible(
            f"stratification factor {name}: expected a value in the screening facts, got none"
        )
    return str(value)


def memberships(participant: Participant, *, besides: str) -> list[Membership]:
    """The member's randomizations in trials other than ``besides``: what overlap rules read."""
    found = []
    others = Allocation.objects.filter(participant=participant).exclude(trial=besides)
    for trial, allocated_at in others.values_list("trial", "allocated_at"):
        started = None
        for source in _treatment_start_sources:
            started = started or source(participant, trial)
        found.append(Membership(trial, allocated_at.date(), treatment_started_on=started))
    return found


def overlap_refusals(participant: Participant, trial: str, on: date) -> list[Refusal]:
    """The overlap rules of ``trial`` that keep the member out on ``on`` (empty: none).

    Shown on the screening pages; ``randomize`` asks again under its locks."""
    config = get_trial(trial)
    if not config.overlap_rules:
        return []
    return config.overlap_refusals(
        memberships(participant, besides=trial), trials_by_code(), load_cohort(), on=on
    )


def _refusal_text(trial: str, found: list[Refusal]) -> str:
    parts = []
    for refusal in found:
        until = f" until {refusal.lifts_on}" if refusal.lifts_on else ""
        parts.append(f"{refusal.rule.describe()}: {refusal.reason}{until}")
    return f"overlap with other trials: not eligible for {trial}, " + "; ".join(parts)


def _profile(participant: Participant, spec: DesignSpec, facts: dict[str, Any]) -> dict[str, str]:
    """The stratification and minimisation factor levels of a participant, from the
    trial's screening facts (read with the eligibility, before the lock)."""
    return {name: _factor_value(participant, facts, name) for name in spec.profile_factors}


def randomize(
    participant: Participant,
    *,
    user: User,
    trial: str | None = None,
    now: datetime | None = None,
) -> Allocation:
    """Allocate ``participant`` in ``trial`` (the default trial for None). Needs the
    trial's confirmed eligibility and consent items (a, c, d by default:
    ``consent.required_for_randomization``), and no overlap rule against it. Raises an
    AllocationError subclass when not allowed; the allocation, its log record and the
    audit event are written together or not at all.

    Eligibility, consent, the stratification profile and the audit payload are prepared
    before the lock, so concurrent requests do not queue behind those reads; "already
    allocated?" and the overlap rules (and the unique constraint behind them) are decided
    under the lock. Concurrent allocations of one trial are committed together
    (``group_commit``), each its own chain link; the call returns once its commit is
    durable. ``now`` exists for the demo and data migrations (a historical time stamp);
    it must not precede the confirmation. Views never pass it."""
    ctx = _context(trial)
    check(user, Cap.RANDOMIZE, trial=ctx.trial)  # the service decides, whatever calls it
    request = _prepare(participant, user, ctx, now)
    if connection.in_atomic_block or not group_commit.ENABLED:
        # Inside the caller's transaction (a data migration, a test) the caller commits,
        # so this request cannot join a group: it is allocated alone, right here.
        alone: Pending[_Request, Allocation] = Pending(request)
        with anchors_after_lock():
            _commit_group([alone], ctx)
        return alone.outcome()
    return _GROUPS.submit((ctx.trial, ctx.seed, ctx.chain_key), request, _run_group)


@dataclass(frozen=True)
class _Request:
    """An allocation request with everything decided before the lock."""

    participant: Participant
    user: User
    ctx: _Context
    now: datetime
    profile: dict[str, str]
    event: PreparedEvent


_GROUPS: GroupCommit[_Request, Allocation] = GroupCommit()


def _prepare(participant: Participant, user: User, ctx: _Context, now: datetime | None) -> _Request:
    confirmed_at, facts = _check_may_randomize(participant, ctx.trial)
    now = now or timezone.now()
    if now < confirmed_at:
        raise NotEligible(
            f"time: expected the allocation after the confirmation at {confirmed_at}, got {now}"
        )
    profile = _profile(participant, ctx.spec, facts)
    # The arm stays out of the audit event: audit.view does not imply allocation.view.
    event = prepare_event(
        "allocation.randomize",
        actor=user,
        participant=participant,
        model=Allocation,
        details={"trial": ctx.trial},
    )
    return _Request(participant, user, ctx, now, profile, event)


def _run_group(group: Group[_Request, Allocation]) -> None:
    """Commit a group (the leader's thread); the anchor lines are appended after the
    members are answered and the lead is handed on, so their fsync holds up nobody."""
    ctx = group.members[0].item.ctx
    with anchors_after_lock():
        try:
            _commit_group(group.members, ctx)
        except Exception:
            if len(group.members) == 1:
                raise
            # Something unforeseen failed the whole group (nothing of it was written):
            # each member is tried again alone, so one cannot fail the others.
            for member in group.members:
                try:
                    _commit_group([member], ctx)
                except Exception as error:  # noqa: BLE001 - this member's own answer
                    member.fail(error)
        group.release()


@dataclass
class _Outcome:
    member: Pending[_Request, Allocation]
    allocation: Allocation | None = None
    error: AllocationError | None = None

    def deliver(self) -> None:
        if self.allocation is not None:
            self.member.answer(self.allocation)
        else:
            assert self.error is not None
            self.member.fail(self.error)


def _commit_group(members: list[Pending[_Request, Allocation]], ctx: _Context) -> None:
    """One transaction for the group: lock, allocate each member in arrival order, write,
    commit; then answer every member. Creates the trial's sequence row first if needed."""
    for _attempt in range(2):
        outcomes: list[_Outcome] | None = None
        with durable_commit():
            try:
                with transaction.atomic():
                    head = ledger.lock_and_read(ctx.trial, [m.item.participant.pk for m in members])
                    if head is not None:
                        outcomes = _allocate_group(ctx, head, members)
            except IntegrityError as error:
                # A concurrent request allocated this participant first: the unique
                # constraint refused ours and the whole transaction (sequence number
                # included) rolled back, so no gap is left.
                participant = members[0].item.participant
                if (
                    len(members) == 1
                    and Allocation.objects.filter(participant=participant, trial=ctx.trial).exists()
                ):
                    raise _already_randomized(participant, ctx.trial) from error
                raise
        if outcomes is not None:
            # Committed (or, in the caller's transaction, written): now answer.
            for outcome in outcomes:
                outcome.deliver()
            return
        create_sequence_row(ctx.trial)  # the first allocation of the trial
    raise RandomizationUnavailable("allocation sequence: could not be created")


def _allocate_group(
    ctx: _Context, head: ledger.Head, members: list[Pending[_Request, Allocation]]
) -> list[_Outcome]:
    """Under the locks: decide each member, compute the arms and the chain links in
    arrival order, and write them all (``ledger.write``) with their audit events."""
    sequence = head.row
    ensure_commitment(
        ctx.seed,
        ctx.spec,
        trial=ctx.trial,
        user=members[0].item.user,
        now=members[0].item.now,
        sequence=sequence,
    )
    outcomes, admitted, taken = [], [], set(head.allocated)
    for member in members:
        request = member.item
        refusal = _refusal_under_lock(request, taken, head.elsewhere)
        outcomes.append(_Outcome(member, error=refusal))
        if refusal is None:
            taken.add(request.participant.pk)
            admitted.append(outcomes[-1])
    if not admitted:
        return outcomes
    requests = [o.member.item for o in admitted]
    placements = allocate_in_order(
        ctx.spec,
        ctx.seed,
        {stratum: stratum_history(sequence, stratum) for stratum in sequence.arms_by_stratum},
        [r.profile for r in requests],
        _previous_profiles(ctx, {ctx.spec.stratum_of(r.profile) for r in requests}),
    )
    first = sequence.last_number + 1
    records = [
        _chained_fields(r, p, first + i, ctx.trial)
        for i, (r, p) in enumerate(zip(requests, placements, strict=True))
    ]
    links = extend_keyed(ctx.chain_key, sequence.last_hash, records)
    for record in records:
        advance_in_memory(sequence, stratum=record["stratum"], arm=record["arm"])
    sequence.last_number, sequence.last_hash = records[-1]["sequence_number"], links[-1].hash
    keys = head.keys[: len(requests)]
    events = [
        (
            r.event,
            str(key),
            {"sequence_number": rec["sequence_number"], "stratum": rec["stratum"]},
            r.now,
        )
        for r, rec, key in zip(requests, records, keys, strict=True)
    ]
    ledger.write(
        sequence,
        [_allocation_row(r, rec, key) for r, rec, key in zip(requests, records, keys, strict=True)],
        [_log_row(rec, link) for rec, link in zip(records, links, strict=True)],
        events_insert(events),
    )
    for outcome, r, rec, link, key in zip(admitted, requests, records, links, keys, strict=True):
        outcome.allocation = _allocation(r, rec, key)
        anchor_head(
            ctx.chain_key, trial=ctx.trial, number=rec["sequence_number"], digest=link.mac, at=r.now
        )
    return outcomes


def _refusal_under_lock(
    request: _Request, taken: set[int], elsewhere: frozenset[int]
) -> AllocationError | None:
    """Why this member cannot be allocated now, if anything; the overlap rules are asked
    only for members allocated in another trial (with none, no rule refuses)."""
    participant, trial = request.participant, request.ctx.trial
    if participant.pk in taken:
        return _already_randomized(participant, trial)
    if request.ctx.config.overlap_rules and participant.pk in elsewhere:
        found = overlap_refusals(participant, trial, timezone.localdate(request.now))
        if found:
            return NotEligible(_refusal_text(trial, found))
    return None


def _previous_profiles(ctx: _Context, strata: set[str]) -> dict[str, list[dict[str, str]]]:
    """Minimisation reads every earlier participant's factor levels in the strata."""
    if not ctx.spec.reads_previous_profiles:
        return {}
    found: dict[str, list[dict[str, str]]] = {stratum: [] for stratum in strata}
    rows = (
        Allocation.objects.filter(trial=ctx.trial, stratum__in=sorted(strata))
        .order_by("stratum", "stratum_index")
        .values_list("stratum", "profile")
    )
    for stratum, profile in rows:
        found[stratum].append(profile)
    return found


def _chained_fields(
    request: _Request, placement: Placement, number: int, trial: str
) -> dict[str, Any]:
    """What the chain hashes for one allocation (``blend.randomization.chain.KEYED_FIELDS``)."""
    return {
        "sequence_number": number,
        "participant_id": request.participant.pk,
        "study_id": request.participant.study_id,
        "arm": placement.arm,
        "stratum": placement.stratum,
        "stratum_index": placement.index,
        "profile": request.profile,
        "allocated_at": request.now,
        "allocated_by": request.user.get_username(),
        "trial": trial,
    }


def _allocation_row(request: _Request, record: dict[str, Any], key: int) -> dict[str, Any]:
    return {**record, "id": key, "allocated_by_id": request.user.pk}


def _log_row(record: dict[str, Any], link: Link) -> dict[str, Any]:
    return {
        **record,
        "previous_hash": link.previous_hash,
        "hash": link.hash,
        "chain_version": KEYED,
        "mac": link.mac,
    }


def _allocation(request: _Request, record: dict[str, Any], pk: int) -> Allocation:
    """The written allocation as a model instance (no query to read it back)."""
    allocation = Allocation(
        pk=pk,
        participant=request.participant,
        trial=record["trial"],
        arm=record["arm"],
        sequence_number=record["sequence_number"],
        stratum=record["stratum"],
        stratum_index=record["stratum_index"],
        profile=record["profile"],
        allocated_at=record["allocated_at"],
        allocated_by=request.user,
    )
    allocation._state.adding = False
    allocation._state.db = "default"
    return allocation
