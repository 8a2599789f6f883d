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
    effect = (
        AncovaFitter().fit(primary, "pf_w4", ["z", "pf_baseline"], strata="stratum").effect("z")
    )
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
    fit = TwoStageLeastSquaresFitter().fit(
        primary, "pf_w4", "d", "z", ["pf_baseline"], strata="stratum"
    )
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
        primary.loc[z, "d"].mean() - primary.loc[~z, "d"].mean()
    )
    fit = TwoStageLeastSquaresFitter().fit(primary, "pf_w4", "d", "z", [])
    npt.assert_allclose(fit.effect("d")["estimate"], wald, rtol=1e-10)


def test_summary_is_a_dataframe_of_all_coefficients(primary: pd.DataFrame) -> None:
    fit = AncovaFitter().fit(primary, "pf_w4", ["z", "pf_baseline"], strata="stratum")
    assert list(fit.summary.index) == ["(Intercept)", "z", "pf_baseline", "stratumps2-4"]
    assert {"estimate", "se", "p", "lower", "upper"} <= set(fit.summary.columns)


def test_an_arm_without_outcomes_makes_the_itt_not_estimable(primary: pd.DataFrame) -> None:
    """R: coef(lm(pf_w4 ~ z + pf_baseline + factor(stratum), data = d[d$z == 1, ]))["z"]
    # NA: z is constant, aliased with the intercept (a plain solve gave ~1e15 here)
    """
    from blend.stats.errors import NotEstimable

    with pytest.raises(NotEstimable, match="z is aliased"):
        AncovaFitter().fit(primary[primary.z == 1], "pf_w4", ["z", "pf_baseline"], strata="stratum")


def test_an_aliased_nuisance_term_is_dropped_as_lm_does(primary: pd.DataFrame) -> None:
    """R: d$pf_copy <- 2 * d$pf_baseline
    coef(lm(pf_w4 ~ z + pf_baseline + pf_copy + factor(stratum), data = d))
    # pf_copy NA; z 7.139197652422605 with SE 3.238896095666028, as without pf_copy
    """
    frame = primary.assign(pf_copy=2 * primary.pf_baseline)
    fit = AncovaFitter().fit(frame, "pf_w4", ["z", "pf_baseline", "pf_copy"], strata="stratum")
    effect = fit.effect("z")
    npt.assert_allclose(
        [effect["estimate"], effect["se"]], [7.139197652422605, 3.238896095666028], rtol=RTOL
    )
    assert effect["dropped_terms"] == ["pf_copy"] and fit.df_resid_ == 71


def test_too_few_participants_for_the_model_is_not_estimable(primary: pd.DataFrame) -> None:
    from blend.stats.errors import NotEstimable

    one_per_arm = primary.groupby("z").head(1)  # pf_baseline is aliased, leaving 2 for 2
    with pytest.raises(NotEstimable, match="no residual degrees of freedom: 2 observations"):
        AncovaFitter().fit(one_per_arm, "pf_w4", ["z", "pf_baseline"])


def test_first_stage_f_matches_ivreg_diagnostics(primary: pd.DataFrame) -> None:
    """R: summary(iv, diagnostics = TRUE)$diagnostics["Weak instruments", ]
    # df1 1, df2 71, statistic 42.472552557106987, p 8.90788962254052e-09
    """
    fit = TwoStageLeastSquaresFitter().fit(
        primary, "pf_w4", "d", "z", ["pf_baseline"], strata="stratum"
    )
    first = fit.first_stage_
    npt.assert_allclose(first["f_statistic"], 42.472552557106987, rtol=RTOL)
    npt.assert_allclose(first["p"], 8.90788962254052e-09, rtol=1e-5)
    npt.assert_allclose(first["partial_r2"], 42.472552557106987 / (42.472552557106987 + 71))
    assert first["df"] == [1, 71] and first["weak"] is False


def test_a_weak_instrument_is_flagged(primary: pd.DataFrame) -> None:
    """Almost everyone refuses: only the first two receivers keep d = 1. R:
    w <- d; idx <- which(w$d == 1); w$d[idx[-(1:2)]] <- 0
    iv2 <- ivreg(pf_w4 ~ d + pf_baseline + factor(stratum) |
                 z + pf_baseline + factor(stratum), data = w)
    summary(iv2, diagnostics = TRUE)$diagnostics["Weak instruments", "statistic"]
    # 2.04277487659928
    summary(iv2)$coefficients["d", 1:2]   # 131.913352196440485 105.727247268726160
    """
    weak = primary.copy()
    receivers = weak.index[weak.d == 1]
    weak.loc[receivers[2:], "d"] = 0
    fit = TwoStageLeastSquaresFitter().fit(
        weak, "pf_w4", "d", "z", ["pf_baseline"], strata="stratum"
    )
    npt.assert_allclose(fit.first_stage_["f_statistic"], 2.04277487659928, rtol=RTOL)
    assert fit.first_stage_["weak"] is True
    effect = fit.effect("d")
    npt.assert_allclose(
        [effect["estimate"], effect["se"]], [131.913352196440485, 105.727247268726160], rtol=RTOL
    )


def test_nobody_receiving_the_intervention_makes_the_cace_not_estimable(
    primary: pd.DataFrame,
) -> None:
    """Everyone refuses: D is constant and aliased with the intercept (ivreg reports NA)."""
    from blend.stats.errors import NotEstimable

    with pytest.raises(NotEstimable, match="d is aliased"):
        TwoStageLeastSquaresFitter().fit(
            primary.assign(d=0), "pf_w4", "d", "z", ["pf_baseline"], strata="stratum"
        )


def test_a_covariate_aliased_with_receipt_stays_an_instrument_as_in_ivreg() -> None:
    """Four participants (a fuzzed interim): pf0 = 60 − 13.33·d, so pf0 is aliased in the
    second stage. R: d <- data.frame(z = c(0, 0, 1, 1), d = c(0, 0, 1, 0),
    pf0 = c(60, 60, 46.67, 60), y = c(60, 73.33, 33.33, 73.33))
    summary(ivreg(y ~ d + pf0 | z + pf0, data = d))$coefficients
    # pf0 NA; (Intercept) 68.8866666666667 (SE 4.44333333333333),
    # d −35.5566666666667 (SE 8.88666666666667), df 2
    """
    frame = pd.DataFrame(
        {
            "z": [0, 0, 1, 1],
            "d": [0, 0, 1, 0],
            "pf_baseline": [60, 60, 46.67, 60],
            "pf_w4": [60, 73.33, 33.33, 73.33],
        }
    )
    fit = TwoStageLeastSquaresFitter().fit(frame, "pf_w4", "d", "z", ["pf_baseline"])
    npt.assert_allclose(fit.params_, [68.8866666666667, -35.5566666666667], rtol=1e-12)
    npt.assert_allclose(fit.se_, [4.44333333333333, 8.88666666666667], rtol=1e-12)
    assert fit.dropped_ == ["pf_baseline"] and fit.df_resid_ == 2
