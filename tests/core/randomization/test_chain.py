"""The allocation log's hash chain: the serialisation is a format, pinned byte for byte."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from blend.randomization.chain import (
    GENESIS_HASH,
    canonical_record,
    chain_hash,
    check_chain,
    record_hash,
)

FIRST: dict[str, Any] = {
    "sequence_number": 1,
    "participant_id": 7,
    "study_id": "BLD-0007",
    "arm": "control",
    "stratum": "centre=UMCU",
    "stratum_index": 0,
    "profile": {"centre": "UMCU", "ambulatory": "no"},
    "allocated_at": datetime(2025, 3, 12, 10, 30, 5, 123456, tzinfo=timezone(timedelta(hours=1))),
    "allocated_by": "nurse_nina",
}
SECOND: dict[str, Any] = {
    **FIRST,
    "sequence_number": 2,
    "participant_id": 8,
    "study_id": "BLD-0008",
    "arm": "intervention",
    "stratum_index": 1,
    "allocated_at": datetime(2025, 3, 12, 9, 31, tzinfo=UTC),
    "allocated_by": "Zoë",
}
# Recorded from the allocation service before the chain moved here; chains already in
# databases were written with exactly these bytes.
FIRST_CANONICAL = (
    '{"allocated_at":"2025-03-12T09:30:05.123456+00:00","allocated_by":"nurse_nina","arm":"control",'
    '"participant_id":7,"profile":{"ambulatory":"no","centre":"UMCU"},"sequence_number":1,'
    '"stratum":"centre=UMCU","stratum_index":0,"study_id":"BLD-0007"}'
)
FIRST_HASH = "de8f411ed56f361d18dbc142c0708defa8ad6bec6a0ac6a5391f5c3070a8b904"
SECOND_HASH = "6d351d7399cdea87b8d73e20a55fc4649c47a153dd58214593a7d04db3622f45"


@dataclass(frozen=True)
class Stored:
    """A log record as the database holds it: the chained fields as attributes, plus the hashes."""

    sequence_number: int
    participant_id: int
    study_id: str
    arm: str
    stratum: str
    stratum_index: int
    profile: dict[str, str]
    allocated_at: datetime
    allocated_by: str
    previous_hash: str
    hash: str


def _stored_chain() -> list[Stored]:
    return [
        Stored(**FIRST, previous_hash=GENESIS_HASH, hash=FIRST_HASH),
        Stored(**SECOND, previous_hash=FIRST_HASH, hash=SECOND_HASH),
    ]


def test_the_canonical_record_is_sorted_compact_ascii_json_with_the_time_in_utc() -> None:
    assert canonical_record(FIRST) == FIRST_CANONICAL
    assert '"allocated_by":"Zo\\u00eb"' in canonical_record(SECOND)


def test_the_hashes_are_unchanged_for_the_same_fields() -> None:
    assert chain_hash(GENESIS_HASH, FIRST_CANONICAL) == FIRST_HASH
    assert record_hash(GENESIS_HASH, FIRST) == FIRST_HASH
    assert record_hash(FIRST_HASH, SECOND) == SECOND_HASH


def test_a_stored_record_hashes_like_the_mapping_it_was_written_from() -> None:
    stored = _stored_chain()[0]
    assert canonical_record(stored) == FIRST_CANONICAL


def test_an_intact_chain_verifies_and_returns_its_head() -> None:
    assert check_chain(_stored_chain()) == (SECOND_HASH, [])
    assert check_chain([]) == (GENESIS_HASH, [])


def test_an_edited_record_fails_its_own_hash() -> None:
    first, second = _stored_chain()
    edited = replace(first, arm="intervention")
    assert check_chain([edited, second])[1] == [
        "log record #1: hash does not match its contents (the record was edited)"
    ]


def test_a_rehashed_edit_breaks_the_next_link() -> None:
    first, second = _stored_chain()
    edited = replace(first, arm="intervention")
    edited = replace(edited, hash=record_hash(GENESIS_HASH, edited))
    assert check_chain([edited, second])[1] == [
        "log record #2: previous hash does not match the record before it "
        "(a record was deleted, inserted or edited)"
    ]


def test_a_missing_record_breaks_the_numbering_and_the_link() -> None:
    assert check_chain(_stored_chain()[1:])[1] == [
        "log record #2: expected sequence number 1 (a record is missing or was inserted)",
        "log record #2: previous hash does not match the record before it "
        "(a record was deleted, inserted or edited)",
    ]
