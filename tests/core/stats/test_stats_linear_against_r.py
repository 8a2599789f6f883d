"""ITT (R `lm`) and CACE (R `AER::ivreg`) on the fixed dataset `data/primary.csv`.

`primary.csv` is the complete-case primary sample of `make_dataset(120, seed=7)`.
"""

from __future__ import annotations

from pathlib import Path

import numpy.testing as npt
import pandas as pd
import pytest

from blend.stats.linear import AncovaFitter, TwoStageLeastSquaresFitter

DATA = Path(__file__).parent / "data"
RTOL = 1e-6


@pytest.fixture(scope="module")
def primary() -> pd.DataFrame:
    return pd.read_csv(DATA / "primary.csv")


def test_itt_with_strata_matches_r_lm(primary: pd.DataFrame) -> None:
    """R 4.2.2:

    d <- read.csv("primary.csv")
    m <- lm(pf_w4 ~ z + pf_baseline + factor(stratum), data = d)
    summary(m)$coefficients["z", ]; confint(m)["z", ]
    """
    effect = AncovaFitter().fit(primary, "pf_w4", ["z", "pf_baseline"], strata="stratum").effect("z")
    npt.assert_allclose(effect["estimate"], 7.1391976524226051, rtol=RTOL)
    npt.assert_allclose(effect["se"], 3.2388960956660280, rtol=RTOL)
    npt.assert_allclose(effect["p"], 0.0307527216209431, rtol=RTOL)
    npt.assert_allclose(effect["ci95"], [0.681022263328238, 13.597373041516972], rtol=RTOL)
    assert effect["n"] == 75


def test_itt_without_strata_matches_r_lm(primary: pd.DataFrame) -> None:
    """R: m0 <- lm(pf_w4 ~ z + pf_baseline, data = d); summary(m0)$coefficients["z", ];
    confint(m0)["z", ]
    """
    effect = AncovaFitter().fit(primary, "pf_w4", ["z", "pf_baseline"]).effect("z")
    npt.assert_allclose(effect["estimate"], 7.1417987417580315, rtol=RTOL)
    npt.assert_allclose(effect["se"], 3.2159935153739703, rtol=RTOL)
    npt.assert_allclose(effect["p"], 0.0295173303406372, rtol=RTOL)
    npt.assert_allclose(effect["ci95"], [0.730832838239187, 13.552764645276877], rtol=RTOL)


def test_cace_matches_r_aer_ivreg(primary: pd.DataFrame) -> None:
    """R (AER 1.2):

    iv <- ivreg(pf_w4 ~ d + pf_baseline + factor(stratum) |
                z + pf_baseline + factor(stratum), data = d)
    s <- summary(iv)$coefficients["d", ]; df.residual(iv)   # 71
    s[1] + c(-1, 1) * qt(0.975, df.residual(iv)) * s[2]     # t-based CI of the contract
    """
    fit = TwoStageLeastSquaresFitter().fit(primary, "pf_w4", "d", "z", ["pf_baseline"],
                                           strata="stratum")
    effect = fit.effect("d")
    npt.assert_allclose(effect["estimate"], 12.8274524928371765, rtol=RTOL)
    npt.assert_allclose(effect["se"], 5.6451728967795676, rtol=RTOL)
    npt.assert_allclose(effect["p"], 0.0260996139400191, rtol=RTOL)
    npt.assert_allclose(effect["ci95"], [1.57129743496168, 24.08360755071267], rtol=RTOL)
    assert fit.df_resid_ == 71


def test_cace_is_the_wald_ratio_without_covariates(primary: pd.DataFrame) -> None:
    """With only the intercept, 2SLS equals the Wald estimator ΔY / ΔD (closed form)."""
    z = primary["z"] == 1
    wald = (primary.loc[z, "pf_w4"].mean() - primary.loc[~z, "pf_w4"].mean()) / (
        primary.loc[z, "d"].mean() - primary.loc[~z, "d"].mean())
    fit = TwoStageLeastSquaresFitter().fit(primary, "pf_w4", "d", "z", [])
    npt.assert_allclose(fit.effect("d")["estimate"], wald, rtol=1e-10)


def test_summary_is_a_dataframe_of_all_coefficients(primary: pd.DataFrame) -> None:
    fit = AncovaFitter().fit(primary, "pf_w4", ["z", "pf_baseline"], strata="stratum")
    assert list(fit.summary.index) == ["(Intercept)", "z", "pf_baseline", "stratumps2-4"]
    assert {"estimate", "se", "p", "lower", "upper"} <= set(fit.summary.columns)
