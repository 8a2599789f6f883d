"""report.html: nulls read "not estimable" with their reason, the ICER names its quadrant,
and the keys of the newer analyses (MMRM, Fine–Gray, first-stage F, CEA rules and
counts, the tipping δ's Monte-Carlo error) appear when the results carry them."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from blend.stats import report
from blend.stats.analysis import AnalysisConfig, AnalysisResult, run_analysis
from blend.stats.dataset import load_dataset
from blend.stats.synthetic import make_dataset


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    root = tmp_path_factory.mktemp("report")
    ds = load_dataset(make_dataset(30, 8, root / "d30"))
    return run_analysis(ds, AnalysisConfig(imputations=3, bootstrap=200))


def _text(page: str) -> str:
    """The visible text of a page, tags removed and whitespace collapsed."""
    page = re.sub(r"<svg.*?</svg>|<style>.*?</style>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).replace("&#x27;", "'")


def _render(result: AnalysisResult, tmp_path: Path) -> str:
    path = tmp_path / "report.html"
    report.write_report(result, {}, path)
    return _text(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("dq", "dc", "icer", "expected"),
    [
        (0.02, -800.0, -40_000.0, "dominates standard care"),
        (-0.02, 800.0, -40_000.0, "is dominated by standard care"),
        (0.02, 400.0, 20_000.0, "ICER: €20,000 per QALY gained"),
        (-0.02, -400.0, 20_000.0, "a saving of €20,000 per QALY lost"),
        (0.0, 100.0, None, "ICER not estimable"),
        (None, None, None, "ICER not estimable"),
    ],
)
def test_icer_is_worded_by_its_quadrant(
    dq: float | None, dc: float | None, icer: float | None, expected: str
) -> None:
    statement = report.icer_statement(dq, dc, icer)
    assert expected in statement
    assert "-€" not in statement and "€-" not in statement  # a negative ICER is never printed


def test_a_null_estimate_reads_not_estimable_with_its_reason() -> None:
    row = report.effect_row(
        "CACE (2SLS)",
        {
            "estimate": None,
            "se": None,
            "ci95": [None, None],
            "p": None,
            "n": 9,
            "not_estimable": "arm is aliased",
        },
    )
    assert row[1] == "9" and "not estimable (arm is aliased)" in row[2]
    assert report.value_or_reason(
        {"notes": {"median_days.control": "not reached: the KM curve stays above 0.5"}},
        "median_days.control",
        None,
    ).startswith("<span class='ne'>not reached")


def test_first_stage_f_is_shown_and_a_weak_instrument_flagged() -> None:
    cace = {
        "first_stage": {
            "f_statistic": 3.2,
            "df": [1, 40],
            "p": 0.08,
            "partial_r2": 0.074,
            "weak": True,
        },
        "warning": "weak instrument: first-stage F = 3.2 < 10",
    }
    note = report._first_stage_note(cace)
    assert "first-stage F(1, 40) = 3.2" in note and "partial R² = 0.074" in note
    assert "class='warn'" in note and "weak instrument" in note
    strong = report._first_stage_note({"first_stage": {"f_statistic": 85.0, "weak": False}})
    assert "warn" not in strong


def _with_new_keys(results: dict[str, Any]) -> dict[str, Any]:
    """The keys the estimation half documents in analysis.py, with made-up values."""
    r = copy.deepcopy(results)
    r["primary"]["cace"]["first_stage"] = {
        "f_statistic": 4.5,
        "df": [1, 20],
        "p": 0.04,
        "partial_r2": 0.18,
        "weak": True,
    }
    r["primary"]["itt_mi"]["dropped_predictors"] = [
        {"variable": "pf_w12", "reason": "entirely missing"}
    ]
    r["primary"]["worst_rank"].update(
        randomized=30,
        ranked=26,
        excluded_alive_without_pf_w4=4,
        rule="alive without PF at week 4: not ranked",
    )
    r["sensitivity"].update(
        tipping_delta=12.345,
        tipping_delta_mcse=0.61,
        tipping_direction="imputed intervention-arm PF_w4 lowered by δ",
    )
    r["secondary"]["systemic_therapy"]["fine_gray"] = {
        "shr": 1.23,
        "shr_ci95": [0.8, 1.9],
        "p": 0.35,
    }
    r["secondary"]["pf_mmrm"] = {
        "model": "PF ~ timepoint + arm:timepoint, unstructured covariance (REML)",
        "observations": 120,
        "participants": 28,
        "timepoints": ["w1", "w4", "m12"],
        "arm_effect_by_timepoint": {
            "w1": {"estimate": 1.5, "se": 2.0, "df": 25.3, "ci95": [-2.6, 5.6], "p": 0.46},
            "w4": {"estimate": 6.25, "se": 2.5, "df": 24.1, "ci95": [1.1, 11.4], "p": 0.02},
        },
        "not_estimable_timepoints": {"m12": "no control participant has PF at m12"},
    }
    r["cea"].update(
        rules={"no_cost_rows": "missing, imputed by arm (never €0)"},
        counts={"intervention": {"costs_imputed": 3}, "control": {"costs_imputed": 1}},
        icer_statement="Same-day dominates standard care.",
    )
    return r


def test_report_shows_the_newer_analyses(small: AnalysisResult, tmp_path: Path) -> None:
    result = AnalysisResult(_with_new_keys(small.results), small.artifacts)
    page = _render(result, tmp_path)
    assert "first-stage F(1, 20) = 4.5, partial R² = 0.180" in page
    assert "pf_w12 (entirely missing)" in page
    assert "26 ranked of 30 randomized; 4 alive without PF at week 4 not ranked" in page
    assert "δ = 12.35 points (Monte-Carlo SE 0.61)" in page
    assert "not an effect estimate" in page
    assert "Fine–Gray sHR 1.23 (0.80 to 1.90)" in page
    assert (
        "MMRM (primary longitudinal model)" in page
        and "Random-intercept model (sensitivity)" in page
    )
    assert "m12 not estimable (no control participant has PF at m12)" in page
    assert "w4 6.25 2.50 24.1 1.10 to 11.40 0.020" in page
    assert "mixed model for repeated measures" in page and "Fine–Gray" in page
    assert "no cost rows: missing, imputed by arm (never €0)" in page
    assert "intervention, costs imputed 3" in page
    assert "Same-day dominates standard care." in page


def test_report_of_blocks_that_are_not_estimable(small: AnalysisResult, tmp_path: Path) -> None:
    r = copy.deepcopy(small.results)
    r["primary"]["itt"] = {
        "estimate": None,
        "se": None,
        "ci95": [None, None],
        "p": None,
        "n": 2,
        "not_estimable": "one arm has no primary outcome",
    }
    r["secondary"]["pf_mmrm"] = {
        "model": "MMRM",
        "arm_effect_by_timepoint": {},
        "not_estimable": "no post-baseline PF with a baseline PF",
    }
    r["secondary"]["overall_survival"].update(
        median_days={"intervention": None, "control": 300.0},
        notes={
            "median_days.intervention": "not reached: the Kaplan–Meier curve stays above "
            "0.5 (1 deaths)"
        },
    )
    qaly = {"intervention": None, "control": None, "difference": None}
    r["cea"] = {
        **r["cea"],
        "qaly": qaly,
        "cost": dict(qaly),
        "icer": None,
        "not_estimable": "costs.csv has no rows",
    }
    page = _render(AnalysisResult(r, small.artifacts), tmp_path)
    assert "not estimable (one arm has no primary outcome)" in page
    assert "not estimable (no post-baseline PF with a baseline PF)" in page
    assert "not reached (the Kaplan–Meier curve stays above 0.5 (1 deaths))" in page
    assert "Cost-effectiveness: not estimable (costs.csv has no rows)" in page
    assert "€0 per QALY" not in page


def test_figures_have_captions_that_state_their_conventions() -> None:
    svgs = {name: "<svg></svg>" for name in report.CAPTIONS}
    assert "fewer than 10% of an arm remain at risk" in report.figure(svgs, "overall_survival")
    assert "not estimates of the tipping point" in report.figure(svgs, "forest")
    assert "Not available" in report.figure({}, "ceac")
