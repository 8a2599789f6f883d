"""The MMRM (unstructured covariance, REML, Satterthwaite df) against R.

`data/mmrm.csv` is `blend.stats.synthetic.rising_variance_pf(160, 13)`: five visits,
residual SD rising from 10 to 26, correlation 0.6^|lag|, dropout after low values.
`mmrm` is not packaged for Debian; the same model is `nlme::gls` with `corSymm` and
`varIdent` (R 4.2.2, nlme 3.1):

    l <- read.csv("mmrm.csv")
    l$tp <- factor(l$tp, levels = c("w1", "w4", "w12", "m6", "m12")); l$vi <- as.integer(l$tp)
    f <- gls(pf ~ 0 + tp + tp:z + tp:pf_baseline + factor(stratum), data = l,
             correlation = corSymm(form = ~ vi | study_id),
             weights = varIdent(form = ~ 1 | tp), method = "REML",
             control = glsControl(tolerance = 1e-12, msTol = 1e-12, msMaxIter = 1000,
                                  maxIter = 1000))
    coef(f); sqrt(diag(vcov(f)))

Our optimum has a slightly lower REML criterion than gls's (4185.37586148 vs
4185.37586156: gls stops with a gradient of 9e-6), so the agreement is ~5e-6.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest

from blend.stats.mmrm import MixedModelRepeatedMeasures
from blend.stats.repeated import mmrm_design

DATA = Path(__file__).parent / "data"
VISITS = ["w1", "w4", "w12", "m6", "m12"]
ARM = [f"arm_{t}" for t in VISITS]


@pytest.fixture(scope="module")
def fit() -> MixedModelRepeatedMeasures:
    long = pd.read_csv(DATA / "mmrm.csv")
    x, names = mmrm_design(long, VISITS, {}, "stratum")
    visit = long["tp"].map({t: i for i, t in enumerate(VISITS)}).to_numpy()
    return MixedModelRepeatedMeasures().fit(
        x, long["pf"].to_numpy(float), long["study_id"], visit, names
    )


def _coef(fit: MixedModelRepeatedMeasures, names: list[str], what: str) -> np.ndarray:
    values = fit.params_ if what == "estimate" else fit.se_
    return np.array([values[fit.names_.index(n)] for n in names])


def test_arm_effects_and_ses_match_gls(fit: MixedModelRepeatedMeasures) -> None:
    """coef(f)[c("tpw1:z", …, "tpm12:z")] and their sqrt(diag(vcov(f)))."""
    npt.assert_allclose(
        _coef(fit, ARM, "estimate"),
        [
            2.633821762403416,
            6.070167029620237,
            9.590622211430746,
            8.072322795621393,
            6.387455353375008,
        ],
        rtol=1e-4,
    )
    npt.assert_allclose(
        _coef(fit, ARM, "se"),
        [
            1.7140548036399728,
            2.3603004675735888,
            3.0374334236216742,
            3.7284163684844884,
            4.4077329143876183,
        ],
        rtol=1e-4,
    )


def test_visit_intercepts_baseline_slopes_and_stratum_match_gls(
    fit: MixedModelRepeatedMeasures,
) -> None:
    names = ["visit_w1", "visit_m12", "baseline_w1", "baseline_m12", "stratumps2-4"]
    npt.assert_allclose(
        _coef(fit, names, "estimate"),
        [
            23.387675157389857,
            16.494156638622947,
            0.544871997650642,
            0.636843803797097,
            -5.858599302332460,
        ],
        rtol=1e-4,
    )
    npt.assert_allclose(
        _coef(fit, names, "se"),
        [
            2.9047126112594630,
            8.5571239002881594,
            0.0471824346633120,
            0.1375827794479799,
            1.6162703857779495,
        ],
        rtol=1e-4,
    )


def test_covariance_matches_gls(fit: MixedModelRepeatedMeasures) -> None:
    """getVarCov(f, individual = <a participant with all 5 visits>): SDs 10.680 … 24.083
    and the first row 114.070, 102.17, 72.956, 37.511, …"""
    npt.assert_allclose(
        np.sqrt(np.diag(fit.covariance_))[:4], [10.68, 14.266, 17.796, 20.685], rtol=1e-3
    )
    npt.assert_allclose(fit.covariance_[0, :4], [114.070, 102.17, 72.956, 37.511], rtol=1e-3)


def test_satterthwaite_df_match_an_independent_r_computation(
    fit: MixedModelRepeatedMeasures,
) -> None:
    """ν = 2 v² / (gᵀ A g) computed in R from scratch: the REML criterion in plain matrix
    algebra on the Cholesky parameters of gls's Σ̂, `numDeriv::hessian` of it (A = 2H⁻¹)
    and `numDeriv::jacobian` of diag((X′V⁻¹X)⁻¹) (`bench/r/mmrm_satterthwaite.R`):
    156.557075984 149.088751254 137.026867109 127.634364480 117.875985388.
    emmeans' "appx-satterthwaite" (its approximation for gls) gives 156.3 148.8 137.6
    128.1 118.1.
    """
    df = np.array([fit.df_[fit.names_.index(n)] for n in ARM])
    npt.assert_allclose(
        df, [156.557075984, 149.088751254, 137.026867109, 127.634364480, 117.875985388], rtol=1e-4
    )


def test_complete_balanced_data_give_the_multivariate_regression_df() -> None:
    """With every visit observed and every coefficient visit-specific, GLS is OLS per
    visit and the Satterthwaite df of a visit's coefficient is exactly n − 3."""
    long = pd.read_csv(DATA / "mmrm.csv")
    people = long.groupby("study_id")["tp"].count()
    complete = long[long["study_id"].isin(people.index[people == 5])]
    x, names = mmrm_design(complete, VISITS, {}, None)
    visit = complete["tp"].map({t: i for i, t in enumerate(VISITS)}).to_numpy()
    fit = MixedModelRepeatedMeasures().fit(
        x, complete["pf"].to_numpy(float), complete["study_id"], visit, names
    )
    n = complete["study_id"].nunique()
    npt.assert_allclose(fit.df_, n - 3, rtol=1e-5)
    for t in VISITS:
        at = complete[complete["tp"] == t]
        design = np.column_stack([np.ones(len(at)), at["z"], at["pf_baseline"]])
        ols = np.linalg.lstsq(design, at["pf"].to_numpy(float), rcond=None)[0]
        npt.assert_allclose(fit.params_[fit.names_.index(f"arm_{t}")], ols[1], rtol=1e-7)


def test_random_intercept_se_is_too_small_when_variance_rises(
    fit: MixedModelRepeatedMeasures,
) -> None:
    """R: lme(pf ~ 0 + tp + tp:z + tp:pf_baseline + factor(stratum), random = ~ 1 |
    study_id, method = "REML") gives SE(tpm12:z) = 3.17508897960667, 28 % below the MMRM's
    4.4077: why the random-intercept model is only a sensitivity analysis."""
    assert _coef(fit, ["arm_m12"], "se")[0] / 3.17508897960667 > 1.35


def test_visits_too_sparse_for_an_unstructured_covariance_are_left_out() -> None:
    """Found by fuzzing small interims: with 4 participants the 36 covariance parameters
    of 8 visits are not identified and BFGS wandered ("math domain error")."""
    from blend.stats.repeated import mmrm_visits

    long = pd.read_csv(DATA / "mmrm.csv")
    few_m12 = long[
        (long["tp"] != "m12")
        | long["study_id"].isin(long.loc[long["tp"] == "m12", "study_id"].unique()[:4])
    ]
    visits, reasons = mmrm_visits(few_m12)
    assert visits == ["w1", "w4", "w12", "m6"]
    assert reasons == {"m12": "4 PF value(s) at m12: too few for an unstructured covariance"}
    apart = long[
        ~((long["tp"] == "w1") & long["study_id"].isin(long.loc[long["tp"] == "m6", "study_id"]))
    ]
    visits, reasons = mmrm_visits(apart)  # nobody seen at both w1 and m6: w1 is sparser
    assert visits == ["w4", "w12", "m6", "m12"]
    assert reasons["w1"].startswith("seen together with m6 in fewer than 2 participants")
