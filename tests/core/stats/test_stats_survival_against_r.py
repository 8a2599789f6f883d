"""Kaplan–Meier, Cox (Efron), log-rank and Aalen–Johansen against R `survival` 3.4.

Data: `data/survival.csv` (overall survival of `make_dataset(120, seed=7)`, days
from randomization, many tied days) and `data/competing.csv` (time from treatment
start; status 1 = systemic restart, 2 = death first, 0 = censored).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest

from blend.stats.survival import (
    CoxPHFitter,
    KaplanMeierFitter,
    cumulative_incidence,
    logrank_test,
    value_at,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def os_data() -> pd.DataFrame:
    return pd.read_csv(DATA / "survival.csv")


@pytest.fixture(scope="module")
def cr_data() -> pd.DataFrame:
    return pd.read_csv(DATA / "competing.csv")


def test_km_medians_match_r(os_data: pd.DataFrame) -> None:
    """R: summary(survfit(Surv(days, dead) ~ z, data = s))$table[, "median"]  # 351, 230"""
    medians = [
        KaplanMeierFitter().fit(os_data.days[os_data.z == v], os_data.dead[os_data.z == v]).median_
        for v in (0, 1)
    ]
    assert medians == [351.0, 230.0]


def test_km_median_takes_the_midpoint_when_the_curve_sits_at_one_half() -> None:
    """R: survfit(Surv(c(1, 2, 3, 4), rep(1, 4)) ~ 1) prints median 2.5 (S = 0.5 on [2, 3))."""
    assert KaplanMeierFitter().fit([1, 2, 3, 4], [1, 1, 1, 1]).median_ == 2.5


def test_km_median_is_none_when_not_reached() -> None:
    assert KaplanMeierFitter().fit([1, 2, 3, 4], [1, 0, 0, 0]).median_ is None


def test_cox_efron_matches_r_coxph(os_data: pd.DataFrame) -> None:
    """R: cx <- coxph(Surv(days, dead) ~ z, data = s)   # ties = "efron" (default)
    coef(cx); sqrt(vcov(cx)); exp(confint(cx))
    """
    cox = CoxPHFitter().fit(os_data.days, os_data.dead, os_data.z)
    npt.assert_allclose(cox.params_[0], 0.194147163059828, rtol=1e-6)
    npt.assert_allclose(cox.se_[0], 0.210543192125167, rtol=1e-6)
    npt.assert_allclose(cox.hr_ci(0), [0.80371551402538, 1.83455920394307], rtol=1e-6)


def test_logrank_matches_r_survdiff(os_data: pd.DataFrame) -> None:
    """R: sd <- survdiff(Surv(days, dead) ~ z, data = s); sd$chisq;
    pchisq(sd$chisq, 1, lower.tail = FALSE)
    """
    test = logrank_test(os_data.days, os_data.dead, os_data.z == 1)
    npt.assert_allclose(test["chi2"], 0.846801391856367, rtol=1e-9)
    npt.assert_allclose(test["p"], 0.357458786141465, rtol=1e-9)


def test_cif_matches_r_aalen_johansen(cr_data: pd.DataFrame) -> None:
    """R: fit <- survfit(Surv(days, factor(status, 0:2)) ~ z, data = cr)
    summary(fit, times = c(28, 84))$pstate[, 2]   # state "1" = systemic restart
    # z=0: 0.226415094339623 0.584905660377358; z=1: 0.355932203389831 0.559322033898305
    """
    expected = {
        0: [0.226415094339623, 0.584905660377358],
        1: [0.355932203389831, 0.559322033898305],
    }
    for z, values in expected.items():
        t, cif = cumulative_incidence(cr_data.days[cr_data.z == z], cr_data.status[cr_data.z == z])
        npt.assert_allclose([value_at(t, cif, 28), value_at(t, cif, 84)], values, rtol=1e-9)


def test_cause_specific_cox_matches_r(cr_data: pd.DataFrame) -> None:
    """R: cs <- coxph(Surv(days, status == 1) ~ z, data = cr); exp(coef(cs)); exp(confint(cs))"""
    cox = CoxPHFitter().fit(cr_data.days, cr_data.status == 1, cr_data.z)
    npt.assert_allclose(cox.hazard_ratio_[0], 1.1876140127704, rtol=1e-6)
    npt.assert_allclose(cox.hr_ci(0), [0.780659769234644, 1.80671157770996], rtol=1e-6)


def test_cox_without_ties_has_the_closed_form_score_at_zero() -> None:
    """With one event per time, the score at β = 0 is Σ (x_i − mean x over the risk set)."""
    t = np.array([5.0, 4, 3, 2, 1])
    x = np.array([1.0, 0, 1, 0, 1])
    e = np.array([1, 1, 1, 1, 0], bool)
    from blend.stats.survival import _EfronData

    order = np.argsort(-t, kind="stable")
    _, grad, _ = _EfronData(t[order], e[order], x[order][:, None]).evaluate(np.zeros(1))
    expected = sum(x[i] - x[t >= t[i]].mean() for i in range(5) if e[i])
    npt.assert_allclose(grad[0], expected)


def test_cox_with_all_events_in_one_arm_did_not_converge() -> None:
    """R: t <- c(5, 8, 12, 20, 25, 30, 33, 40, 41, 50); e <- c(1, 1, 1, 1, 0, 0, 0, 0, 0, 0)
    z <- c(1, 1, 1, 1, 1, 0, 0, 0, 0, 0); coef(coxph(Surv(t, e) ~ z))
    # 21.76535 with the warning "Loglik converged before variable 1; coefficient may be
    # infinite": the HR R prints is meaningless, so blend says "did not converge".
    """
    from blend.stats.errors import NotEstimable

    t = [5, 8, 12, 20, 25, 30, 33, 40, 41, 50]
    e = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    z = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    with pytest.raises(NotEstimable, match="did not converge"):
        CoxPHFitter().fit(t, e, z)


def test_cox_without_events_is_not_estimable() -> None:
    from blend.stats.errors import NotEstimable

    with pytest.raises(NotEstimable, match="no events"):
        CoxPHFitter().fit([1, 2, 3], [0, 0, 0], [0, 1, 1])


def test_fine_gray_matches_cmprsk_crr(cr_data: pd.DataFrame) -> None:
    """R (cmprsk 2.2.11): f <- crr(cr$days, cr$status, cov1 = cbind(z = cr$z),
    gtol = 1e-12, maxiter = 50); f$coef; sqrt(diag(f$var)); summary(f)$conf.int
    # 0.0377867746212366, 0.208740589710837; HR CI 0.689811254286237 1.56347485075812
    """
    from blend.stats.finegray import FineGrayFitter

    fit = FineGrayFitter().fit(cr_data.days, cr_data.status, cr_data.z)
    npt.assert_allclose(fit.params_[0], 0.0377867746212366, rtol=1e-8)
    npt.assert_allclose(fit.se_[0], 0.208740589710837, rtol=1e-8)
    npt.assert_allclose(fit.hr_ci(0), [0.689811254286237, 1.56347485075812], rtol=1e-8)


def test_fine_gray_with_ties_zero_times_and_two_covariates_matches_crr() -> None:
    """`data/finegray.csv`, R: set.seed(3); n <- 60
    x <- cbind(a = rnorm(n), b = rbinom(n, 1, 0.4)); tt <- round(rexp(n, 0.1))
    st <- sample(0:2, n, replace = TRUE, prob = c(.3, .4, .3))
    f2 <- crr(tt, st, cov1 = x, gtol = 1e-12, maxiter = 50); f2$coef; sqrt(diag(f2$var))
    # -0.237605891973520 0.036892316255233; 0.253160382304838 0.419505322828301
    Three times are 0, where crr's G(t−) is G(0) (it evaluates G at t·(1 − 100ε)).
    """
    from blend.stats.finegray import FineGrayFitter

    d = pd.read_csv(DATA / "finegray.csv")
    fit = FineGrayFitter().fit(d.days, d.status, d[["a", "b"]])
    npt.assert_allclose(fit.params_, [-0.237605891973520, 0.036892316255233], rtol=1e-8)
    npt.assert_allclose(fit.se_, [0.253160382304838, 0.419505322828301], rtol=1e-8)


def test_events_at_the_risk_set_extreme_are_caught_even_when_newton_stops() -> None:
    """All 30 deaths in one arm of 60: Newton's steps vanish once exp(β) saturates the
    floating point (β ≈ 36), which looks like convergence; the monotone-likelihood check
    on the data still says "did not converge"."""
    from blend.stats.errors import NotEstimable

    rng = np.random.default_rng(1)
    z = np.repeat([1, 0], 30)
    t = rng.integers(1, 400, 60).astype(float)
    with pytest.raises(NotEstimable, match="did not converge"):
        CoxPHFitter().fit(t, z == 1, z)


def test_fine_gray_with_a_monotone_likelihood_did_not_converge() -> None:
    """R: f <- crr(c(45, 23, 284), c(1, 1, 1), cov1 = cbind(z = c(0, 1, 0)))
    f$coef; f$converged   # 10.97492, FALSE: the first restart is the only z = 1
    """
    from blend.stats.errors import NotEstimable
    from blend.stats.finegray import FineGrayFitter

    with pytest.raises(NotEstimable, match="did not converge"):
        FineGrayFitter().fit([45, 23, 284], [1, 1, 1], [0, 1, 0])


def test_a_log_rank_with_only_one_arm_at_risk_at_every_death_is_not_estimable() -> None:
    """Found by fuzzing: the control participant is censored before the first death, so
    the hypergeometric variance is 0 (survdiff gives chisq NaN)."""
    from blend.stats.errors import NotEstimable
    from blend.stats.timetoevent import _logrank

    with pytest.raises(NotEstimable, match="variance is zero"):
        _logrank(np.array([1.0, 2.0, 0.5]), np.array([True, True, False]), np.array([1, 1, 0]))
