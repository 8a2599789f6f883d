"""The commitment to the secret seed and the design, recorded before the first allocation,
and the chain key's seal over a chain written before chains were keyed."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from blend.apps.accounts.models import User
from blend.apps.allocation.anchoring import anchor_path
from blend.apps.allocation.errors import RandomizationUnavailable
from blend.apps.allocation.models import (
    AllocationLog,
    AllocationSequence,
    RandomizationCommitment,
)
from blend.apps.audit.services import record_event
from blend.randomization import DesignSpec, commitment
from blend.randomization.anchor import parse_anchors
from blend.randomization.chain import LEGACY, legacy_seal


def ensure_commitment(
    seed: bytes,
    spec: DesignSpec,
    *,
    trial: str,
    user: User | None = None,
    now: datetime | None = None,
    sequence: AllocationSequence | None = None,
) -> None:
    """Record the commitment before the first allocation; afterwards insist it still holds.

    The locked sequence row carries the digest, so the check costs no query per allocation;
    the RandomizationCommitment row (append-only) is the record an auditor reads."""
    digest = commitment(seed, spec)
    recorded = sequence.commitment if sequence is not None else None
    if not recorded:
        recorded = _recorded_or_record(trial, digest, spec, user=user, now=now)
        if sequence is not None:
            sequence.commitment = recorded
    if recorded != digest:
        raise RandomizationUnavailable(
            f"commitment: the configured seed and design give {digest[:12]}…, but "
            f"{recorded[:12]}… was recorded before the first allocation of {trial}; restore "
            "the original seed and randomization.toml before randomizing"
        )


def _recorded_or_record(
    trial: str, digest: str, spec: DesignSpec, *, user: User | None, now: datetime | None
) -> str:
    """The digest recorded for the trial, recording ``digest`` (and its audit event) if none is."""
    existing = RandomizationCommitment.objects.filter(trial_code=trial).first()
    if existing:
        return existing.digest
    created = RandomizationCommitment.objects.create(
        trial_code=trial,
        digest=digest,
        design_json=spec.canonical_json(),
        recorded_at=now or timezone.now(),
        recorded_by=user if getattr(user, "pk", None) else None,
    )
    record_event(
        "randomization.commit",
        actor=user,
        obj=created,
        at=created.recorded_at,
        details={"trial": trial, "digest": digest},
    )
    return digest


def _anchored(trial: str, key: bytes) -> bool:
    path = anchor_path(trial)
    if path is None or not path.is_file():
        return False
    found, _problems = parse_anchors(path.read_text(encoding="utf-8"), trial=trial, key=key)
    return bool(found)


def seal_legacy_chain(trial: str, key: bytes, *, user: User | None = None) -> str:
    """Seal a chain of unkeyed (version 1) records only with the trial's chain key, so
    that verify with the key accepts it and refuses keyed records rewritten as unkeyed.

    Returns what was done: "sealed", "already sealed", "keyed" (a keyed record seals
    everything before it) or "empty". Run in a transaction (the sequence row is locked)."""
    sequence = AllocationSequence.objects.select_for_update().filter(trial_code=trial).first()
    records = AllocationLog.objects.filter(trial=trial).order_by("sequence_number")
    last = records.last()
    if sequence is None or last is None:
        return "empty"
    if records.exclude(chain_version=LEGACY).exists():
        return "keyed"
    if _anchored(trial, key):
        raise RandomizationUnavailable(
            f"chain of {trial}: the anchor file records keyed allocations, yet every record "
            "in the database is unkeyed: the chain was rewritten; it is not sealed (run "
            f"`blend randomization verify --trial {trial} --anchor default`)"
        )
    seal = legacy_seal(key, trial, records.count(), last.hash)
    if sequence.legacy_seal == seal:
        return "already sealed"
    sequence.legacy_seal = seal
    sequence.save(update_fields=["legacy_seal"])
    record_event(
        "randomization.seal",
        actor=user,
        obj=sequence,
        details={"trial": trial, "records": records.count(), "head": last.hash},
    )
    return "sealed"
