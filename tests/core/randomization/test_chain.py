"""The allocation log's hash chain: the serialisation is a format, pinned byte for byte."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from blend.randomization.chain import (
    GENESIS_HASH,
    KEYED,
    ChainKeyError,
    canonical_record,
    chain_hash,
    check_chain,
    check_keyed_chain,
    legacy_seal,
    parse_chain_key,
    record_hash,
    record_mac,
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


# ------------------------------------------------------------------ keyed chains (version 2)

KEY = bytes(range(32))
FIRST_KEYED = {**FIRST, "trial": "BLEND", "chain_version": KEYED}
FIRST_KEYED_HASH = "f73e1a0b6ed4d9ae73fd29546ba41838561cf8386bdc2f83e232dff9c781151e"
FIRST_KEYED_MAC = "6f41f3294bd9e820d4c64ca0405f4e6f485bb697ab98eef63be1da4ec3728000"


@dataclass(frozen=True)
class StoredKeyed(Stored):
    trial: str = "BLEND"
    chain_version: int = KEYED
    mac: str = ""


def _keyed_chain(key: bytes = KEY) -> list[StoredKeyed]:
    chain, previous = [], GENESIS_HASH
    for fields in (FIRST, SECOND):
        digest = record_hash(previous, {**fields, "trial": "BLEND"}, KEYED)
        chain.append(
            StoredKeyed(**fields, previous_hash=previous, hash=digest, mac=record_mac(key, digest))
        )
        previous = digest
    return chain


def test_a_keyed_record_hashes_its_trial_too_and_its_mac_is_pinned() -> None:
    assert canonical_record(FIRST_KEYED, KEYED) == FIRST_CANONICAL[:-1] + ',"trial":"BLEND"}'
    assert record_hash(GENESIS_HASH, FIRST_KEYED, KEYED) == FIRST_KEYED_HASH
    expected = hmac.new(
        KEY, b"blend-allocation-chain/2\n" + FIRST_KEYED_HASH.encode(), hashlib.sha256
    ).hexdigest()
    assert record_mac(KEY, FIRST_KEYED_HASH) == expected == FIRST_KEYED_MAC


def test_a_keyed_chain_verifies_with_its_key_and_fails_with_another() -> None:
    found = check_keyed_chain(_keyed_chain(), KEY, trial="BLEND")
    assert found.problems == [] and found.keyed == 2 and found.authenticated
    wrong = check_keyed_chain(_keyed_chain(), b"\x00" * 32, trial="BLEND")
    assert [p.split(":")[0] for p in wrong.problems] == ["log record #1", "log record #2"]
    # Without a key the SHA-256 hashes and links are still checked, the MACs are not.
    unkeyed = check_keyed_chain(_keyed_chain())
    assert unkeyed.problems == [] and not unkeyed.authenticated


def test_a_sha256_rewrite_without_the_key_fails_the_mac() -> None:
    first, second = _keyed_chain()
    edited = replace(first, arm="intervention")
    edited = replace(edited, hash=record_hash(GENESIS_HASH, edited, KEYED))
    second = replace(second, previous_hash=edited.hash)
    second = replace(second, hash=record_hash(edited.hash, second, KEYED))
    assert check_keyed_chain([edited, second]).problems == []  # hashes and links agree
    assert check_keyed_chain([edited, second], KEY, trial="BLEND").problems == [
        f"log record #{n}: MAC does not match the chain key (the record or the chain "
        "before it was rewritten without the key)"
        for n in (1, 2)
    ]


def test_an_unkeyed_chain_needs_the_keys_seal() -> None:
    chain = _stored_chain()
    unsealed = check_keyed_chain(chain, KEY, trial="BLEND").problems
    assert len(unsealed) == 1 and unsealed[0].startswith("chain: all 2 records are unkeyed")
    seal = legacy_seal(KEY, "BLEND", 2, SECOND_HASH)
    assert check_keyed_chain(chain, KEY, trial="BLEND", seal=seal).problems == []
    assert check_keyed_chain(chain, KEY, trial="VERTICAL", seal=seal).problems == unsealed[:1]
    assert check_keyed_chain(chain[:1], KEY, trial="BLEND", seal=seal).problems != []


def test_unkeyed_records_only_before_keyed_ones_and_versions_are_known() -> None:
    legacy_first = _stored_chain()[0]
    digest = record_hash(FIRST_HASH, {**SECOND, "trial": "BLEND"}, KEYED)
    keyed_second = StoredKeyed(
        **SECOND, previous_hash=FIRST_HASH, hash=digest, mac=record_mac(KEY, digest)
    )
    assert check_keyed_chain([legacy_first, keyed_second], KEY, trial="BLEND").problems == []
    keyed_first = _keyed_chain()[0]
    legacy_second = Stored(
        **SECOND, previous_hash=keyed_first.hash, hash=record_hash(keyed_first.hash, SECOND)
    )
    assert check_keyed_chain([keyed_first, legacy_second], KEY, trial="BLEND").problems == [
        "log record #2: an unkeyed (version 1) record after keyed ones (keyed records were "
        "rewritten by someone without the chain key)"
    ]
    odd = replace(keyed_first, chain_version=3)
    assert check_keyed_chain([odd]).problems == [
        "log record #1: expected chain version 1 or 2, got 3"
    ]


def test_a_chain_key_is_64_hex_characters() -> None:
    assert parse_chain_key(" " + "ab" * 32 + "\n") == b"\xab" * 32
    with pytest.raises(ChainKeyError, match="BLEND_CHAIN_KEY: expected 64 hexadecimal"):
        parse_chain_key("abc", field="BLEND_CHAIN_KEY")
    with pytest.raises(ChainKeyError, match="expected only hexadecimal characters 0-9a-f, got 'z'"):
        parse_chain_key("z" * 64)
