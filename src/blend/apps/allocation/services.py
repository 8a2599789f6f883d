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

from django.db import IntegrityError, transaction
from django.utils import timezone

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.allocation.anchoring import anchor_head, anchors_after_lock
from blend.apps.allocation.commitment import ensure_commitment
from blend.apps.allocation.errors import (
    AllocationError,
    AlreadyRandomized,
    ConsentMissing,
    NotEligible,
    RandomizationUnavailable,
)
from blend.apps.allocation.models import Allocation, AllocationLog, AllocationSequence
from blend.apps.allocation.sequence import (
    advance,
    configured_chain_key,
    configured_seed,
    create_sequence_row,
    durable_commit,
    locked_sequence,
    stratum_history,
)
from blend.apps.audit.services import record_event
from blend.apps.consent.services import randomization_consent_missing
from blend.apps.registry.models import Participant
from blend.apps.screening.models import Screening, Status
from blend.apps.trials.lookup import get_trial, trials_by_code
from blend.protocol import Membership, Refusal, Trial, load_cohort
from blend.randomization import DesignSpec, allocate_next
from blend.randomization.chain import KEYED, record_hash, record_mac

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


def _check_may_randomize(participant: Participant, trial: str) -> datetime:
    """The confirmation time, or an AllocationError saying what is missing (one query for
    the trial's screening, one for its allocation, then the consent service)."""
    if Allocation.objects.filter(participant=participant, trial=trial).exists():
        raise _already_randomized(participant, trial)
    row = (
        Screening.objects.filter(participant=participant, trial=trial)
        .values_list("status", "confirmed_at")
        .first()
    )
    status, confirmed_at = row or (None, None)
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
    return confirmed_at


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


def profile_of(participant: Participant, spec: DesignSpec, trial: str) -> dict[str, str]:
    """The stratification and minimisation factor levels of a participant in ``trial``."""
    names = spec.profile_factors
    if not names:
        return {}
    screening = Screening.objects.filter(participant=participant, trial=trial).first()
    facts = screening.facts if screening else {}
    return {name: _factor_value(participant, facts, name) for name in names}


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

    Eligibility and consent are read before the lock, so concurrent requests do not queue
    behind those reads; "already allocated?" and the overlap rules (and the unique
    constraint behind them) are decided under the lock. ``now`` exists for the demo and
    data migrations (a historical time stamp); it must not precede the confirmation.
    Views never pass it."""
    ctx = _context(trial)
    check(user, Cap.RANDOMIZE, trial=ctx.trial)  # the service decides, whatever calls it
    confirmed_at = _check_may_randomize(participant, ctx.trial)
    now = now or timezone.now()
    if now < confirmed_at:
        raise NotEligible(
            f"time: expected the allocation after the confirmation at {confirmed_at}, got {now}"
        )
    with anchors_after_lock():  # the anchor's fsync after the writer lock is released
        return _allocate_under_locks(participant, user, ctx, now)


def _allocate_under_locks(
    participant: Participant, user: User, ctx: _Context, now: datetime
) -> Allocation:
    for _attempt in range(2):
        with durable_commit():
            try:
                with transaction.atomic():
                    # The member first, so two trials randomizing them at once queue here
                    # and the second sees the first one's allocation.
                    Participant.objects.select_for_update().filter(pk=participant.pk).first()
                    sequence = locked_sequence(ctx.trial)
                    if sequence is not None:
                        _check_under_lock(participant, ctx.trial, now)
                        ensure_commitment(
                            ctx.seed,
                            ctx.spec,
                            trial=ctx.trial,
                            user=user,
                            now=now,
                            sequence=sequence,
                        )
                        return _allocate(participant, user, ctx, sequence, now)
            except IntegrityError as error:
                # A concurrent request allocated this participant first: the unique
                # constraint refused ours and the whole transaction (sequence number
                # included) rolled back, so no gap is left.
                if Allocation.objects.filter(participant=participant, trial=ctx.trial).exists():
                    raise _already_randomized(participant, ctx.trial) from error
                raise
        create_sequence_row(ctx.trial)  # the first allocation of the trial
    raise RandomizationUnavailable("allocation sequence: could not be created")


def _check_under_lock(participant: Participant, trial: str, now: datetime) -> None:
    if Allocation.objects.filter(participant=participant, trial=trial).exists():
        raise _already_randomized(participant, trial)
    found = overlap_refusals(participant, trial, timezone.localdate(now))
    if found:
        raise NotEligible(_refusal_text(trial, found))


def _next_arm(
    ctx: _Context, sequence: AllocationSequence, stratum: str, profile: dict[str, str]
) -> tuple[str, int]:
    """The engine's arm over the stratum's history, and the index within the stratum.

    The arms come from the locked sequence row (no query); minimisation also needs every
    earlier participant's factor levels, read from the stratum's allocations."""
    previous = stratum_history(sequence, stratum)
    previous_profiles: list[dict[str, str]] = []
    if ctx.spec.reads_previous_profiles:
        previous_profiles = list(
            Allocation.objects.filter(trial=ctx.trial, stratum=stratum)
            .order_by("stratum_index")
            .values_list("profile", flat=True)
        )
    arm = allocate_next(ctx.spec, ctx.seed, previous, profile, previous_profiles)
    return arm, len(previous)


def _allocate(
    participant: Participant, user: User, ctx: _Context, sequence: AllocationSequence, now: datetime
) -> Allocation:
    profile = profile_of(participant, ctx.spec, ctx.trial)
    stratum = ctx.spec.stratum_of(profile)
    arm, index = _next_arm(ctx, sequence, stratum, profile)
    number = sequence.last_number + 1
    fields = {
        "sequence_number": number,
        "participant_id": participant.pk,
        "study_id": participant.study_id,
        "arm": arm,
        "stratum": stratum,
        "stratum_index": index,
        "profile": profile,
        "allocated_at": now,
        "allocated_by": user.get_username(),
    }
    digest = record_hash(sequence.last_hash, {**fields, "trial": ctx.trial}, KEYED)
    mac = record_mac(ctx.chain_key, digest)
    allocation = Allocation.objects.create(
        participant=participant,
        trial=ctx.trial,
        arm=arm,
        sequence_number=number,
        stratum=stratum,
        stratum_index=index,
        profile=profile,
        allocated_at=now,
        allocated_by=user,
    )
    AllocationLog.objects.create(
        trial=ctx.trial,
        participant=participant,
        previous_hash=sequence.last_hash,
        hash=digest,
        chain_version=KEYED,
        mac=mac,
        **{k: v for k, v in fields.items() if k != "participant_id"},
    )
    advance(sequence, stratum=stratum, arm=arm, number=number, digest=digest)
    anchor_head(ctx.chain_key, trial=ctx.trial, number=number, digest=mac, at=now)
    # The arm stays out of the audit event: audit.view does not imply allocation.view.
    record_event(
        "allocation.randomize",
        actor=user,
        participant=participant,
        obj=allocation,
        at=now,
        details={"trial": ctx.trial, "sequence_number": number, "stratum": stratum},
    )
    return allocation
