"""Analytic ANCOVA sample size with refusal and loss inflation, and its reverse."""

from __future__ import annotations

import json

import pytest

from blend.design import (
    Assumptions,
    DesignInputError,
    analytic_power,
    detectable_delta,
    sample_size,
)
from blend.design.cli import main_design


def test_z_sum_squared_matches_r() -> None:
    """R: (qnorm(.975) + qnorm(.8))^2 = 7.84887973434909"""
    assert Assumptions().z_sum ** 2 == pytest.approx(7.84887973434909, rel=1e-12)


@pytest.mark.parametrize(
    ("delta", "sd", "rho", "refusal", "missing", "per_arm", "total"),
    [  # the worked table of analysis-methods.md §1.5
        (10, 25, 0.5, 0.0, 0.0, 74, 148),
        (10, 25, 0.5, 0.2, 0.2, 144, 288),
        (15, 25, 0.5, 0.2, 0.2, 64, 128),
        (15, 25, 0.5, 0.3, 0.2, 84, 168),
        (20, 25, 0.5, 0.2, 0.2, 36, 72),
        (20, 25, 0.5, 0.3, 0.2, 47, 94),
    ],
)
def test_the_published_worked_table(delta, sd, rho, refusal, missing, per_arm, total) -> None:
    result = sample_size(delta, Assumptions(sd=sd, rho=rho, refusal=refusal, missing=missing))
    assert (result["n_per_arm"], result["n_total"]) == (per_arm, total)


def test_rounding_happens_once_at_the_end() -> None:
    """47.09 / 0.75² / 0.85 = 98.50 → 99; rounding each step would give 48 → 86 → 102."""
    result = sample_size(10, Assumptions(sd=20, rho=0.5, refusal=0.25, missing=0.15))
    assert result["n_per_arm_unadjusted"] == pytest.approx(47.0933, abs=1e-4)
    assert result["n_per_arm_exact"] == pytest.approx(98.4957, abs=1e-4)
    assert (result["n_per_arm"], result["n_total"]) == (99, 198)


def test_mixture_variance_adds_about_three_percent() -> None:
    """§1.5 caveat 1: Δ = 10, σ_e² = 300, r = 0.2 → factor 1 + 0.16·100/600."""
    a = Assumptions(sd=20, rho=0.5, refusal=0.2, mixture=True)
    assert sample_size(10, a)["inflation_mixture"] == pytest.approx(1 + 0.16 * 100 / 600)


@pytest.mark.parametrize("mixture", [False, True])
def test_detectable_delta_inverts_the_sample_size(mixture: bool) -> None:
    a = Assumptions(sd=20, rho=0.5, refusal=0.27, missing=0.19, mixture=mixture)
    exact = sample_size(12, a)["n_per_arm_exact"]
    assert detectable_delta(exact, a)["delta"] == pytest.approx(12, rel=1e-9)
    # analytic_power also counts the far tail Φ(−ncp − z) ≈ 1e-6, which the formula ignores.
    assert analytic_power(12, exact, a) == pytest.approx(0.8, abs=1e-5)


def test_blend_n100_with_vertical_refusal_and_missingness() -> None:
    """N = 100, refusal 27 %, 19 % missing, σ 20, ρ 0.5: Δ ≈ 14.8 among acceptors."""
    result = detectable_delta(50, Assumptions(sd=20, rho=0.5, refusal=0.27, missing=0.19))
    assert result["delta"] == pytest.approx(14.7717, abs=1e-3)
    assert result["itt_effect"] == pytest.approx(result["delta"] * 0.73)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"refusal": 1.0}, "refusal: expected a proportion in [0, 1), got 1.0"),
        ({"rho": 1.0}, "rho: expected a correlation in (-1, 1), got 1.0"),
        ({"sd": 0}, "sd: expected a positive number, got 0"),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict, message: str) -> None:
    with pytest.raises(DesignInputError) as error:
        Assumptions(**kwargs)
    assert str(error.value) == message


def test_cli_sample_size(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "sample-size",
        "--delta",
        "10",
        "--sd",
        "20",
        "--rho",
        "0.5",
        "--refusal",
        "0.25",
        "--missing",
        "0.15",
        "--alpha",
        "0.05",
        "--power",
        "0.8",
    ]
    assert main_design(argv) == 0
    out = capsys.readouterr().out
    assert "n per arm: 99" in out and "total N: 198" in out
    assert main_design([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_total"] == 198


def test_cli_detectable_delta_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main_design(
            ["detectable-delta", "--n", "100", "--refusal", "0.27", "--missing", "0.19", "--json"]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["delta"] == pytest.approx(14.7717, abs=1e-3)
    assert main_design(["sample-size", "--delta", "10", "--missing", "1.5"]) == 2
    assert "missing: expected a proportion in [0, 1), got 1.5" in capsys.readouterr().err
