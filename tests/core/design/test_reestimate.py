"""Sample-size re-estimation from the observed refusal rate (docs/design.md §4)."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import pytest

from blend.cli import main as blend
from blend.design.reestimate import (
    Offers,
    needed_total,
    power_at,
    reestimate,
    type_one_error,
)
from blend.design.samplesize import (
    Assumptions,
    BinaryAssumptions,
    DesignInputError,
    analytic_power,
    binary_power,
    binary_sample_size,
    sample_size,
)
from blend.protocol import load_trial
from blend.protocol.errors import ConfigError
from blend.protocol.reading import Table
from blend.protocol.sample_size import SampleSizePlan, parse_sample_size

BLEND_PLAN = SampleSizePlan(
    analysis="ancova",
    refusal=0.27,
    missing=0.2,
    alpha=0.05,
    power=0.8,
    max_sample_size=200,
    interim_decisions=25,
    delta=15.0,
    sd=20.0,
    rho=0.5,
)


def test_binary_power_and_n_match_r_power_prop_test() -> None:
    """R 4.2 (stats)::

    options(digits = 15)
    power.prop.test(n = 55 * 0.9, p1 = 0.5, p2 = 0.77)$power          # 0.806431931357154
    power.prop.test(p1 = 0.5, p2 = 0.5 + 0.73 * 0.27, power = 0.8)$n  # 95.9074340501351
    power.prop.test(n = 40, p1 = 0.3, p2 = 0.55, sig.level = 0.01)$power  # 0.372694355677613
    """
    assert binary_power(55, BinaryAssumptions(0.5, 0.77, missing=0.1)) == pytest.approx(
        0.806431931357154, abs=1e-12
    )
    # 27% refusal: the offered arm responds with p₀ + (1 − r)(p₁ − p₀)
    diluted = BinaryAssumptions(0.5, 0.77, refusal=0.27)
    assert diluted.p_offered == pytest.approx(0.5 + 0.73 * 0.27)
    assert binary_sample_size(diluted)["n_per_arm_unadjusted"] == pytest.approx(
        95.9074340501351, rel=1e-9
    )
    assert binary_power(40, BinaryAssumptions(0.3, 0.55, alpha=0.01)) == pytest.approx(
        0.372694355677613, abs=1e-12
    )


def test_the_refusal_interval_is_wilsons_as_r_prop_test_gives_it() -> None:
    """R::

    prop.test(10, 25, correct = FALSE)$conf.int   # 0.23403302377748 0.59260542641033
    prop.test(0, 12, correct = FALSE)$conf.int    # 0.000000000000000 0.242494006655241
    """
    assert Offers(accepted=15, refused=10).interval() == pytest.approx(
        (0.23403302377748, 0.59260542641033), abs=1e-12
    )
    assert Offers(accepted=12, refused=0).interval() == pytest.approx(
        (0.0, 0.242494006655241), abs=1e-12
    )


def test_each_row_is_the_analytic_sample_size_and_power_at_its_refusal() -> None:
    result = reestimate(BLEND_PLAN, Offers(accepted=15, refused=10, pending=3), planned_total=100)
    assert [row.label for row in result.rows] == [
        "assumed at the design",
        "observed",
        "95% CI lower bound",
        "95% CI upper bound",
    ]
    for row in result.rows:
        a = Assumptions(sd=20, rho=0.5, refusal=row.refusal, missing=0.2)
        assert row.n_total == sample_size(15.0, a)["n_total"]
        assert row.power_at_planned == pytest.approx(analytic_power(15.0, 50, a))
    design, observed, low, high = result.rows
    assert None not in (design.n_total, observed.n_total, low.n_total, high.n_total)
    assert (design.n_total, observed.refusal) == (100, 0.4)  # the defaults reproduce N = 100
    assert low.n_total < design.n_total < observed.n_total < high.n_total  # type: ignore[operator]
    assert high.power_at_planned < observed.power_at_planned < design.power_at_planned
    assert (result.decision_total, result.capped) == (observed.n_total, False)


def test_the_rule_never_lowers_n_and_stops_at_the_maximum() -> None:
    few_refuse = reestimate(BLEND_PLAN, Offers(accepted=24, refused=1), planned_total=100)
    assert (few_refuse.rows[1].n_total or 0) < 100
    assert (few_refuse.decision_total, few_refuse.capped) == (100, False)
    most_refuse = reestimate(BLEND_PLAN, Offers(accepted=10, refused=15), planned_total=100)
    assert (most_refuse.rows[1].n_total or 0) > 200
    assert (most_refuse.decision_total, most_refuse.capped) == (200, True)
    everyone_refuses = reestimate(BLEND_PLAN, Offers(accepted=0, refused=25), planned_total=100)
    assert everyone_refuses.rows[1].n_total is None
    assert everyone_refuses.rows[1].power_at_planned == pytest.approx(0.025)
    assert everyone_refuses.decision_total == 200


def test_a_risk_difference_plan_uses_the_binary_formula() -> None:
    vertical = load_trial("VERTICAL").sample_size
    assert vertical is not None and vertical.analysis == "risk_difference"
    assert needed_total(vertical, vertical.refusal) == 110  # the published target
    assumptions = BinaryAssumptions(0.5, 0.77, refusal=0.27, missing=0.1)
    assert needed_total(vertical, 0.27) == binary_sample_size(assumptions)["n_total"]
    assert power_at(vertical, 0.27, 110) == pytest.approx(binary_power(55, assumptions))


def test_the_procedure_keeps_the_type_one_error_at_alpha() -> None:
    """20,000 null trials with prognosis-related refusal (the case where an outcome-blind
    rule could still bias the test): the rejection rate is within 3 Monte Carlo SEs
    (MCSE ≈ 0.0015) of α, and within 0.005 of the same replicates at the planned N."""
    for true_refusal, seed in ((0.27, 2026), (0.4, 7)):
        result = type_one_error(BLEND_PLAN, 100, true_refusal=true_refusal, seed=seed)
        assert result["mcse"] == pytest.approx(0.0015, abs=0.0002)
        assert abs(result["type_one_error"] - 0.05) < 3 * result["mcse"]
        assert abs(result["type_one_error"] - result["fixed_design"]) < 0.005
        assert result["mean_total"] > 100  # the rule did raise N in many replicates


def test_counts_and_levels_are_checked() -> None:
    with pytest.raises(DesignInputError, match="refused: expected a count of 0 or more, got -1"):
        Offers(accepted=3, refused=-1)
    with pytest.raises(DesignInputError, match="at least one decided offer"):
        reestimate(BLEND_PLAN, Offers(accepted=0, refused=0, pending=4), planned_total=100)
    with pytest.raises(DesignInputError, match="planned_total: expected 2 or more"):
        reestimate(BLEND_PLAN, Offers(accepted=1, refused=1), planned_total=1)


def _table(**values: object) -> Table:
    from pathlib import Path

    return Table(values, Path("trials/X/trial.toml"), "sample_size")


ANCOVA = {
    key: value
    for key, value in asdict(BLEND_PLAN).items()
    if key not in {"analysis", "p_control", "p_intervention"}
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"p_control": 0.5}, "p_control"),
        ({"delta": 0}, "sample_size.delta"),
        ({"rho": 1.0}, "sample_size.rho"),
        ({"refusal": 1.0}, "sample_size.refusal"),
        ({"max_sample_size": 90}, "at least target_sample_size \\(100\\)"),
        ({"interim_decisions": 0}, "sample_size.interim_decisions"),
    ],
)
def test_a_bad_sample_size_table_names_the_key(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_sample_size(_table(**{**ANCOVA, **changes}), "ancova", 100)


def test_the_shipped_trials_carry_their_plans() -> None:
    assert load_trial("BLEND").sample_size == BLEND_PLAN
    assert replace(BLEND_PLAN, refusal=0.0) != BLEND_PLAN


def test_cli_with_counts_given_runs_without_the_database(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["design", "reestimate", "--trial", "BLEND", "--accepted", "15", "--refused", "10"]
    assert blend(argv) == 0
    out = capsys.readouterr().out
    assert "Offers: 25 decided (15 accepted, 10 refused), 0 pending" in out
    assert "observed                    40.0%       146  64.2%" in out
    assert "Rule (docs/design.md §4): N = 146 (never below 100, at most 200)." in out
    assert blend([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["trial"], data["decision_total"], data["rows"][1]["n_total"]) == (
        "BLEND",
        146,
        146,
    )


def test_cli_bad_input_names_what_was_expected(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["design", "reestimate", "--trial", "BLEND", "--accepted", "0", "--refused", "0"]
    assert blend(argv) == 2
    assert "expected at least one decided offer, got none" in capsys.readouterr().err
    assert blend([*argv[:3], "NOPE", "--accepted", "1", "--refused", "1"]) == 2
    assert "NOPE" in capsys.readouterr().err
