"""Rubin / Barnard–Rubin pooling against `mice::pool.scalar`, and the PMM imputer."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest

from blend.stats.linear import AncovaFitter
from blend.stats.mi import ChainedEquationsImputer, barnard_rubin_df, pool_rubin

DATA = Path(__file__).parent / "data"

Q = [5.1, 4.7, 6.2, 5.5, 4.9]
U = [2.1, 2.3, 1.9, 2.2, 2.0]


def test_pooling_matches_mice_pool_scalar() -> None:
    """R (mice 3.15):

    pool.scalar(c(5.1, 4.7, 6.2, 5.5, 4.9), c(2.1, 2.3, 1.9, 2.2, 2.0), n = 80, k = 4)
    # qbar 5.28, ubar 2.1, b 0.352, t 2.5224, df 43.0557634279322, r 0.201142857142857
    """
    pooled = pool_rubin(Q, U, df_complete=80 - 4)
    npt.assert_allclose(pooled["estimate"], 5.28, rtol=1e-12)
    npt.assert_allclose(pooled["ubar"], 2.1, rtol=1e-12)
    npt.assert_allclose(pooled["b"], 0.352, rtol=1e-12)
    npt.assert_allclose(pooled["t"], 2.5224, rtol=1e-12)
    npt.assert_allclose(pooled["df"], 43.0557634279322, rtol=1e-10)
    npt.assert_allclose(pooled["riv"], 0.201142857142857, rtol=1e-10)
    npt.assert_allclose(pooled["se"], math.sqrt(2.5224), rtol=1e-12)


def test_barnard_rubin_by_hand() -> None:
    """γ = (1 + 1/m)B/T; ν_old = (m − 1)/γ²; ν_obs = (ν_com + 1)/(ν_com + 3)·ν_com·(1 − γ)."""
    m, b, t, dfcom = 5, 0.352, 2.5224, 76
    gamma = (1 + 1 / m) * b / t
    old = (m - 1) / gamma**2
    obs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - gamma)
    npt.assert_allclose(barnard_rubin_df(m, b, t, dfcom), 1 / (1 / old + 1 / obs), rtol=1e-12)


def test_infinite_complete_data_df_gives_rubins_large_sample_df() -> None:
    m, b, t = 5, 0.352, 2.5224
    ubar = t - (1 + 1 / m) * b
    rubin = (m - 1) * (1 + ubar / ((1 + 1 / m) * b)) ** 2
    npt.assert_allclose(barnard_rubin_df(m, b, t, math.inf), rubin, rtol=1e-12)


@pytest.fixture(scope="module")
def incomplete() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 300
    x = rng.normal(size=n)
    grid = np.array([0, 20, 33.33, 46.67, 60, 73.33, 93.33])
    a = grid[np.clip(np.round(3 + 1.2 * x + rng.normal(size=n)), 0, 6).astype(int)]
    b = grid[np.clip(np.round(3 + 0.9 * x + rng.normal(size=n)), 0, 6).astype(int)]
    frame = pd.DataFrame({"x": x, "a": a, "b": b})
    frame.loc[rng.random(n) < 0.3, "a"] = np.nan
    frame.loc[rng.random(n) < 0.2, "b"] = np.nan
    return frame


def test_imputer_fills_only_missing_cells_with_observed_values(incomplete: pd.DataFrame) -> None:
    imp = ChainedEquationsImputer(imputations=4, seed=11).fit(incomplete, ["a", "b"], ["x"])
    for k in range(4):
        done = imp.completed(k, incomplete)
        assert not done[["a", "b"]].isna().any().any()
        for col in ("a", "b"):
            observed = incomplete[col].notna()
            npt.assert_array_equal(done.loc[observed, col], incomplete.loc[observed, col])
            assert set(done[col]) <= set(incomplete[col].dropna())  # PMM keeps the grid


def test_imputer_is_reproducible_with_its_seed(incomplete: pd.DataFrame) -> None:
    one = ChainedEquationsImputer(imputations=3, seed=5).fit(incomplete, ["a", "b"], ["x"])
    two = ChainedEquationsImputer(imputations=3, seed=5).fit(incomplete, ["a", "b"], ["x"])
    other = ChainedEquationsImputer(imputations=3, seed=6).fit(incomplete, ["a", "b"], ["x"])
    for i in range(3):
        npt.assert_array_equal(one.imputations_[i], two.imputations_[i])
    assert any(not np.array_equal(one.imputations_[i], other.imputations_[i]) for i in range(3))


def test_imputations_preserve_the_relation_with_the_predictor(incomplete: pd.DataFrame) -> None:
    """Under MAR on x, the imputed-data slope of a on x stays near the complete-data slope."""
    imp = ChainedEquationsImputer(imputations=10, seed=2).fit(incomplete, ["a", "b"], ["x"])
    slopes = [np.polyfit(incomplete["x"], d[:, 0], 1)[0] for d in imp.imputations_]
    obs = incomplete.dropna(subset=["a"])
    npt.assert_allclose(np.mean(slopes), np.polyfit(obs["x"], obs["a"], 1)[0], rtol=0.15)


def test_mi_itt_agrees_with_mice_within_monte_carlo_error() -> None:
    """`data/mi.csv`: participants alive at week 4 of make_dataset(200, seed=11), 8–28 %
    missing per variable. R (mice 3.15):

    d <- read.csv("mi.csv"); d$stratum <- factor(d$stratum)
    vars <- c("pf_baseline", "pf_w2", "pf_w4", "pf_w12", "ql_baseline", "z", "age",
              "performance_status", "stratum")
    imp <- mice(d[, vars], m = 200, method = "pmm", maxit = 5, seed = 1, printFlag = FALSE)
    summary(pool(with(imp, lm(pf_w4 ~ z + pf_baseline + stratum))))   # row "z":
    # estimate 6.63116317688413, std.error 2.4000745180905, df 137.42548371596

    The two programs draw different random numbers, so agreement is up to Monte-Carlo
    error: with B ≈ 0.7 and m = 200 the SE of a pooled estimate is ≈ 0.06, and across our
    seeds 1–3 the estimate was 6.66–6.78, the SE 2.34–2.40 and the df 137–144.
    """
    data = pd.read_csv(DATA / "mi.csv")
    data["stratum_ps2-4"] = (data["stratum"] == "ps2-4").astype(float)
    imputer = ChainedEquationsImputer(imputations=200, seed=1).fit(
        data,
        ["pf_baseline", "pf_w2", "pf_w4", "pf_w12", "ql_baseline"],
        ["z", "age", "performance_status", "stratum_ps2-4"],
    )
    estimates, variances = [], []
    for i in range(200):
        effect = (
            AncovaFitter()
            .fit(imputer.completed(i, data), "pf_w4", ["z", "pf_baseline"], strata="stratum")
            .effect("z")
        )
        estimates.append(effect["estimate"])
        variances.append(effect["se"] ** 2)
    pooled = pool_rubin(estimates, variances, df_complete=len(data) - 4)
    assert abs(pooled["estimate"] - 6.63116317688413) < 0.2
    npt.assert_allclose(pooled["se"], 2.4000745180905, rtol=0.04)
    npt.assert_allclose(pooled["df"], 137.42548371596, rtol=0.1)


def test_constant_empty_and_collinear_variables_are_removed_as_mice_does() -> None:
    """`data/mice_constant.csv`: b entirely missing (an interim before its visit), c constant
    where observed, e = 2a + 1. R (mice 3.15):

    set.seed(1); n <- 40; x <- rnorm(n); a <- x + rnorm(n); a[1:8] <- NA
    d <- data.frame(x = x, a = a, b = NA_real_, c = ifelse(1:n %% 3 == 0, NA, 5),
                    e = 2 * a + 1); d$e[c(3, 9)] <- NA
    mice(d, m = 2, seed = 1)$loggedEvents    # constant b, constant c, collinear e
    """
    from blend.stats.mi import usable_columns

    data = pd.read_csv(DATA / "mice_constant.csv")
    impute, predictors, dropped = usable_columns(data, ["a", "b", "c", "e"], ["x"])
    assert (impute, predictors) == (["a"], ["x"])
    assert [(d["variable"], d["reason"].split(" ")[0]) for d in dropped] == [
        ("b", "no"),
        ("c", "constant"),
        ("e", "collinear"),
    ]
    assert dropped[0]["reason"] == "no observed values"


def test_an_analysis_variable_is_kept_and_its_collinear_partner_removed() -> None:
    """Unlike mice, the outcome is never the one removed: protected variables go first."""
    from blend.stats.mi import usable_columns

    data = pd.read_csv(DATA / "mice_constant.csv")
    impute, _, dropped = usable_columns(data, ["e", "a"], ["x"], protected=("e",))
    assert impute == ["e"] and dropped[0]["variable"] == "a"


def test_imputation_runs_after_an_entirely_missing_auxiliary_is_removed() -> None:
    """What failed with "ValueError: high <= 0" before the empty column was removed."""
    from blend.stats.mi import usable_columns

    data = pd.read_csv(DATA / "mice_constant.csv")
    impute, predictors, _ = usable_columns(data, ["a", "b", "c", "e"], ["x"])
    imp = ChainedEquationsImputer(imputations=2, seed=1).fit(data, impute, predictors)
    assert not np.isnan(imp.imputations_[0]).any()
