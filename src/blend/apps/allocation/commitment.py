"""The commitment to the secret seed and the design, recorded before the first allocation."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from blend.apps.accounts.models import User
from blend.apps.allocation.errors import RandomizationUnavailable
from blend.apps.allocation.models import AllocationSequence, RandomizationCommitment
from blend.apps.audit.services import record_event
from blend.randomization import DesignSpec, commitment


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
