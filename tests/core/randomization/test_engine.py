"""The live allocator's entry points: next arm of a stratum, and replay for verification."""

from __future__ import annotations

import numpy as np

from blend.randomization import DesignSpec, allocate_next, replay, sequence

SEED = "5eed" * 16
STRATIFIED = DesignSpec(strata=(("centre", ("A", "B")),))


def _profiles(n: int, seed: int = 3) -> list[dict[str, str]]:
    rng = np.random.default_rng(seed)
    return [{"centre": "AB"[rng.integers(2)], "amb": "yn"[rng.integers(2)]} for _ in range(n)]


def test_allocate_next_continues_the_stratum_sequence() -> None:
    arms: list[str] = []
    for _ in range(30):
        arms.append(allocate_next(STRATIFIED, SEED, arms, {"centre": "B"}))
    assert arms == sequence(STRATIFIED, SEED, 30, "centre=B")


def test_replay_allocates_each_participant_within_their_own_stratum() -> None:
    profiles = _profiles(80)
    arms = replay(STRATIFIED, SEED, profiles)
    for centre in "AB":
        mine = [a for a, p in zip(arms, profiles, strict=True) if p["centre"] == centre]
        assert mine == sequence(STRATIFIED, SEED, len(mine), f"centre={centre}")


def test_replay_of_minimisation_matches_one_by_one_allocation() -> None:
    spec = DesignSpec(
        design="minimisation", factors=(("amb", ("y", "n")),), strata=STRATIFIED.strata
    )
    profiles = _profiles(60, seed=4)
    done: dict[str, tuple[list[str], list[dict[str, str]]]] = {}
    live = []
    for profile in profiles:
        prev, prev_profiles = done.setdefault(spec.stratum_of(profile), ([], []))
        arm = allocate_next(spec, SEED, prev, profile, prev_profiles)
        prev.append(arm)
        prev_profiles.append(profile)
        live.append(arm)
    assert replay(spec, SEED, profiles) == live
