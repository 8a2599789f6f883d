"""A group commit allocates several participants in one transaction: the pure functions it
uses give exactly what one-by-one allocation gives (arms, indices, hashes and MACs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from blend.randomization import DesignSpec, allocate_next
from blend.randomization.chain import (
    GENESIS_HASH,
    KEYED,
    check_keyed_chain,
    extend_keyed,
    record_hash,
    record_mac,
)
from blend.randomization.engine import allocate_in_order

SEED = "5eed" * 16
KEY = bytes.fromhex("c4a1" * 16)
STRATIFIED = DesignSpec(strata=(("centre", ("A", "B")),))
MINIMISATION = DesignSpec(
    design="minimisation", factors=(("amb", ("y", "n")),), strata=STRATIFIED.strata
)


def _profiles(n: int, seed: int) -> list[dict[str, str]]:
    rng = np.random.default_rng(seed)
    return [{"centre": "AB"[rng.integers(2)], "amb": "yn"[rng.integers(2)]} for _ in range(n)]


def _one_by_one(spec: DesignSpec, profiles: list[dict[str, str]]) -> list[tuple[str, str, int]]:
    arms: dict[str, list[str]] = {}
    earlier: dict[str, list[dict[str, str]]] = {}
    done = []
    for profile in profiles:
        stratum = spec.stratum_of(profile)
        history, before = arms.setdefault(stratum, []), earlier.setdefault(stratum, [])
        arm = allocate_next(spec, SEED, history, profile, before)
        done.append((arm, stratum, len(history)))
        history.append(arm)
        before.append(profile)
    return done


def test_groups_of_any_size_allocate_exactly_as_one_by_one() -> None:
    for spec in (STRATIFIED, MINIMISATION):
        profiles = _profiles(41, seed=7)
        expected = _one_by_one(spec, profiles)
        for size in (1, 3, 8):
            histories: dict[str, list[str]] = {}
            earlier: dict[str, list[dict[str, str]]] = {}
            got = []
            for start in range(0, len(profiles), size):
                group = profiles[start : start + size]
                placed = allocate_in_order(spec, SEED, histories, group, earlier)
                for profile, p in zip(group, placed, strict=True):
                    got.append((p.arm, p.stratum, p.index))
                    histories.setdefault(p.stratum, []).append(p.arm)
                    earlier.setdefault(p.stratum, []).append(profile)
            assert got == expected, (spec.design, size)


def test_the_histories_given_are_not_modified() -> None:
    histories = {"centre=A": ["intervention"]}
    allocate_in_order(STRATIFIED, SEED, histories, [{"centre": "A"}] * 3)
    assert histories == {"centre=A": ["intervention"]}


def _record(n: int) -> dict[str, object]:
    return {
        "sequence_number": n,
        "participant_id": 100 + n,
        "study_id": f"PRE-{n:04d}",
        "arm": "control" if n % 2 else "intervention",
        "stratum": "",
        "stratum_index": n - 1,
        "profile": {},
        "allocated_at": datetime(2026, 3, 2, 9, tzinfo=UTC) + timedelta(seconds=n),
        "allocated_by": "nurse_nina",
        "trial": "BLEND",
    }


def test_each_member_of_a_group_is_its_own_link_with_its_own_hash_and_mac() -> None:
    records = [_record(n) for n in range(1, 6)]
    links = extend_keyed(KEY, GENESIS_HASH, records)
    previous = GENESIS_HASH
    for record, link in zip(records, links, strict=True):
        assert link.previous_hash == previous
        assert link.hash == record_hash(previous, record, KEYED)
        assert link.mac == record_mac(KEY, link.hash)
        previous = link.hash
    assert len({link.hash for link in links}) == 5
    # a chain written as two groups is the chain written one by one
    first = extend_keyed(KEY, GENESIS_HASH, records[:2])
    assert first + extend_keyed(KEY, first[-1].hash, records[2:]) == links


def test_a_chain_extended_in_groups_verifies_with_the_key() -> None:
    records = [_record(n) for n in range(1, 7)]
    links = extend_keyed(KEY, GENESIS_HASH, records[:4])
    links += extend_keyed(KEY, links[-1].hash, records[4:])
    stored = [
        {**r, "previous_hash": link.previous_hash, "hash": link.hash, "mac": link.mac}
        | {"chain_version": KEYED}
        for r, link in zip(records, links, strict=True)
    ]

    class Row:
        def __init__(self, fields: dict[str, object]) -> None:
            self.__dict__.update(fields)

    found = check_keyed_chain([Row(s) for s in stored], KEY)
    assert found.problems == [] and found.keyed == 6 and found.head == links[-1].hash
