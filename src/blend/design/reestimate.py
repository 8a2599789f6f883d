"""Blinded sample-size re-estimation from the refusal rate observed so far.

In a TwiCs trial, refusal of the offer dilutes the ITT effect by (1 − r), so the sample
size grows with 1/(1 − r)² (§1 of docs/design.md). The refusal assumed at the design is a
guess; Pate et al. (BMC Med Res Methodol 2016;16:109) recommend updating the sample size
"as more information about the refusal rate is gained", and RECTAL BOOST did. The
procedure here uses the refusal rate alone, never an outcome, so it is blinded to the
effect: the type I error stays at α (``type_one_error`` simulates it, and
tests/core/design/test_reestimate.py checks it).

    plan = SampleSizePlan(...)                      # trial.toml [sample_size]
    result = reestimate(plan, Offers(accepted=31, refused=12), planned_total=100)
    result.rows                                     # design, observed, CI lower, CI upper
    result.decision_total                           # the N the documented rule sets

The documented rule (docs/design.md §4): at ``plan.interim_decisions`` offer decisions,
the total becomes the N needed at the observed refusal, never lower than planned and never
above ``plan.max_sample_size``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from blend.design.samplesize import (
    Assumptions,
    BinaryAssumptions,
    DesignInputError,
    analytic_power,
    binary_power,
    binary_sample_size,
    sample_size,
)
from blend.protocol.sample_size import SampleSizePlan

if TYPE_CHECKING:
    import numpy as np

UNREACHABLE = None  # no N reaches the power (every offered patient refuses)


@dataclass(frozen=True)
class Offers:
    """The offer decisions so far in one trial (pending offers carry no information)."""

    accepted: int
    refused: int
    pending: int = 0

    def __post_init__(self) -> None:
        for name in ("accepted", "refused", "pending"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise DesignInputError(f"{name}: expected a count of 0 or more, got {value!r}")

    @property
    def decided(self) -> int:
        return self.accepted + self.refused

    @property
    def refusal(self) -> float:
        if not self.decided:
            raise DesignInputError("offers: expected at least one decided offer, got none")
        return self.refused / self.decided

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """The Wilson score interval of the refusal rate."""
        from blend.stats.endpoints import wilson

        low, high = wilson(self.refused, self.decided, level)
        return max(low, 0.0), min(high, 1.0)


@dataclass(frozen=True)
class Row:
    label: str  # what the refusal rate is: at the design, observed, or a CI bound
    refusal: float
    n_total: int | None  # total randomized for the target power; None when unreachable
    power_at_planned: float  # the power the trial has at its planned N


@dataclass(frozen=True)
class Reestimation:
    plan: SampleSizePlan
    offers: Offers
    planned_total: int
    level: float
    rows: tuple[Row, ...]
    decision_total: int  # the rule's N: observed need, within [planned, max_sample_size]
    capped: bool  # the observed need exceeds max_sample_size

    def as_dict(self) -> dict[str, object]:
        return {
            "analysis": self.plan.analysis,
            "accepted": self.offers.accepted,
            "refused": self.offers.refused,
            "pending": self.offers.pending,
            "planned_total": self.planned_total,
            "confidence_level": self.level,
            "rows": [row.__dict__ for row in self.rows],
            "decision_total": self.decision_total,
            "capped": self.capped,
            "max_sample_size": self.plan.max_sample_size,
        }


def needed_total(plan: SampleSizePlan, refusal: float) -> int | None:
    """Total N for the plan's target power if the refusal rate is ``refusal``."""
    if refusal >= 1:
        return UNREACHABLE
    if plan.analysis == "ancova":
        result = sample_size(plan.delta, _ancova(plan, refusal))
    else:
        result = binary_sample_size(_binary(plan, refusal))
    total = result["n_total"]
    assert isinstance(total, int)
    return total


def power_at(plan: SampleSizePlan, refusal: float, total: float) -> float:
    """Power with ``total`` randomized (1:1) if the refusal rate is ``refusal``."""
    if refusal >= 1:
        return plan.alpha / 2  # no effect reaches the ITT comparison: one tail of α
    if plan.analysis == "ancova":
        return analytic_power(plan.delta, total / 2, _ancova(plan, refusal))
    return binary_power(total / 2, _binary(plan, refusal))


def reestimate(
    plan: SampleSizePlan, offers: Offers, planned_total: int, level: float = 0.95
) -> Reestimation:
    """The N needed and the power at the planned N, at the design's refusal, the observed
    refusal and across its Wilson CI."""
    if planned_total < 2:
        raise DesignInputError(f"planned_total: expected 2 or more, got {planned_total!r}")
    observed = offers.refusal
    low, high = offers.interval(level)
    rows = tuple(
        Row(label, r, needed_total(plan, r), power_at(plan, r, planned_total))
        for label, r in (
            ("assumed at the design", plan.refusal),
            ("observed", observed),
            (f"{level:.0%} CI lower bound", low),
            (f"{level:.0%} CI upper bound", high),
        )
    )
    need = rows[1].n_total
    capped = need is None or need > plan.max_sample_size
    decision = plan.max_sample_size if capped else max(planned_total, need or 0)
    return Reestimation(plan, offers, planned_total, level, rows, decision, capped)


class _Shared(TypedDict):
    refusal: float
    missing: float
    alpha: float
    power: float


def _shared(plan: SampleSizePlan, refusal: float) -> _Shared:
    return {
        "refusal": refusal,
        "missing": plan.missing,
        "alpha": plan.alpha,
        "power": plan.power,
    }


def _ancova(plan: SampleSizePlan, refusal: float) -> Assumptions:
    return Assumptions(sd=plan.sd, rho=plan.rho, **_shared(plan, refusal))


def _binary(plan: SampleSizePlan, refusal: float) -> BinaryAssumptions:
    return BinaryAssumptions(plan.p_control, plan.p_intervention, **_shared(plan, refusal))


def type_one_error(
    plan: SampleSizePlan,
    planned_total: int,
    *,
    true_refusal: float,
    refusal_prognosis: float = 1.0,
    reps: int = 20_000,
    seed: int = 2026,
) -> dict[str, float]:
    """The rejection rate under no effect of the documented procedure, by simulation.

    Each replicate randomizes ``plan.max_sample_size`` patients (BSD, the live design
    code), re-estimates the total from the refusals among the first
    ``plan.interim_decisions`` offered, and analyses the first ``total`` patients by
    ITT ANCOVA at α. Refusal depends on prognosis (``refusal_prognosis``), the case in
    which an outcome-blind rule could still bias the test. Returns the rate, its Monte
    Carlo SE and the mean re-estimated total.
    """
    import numpy as np
    from scipy.stats import t as student_t

    from blend.design.dgm import generate
    from blend.design.estimators import ols
    from blend.design.scenario import Scenario

    scenario = Scenario(
        n=plan.max_sample_size,
        delta=0.0,
        sd=plan.sd or 20.0,
        rho=plan.rho,
        refusal=true_refusal,
        refusal_prognosis=refusal_prognosis,
        missing=plan.missing,
        missing_mechanism="mcar",
        continuous=True,
        reps=reps,
        seed=seed,
    )
    trials = generate(scenario, np.random.default_rng(seed), reps)
    totals = _reestimated_totals(plan, planned_total, trials.arm, trials.received)
    index = np.arange(plan.max_sample_size)[None, :]
    x = np.stack([np.ones_like(trials.y), trials.arm, trials.pf0], axis=-1)

    def rejection_rate(totals: np.ndarray) -> float:
        fit = ols(x, trials.y, trials.observed & (index < totals[:, None]))
        estimate, se = fit.coef(1)
        p = 2 * student_t.sf(np.abs(estimate / se), fit.df)
        return float(np.mean(p < plan.alpha))

    rate = rejection_rate(totals)
    return {
        "type_one_error": rate,
        "mcse": math.sqrt(rate * (1 - rate) / reps),
        # The same replicates analysed at the planned N: what the rule adds is the difference.
        "fixed_design": rejection_rate(np.full(reps, planned_total)),
        "mean_total": float(np.mean(totals)),
        "reps": float(reps),
    }


def _reestimated_totals(
    plan: SampleSizePlan, planned_total: int, arm: np.ndarray, received: np.ndarray
) -> np.ndarray:
    """Per replicate, the total the rule sets from the first ``interim_decisions`` offers."""
    import numpy as np

    offered = arm.astype(bool)
    order = np.cumsum(offered, axis=1)  # the how-many-th offer each patient is
    in_interim = offered & (order <= plan.interim_decisions)
    refused = (in_interim & ~received.astype(bool)).sum(axis=1)
    decided = in_interim.sum(axis=1)
    lookup = {
        (r, d): _rule_total(plan, planned_total, r / d)
        for r, d in set(zip(refused.tolist(), decided.tolist(), strict=True))
    }
    return np.array(
        [lookup[(r, d)] for r, d in zip(refused.tolist(), decided.tolist(), strict=True)]
    )


def _rule_total(plan: SampleSizePlan, planned_total: int, refusal: float) -> int:
    need = needed_total(plan, refusal)
    if need is None or need > plan.max_sample_size:
        return plan.max_sample_size
    return max(planned_total, need)


__all__ = [
    "Offers",
    "Reestimation",
    "Row",
    "needed_total",
    "power_at",
    "reestimate",
    "type_one_error",
]


def describe_plan(plan: SampleSizePlan) -> str:
    """The assumptions in one line, as the report heads them."""
    tail = f"missing {plan.missing:.0%}, α {plan.alpha:g} two-sided, power {plan.power:.0%}"
    if plan.analysis == "ancova":
        return f"ANCOVA: Δ {plan.delta:g} among acceptors, SD {plan.sd:g}, ρ {plan.rho:g}, {tail}"
    return (
        f"risk difference: response {plan.p_control:.0%} (control) vs "
        f"{plan.p_intervention:.0%} among acceptors, {tail}"
    )


def report_text(trial: str, result: Reestimation) -> str:
    """The re-estimation as ``blend design reestimate`` prints it."""
    offers, plan = result.offers, result.plan
    lines = [
        f"{trial}: sample size re-estimated from the refusal rate ({describe_plan(plan)})",
        f"Offers: {offers.decided} decided ({offers.accepted} accepted, {offers.refused} "
        f"refused), {offers.pending} pending",
        f"{'refusal':<26} {'rate':>6} {'N needed':>9}  power at N = {result.planned_total}",
    ]
    for row in result.rows:
        needed = "unreachable" if row.n_total is None else str(row.n_total)
        lines.append(f"{row.label:<26} {row.refusal:>6.1%} {needed:>9}  {row.power_at_planned:.1%}")
    rule = (
        f"Rule (docs/design.md §4): N = {result.decision_total} (never below "
        f"{result.planned_total}, at most {plan.max_sample_size})"
    )
    if result.capped:
        rule += "; the observed refusal needs more than the maximum, so N stops there"
    lines.append(rule + ".")
    if offers.decided < plan.interim_decisions:
        lines.append(
            f"Only {offers.decided} of the {plan.interim_decisions} decisions the rule waits "
            "for: for information, not yet for a decision."
        )
    return "\n".join(lines)
