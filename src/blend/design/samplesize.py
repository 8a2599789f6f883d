"""Analytic sample size for the ITT ANCOVA of a TwiCs trial (analysis-methods.md §1.5).

n per arm = 2σ²(z₁₋α/₂ + z₁₋β)²(1 − ρ²) / Δ²  ×  1/(1 − r)²  ×  1/(1 − m)

- Δ is the effect among those who accept the offer; refusers (proportion r of the
  intervention arm) get the control outcome, so the ITT effect is (1 − r)Δ: the
  dilution enters squared.
- m is the proportion dead or without a primary outcome; they are lost, not diluted,
  so the division is by (1 − m) only.
- Optionally (``mixture=True``) the refined factor 1 + r(1 − r)Δ² / (2σ²(1 − ρ²)) for the
  extra variance of the offered arm's mixture of acceptors and refusers.

n is rounded up once, at the end. The reverse solves the same equation for Δ.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

_Z = NormalDist()


class DesignInputError(ValueError):
    """An input to the sample-size calculation is out of range."""


Check = tuple[float, bool, str]  # (value, within range, what was expected)


def _common_checks(a: Any) -> dict[str, Check]:
    """The ranges of the inputs every design shares."""
    return {
        "refusal": (a.refusal, 0 <= a.refusal < 1, "a proportion in [0, 1)"),
        "missing": (a.missing, 0 <= a.missing < 1, "a proportion in [0, 1)"),
        "alpha": (a.alpha, 0 < a.alpha < 1, "a probability in (0, 1)"),
        "power": (a.power, 0 < a.power < 1, "a probability in (0, 1)"),
    }


def _check(checks: dict[str, Check]) -> None:
    for name, (value, ok, expected) in checks.items():
        if not ok:
            raise DesignInputError(f"{name}: expected {expected}, got {value!r}")


@dataclass(frozen=True)
class Assumptions:
    sd: float = 20.0
    rho: float = 0.5
    refusal: float = 0.0
    missing: float = 0.0
    alpha: float = 0.05
    power: float = 0.8
    mixture: bool = False

    def __post_init__(self) -> None:
        _check(
            {
                "sd": (self.sd, self.sd > 0, "a positive number"),
                "rho": (self.rho, -1 < self.rho < 1, "a correlation in (-1, 1)"),
                **_common_checks(self),
            }
        )

    @property
    def z_sum(self) -> float:
        return _Z.inv_cdf(1 - self.alpha / 2) + _Z.inv_cdf(self.power)

    def mixture_factor(self, delta: float) -> float:
        if not self.mixture:
            return 1.0
        r = self.refusal
        return 1 + r * (1 - r) * delta**2 / (2 * self.sd**2 * (1 - self.rho**2))

    def inflation(self) -> float:
        """1 / ((1 − r)²(1 − m)), the refusal and loss inflation."""
        return 1 / ((1 - self.refusal) ** 2 * (1 - self.missing))


def sample_size(delta: float, assumptions: Assumptions) -> dict[str, float | int | dict]:
    """n per arm (unrounded and rounded up) and total N, with the inputs and the steps."""
    if not delta > 0:
        raise DesignInputError(f"delta: expected a positive effect size, got {delta!r}")
    a = assumptions
    base = 2 * a.sd**2 * a.z_sum**2 * (1 - a.rho**2) / delta**2
    exact = base * a.inflation() * a.mixture_factor(delta)
    per_arm = math.ceil(exact - 1e-9)  # guard against 74.0000000001 from float error
    return {
        "inputs": {"delta": delta, **asdict(a)},
        "n_per_arm_unadjusted": base,
        "inflation_refusal": 1 / (1 - a.refusal) ** 2,
        "inflation_missing": 1 / (1 - a.missing),
        "inflation_mixture": a.mixture_factor(delta),
        "n_per_arm_exact": exact,
        "n_per_arm": per_arm,
        "n_total": 2 * per_arm,
    }


def detectable_delta(n_per_arm: float, assumptions: Assumptions) -> dict[str, float | dict]:
    """The smallest Δ (among acceptors) detectable with ``n_per_arm`` randomized per arm."""
    if not n_per_arm > 0:
        raise DesignInputError(f"n: expected a positive number per arm, got {n_per_arm!r}")
    a = assumptions
    effective = n_per_arm / a.inflation()
    delta = a.sd * a.z_sum * math.sqrt(2 * (1 - a.rho**2) / effective)
    if a.mixture:  # n·Δ² = C·(1 + kΔ²) with k = r(1−r)/(2σ²(1−ρ²)): solve for Δ²
        k = a.refusal * (1 - a.refusal) / (2 * a.sd**2 * (1 - a.rho**2))
        c = delta**2 * effective  # = 2σ²z²(1−ρ²)
        if effective <= c * k:
            raise DesignInputError(
                f"n: {n_per_arm} per arm cannot reach the power with mixture variance"
            )
        delta = math.sqrt(c / (effective - c * k))
    return {
        "inputs": {"n_per_arm": n_per_arm, **asdict(a)},
        "delta": delta,
        "itt_effect": delta * (1 - a.refusal),
        "n_total": 2 * n_per_arm,
    }


def analytic_power(delta: float, n_per_arm: float, assumptions: Assumptions) -> float:
    """Power of the z-approximation at ``n_per_arm`` (the inverse of ``sample_size``)."""
    a = assumptions
    effective = n_per_arm / a.inflation() / a.mixture_factor(delta)
    ncp = abs(delta) * math.sqrt(effective / (2 * a.sd**2 * (1 - a.rho**2)))
    z = _Z.inv_cdf(1 - a.alpha / 2)
    return _Z.cdf(ncp - z) + _Z.cdf(-ncp - z)


@dataclass(frozen=True)
class BinaryAssumptions:
    """A difference in response proportions (e.g. VERTICAL's pain response at 3 months).

    ``p_intervention`` is the response among acceptors if treated; refusers respond as
    controls do, so the offered arm responds with p₀ + (1 − r)(p₁ − p₀): the ITT
    difference is diluted by (1 − r), as for the ANCOVA.
    """

    p_control: float
    p_intervention: float
    refusal: float = 0.0
    missing: float = 0.0
    alpha: float = 0.05
    power: float = 0.8

    def __post_init__(self) -> None:
        _check(
            {
                "p_control": (self.p_control, 0 < self.p_control < 1, "a proportion in (0, 1)"),
                "p_intervention": (
                    self.p_intervention,
                    0 < self.p_intervention < 1 and self.p_intervention != self.p_control,
                    f"a proportion in (0, 1) other than p_control ({self.p_control})",
                ),
                **_common_checks(self),
            }
        )

    @property
    def p_offered(self) -> float:
        """Response in the offered arm (acceptors treated, refusers as controls)."""
        return self.p_control + (1 - self.refusal) * (self.p_intervention - self.p_control)


def _binary_terms(a: BinaryAssumptions) -> tuple[float, float, float]:
    """(|p₁ − p₀|, √(2p̄q̄), √(p₀q₀ + p₁q₁)) of the ITT comparison."""
    p0, p1 = a.p_control, a.p_offered
    mean = (p0 + p1) / 2
    return abs(p1 - p0), math.sqrt(2 * mean * (1 - mean)), math.sqrt(p0 * (1 - p0) + p1 * (1 - p1))


def binary_sample_size(a: BinaryAssumptions) -> dict[str, float | int | dict]:
    """n per arm for the two-sided test of p₀ = p₁ of the ITT comparison.

    n = [z₁₋α/₂·√(2p̄q̄) + z₁₋β·√(p₀q₀ + p₁q₁)]² / (p₁ − p₀)² / (1 − m), with p₁ the
    offered arm's diluted response: the formula of R's ``power.prop.test`` (no
    continuity correction), which the tests check it against.
    """
    diff, pooled, separate = _binary_terms(a)
    z_alpha, z_beta = _Z.inv_cdf(1 - a.alpha / 2), _Z.inv_cdf(a.power)
    base = (z_alpha * pooled + z_beta * separate) ** 2 / diff**2
    exact = base / (1 - a.missing)
    per_arm = math.ceil(exact - 1e-9)
    return {
        "inputs": asdict(a),
        "p_offered": a.p_offered,
        "n_per_arm_unadjusted": base,
        "inflation_missing": 1 / (1 - a.missing),
        "n_per_arm_exact": exact,
        "n_per_arm": per_arm,
        "n_total": 2 * per_arm,
    }


def binary_power(n_per_arm: float, a: BinaryAssumptions) -> float:
    """Power at ``n_per_arm`` randomized per arm (``power.prop.test``, strict = FALSE)."""
    diff, pooled, separate = _binary_terms(a)
    analysed = n_per_arm * (1 - a.missing)
    z_alpha = _Z.inv_cdf(1 - a.alpha / 2)
    return _Z.cdf((math.sqrt(analysed) * diff - z_alpha * pooled) / separate)
