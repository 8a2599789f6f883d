"""Randomization designs as pure rules: (previous allocations, uniforms) → next arm.

Every design has two paths that must agree exactly (a test proves it):

- ``next_arm(previous, uniforms, profile, previous_profiles)``: the scalar rule the live
  allocator and the auditor use. ``previous`` are the arms already allocated in this
  stratum, in order; ``uniforms`` are u_0 … u_k of this stratum (k = len(previous)), so
  ``uniforms[-1]`` belongs to the allocation being made. The big-stick design and
  minimisation read only ``uniforms[-1]``; permuted blocks also read the uniforms at
  earlier block starts (they fix the block sizes, which the arms alone do not reveal).
- ``allocate_many(u, levels)``: the same rule vectorised across many sequences
  (rows of ``u``), used by the design assessment and by the power simulator.
  It returns an int8 array, 1 = intervention, 0 = control.

Allocation ratio a:b (intervention:control). Imbalance is measured as
d = b·n_I − a·n_C, which is n_I − n_C at 1:1 and 0 whenever the arms are exactly at
the target ratio.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

INTERVENTION = "intervention"
CONTROL = "control"
ARMS = (INTERVENTION, CONTROL)

Profile = Mapping[str, str]


class DesignError(ValueError):
    """A design was configured or called with invalid input."""


@dataclass(frozen=True)
class Ratio:
    """Allocation ratio intervention:control, reduced to lowest terms."""

    intervention: int = 1
    control: int = 1

    def __post_init__(self) -> None:
        for name, value in (("intervention", self.intervention), ("control", self.control)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise DesignError(f"ratio.{name}: expected a positive integer, got {value!r}")
        g = math.gcd(self.intervention, self.control)
        if g != 1:
            object.__setattr__(self, "intervention", self.intervention // g)
            object.__setattr__(self, "control", self.control // g)

    @classmethod
    def parse(cls, text: str) -> Ratio:
        """Parse ``"a:b"`` such as ``"1:1"`` or ``"2:1"``."""
        parts = str(text).split(":")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise DesignError(
                f"ratio: expected 'a:b' with positive integers, e.g. '1:1', got {text!r}"
            )
        return cls(int(parts[0]), int(parts[1]))

    @property
    def p(self) -> float:
        """Target probability of the intervention arm, a / (a + b)."""
        return self.intervention / (self.intervention + self.control)

    @property
    def period(self) -> int:
        return self.intervention + self.control

    def __str__(self) -> str:
        return f"{self.intervention}:{self.control}"


def _check_history(previous: Sequence[str], uniforms: Sequence[float]) -> None:
    if len(uniforms) != len(previous) + 1:
        raise DesignError(
            f"uniforms: expected {len(previous) + 1} values (u_0 … u_k for k = {len(previous)} "
            f"previous allocations), got {len(uniforms)}"
        )
    for i, arm in enumerate(previous):
        if arm not in ARMS:
            raise DesignError(f"previous[{i}]: expected one of {ARMS}, got {arm!r}")


def _arm(is_intervention: bool) -> str:
    return INTERVENTION if is_intervention else CONTROL


def imbalance(previous: Sequence[str], ratio: Ratio) -> int:
    """d = b·n_I − a·n_C over ``previous``."""
    n_i = sum(1 for arm in previous if arm == INTERVENTION)
    return ratio.control * n_i - ratio.intervention * (len(previous) - n_i)


@dataclass(frozen=True)
class SimpleRandomization:
    """Unrestricted randomization (a biased coin with P(intervention) = a/(a+b)).

    Not recommended for BLEND; it is the baseline the other designs are compared with.
    """

    ratio: Ratio = field(default_factory=Ratio)
    name: str = field(default="simple", init=False)

    def next_arm(
        self,
        previous: Sequence[str],
        uniforms: Sequence[float],
        profile: Profile | None = None,
        previous_profiles: Sequence[Profile] = (),
    ) -> str:
        _check_history(previous, uniforms)
        return _arm(uniforms[-1] < self.ratio.p)

    def allocate_many(self, u: np.ndarray, levels: np.ndarray | None = None) -> np.ndarray:
        return (np.asarray(u) < self.ratio.p).astype(np.int8)


@dataclass(frozen=True)
class BigStick:
    """Big-stick design (Soares & Wu 1983) with maximum tolerated imbalance ``mti``.

    While both arms keep |d| ≤ MTI, allocate intervention with probability a/(a+b)
    (a fair coin at 1:1); an arm that would push |d| above MTI is excluded, so the
    other arm is forced. At 1:1 this is the classical rule: |n_I − n_C| never exceeds
    MTI. Generalisation to a:b: an intervention adds b to d and a control subtracts a,
    so d stays in [−MTI, MTI], which keeps n_I/n_C within MTI/(b·n_C) of a/b; this
    needs MTI ≥ (a+b)/2 so that at least one arm is always admissible.
    """

    mti: int = 3
    ratio: Ratio = field(default_factory=Ratio)
    name: str = field(default="bsd", init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.mti, int) or isinstance(self.mti, bool) or self.mti < 1:
            raise DesignError(f"mti: expected a positive integer, got {self.mti!r}")
        if 2 * self.mti < self.ratio.period:
            raise DesignError(
                f"mti: expected at least (a+b)/2 = {self.ratio.period / 2:g} for ratio "
                f"{self.ratio}, got {self.mti}"
            )

    def _choose(self, d: int, u: float) -> bool:
        can_i = d + self.ratio.control <= self.mti
        can_c = d - self.ratio.intervention >= -self.mti
        if can_i and can_c:
            return u < self.ratio.p
        return can_i

    def next_arm(
        self,
        previous: Sequence[str],
        uniforms: Sequence[float],
        profile: Profile | None = None,
        previous_profiles: Sequence[Profile] = (),
    ) -> str:
        _check_history(previous, uniforms)
        return _arm(self._choose(imbalance(previous, self.ratio), uniforms[-1]))

    def allocate_many(self, u: np.ndarray, levels: np.ndarray | None = None) -> np.ndarray:
        u = np.atleast_2d(np.asarray(u, dtype=float))
        a, b = self.ratio.intervention, self.ratio.control
        out = np.empty(u.shape, dtype=np.int8)
        d = np.zeros(u.shape[0], dtype=np.int64)
        for j in range(u.shape[1]):
            can_i = d + b <= self.mti
            can_c = d - a >= -self.mti
            pick = np.where(can_i & can_c, u[:, j] < self.ratio.p, can_i)
            out[:, j] = pick
            d += np.where(pick, b, -a)
        return out


@dataclass(frozen=True)
class PermutedBlocks:
    """Permuted blocks with randomly chosen block sizes.

    A block holds m·(a+b) allocations (m·a intervention, m·b control) with m drawn
    uniformly from ``multiples`` (default 1, 2, 3: sizes 2, 4, 6 at 1:1). At a block
    start, u is split: m = multiples[⌊u·S⌋] (S = number of multiples) and the fractional
    part u·S − ⌊u·S⌋ is used as the uniform for the first allocation. Within a block the
    arm is drawn like an urn without replacement: intervention with probability
    (intervention places left) / (places left), which gives a uniformly random
    permutation of the block.
    """

    multiples: tuple[int, ...] = (1, 2, 3)
    ratio: Ratio = field(default_factory=Ratio)
    name: str = field(default="blocks", init=False)

    def __post_init__(self) -> None:
        if not self.multiples or any(
            not isinstance(m, int) or isinstance(m, bool) or m < 1 for m in self.multiples
        ):
            raise DesignError(
                f"block_multiples: expected a non-empty list of positive integers, got {self.multiples!r}"
            )

    @property
    def block_sizes(self) -> tuple[int, ...]:
        return tuple(m * self.ratio.period for m in self.multiples)

    def _start(self, u: float) -> tuple[int, int, float]:
        s = len(self.multiples)
        index = min(int(math.floor(u * s)), s - 1)
        m = self.multiples[index]
        return m * self.ratio.intervention, m * self.ratio.control, u * s - index

    def _replay(self, uniforms: Sequence[float]) -> tuple[list[bool], list[int]]:
        """(arms as intervention flags, sizes of the blocks started) for u_0 … u_k."""
        rem_i = rem_c = 0
        picks: list[bool] = []
        sizes: list[int] = []
        for u in uniforms:
            if rem_i + rem_c == 0:
                rem_i, rem_c, u = self._start(u)
                sizes.append(rem_i + rem_c)
            pick = u < rem_i / (rem_i + rem_c)
            picks.append(pick)
            rem_i, rem_c = (rem_i - 1, rem_c) if pick else (rem_i, rem_c - 1)
        return picks, sizes

    def block_layout(self, uniforms: Sequence[float]) -> list[int]:
        """The sizes of the blocks that the uniforms u_0 … u_k start (the last may be incomplete)."""
        return self._replay(uniforms)[1]

    def next_arm(
        self,
        previous: Sequence[str],
        uniforms: Sequence[float],
        profile: Profile | None = None,
        previous_profiles: Sequence[Profile] = (),
    ) -> str:
        _check_history(previous, uniforms)
        # The block structure is fixed by the uniforms at block starts, so replay it.
        return _arm(self._replay(uniforms)[0][-1])

    def allocate_many(self, u: np.ndarray, levels: np.ndarray | None = None) -> np.ndarray:
        u = np.atleast_2d(np.asarray(u, dtype=float))
        s = len(self.multiples)
        mult = np.asarray(self.multiples, dtype=np.int64)
        out = np.empty(u.shape, dtype=np.int8)
        rem_i = np.zeros(u.shape[0], dtype=np.int64)
        rem_c = np.zeros(u.shape[0], dtype=np.int64)
        for j in range(u.shape[1]):
            uj = u[:, j].copy()
            start = rem_i + rem_c == 0
            index = np.minimum(np.floor(uj[start] * s).astype(np.int64), s - 1)
            rem_i[start] = mult[index] * self.ratio.intervention
            rem_c[start] = mult[index] * self.ratio.control
            uj[start] = uj[start] * s - index
            pick = uj < rem_i / (rem_i + rem_c)
            out[:, j] = pick
            rem_i -= pick
            rem_c -= ~pick
        return out


@dataclass(frozen=True)
class Minimisation:
    """Pocock–Simon minimisation with a random element.

    For a new participant with levels (l_f) of the factors, the imbalance if the
    participant went to arm t is G_t = Σ_f w_f · |b·n_fI(t) − a·n_fC(t)|, where n_fI(t)
    and n_fC(t) count previous participants of level l_f per arm, plus this participant
    in arm t (the "range" measure, weighted for the ratio). The arm with the smaller G
    is chosen with probability ``p`` (default 0.8); on a tie intervention is chosen with
    probability a/(a+b). Previous participants are those of the same stratum.
    """

    factors: tuple[tuple[str, tuple[str, ...]], ...]
    p: float = 0.8
    weights: tuple[float, ...] = ()
    ratio: Ratio = field(default_factory=Ratio)
    name: str = field(default="minimisation", init=False)

    def __post_init__(self) -> None:
        if not self.factors:
            raise DesignError(
                "minimisation.factors: expected at least one factor with its levels, got none"
            )
        for fname, levels in self.factors:
            if len(levels) < 2 or len(set(levels)) != len(levels):
                raise DesignError(
                    f"minimisation.factors.{fname}: expected at least 2 distinct levels, got {list(levels)!r}"
                )
        if not isinstance(self.p, int | float) or not 0.5 <= self.p <= 1:
            raise DesignError(f"minimisation.p: expected a probability in [0.5, 1], got {self.p!r}")
        if not self.weights:
            object.__setattr__(self, "weights", (1.0,) * len(self.factors))
        if len(self.weights) != len(self.factors) or any(w <= 0 for w in self.weights):
            raise DesignError(
                f"minimisation.weights: expected {len(self.factors)} positive numbers, got {list(self.weights)!r}"
            )

    def levels_of(self, profile: Profile | None, where: str = "profile") -> list[int]:
        """Level index per factor; raises naming the missing or unknown factor level."""
        if profile is None:
            raise DesignError(
                f"{where}: minimisation needs the participant's factor levels, got none"
            )
        out = []
        for fname, levels in self.factors:
            if fname not in profile:
                raise DesignError(f"{where}.{fname}: expected one of {list(levels)}, got nothing")
            if profile[fname] not in levels:
                raise DesignError(
                    f"{where}.{fname}: expected one of {list(levels)}, got {profile[fname]!r}"
                )
            out.append(levels.index(profile[fname]))
        return out

    def _scores(self, n_i: np.ndarray, n_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(G_intervention, G_control) from per-factor counts at the participant's levels."""
        a, b = self.ratio.intervention, self.ratio.control
        w = np.asarray(self.weights)
        g_i = (np.abs(b * (n_i + 1) - a * n_c) * w).sum(axis=-1)
        g_c = (np.abs(b * n_i - a * (n_c + 1)) * w).sum(axis=-1)
        return g_i, g_c

    def _decide(self, g_i: np.ndarray, g_c: np.ndarray, u: np.ndarray) -> np.ndarray:
        return np.where(g_i == g_c, u < self.ratio.p, np.where(g_i < g_c, u < self.p, u >= self.p))

    def next_arm(
        self,
        previous: Sequence[str],
        uniforms: Sequence[float],
        profile: Profile | None = None,
        previous_profiles: Sequence[Profile] = (),
    ) -> str:
        _check_history(previous, uniforms)
        if len(previous_profiles) != len(previous):
            raise DesignError(
                f"previous_profiles: expected one profile per previous allocation ({len(previous)}), "
                f"got {len(previous_profiles)}"
            )
        mine = self.levels_of(profile)
        n_i = np.zeros(len(self.factors), dtype=np.int64)
        n_c = np.zeros(len(self.factors), dtype=np.int64)
        for i, (arm, other) in enumerate(zip(previous, previous_profiles, strict=True)):
            same = np.asarray(self.levels_of(other, f"previous_profiles[{i}]")) == mine
            if arm == INTERVENTION:
                n_i += same
            else:
                n_c += same
        g_i, g_c = self._scores(n_i, n_c)
        return _arm(bool(self._decide(g_i, g_c, np.asarray(uniforms[-1]))))

    def allocate_many(self, u: np.ndarray, levels: np.ndarray | None = None) -> np.ndarray:
        """``levels``: int array (sequences, n, factors) of level indices."""
        u = np.atleast_2d(np.asarray(u, dtype=float))
        if levels is None or levels.shape != (*u.shape, len(self.factors)):
            got = None if levels is None else levels.shape
            raise DesignError(
                f"levels: expected an array of shape {(*u.shape, len(self.factors))}, got {got}"
            )
        reps, n = u.shape
        n_levels = max(len(lv) for _, lv in self.factors)
        counts = np.zeros((reps, len(self.factors), n_levels, 2), dtype=np.int64)
        rows = np.arange(reps)[:, None]
        cols = np.arange(len(self.factors))[None, :]
        out = np.empty(u.shape, dtype=np.int8)
        for j in range(n):
            lv = levels[:, j, :]
            g_i, g_c = self._scores(counts[rows, cols, lv, 0], counts[rows, cols, lv, 1])
            pick = self._decide(g_i, g_c, u[:, j])
            out[:, j] = pick
            counts[rows, cols, lv, np.where(pick, 0, 1)[:, None]] += 1
        return out


Design = SimpleRandomization | BigStick | PermutedBlocks | Minimisation
