"""The assumptions of a trial's sample-size calculation (``trial.toml [sample_size]``).

They are what ``blend design reestimate --trial CODE`` re-estimates the sample size
from, once the refusal rate is observed (docs/design.md §4). Which keys apply depends on
the primary analysis: an ANCOVA is planned on an effect Δ among acceptors with an SD and a
baseline correlation; a risk difference on the response proportions of the two arms.
A protocol that does not publish them gets the documented defaults (docs/trials.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from blend.protocol.reading import Table

COMMON_KEYS = ("refusal", "missing", "alpha", "power", "max_sample_size", "interim_decisions")
ANCOVA_KEYS = ("delta", "sd", "rho")
RISK_KEYS = ("p_control", "p_intervention")


@dataclass(frozen=True)
class SampleSizePlan:
    """The planned design, as its protocol states it (or the documented defaults)."""

    analysis: str  # "ancova" | "risk_difference" (the primary outcome's analysis)
    refusal: float  # refusal among those offered, as assumed at the design
    missing: float  # dead or without the primary outcome
    alpha: float  # two-sided
    power: float  # target power
    max_sample_size: int  # the cap a re-estimation may not exceed (total randomized)
    interim_decisions: int  # offer decisions after which the re-estimation is made
    delta: float = 0.0  # ANCOVA: effect among acceptors
    sd: float = 0.0  # ANCOVA: SD of the outcome
    rho: float = 0.0  # ANCOVA: baseline–outcome correlation
    p_control: float = 0.0  # risk difference: response without the intervention
    p_intervention: float = 0.0  # risk difference: response among acceptors if treated

    @property
    def assumed_acceptance(self) -> float:
        """Acceptance among those offered that the calculation assumed."""
        return 1 - self.refusal


def _proportion(table: Table, name: str) -> float:
    value = table.number(name, minimum=0)
    if value >= 1:
        raise table.error(name, "a proportion below 1", value)
    return value


def parse_sample_size(table: Table, analysis: str, target_sample_size: int) -> SampleSizePlan:
    """``[sample_size]`` of trial.toml, checked against the primary analysis and the target."""
    specific = ANCOVA_KEYS if analysis == "ancova" else RISK_KEYS
    table.only({*COMMON_KEYS, *specific})
    alpha = _proportion(table, "alpha")
    power = _proportion(table, "power")
    if not alpha > 0 or not power > 0:
        raise table.error("alpha" if not alpha > 0 else "power", "a probability above 0", 0)
    cap = table.integer("max_sample_size", minimum=2)
    if cap < target_sample_size:
        raise table.error(
            "max_sample_size", f"at least target_sample_size ({target_sample_size})", cap
        )
    refusal, missing = _proportion(table, "refusal"), _proportion(table, "missing")
    interim = table.integer("interim_decisions", minimum=1)

    def plan(**specific: float) -> SampleSizePlan:
        return SampleSizePlan(
            analysis=analysis,
            refusal=refusal,
            missing=missing,
            alpha=alpha,
            power=power,
            max_sample_size=cap,
            interim_decisions=interim,
            **specific,
        )

    if analysis == "ancova":
        sd = table.number("sd")
        if not sd > 0:
            raise table.error("sd", "a positive number", sd)
        rho = table.number("rho")
        if not -1 < rho < 1:
            raise table.error("rho", "a correlation between -1 and 1", rho)
        delta = table.number("delta")
        if not delta > 0:
            raise table.error("delta", "a positive effect size", delta)
        return plan(delta=delta, sd=sd, rho=rho)
    p0 = _proportion(table, "p_control")
    p1 = _proportion(table, "p_intervention")
    if p0 == p1:
        raise table.error("p_intervention", f"a proportion other than p_control ({p0})", p1)
    return plan(p_control=p0, p_intervention=p1)
