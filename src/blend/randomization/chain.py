"""The hash chain of the allocation log (pure; no Django).

Each log record's hash is

    hash = SHA-256( previous hash  ‖  "\\n"  ‖  canonical record )

as lowercase hex, with the genesis hash (64 zeros) before the first record. The
canonical record is the JSON of the chained fields with sorted keys, no whitespace,
ASCII only, and the allocation time in UTC with microseconds, so anyone holding the
log can recompute every hash. Changing this serialisation would break every chain
already in a database: it is a format, not an implementation detail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

GENESIS_HASH = "0" * 64

# Every field of a log record except the two hashes.
CHAINED_FIELDS = (
    "sequence_number",
    "participant_id",
    "study_id",
    "arm",
    "stratum",
    "stratum_index",
    "profile",
    "allocated_at",
    "allocated_by",
)


class ChainedRecord(Protocol):
    """A stored log record: its chained fields (``CHAINED_FIELDS``) and both hashes."""

    sequence_number: int
    previous_hash: str
    hash: str


def _field_reader(record: Mapping[str, Any] | object) -> Any:
    if isinstance(record, Mapping):
        return record.get
    return lambda name: getattr(record, name)


def canonical_record(record: Mapping[str, Any] | object) -> str:
    """The text the chain hashes, from a mapping of the chained fields or a stored record."""
    read = _field_reader(record)
    fields = {name: read(name) for name in CHAINED_FIELDS}
    allocated_at: datetime = fields["allocated_at"]
    fields["allocated_at"] = allocated_at.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def chain_hash(previous_hash: str, canonical: str) -> str:
    return hashlib.sha256(f"{previous_hash}\n{canonical}".encode()).hexdigest()


def record_hash(previous_hash: str, record: Mapping[str, Any] | object) -> str:
    """The hash of a new record that follows ``previous_hash``."""
    return chain_hash(previous_hash, canonical_record(record))


def check_chain(records: Iterable[ChainedRecord]) -> tuple[str, list[str]]:
    """(the head hash, the problems found) over the records in sequence-number order.

    Checked per record: a gapless sequence number from 1, the link to the record before
    it, and the hash over its own contents."""
    previous, problems = GENESIS_HASH, []
    for expected_number, record in enumerate(records, start=1):
        where = f"log record #{record.sequence_number}"
        if record.sequence_number != expected_number:
            problems.append(
                f"{where}: expected sequence number {expected_number} (a record is "
                "missing or was inserted)"
            )
        if record.previous_hash != previous:
            problems.append(
                f"{where}: previous hash does not match the record before it "
                "(a record was deleted, inserted or edited)"
            )
        if record_hash(record.previous_hash, record) != record.hash:
            problems.append(f"{where}: hash does not match its contents (the record was edited)")
        previous = record.hash
    return previous, problems
