"""Allocation from the secret seed: the entry points the allocation service and the auditor use.

The k-th allocation of a stratum (k = 0, 1, …, counted within the stratum) uses the
uniforms u(stratum, 0 … k) of :class:`~blend.randomization.rng.HmacStream`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .designs import Profile
from .rng import HmacStream
from .spec import DesignSpec


def allocate_next(
    spec: DesignSpec,
    seed: bytes | str,
    previous: Sequence[str],
    profile: Profile | None = None,
    previous_profiles: Sequence[Profile] = (),
) -> str:
    """The arm of the next participant of a stratum.

    ``previous`` (and, for minimisation, ``previous_profiles``) are the allocations
    already made in the participant's stratum (``spec.stratum_of(profile)``), in
    sequence-number order.
    """
    stratum = spec.stratum_of(profile)
    uniforms = HmacStream(seed).lazy(stratum, len(previous) + 1)
    return spec.build().next_arm(previous, uniforms, profile, previous_profiles)


def sequence(
    spec: DesignSpec,
    seed: bytes | str,
    n: int,
    stratum: str = "",
    profiles: Sequence[Profile] | None = None,
) -> list[str]:
    """The first ``n`` arms of ``stratum``; minimisation needs the ``n`` participants' profiles."""
    if n < 0:
        raise ValueError(f"n: expected a non-negative integer, got {n}")
    if profiles is not None and len(profiles) != n:
        raise ValueError(f"profiles: expected {n} profiles, got {len(profiles)}")
    design = spec.build()
    uniforms = HmacStream(seed).uniforms(stratum, n)
    arms: list[str] = []
    for k in range(n):
        profile = None if profiles is None else profiles[k]
        prior = () if profiles is None else profiles[:k]
        arms.append(design.next_arm(arms, uniforms[: k + 1], profile, prior))
    return arms


def replay(spec: DesignSpec, seed: bytes | str, profiles: Sequence[Profile]) -> list[str]:
    """The arms the design gives participants allocated in this order (for verification).

    ``profiles[i]`` holds the stratification (and minimisation) factor levels of the
    i-th allocated participant; each is allocated within its own stratum.
    """
    design = spec.build()
    stream = HmacStream(seed)
    history: dict[str, tuple[list[str], list[Profile], list[float]]] = {}
    arms = []
    for profile in profiles:
        stratum = spec.stratum_of(profile)
        prev_arms, prev_profiles, uniforms = history.setdefault(stratum, ([], [], []))
        uniforms.append(stream.uniform(stratum, len(prev_arms)))
        arm = design.next_arm(prev_arms, uniforms, profile, prev_profiles)
        prev_arms.append(arm)
        prev_profiles.append(profile)
        arms.append(arm)
    return arms


@dataclass(frozen=True)
class Placement:
    """Where one participant of a group lands: the arm, the stratum and the index within it."""

    arm: str
    stratum: str
    index: int


def allocate_in_order(
    spec: DesignSpec,
    seed: bytes | str,
    histories: Mapping[str, Sequence[str]],
    profiles: Sequence[Profile],
    previous_profiles: Mapping[str, Sequence[Profile]] | None = None,
) -> list[Placement]:
    """The arms of participants allocated one after another, in this order (a group
    commit takes several at once): each sees the arms before it, those of the earlier
    participants of the same group included, exactly as if each had been allocated alone.

    ``histories`` holds each stratum's arms so far; for minimisation, ``previous_profiles``
    holds each stratum's earlier profiles. Neither is modified."""
    arms = {stratum: list(history) for stratum, history in histories.items()}
    earlier = {stratum: list(found) for stratum, found in (previous_profiles or {}).items()}
    placed = []
    for profile in profiles:
        stratum = spec.stratum_of(profile)
        history = arms.setdefault(stratum, [])
        before = earlier.setdefault(stratum, [])
        arm = allocate_next(spec, seed, history, profile, before)
        placed.append(Placement(arm, stratum, len(history)))
        history.append(arm)
        before.append(profile)
    return placed
