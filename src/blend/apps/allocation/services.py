"""The allocation service: the only code that reads the randomization seed and writes
allocations.

``randomize`` locks the trial's ``AllocationSequence`` row (SELECT … FOR UPDATE on
PostgreSQL; SQLite's IMMEDIATE transactions serialise writers), so allocations get
gapless sequence numbers and the log chain stays linear. The unique constraint on the
participant is the backstop against a double allocation. The seed comes from
settings.RANDOMIZATION_SEED (BLEND_RANDOMIZATION_SEED or _FILE) and is never stored.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from blend.apps.allocation.models import (
    Allocation,
    AllocationLog,
    AllocationSequence,
    RandomizationCommitment,
)
from blend.apps.audit.services import record_event
from blend.apps.consent.services import randomization_consent_missing
from blend.apps.registry.models import Participant
from blend.apps.screening.models import Screening, Status
from blend.protocol import load_protocol
from blend.randomization import (
    DesignSpec,
    HmacStream,
    SeedError,
    commitment,
    load_spec,
    parse_seed,
)

GENESIS_HASH = "0" * 64


class AllocationError(Exception):
    """Randomization refused; the message says why and what to do."""


class NotEligible(AllocationError):
    pass


class ConsentMissing(AllocationError):
    pass


class AlreadyRandomized(AllocationError):
    pass


class RandomizationUnavailable(AllocationError):
    """The seed is missing or does not match the recorded commitment."""


def arm_of(participant: Participant) -> str | None:
    """"intervention", "control", or None when not (yet) allocated.

    Callers must check ``allocation.view`` before showing the result to a person.
    """
    return Allocation.objects.filter(participant=participant).values_list("arm", flat=True).first()


def configured_seed() -> bytes:
    raw = getattr(settings, "RANDOMIZATION_SEED", None)
    if not raw:
        raise RandomizationUnavailable(
            "BLEND_RANDOMIZATION_SEED: expected a 64-hex-character secret seed (or "
            "BLEND_RANDOMIZATION_SEED_FILE); none is configured, so nobody can be randomized"
        )
    try:
        return parse_seed(raw, field="BLEND_RANDOMIZATION_SEED")
    except SeedError as error:
        raise RandomizationUnavailable(str(error)) from None


def trial_code() -> str:
    return load_protocol().trial_code


# ------------------------------------------------------------------ the hash chain
def canonical_record(entry: AllocationLog | dict[str, Any]) -> str:
    """The bytes the chain hashes: every field of the log record but the hashes."""
    get = entry.get if isinstance(entry, dict) else lambda key: getattr(entry, key)
    at = get("allocated_at")
    record = {
        "sequence_number": get("sequence_number"),
        "participant_id": get("participant_id"),
        "study_id": get("study_id"),
        "arm": get("arm"),
        "stratum": get("stratum"),
        "stratum_index": get("stratum_index"),
        "profile": get("profile"),
        "allocated_at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "allocated_by": get("allocated_by"),
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def chain_hash(previous_hash: str, canonical: str) -> str:
    return hashlib.sha256(f"{previous_hash}\n{canonical}".encode()).hexdigest()


# ------------------------------------------------------------------- randomize
@dataclass(frozen=True)
class _Context:
    seed: bytes
    spec: DesignSpec
    trial: str


def _context() -> _Context:
    return _Context(configured_seed(), load_spec(), trial_code())


def _create_sequence_row(trial: str) -> None:
    """Create the counter row once; a concurrent creator may win, which is fine."""
    try:
        with transaction.atomic():
            AllocationSequence.objects.create(trial_code=trial)
    except IntegrityError:
        pass


def ensure_commitment(
    seed: bytes, spec: DesignSpec, *, user: Any = None, now: datetime | None = None,
    sequence: AllocationSequence | None = None,
) -> None:
    """Record the commitment before the first allocation; afterwards insist it still holds.

    The locked sequence row carries the digest, so the check costs no query per allocation;
    the RandomizationCommitment row (append-only) is the record an auditor reads."""
    trial = trial_code()
    digest = commitment(seed, spec)
    recorded = sequence.commitment if sequence is not None else None
    if not recorded:
        existing = RandomizationCommitment.objects.filter(trial_code=trial).first()
        recorded = existing.digest if existing else ""
        if not existing:
            existing = RandomizationCommitment.objects.create(
                trial_code=trial, digest=digest, design_json=spec.canonical_json(),
                recorded_at=now or timezone.now(), recorded_by=user if getattr(user, "pk", None) else None,
            )
            record_event("randomization.commit", actor=user, obj=existing, at=existing.recorded_at,
                         details={"digest": digest})
            recorded = digest
        if sequence is not None:
            sequence.commitment = recorded
    if recorded != digest:
        raise RandomizationUnavailable(
            f"commitment: the configured seed and design give {digest[:12]}…, but "
            f"{recorded[:12]}… was recorded before the first allocation; restore the "
            "original seed and randomization.toml before randomizing"
        )


def _check_may_randomize(participant: Participant) -> datetime:
    """The confirmation time, or an AllocationError saying what is missing (one query for
    screening and any allocation, then the consent service)."""
    row = (Participant.objects.filter(pk=participant.pk)
           .values_list("screening__status", "screening__confirmed_at", "allocation__id").first())
    status, confirmed_at, allocation_id = row or (None, None, None)
    if allocation_id is not None:
        raise AlreadyRandomized(f"participant {participant.study_id}: already randomized; "
                                "an allocation is final and is never repeated")
    if status != Status.ELIGIBLE:
        raise NotEligible(f"eligibility: expected a screening with status eligible, got {status or 'not screened'}")
    if confirmed_at is None:
        raise NotEligible("eligibility: expected an investigator's confirmation; it is not confirmed yet")
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
        raise NotEligible(f"stratification factor {name}: expected a value in the screening facts, got none")
    return str(value)


def profile_of(participant: Participant, spec: DesignSpec) -> dict[str, str]:
    """The stratification and minimisation factor levels of a participant."""
    names = [name for name, _ in (*spec.strata, *(spec.factors if spec.design == "minimisation" else ()))]
    if not names:
        return {}
    screening = Screening.objects.filter(participant=participant).first()
    facts = screening.facts if screening else {}
    return {name: _factor_value(participant, facts, name) for name in names}


def randomize(participant: Participant, *, user: Any, now: datetime | None = None) -> Allocation:
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
        raise NotEligible(f"time: expected the allocation after the confirmation at {confirmed_at}, got {now}")
    for _attempt in range(2):
        with _durable_commit():
            try:
                with transaction.atomic():
                    sequence = (AllocationSequence.objects.select_for_update()
                                .filter(trial_code=ctx.trial).first())
                    if sequence is not None:
                        ensure_commitment(ctx.seed, ctx.spec, user=user, now=now, sequence=sequence)
                        return _allocate(participant, user, ctx, sequence, now)
            except IntegrityError as error:
                # A concurrent request allocated this participant first: the unique
                # constraint refused ours and the whole transaction (sequence number
                # included) rolled back, so no gap is left.
                if Allocation.objects.filter(participant=participant).exists():
                    raise AlreadyRandomized(f"participant {participant.study_id}: already randomized; "
                                            "an allocation is final and is never repeated") from error
                raise
        _create_sequence_row(ctx.trial)  # the first allocation of the trial
    raise RandomizationUnavailable("allocation sequence: could not be created")


# SQLite has one writer at a time; threads of one process queue here instead of polling
# in SQLite's busy handler (which sleeps 1-100 ms between tries and leaves the database
# idle while the lock is free). Other processes still wait on the database lock itself.
_SQLITE_WRITER = threading.Lock()


@contextmanager
def _durable_commit() -> Iterator[None]:
    """An allocation, once shown, must survive a power cut. The SQLite settings trade
    durability for speed (WAL + synchronous=NORMAL); for the allocation's own commit
    switch to FULL (fsync at commit). PostgreSQL commits durably already."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with _SQLITE_WRITER:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=FULL")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")


class _LazyUniforms(Sequence[float]):
    """u(stratum, 0 … n-1), computed only where the design reads them (big-stick and
    minimisation read the last one only), so an allocation costs O(1) HMACs, not O(k)."""

    def __init__(self, stream: HmacStream, stratum: str, n: int) -> None:
        self._stream, self._stratum, self._n = stream, stratum, n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._n))]
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError(index)
        return self._stream.uniform(self._stratum, index)


ARM_CODES = {"intervention": "I", "control": "C"}
CODE_ARMS = {code: arm for arm, code in ARM_CODES.items()}


def _next_arm(ctx: _Context, sequence: AllocationSequence, stratum: str,
              profile: dict[str, str]) -> tuple[str, int]:
    """The arm from the design over the stratum's history, and the index within the stratum."""
    previous = [CODE_ARMS[c] for c in sequence.arms_by_stratum.get(stratum, "")]
    profiles: list[Any] = []
    if ctx.spec.design == "minimisation":  # needs every earlier participant's factor levels
        profiles = list(Allocation.objects.filter(stratum=stratum).order_by("stratum_index")
                        .values_list("profile", flat=True))
    uniforms = _LazyUniforms(HmacStream(ctx.seed), stratum, len(previous) + 1)
    arm = ctx.spec.build().next_arm(previous, uniforms, profile, profiles)
    return arm, len(previous)


def _allocate(
    participant: Participant, user: Any, ctx: _Context, sequence: AllocationSequence, now: datetime
) -> Allocation:
    profile = profile_of(participant, ctx.spec)
    stratum = ctx.spec.stratum_of(profile)
    arm, index = _next_arm(ctx, sequence, stratum, profile)
    number = sequence.last_number + 1
    fields = {
        "sequence_number": number, "participant_id": participant.pk, "study_id": participant.study_id,
        "arm": arm, "stratum": stratum, "stratum_index": index, "profile": profile,
        "allocated_at": now, "allocated_by": user.get_username(),
    }
    digest = chain_hash(sequence.last_hash, canonical_record(fields))
    allocation = Allocation.objects.create(
        participant=participant, arm=arm, sequence_number=number, stratum=stratum,
        stratum_index=index, profile=profile, allocated_at=now, allocated_by=user,
    )
    AllocationLog.objects.create(participant=participant, previous_hash=sequence.last_hash, hash=digest,
                                 **{k: v for k, v in fields.items() if k != "participant_id"})
    sequence.last_number, sequence.last_hash = number, digest
    history = sequence.arms_by_stratum
    history[stratum] = history.get(stratum, "") + ARM_CODES[arm]
    sequence.save(update_fields=["last_number", "last_hash", "commitment", "arms_by_stratum"])
    # The arm stays out of the audit event: audit.view does not imply allocation.view.
    record_event("allocation.randomize", actor=user, participant=participant, obj=allocation,
                 at=now, details={"sequence_number": number, "stratum": stratum})
    return allocation


# ------------------------------------------------------------------- overview
def overview(today: Any = None) -> dict[str, Any]:
    """Counts for the trial administrator: totals per stratum now, and per arm and stratum
    only up to a delayed cut-off (``allocation.overview_delay_days``). Never the order."""
    from datetime import timedelta

    from django.db.models import Count

    today = today or timezone.localdate()
    delay = int(load_protocol().section("allocation").get("overview_delay_days", 7))
    cutoff = today - timedelta(days=delay)
    totals = dict(Allocation.objects.values_list("stratum").annotate(n=Count("id")).values_list("stratum", "n"))
    by_arm: dict[str, dict[str, int]] = {}
    rows = (Allocation.objects.filter(allocated_at__date__lte=cutoff)
            .values_list("stratum", "arm").annotate(n=Count("id")).values_list("stratum", "arm", "n"))
    for stratum, arm, n in rows:
        by_arm.setdefault(stratum, {"intervention": 0, "control": 0})[arm] = n
    strata = sorted(set(totals) | set(by_arm))
    commitment_row = RandomizationCommitment.objects.filter(trial_code=trial_code()).first()
    return {
        "total": sum(totals.values()),
        "target": load_protocol().section("trial").get("target_sample_size"),
        "cutoff": cutoff,
        "delay_days": delay,
        "strata": [{"stratum": s or "(unstratified)", "total": totals.get(s, 0),
                    **by_arm.get(s, {"intervention": 0, "control": 0})} for s in strata],
        "commitment": commitment_row,
    }
