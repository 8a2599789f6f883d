"""The batched closed-form estimators equal statsmodels and linearmodels per replicate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels.iv import IV2SLS

from blend.design.dgm import generate
from blend.design.estimators import _gram, _inverse, _project, rubin
from blend.design.scenario import Scenario
from blend.design.simulate import analyse_cace, analyse_itt

SCENARIOS = {
    "grid": Scenario(refusal=0.3, death=0.1, missing=0.2, noncompletion=0.1),
    "continuous": Scenario(
        continuous=True,
        refusal=0.25,
        refusal_prognosis=1.0,
        missing=0.1,
        missing_mechanism="mnar",
        n=60,
    ),
}


@pytest.mark.parametrize("se", ["model", "robust"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_replicate_equals_statsmodels_and_linearmodels(name: str, se: str) -> None:
    trials = generate(SCENARIOS[name], np.random.default_rng(5), 25)
    itt, cace = analyse_itt(trials, se), analyse_cace(trials, se)
    for r in range(25):
        keep = trials.observed[r]
        data = pd.DataFrame(
            {
                "y": trials.y[r][keep],
                "pf0": trials.pf0[r][keep],
                "const": 1.0,
                "received": trials.received[r][keep],
                "arm": trials.arm[r][keep],
            }
        )
        ols = sm.OLS(data.y, data[["const", "arm", "pf0"]]).fit(
            cov_type="nonrobust" if se == "model" else "HC3"
        )
        iv = IV2SLS(data.y, data[["const", "pf0"]], data[["received"]], data[["arm"]]).fit(
            cov_type="unadjusted" if se == "model" else "robust", debiased=True
        )
        assert itt["est"][r] == pytest.approx(ols.params["arm"], abs=1e-9)
        assert itt["se"][r] == pytest.approx(ols.bse["arm"], abs=1e-9)
        assert itt["df"][r] == ols.df_resid
        assert cace["est"][r] == pytest.approx(iv.params["received"], abs=1e-9)
        assert cace["se"][r] == pytest.approx(iv.std_errors["received"], abs=1e-9)


def test_rubin_pooling_matches_mice() -> None:
    """R (mice 3.x):
    p <- pool.scalar(Q = c(1.2, 1.5, 0.9, 1.1, 1.4), U = c(.2, .25, .22, .18, .21), n = 100, k = 3)
    c(p$qbar, p$t, p$df)   # 1.22  0.2804  34.7341645961573
    """
    q = np.array([[1.2], [1.5], [0.9], [1.1], [1.4]])
    u = np.array([[0.2], [0.25], [0.22], [0.18], [0.21]])
    est, se, df = rubin(q, u, np.array([97.0]))
    assert est[0] == pytest.approx(1.22, abs=1e-12)
    assert se[0] ** 2 == pytest.approx(0.2804, abs=1e-12)
    assert df[0] == pytest.approx(34.7341645961573, abs=1e-9)


def test_a_replicate_where_nobody_received_the_intervention_fails_cleanly() -> None:
    trials = generate(Scenario(n=8), np.random.default_rng(1), 3)
    nobody = type(trials)(**{**trials.__dict__, "received": np.zeros_like(trials.received)})
    cace = analyse_cace(nobody)
    assert np.all(np.isnan(cace["se"]))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_projection_gives_the_einsums_bits(name: str) -> None:
    """2SLS's P_Z X equals the einsum it replaced bit for bit, NaN rows included.

    Any difference in the last bit would move the estimates that test_simulate_pinned.py
    pins; here it is caught where it starts. Replicates 0–2 have nobody offered, so their
    ZᵀZ is singular and (ZᵀZ)⁻¹ZᵀX is NaN, as in a failed replicate.
    """
    trials = generate(SCENARIOS[name], np.random.default_rng(7), 40)
    arm = trials.arm.copy()
    arm[:3] = 0.0
    w = trials.observed.astype(float)
    exog = np.stack([np.ones_like(trials.y), trials.pf0], axis=-1)
    z = np.concatenate([exog, arm[..., None]], axis=-1)
    x = np.concatenate([exog, trials.received[..., None]], axis=-1)
    inverse, _ = _inverse(_gram(z, w, z))
    proj = inverse @ _gram(z, w, x)
    expected = np.einsum("rni,rij->rnj", z, proj)
    got = _project(z, proj)
    assert np.isnan(got[:3]).all() and np.isfinite(got[3:]).all()
    assert np.array_equal(got, expected, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(expected))
