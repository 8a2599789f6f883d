"""Contract 1.1 and a pain-response primary (VERTICAL): the loader, the estimators against
R, and `blend analyze` end to end.

`data/pain_response.csv` is the pain-response sample at w12 of
`make_vertical_dataset(110, seed=3)` (the assessable participants: baseline worst pain
≥ 2 with a baseline OMED), with `response` = 1 for CR or PR and 0 otherwise (a missing
w12 counts 0) and `observed` = 1 when pain and OMED at w12 exist. The R reference values
were computed once with R 4.2.2, AER 1.2-10, sandwich 3.0-2 and lmtest (Debian
r-base-core, r-cran-aer); the tests do not need R.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy.testing as npt
import pandas as pd
import pytest

from blend.stats.analysis import AnalysisConfig, participant_frame, run_analysis, unexplained_nulls
from blend.stats.cli import main_analyze
from blend.stats.dataset import BLEND_PRIMARY, load_dataset
from blend.stats.errors import ContractError
from blend.stats.linear import TwoStageLeastSquaresFitter
from blend.stats.primary import pain_response_sample, risk_difference
from blend.stats.synthetic_vertical import VERTICAL_PRIMARY, make_vertical_dataset

DATA = Path(__file__).parent / "data"
RTOL = 1e-9


@pytest.fixture(scope="module")
def vertical(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_vertical_dataset(110, 3, tmp_path_factory.mktemp("vertical") / "v110")


@pytest.fixture(scope="module")
def pain() -> pd.DataFrame:
    return pd.read_csv(DATA / "pain_response.csv")


# ------------------------------------------------------------------ loader (contract 1.1)
def _with_meta(tmp_path: Path, source: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    target = tmp_path / "changed"
    shutil.copytree(source, target)
    meta = json.loads((target / "dataset.json").read_text(encoding="utf-8"))
    change(meta)
    (target / "dataset.json").write_text(json.dumps(meta), encoding="utf-8")
    return target


def _refused(path: Path) -> ContractError:
    with pytest.raises(ContractError) as err:
        load_dataset(path)
    assert err.value.file == "dataset.json"
    return err.value


def test_contract_1_1_vertical_is_accepted(vertical: Path) -> None:
    ds = load_dataset(vertical)
    assert ds.trial == "VERTICAL"
    assert ds.meta["contract_version"] == "1.1"
    assert ds.primary_outcome == VERTICAL_PRIMARY
    assert ds.meta["arm_labels"]["intervention"] == "SBRT, a single fraction of 18 Gy"


def test_a_dataset_without_contract_version_is_1_0_and_blend(synthetic_100: Path) -> None:
    ds = load_dataset(synthetic_100)
    assert "contract_version" not in json.loads((synthetic_100 / "dataset.json").read_text())
    assert ds.meta["contract_version"] == "1.0"
    assert ds.primary_outcome == BLEND_PRIMARY
    assert ds.meta["arm_labels"] == {
        "intervention": "Same-day SBRT + surgery",
        "control": "Standard care",
    }


def test_contract_1_0_refuses_another_trial(tmp_path: Path, vertical: Path) -> None:
    def to_1_0(meta: dict[str, Any]) -> None:
        del meta["contract_version"], meta["primary_outcome"], meta["arm_labels"]

    err = _refused(_with_meta(tmp_path, vertical, to_1_0))
    assert err.column == "key trial" and err.found == "VERTICAL"
    assert "contract_version '1.1'" in err.expected


def test_contract_1_1_without_primary_outcome_is_refused(tmp_path: Path, vertical: Path) -> None:
    err = _refused(_with_meta(tmp_path, vertical, lambda m: m.pop("primary_outcome")))
    assert err.column == "key primary_outcome" and err.found == "missing"
    assert "required in contract 1.1" in str(err)


def test_unknown_measure_is_refused(tmp_path: Path, vertical: Path) -> None:
    def change(meta: dict[str, Any]) -> None:
        meta["primary_outcome"]["measure"] = "qol"

    err = _refused(_with_meta(tmp_path, vertical, change))
    assert err.column == "key primary_outcome.measure" and err.found == "qol"
    assert "pain_response" in err.expected and "pf" in err.expected


@pytest.mark.parametrize(
    ("key", "value", "column"),
    [
        ("analysis", "ancova", "key primary_outcome.analysis"),
        ("timepoint", "baseline", "key primary_outcome.timepoint"),
        ("timepoint", "w3", "key primary_outcome.timepoint"),
        ("estimands", ["iv"], "key primary_outcome.estimands"),
        ("estimands", ["itt", "per_protocol"], "key primary_outcome.estimands"),
        ("estimands", ["itt", "iv", "cace"], "key primary_outcome.estimands"),
        ("estimands", "itt", "key primary_outcome.estimands"),
        ("window", "w12", "key primary_outcome.window"),
    ],
)
def test_a_primary_outcome_blend_analyze_cannot_run_is_refused(
    tmp_path: Path, vertical: Path, key: str, value: Any, column: str
) -> None:
    def change(meta: dict[str, Any]) -> None:
        meta["primary_outcome"][key] = value

    err = _refused(_with_meta(tmp_path, vertical, change))
    assert err.column == column


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("contract_version", "2.0"),
        ("contract_version", 1.1),
        ("trial", "vertical"),
        ("trial", ""),
        ("arm_labels", {"intervention": "SBRT"}),
    ],
)
def test_bad_1_1_keys_are_refused(tmp_path: Path, vertical: Path, key: str, value: Any) -> None:
    def change(meta: dict[str, Any]) -> None:
        meta[key] = value

    err = _refused(_with_meta(tmp_path, vertical, change))
    assert err.column == f"key {key}" and err.found == value


def test_a_1_1_key_in_a_1_0_dataset_is_refused(tmp_path: Path, synthetic_100: Path) -> None:
    def change(meta: dict[str, Any]) -> None:
        meta["primary_outcome"] = dict(BLEND_PRIMARY)

    err = _refused(_with_meta(tmp_path, synthetic_100, change))
    assert err.column == "key primary_outcome" and "new in 1.1" in err.expected


def test_blend_as_contract_1_1_gives_the_same_primary(tmp_path: Path, synthetic_100: Path) -> None:
    def change(meta: dict[str, Any]) -> None:
        meta["contract_version"] = "1.1"
        meta["primary_outcome"] = dict(BLEND_PRIMARY)

    config = AnalysisConfig(imputations=2, bootstrap=20)
    as_1_1 = run_analysis(load_dataset(_with_meta(tmp_path, synthetic_100, change)), config)
    as_1_0 = run_analysis(load_dataset(synthetic_100), config)
    assert as_1_1.results["primary"]["itt"] == as_1_0.results["primary"]["itt"]
    assert as_1_0.results["primary"]["measure"] == "pf"
    assert as_1_0.results["primary"]["estimands"] == ["itt", "cace"]


# ------------------------------------------------------------------- estimators against R
def test_fixture_is_the_vertical_pain_sample(vertical: Path, pain: pd.DataFrame) -> None:
    sample = pain_response_sample(participant_frame(load_dataset(vertical)), "w12")
    frame = sample[list(pain.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, pain, check_dtype=False)


def test_itt_risk_difference_matches_r(pain: pd.DataFrame) -> None:
    """R 4.2.2:

    d <- read.csv("pain_response.csv")
    x <- tapply(d$response, d$z, sum)[c("1", "0")]      # 20, 18
    n <- tapply(d$response, d$z, length)[c("1", "0")]   # 47, 48
    prop.test(x, n, correct = FALSE)$p.value
    w1 <- prop.test(x[1], n[1], correct = FALSE)$conf.int   # Wilson, per arm
    w0 <- prop.test(x[2], n[2], correct = FALSE)$conf.int
    p1 <- x[1] / n[1]; p0 <- x[2] / n[2]; dd <- p1 - p0
    c(dd, dd - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2),      # Newcombe (method 10)
          dd + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2))
    sqrt(p1 * (1 - p1) / n[1] + p0 * (1 - p0) / n[2])     # Wald SE
    """
    rd = risk_difference(pain)
    assert rd["responders"] == {"intervention": 20, "control": 18}
    assert rd["denominator"] == {"intervention": 47, "control": 48}
    npt.assert_allclose(rd["estimate"], 0.050531914893617025, rtol=RTOL)
    npt.assert_allclose(rd["ci95"], [-0.141793762628614012, 0.238030916442288215], rtol=RTOL)
    npt.assert_allclose(rd["p"], 0.61520858397867828, rtol=1e-7)
    npt.assert_allclose(rd["se"], 0.10041898309567752, rtol=RTOL)
    assert rd["n"] == 95


def test_complete_case_risk_difference_matches_r(pain: pd.DataFrame) -> None:
    """R: the same on cc <- d[d$observed == 1, ] (20/31 against 18/33)."""
    rd = risk_difference(pain[pain["observed"] == 1])
    assert rd["denominator"] == {"intervention": 31, "control": 33}
    npt.assert_allclose(rd["estimate"], 0.099706744868035213, rtol=RTOL)
    npt.assert_allclose(rd["ci95"], [-0.135317305597512511, 0.318940489416870088], rtol=RTOL)
    npt.assert_allclose(rd["p"], 0.41698704661086367, rtol=1e-7)


def test_iv_2sls_with_robust_se_matches_r(pain: pd.DataFrame) -> None:
    """R (AER 1.2-10, sandwich 3.0-2, lmtest):

    iv <- ivreg(response ~ d | z, data = d)
    V <- vcovHC(iv, type = "HC1")
    coeftest(iv, vcov = V, df = df.residual(iv))["d", ]   # df.residual 93
    coefci(iv, vcov = V, df = df.residual(iv))["d", ]
    summary(iv, diagnostics = TRUE)$diagnostics["Weak instruments", ]
    """
    fit = TwoStageLeastSquaresFitter().fit(pain, "response", "d", "z", [], robust=True)
    effect = fit.effect("d")
    npt.assert_allclose(effect["estimate"], 0.079166666666666843, rtol=1e-9)
    npt.assert_allclose(effect["se"], 0.156841039161829177, rtol=1e-9)
    npt.assert_allclose(effect["p"], 0.614923238811759476, rtol=1e-7)
    npt.assert_allclose(effect["ci95"], [-0.23228855346477784, 0.39062188679811150], rtol=1e-9)
    assert fit.df_resid_ == 93 and fit.covariance_ == "HC1"
    npt.assert_allclose(fit.first_stage_["f_statistic"], 82.922600619195080, rtol=1e-9)
    npt.assert_allclose(fit.first_stage_["p"], 1.5917299691603967e-14, rtol=1e-6)


def test_robust_2sls_with_covariates_and_strata_matches_r() -> None:
    """R, on the PF sample `primary.csv`:

    iv <- ivreg(pf_w4 ~ d + pf_baseline + factor(stratum) |
                z + pf_baseline + factor(stratum), data = d)
    V <- vcovHC(iv, type = "HC1")
    coeftest(iv, vcov = V, df = df.residual(iv))["d", ]; coefci(iv, vcov = V, df = 71)["d", ]
    """
    frame = pd.read_csv(DATA / "primary.csv")
    fit = TwoStageLeastSquaresFitter().fit(
        frame, "pf_w4", "d", "z", ["pf_baseline"], strata="stratum", robust=True
    )
    effect = fit.effect("d")
    npt.assert_allclose(effect["estimate"], 12.827452492837176479, rtol=1e-9)
    npt.assert_allclose(effect["se"], 5.602707720462761998, rtol=1e-9)
    npt.assert_allclose(effect["p"], 0.025025775534617253, rtol=1e-7)
    npt.assert_allclose(effect["ci95"], [1.6559705916429692, 23.9989343940313837], rtol=1e-9)


# ------------------------------------------------------------------ blend analyze end to end
@pytest.fixture(scope="module")
def analysed(vertical: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("analyze-vertical") / "out"
    args = [str(vertical), "--out", str(out), "--imputations", "3", "--bootstrap", "100"]
    assert main_analyze([*args, "--no-progress"]) == 0
    return out


def test_analyze_runs_the_pain_response_primary(analysed: Path) -> None:
    results = json.loads((analysed / "results.json").read_text(encoding="utf-8"))
    primary = results["primary"]
    assert {k: primary[k] for k in VERTICAL_PRIMARY} == VERTICAL_PRIMARY
    itt, iv = primary["itt"], primary["iv"]
    # The same numbers as R on the fixture (the assessable sample of this dataset).
    npt.assert_allclose(itt["estimate"], 0.050531914893617025, rtol=RTOL)
    npt.assert_allclose(itt["ci95"], [-0.141793762628614012, 0.238030916442288215], rtol=RTOL)
    assert itt["n"] == 95 and itt["missing_as_non_responder"] == {
        "intervention": 16,
        "control": 15,
    }
    npt.assert_allclose(iv["estimate"], 0.079166666666666843, rtol=1e-9)
    npt.assert_allclose(iv["se"], 0.156841039161829177, rtol=1e-9)
    assert iv["first_stage"]["weak"] is False
    npt.assert_allclose(primary["complete_case"]["estimate"], 0.099706744868035213, rtol=RTOL)
    assert "cace" not in primary and "itt_mi" not in primary and "sensitivity" not in results
    assert results["meta"]["trial"] == "VERTICAL"
    assert results["meta"]["contract_version"] == "1.1"
    intervention = results["consort"]["intervention"]
    assert intervention["analysed_primary"] == 47
    assert intervention["allocated"] == 47 + sum(intervention["follow_up"].values())
    assert unexplained_nulls(results) == []


def test_report_and_figures_name_the_trial(analysed: Path) -> None:
    report = (analysed / "report.html").read_text(encoding="utf-8")
    assert "<title>VERTICAL trial analysis report</title>" in report
    assert "BLEND" not in report
    assert "Primary outcome: pain response at w12" in report
    assert "SBRT, a single fraction of 18 Gy" in report
    assert "Same-day" not in report
    forest = (analysed / "forest.svg").read_text(encoding="utf-8")
    assert "<title>VERTICAL: " in forest and "pain response at week 12" in forest
    assert not (analysed / "tipping_point.svg").exists()
    consort = (analysed / "consort.svg").read_text(encoding="utf-8")
    assert "same-day" not in consort.lower() and "18 Gy" in consort


def test_vertical_generator_is_deterministic(tmp_path: Path, vertical: Path) -> None:
    again = make_vertical_dataset(110, 3, tmp_path / "again")
    for name in sorted(p.name for p in vertical.iterdir()):
        assert (again / name).read_bytes() == (vertical / name).read_bytes(), name


def test_dsmb_report_names_the_trial(vertical: Path, tmp_path: Path) -> None:
    from blend.stats.cli import main_report

    assert main_report(["dsmb", str(vertical), "--out", str(tmp_path / "dsmb")]) == 0
    text = (tmp_path / "dsmb" / "dsmb_report.html").read_text(encoding="utf-8")
    assert "<title>VERTICAL DSMB safety report</title>" in text and "BLEND" not in text
