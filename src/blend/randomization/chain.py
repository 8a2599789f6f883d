"""The hash chain of the allocation log (pure; no Django).

Each log record's hash is

    hash = SHA-256( previous hash  ‖  "\\n"  ‖  canonical record )

as lowercase hex, with the genesis hash (64 zeros) before the first record. The
canonical record is the JSON of the chained fields with sorted keys, no whitespace,
ASCII only, and the allocation time in UTC with microseconds, so anyone holding the
log can recompute every hash. Changing this serialisation would break every chain
already in a database: it is a format, not an implementation detail.

Chain version 2 (every record written since the chain was keyed) also hashes the
trial, and carries a MAC made with the trial's chain key, which the application holds
outside the database:

    mac = HMAC-SHA256( chain key, "blend-allocation-chain/2\\n" ‖ hash )

Since the hash covers the previous hash, the MAC of a record authenticates the whole
chain up to it. Someone who can write the database but does not hold the key can
still recompute every SHA-256 hash after an edit, but not the MACs, and cannot turn
keyed records back into version 1: a version-1 record is accepted only before the
first keyed record, and a chain of version-1 records only alone when the key has
sealed it (``legacy_seal``), as the migration that introduced keys does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

GENESIS_HASH = "0" * 64
#: Records written before chains were keyed: SHA-256 only, the trial not hashed.
LEGACY = 1
#: Keyed records: the trial hashed too, and a MAC with the trial's chain key.
KEYED = 2
VERSIONS = (LEGACY, KEYED)
KEY_BYTES = 32
_MAC_CONTEXT = b"blend-allocation-chain/2\n"
_SEAL_CONTEXT = b"blend-allocation-chain/legacy-seal\n"

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


#: What a keyed record hashes: every field of the allocation, its trial included.
KEYED_FIELDS = (*CHAINED_FIELDS, "trial")


class ChainKeyError(ValueError):
    """A chain key that is not 64 hexadecimal characters; the message names the field."""


class ChainedRecord(Protocol):
    """A stored log record: its chained fields (``CHAINED_FIELDS``) and both hashes; a
    keyed one also ``trial``, ``chain_version`` and ``mac``."""

    sequence_number: int
    previous_hash: str
    hash: str


def parse_chain_key(value: str, *, field: str = "chain key") -> bytes:
    """The 32 key bytes from 64 hexadecimal characters (surrounding whitespace ignored)."""
    text = value.strip()
    if len(text) != 2 * KEY_BYTES:
        raise ChainKeyError(
            f"{field}: expected 64 hexadecimal characters (a 256-bit key), got {len(text)} characters"
        )
    try:
        return bytes.fromhex(text)
    except ValueError:
        bad = sorted({c for c in text if c not in "0123456789abcdefABCDEF"})
        raise ChainKeyError(
            f"{field}: expected only hexadecimal characters 0-9a-f, got {''.join(bad)!r}"
        ) from None


def record_mac(key: bytes, digest: str) -> str:
    """The MAC of a keyed record whose hash is ``digest``."""
    return hmac.new(key, _MAC_CONTEXT + digest.encode("ascii"), hashlib.sha256).hexdigest()


def legacy_seal(key: bytes, trial: str, count: int, head: str) -> str:
    """The key's seal over a chain of ``count`` version-1 records ending in ``head``."""
    message = _SEAL_CONTEXT + f"{trial}\n{count}\n{head}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _field_reader(record: Mapping[str, Any] | object) -> Any:
    if isinstance(record, Mapping):
        return record.get
    return lambda name: getattr(record, name)


def _version(record: Mapping[str, Any] | object) -> Any:
    if isinstance(record, Mapping):
        return record.get("chain_version", LEGACY)
    return getattr(record, "chain_version", LEGACY)


def canonical_record(record: Mapping[str, Any] | object, version: int = LEGACY) -> str:
    """The text the chain hashes, from a mapping of the chained fields or a stored record
    (``version`` 2 also hashes the trial)."""
    read = _field_reader(record)
    names = KEYED_FIELDS if version == KEYED else CHAINED_FIELDS
    fields = {name: read(name) for name in names}
    allocated_at: datetime = fields["allocated_at"]
    fields["allocated_at"] = allocated_at.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def chain_hash(previous_hash: str, canonical: str) -> str:
    return hashlib.sha256(f"{previous_hash}\n{canonical}".encode()).hexdigest()


def record_hash(
    previous_hash: str, record: Mapping[str, Any] | object, version: int = LEGACY
) -> str:
    """The hash of a new record that follows ``previous_hash``."""
    return chain_hash(previous_hash, canonical_record(record, version))


def check_chain(records: Iterable[ChainedRecord]) -> tuple[str, list[str]]:
    """(the head hash, the problems found) over the records in sequence-number order,
    without a key (see ``check_keyed_chain``)."""
    found = check_keyed_chain(records)
    return found.head, found.problems


@dataclass
class ChainCheck:
    """What ``check_keyed_chain`` found: the head, the problems, how many records are
    keyed, and whether their MACs (and any legacy seal) were checked with the key."""

    head: str = GENESIS_HASH
    problems: list[str] = field(default_factory=list)
    count: int = 0
    keyed: int = 0
    authenticated: bool = False
    hashes: dict[int, str] = field(default_factory=dict)

    @property
    def legacy(self) -> int:
        return self.count - self.keyed


def check_keyed_chain(
    records: Iterable[ChainedRecord],
    key: bytes | None = None,
    *,
    trial: str = "",
    seal: str = "",
) -> ChainCheck:
    """Check the records in sequence-number order; with the trial's chain ``key`` also
    every keyed record's MAC, and that version-1 records are only the sealed beginning
    of the chain (``seal``: the sequence row's legacy seal, if any).

    Checked per record: a gapless sequence number from 1, the link to the record before
    it, the hash over its own contents, its chain version, and with the key its MAC."""
    found = ChainCheck(authenticated=key is not None)
    previous, problems = GENESIS_HASH, found.problems
    for expected_number, record in enumerate(records, start=1):
        found.count += 1
        where = f"log record #{record.sequence_number}"
        version = _version(record)
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
        if version not in VERSIONS:
            problems.append(f"{where}: expected chain version 1 or 2, got {version!r}")
        elif record_hash(record.previous_hash, record, version) != record.hash:
            problems.append(f"{where}: hash does not match its contents (the record was edited)")
        if version == LEGACY and found.keyed:
            problems.append(
                f"{where}: an unkeyed (version 1) record after keyed ones (keyed records "
                "were rewritten by someone without the chain key)"
            )
        if version == KEYED:
            found.keyed += 1
            mac = str(getattr(record, "mac", "") or "")
            if key is not None and not hmac.compare_digest(record_mac(key, record.hash), mac):
                problems.append(
                    f"{where}: MAC does not match the chain key (the record or the chain "
                    "before it was rewritten without the key)"
                )
        found.hashes[record.sequence_number] = record.hash
        previous = record.hash
    found.head = previous
    if key is not None and found.count and not found.keyed:
        expected = legacy_seal(key, trial, found.count, previous)
        if not hmac.compare_digest(expected, seal or ""):
            problems.append(
                f"chain: all {found.count} records are unkeyed (version 1) and the chain key's "
                "seal over them is missing or does not match (keyed records were rewritten "
                "without the key, or the legacy chain was never sealed: "
                "`blend randomization-commit --trial CODE --seal-legacy` seals it)"
            )
    return found


@dataclass(frozen=True)
class Link:
    """One new keyed record's place in the chain: the hash before it, its hash and its MAC."""

    previous_hash: str
    hash: str
    mac: str


def extend_keyed(key: bytes, head: str, records: Iterable[Mapping[str, Any]]) -> list[Link]:
    """The links of new keyed records appended, in order, after the record whose hash is
    ``head``: each record its own link with its own hash and MAC, as if each had been
    appended alone (a group commit writes several in one transaction)."""
    links = []
    for record in records:
        digest = record_hash(head, record, KEYED)
        links.append(Link(head, digest, record_mac(key, digest)))
        head = digest
    return links
