"""The trial's allocation sequence: the secret seed it is drawn from, the counter row
that every allocation locks, the per-stratum arm history that row keeps, and the
durable commit of an allocation.

Each trial has its own seed, sequence and chain. The default trial's seed comes from
settings.RANDOMIZATION_SEED (BLEND_RANDOMIZATION_SEED or _FILE), every other trial's from
settings.RANDOMIZATION_SEEDS (BLEND_RANDOMIZATION_SEED_<CODE> or _<CODE>_FILE); no seed
is ever stored. The locked ``AllocationSequence`` row (SELECT … FOR UPDATE on
PostgreSQL; SQLite's IMMEDIATE transactions serialise writers) gives gapless sequence
numbers and a linear log chain.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from blend.apps.allocation.errors import RandomizationUnavailable
from blend.apps.allocation.models import AllocationSequence
from blend.apps.trials.lookup import default_trial_code
from blend.randomization import SeedError, parse_seed
from blend.randomization.chain import ChainKeyError, parse_chain_key

# The arm history on the sequence row is one letter per allocation, in order.
ARM_CODES = {"intervention": "I", "control": "C"}
CODE_ARMS = {code: arm for arm, code in ARM_CODES.items()}


def seed_variable(trial: str) -> str:
    """The environment variable that holds ``trial``'s secret seed."""
    if trial == default_trial_code():
        return "BLEND_RANDOMIZATION_SEED"
    return f"BLEND_RANDOMIZATION_SEED_{trial.replace('-', '_')}"  # '-' is no name character


def configured_seed(trial: str) -> bytes:
    name = seed_variable(trial)
    if trial == default_trial_code():
        raw = getattr(settings, "RANDOMIZATION_SEED", None)
    else:
        raw = getattr(settings, "RANDOMIZATION_SEEDS", {}).get(trial)
    if not raw:
        raise RandomizationUnavailable(
            f"{name}: expected a 64-hex-character secret seed for {trial} (or {name}_FILE); "
            f"none is configured, so nobody can be randomized in {trial}"
        )
    try:
        return parse_seed(raw, field=name)
    except SeedError as error:
        raise RandomizationUnavailable(str(error)) from None


def chain_key_variable(trial: str) -> str:
    """The environment variable that holds ``trial``'s chain key."""
    if trial == default_trial_code():
        return "BLEND_CHAIN_KEY"
    return f"BLEND_CHAIN_KEY_{trial.replace('-', '_')}"


def configured_chain_key(trial: str) -> bytes:
    """The key of ``trial``'s allocation chain, held by the application (environment or
    secret file), never by the database: RandomizationUnavailable when absent or malformed."""
    name = chain_key_variable(trial)
    raw = chain_key_text(trial)
    if not raw:
        raise RandomizationUnavailable(
            f"{name}: expected a 64-hex-character chain key for {trial} (or {name}_FILE); "
            f"none is configured, so nobody can be randomized in {trial}"
        )
    try:
        return parse_chain_key(raw, field=name)
    except ChainKeyError as error:
        raise RandomizationUnavailable(str(error)) from None


def chain_key_text(trial: str) -> str | None:
    if trial == default_trial_code():
        return getattr(settings, "CHAIN_KEY", None)
    return getattr(settings, "CHAIN_KEYS", {}).get(trial)


def create_sequence_row(trial: str) -> None:
    """Create the counter row once; a concurrent creator may win, which is fine."""
    try:
        with transaction.atomic():
            AllocationSequence.objects.create(trial_code=trial)
    except IntegrityError:
        pass


def stratum_history(sequence: AllocationSequence, stratum: str) -> list[str]:
    """The arms allocated so far in ``stratum``, in order (what the design reads)."""
    return [CODE_ARMS[code] for code in sequence.arms_by_stratum.get(stratum, "")]


def advance_in_memory(sequence: AllocationSequence, *, stratum: str, arm: str) -> None:
    """Add one allocation's arm to the row's per-stratum history (the caller writes the
    row, with its number and chain head: ``ledger.write``)."""
    history = sequence.arms_by_stratum
    history[stratum] = history.get(stratum, "") + ARM_CODES[arm]


# SQLite has one writer at a time; threads of one process queue here instead of polling
# in SQLite's busy handler (which sleeps 1-100 ms between tries and leaves the database
# idle while the lock is free). Other processes still wait on the database lock itself.
_SQLITE_WRITER = threading.Lock()


@contextmanager
def durable_commit() -> Iterator[None]:
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
