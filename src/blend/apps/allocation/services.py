"""The allocation service: the only code that reads the randomization seed and writes
allocations.

``randomize`` locks the trial's allocation sequence row (``allocation.sequence``), so
allocations get gapless sequence numbers and the log chain stays linear. The arm comes
from the pure engine (``blend.randomization.allocate_next``), the log record's hash from
the pure chain (``blend.randomization.chain``). The unique constraint on the participant
is the backstop against a double allocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from blend.apps.accounts.models import User
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
    configured_seed,
    create_sequence_row,
    durable_commit,
    locked_sequence,
    stratum_history,
    trial_code,
)
from blend.apps.audit.services import record_event
from blend.apps.consent.services import randomization_consent_missing
from blend.apps.registry.models import Participant
from blend.apps.screening.models import Screening, Status
from blend.randomization import DesignSpec, allocate_next, load_spec
from blend.randomization.chain import record_hash

__all__ = [
    # what callers of ``randomize`` catch: part of this service's surface
    "AllocationError",
    "AlreadyRandomized",
    "ConsentMissing",
    "NotEligible",
    "RandomizationUnavailable",
    "randomize",
]


@dataclass(frozen=True)
class _Context:
    seed: bytes
    spec: DesignSpec
    trial: str


def _context() -> _Context:
    return _Context(configured_seed(), load_spec(), trial_code())


def _already_randomized(participant: Participant) -> AlreadyRandomized:
    return AlreadyRandomized(
        f"participant {participant.study_id}: already randomized; "
        "an allocation is final and is never repeated"
    )


def _check_may_randomize(participant: Participant) -> datetime:
    """The confirmation time, or an AllocationError saying what is missing (one query for
    screening and any allocation, then the consent service)."""
    row = (
        Participant.objects.filter(pk=participant.pk)
        .values_list("screening__status", "screening__confirmed_at", "allocation__id")
        .first()
    )
    status, confirmed_at, allocation_id = row or (None, None, None)
    if allocation_id is not None:
        raise _already_randomized(participant)
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


def profile_of(participant: Participant, spec: DesignSpec) -> dict[str, str]:
    """The stratification and minimisation factor levels of a participant."""
    names = spec.profile_factors
    if not names:
        return {}
    screening = Screening.objects.filter(participant=participant).first()
    facts = screening.facts if screening else {}
    return {name: _factor_value(participant, facts, name) for name in names}


def randomize(participant: Participant, *, user: User, now: datetime | None = None) -> Allocation:
    """Allocate ``participant``. Needs confirmed eligibility and consent items (a, c, d
    by default: ``consent.required_for_randomization``). Raises an AllocationError
    subclass when not allowed; the allocation, its log record and the audit event are
    written together or not at all.

    Eligibility and consent are read before the lock, so concurrent requests do not queue
    behind those reads; only "already allocated?" (and the unique constraint behind it)
    must be decided under the lock. ``now`` exists for the demo and data migrations (a
    historical time stamp); it must not precede the confirmation. Views never pass it."""
    ctx = _context()
    confirmed_at = _check_may_randomize(participant)
    now = now or timezone.now()
    if now < confirmed_at:
        raise NotEligible(
            f"time: expected the allocation after the confirmation at {confirmed_at}, got {now}"
        )
    for _attempt in range(2):
        with durable_commit():
            try:
                with transaction.atomic():
                    sequence = locked_sequence(ctx.trial)
                    if sequence is not None:
                        ensure_commitment(ctx.seed, ctx.spec, user=user, now=now, sequence=sequence)
                        return _allocate(participant, user, ctx, sequence, now)
            except IntegrityError as error:
                # A concurrent request allocated this participant first: the unique
                # constraint refused ours and the whole transaction (sequence number
                # included) rolled back, so no gap is left.
                if Allocation.objects.filter(participant=participant).exists():
                    raise _already_randomized(participant) from error
                raise
        create_sequence_row(ctx.trial)  # the first allocation of the trial
    raise RandomizationUnavailable("allocation sequence: could not be created")


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
            Allocation.objects.filter(stratum=stratum)
            .order_by("stratum_index")
            .values_list("profile", flat=True)
        )
    arm = allocate_next(ctx.spec, ctx.seed, previous, profile, previous_profiles)
    return arm, len(previous)


def _allocate(
    participant: Participant, user: User, ctx: _Context, sequence: AllocationSequence, now: datetime
) -> Allocation:
    profile = profile_of(participant, ctx.spec)
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
    digest = record_hash(sequence.last_hash, fields)
    allocation = Allocation.objects.create(
        participant=participant,
        arm=arm,
        sequence_number=number,
        stratum=stratum,
        stratum_index=index,
        profile=profile,
        allocated_at=now,
        allocated_by=user,
    )
    AllocationLog.objects.create(
        participant=participant,
        previous_hash=sequence.last_hash,
        hash=digest,
        **{k: v for k, v in fields.items() if k != "participant_id"},
    )
    advance(sequence, stratum=stratum, arm=arm, number=number, digest=digest)
    # The arm stays out of the audit event: audit.view does not imply allocation.view.
    record_event(
        "allocation.randomize",
        actor=user,
        participant=participant,
        obj=allocation,
        at=now,
        details={"sequence_number": number, "stratum": stratum},
    )
    return allocation
