"""QALYs, costs, ICER, INB and the seeded bootstrap against closed-form values."""

from __future__ import annotations

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest

from blend.stats.cea import (
    QALY_CENSORED,
    QALY_COMPLETE,
    QALY_NO_BASELINE,
    QALY_NO_EQ5D,
    CostEffectivenessAnalysis,
    costs,
    icer_statement,
    qaly_status,
    qalys,
)

D = pd.Timestamp


def _participants() -> pd.DataFrame:
    start = D("2024-01-01")
    return pd.DataFrame(
        {
            "study_id": ["p1", "p2", "p3", "p4", "p5"],
            "randomized_on": [start] * 5,
            "death_date": [
                pd.NaT,
                start + pd.Timedelta(days=60),
                pd.NaT,
                start + pd.Timedelta(days=300),
                pd.NaT,
            ],
            "last_contact": [
                D("2024-12-31"),
                start + pd.Timedelta(days=60),
                start + pd.Timedelta(days=100),
                start + pd.Timedelta(days=300),
                D("2024-12-31"),
            ],
        }
    )


def _eq5d(rows: list[tuple[str, str, int, float]]) -> pd.DataFrame:
    start = D("2024-01-01")
    return pd.DataFrame(
        [
            {
                "study_id": s,
                "timepoint": tp,
                "instrument": "eq5d5l-nl",
                "scale": "index",
                "value": u,
                "assessed_on": start + pd.Timedelta(days=day),
            }
            for s, tp, day, u in rows
        ]
    )


def test_qalys_follow_the_contract_rules() -> None:
    """Horizon 182 days, years = days / 365.25:

    p1 survivor: baseline (assessed 4 days before randomization → day 0) 0.6, day 30 0.8,
       day 190 ignored (after the horizon); carried forward to 182:
       30·(0.6 + 0.8)/2 + 152·0.8 = 142.6
    p2 dies at day 60: 0.5 at 0, 0.4 at 28, linear to 0 at 60: 28·0.45 + 32·0.2 = 19
    p3 alive, last contact day 100: 0.7 carried to day 100 = 70
    p4 dies at day 300 (after the horizon): 0.9 at 0, 0.5 at 84, carried to 182:
       84·0.7 + 98·0.5 = 107.8
    p5 no EQ-5D: missing
    """
    eq = _eq5d(
        [
            ("p1", "baseline", -4, 0.6),
            ("p1", "w4", 30, 0.8),
            ("p1", "m6", 190, 0.1),
            ("p2", "baseline", 0, 0.5),
            ("p2", "w4", 28, 0.4),
            ("p3", "baseline", -1, 0.7),
            ("p4", "baseline", 0, 0.9),
            ("p4", "w12", 84, 0.5),
        ]
    )
    got = qalys(_participants(), eq, 182)
    npt.assert_allclose(got.iloc[:4], np.array([142.6, 19, 70, 107.8]) / 365.25, rtol=1e-12)
    assert np.isnan(got.iloc[4])


def test_costs_sum_per_participant_and_are_missing_without_rows() -> None:
    """Issue 13, class 5: a participant without cost rows used to count as €0; the cost is
    missing (imputed by arm in the default analysis, left out of the complete case)."""
    rows = pd.DataFrame(
        {
            "study_id": ["p1", "p1", "p3"],
            "category": ["surgery", "outpatient", "medication"],
            "amount_eur": [100.0, 250.5, 40.0],
        }
    )
    npt.assert_allclose(costs(_participants(), rows), [350.5, np.nan, 40, np.nan, np.nan])


@pytest.fixture(scope="module")
def cea_frame() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    n = 80
    z = np.repeat([1, 0], n // 2)
    return pd.DataFrame(
        {
            "z": z,
            "cost": rng.gamma(4, 4000, n) + 1500 * z,
            "qaly": rng.normal(0.25, 0.08, n) + 0.03 * z,
        }
    )


def test_means_icer_and_inb_are_the_closed_form(cea_frame: pd.DataFrame) -> None:
    fit = CostEffectivenessAnalysis(bootstrap=200, seed=1).fit(cea_frame)
    g = cea_frame.groupby("z").mean()
    dc = g.loc[1, "cost"] - g.loc[0, "cost"]
    de = g.loc[1, "qaly"] - g.loc[0, "qaly"]
    npt.assert_allclose([fit.delta_cost_, fit.delta_qaly_], [dc, de], rtol=1e-12)
    npt.assert_allclose(fit.icer_, dc / de, rtol=1e-12)
    for lam in (20_000, 50_000, 80_000):
        npt.assert_allclose(fit.inb_[lam], lam * de - dc, rtol=1e-12)


def test_bootstrap_is_reproducible_with_its_seed(cea_frame: pd.DataFrame) -> None:
    one = CostEffectivenessAnalysis(bootstrap=600, seed=42).fit(cea_frame)
    two = CostEffectivenessAnalysis(bootstrap=600, seed=42).fit(cea_frame)
    other = CostEffectivenessAnalysis(bootstrap=600, seed=43).fit(cea_frame)
    npt.assert_array_equal(one.replicates_, two.replicates_)
    assert one.ceac() == two.ceac()
    assert not np.array_equal(one.replicates_, other.replicates_)


def test_bootstrap_resamples_within_arms(cea_frame: pd.DataFrame) -> None:
    """Replicate means centre on the point estimates, and the CEAC at λ = 0 is P(ΔC_b < 0)."""
    fit = CostEffectivenessAnalysis(bootstrap=2000, seed=3).fit(cea_frame)
    npt.assert_allclose(fit.replicates_.mean(axis=0), [fit.delta_qaly_, fit.delta_cost_], rtol=0.1)
    ceac = fit.ceac()
    assert ceac[0] == [0, float((fit.replicates_[:, 1] < 0).mean())]
    assert len(ceac) == 101 and ceac[-1][0] == 100_000
    assert sum(fit.bootstrap_summary()["quadrants"].values()) == pytest.approx(1.0)


def test_participants_without_qalys_leave_both_costs_and_effects(cea_frame: pd.DataFrame) -> None:
    frame = cea_frame.copy()
    frame.loc[0, "qaly"] = np.nan
    fit = CostEffectivenessAnalysis(bootstrap=10, seed=1).fit(frame)
    assert fit.n_["excluded_missing_qaly"] == 1
    npt.assert_allclose(fit.mean_cost_["intervention"], frame.loc[1:39, "cost"].mean())


def test_qaly_status_names_why_an_area_is_not_a_complete_qaly() -> None:
    """Horizon 182 days. p1 followed past it with a baseline: complete. p2 died at day 60:
    complete. p3 alive, last contact day 100: censored (its 70-day area is not a QALY).
    p4 died after the horizon, followed past it: complete, unless its baseline is missing.
    p5 no EQ-5D at all."""
    eq = _eq5d(
        [
            ("p1", "baseline", -4, 0.6),
            ("p1", "w4", 30, 0.8),
            ("p2", "baseline", 0, 0.5),
            ("p3", "baseline", -1, 0.7),
            ("p4", "w12", 84, 0.5),
        ]
    )
    participants = _participants().assign(withdrawn_on=pd.NaT)
    status = qaly_status(participants, eq, 182)
    assert list(status) == [
        QALY_COMPLETE,
        QALY_COMPLETE,
        QALY_CENSORED,
        QALY_NO_BASELINE,
        QALY_NO_EQ5D,
    ]


def test_withdrawal_before_the_horizon_censors_the_qaly() -> None:
    eq = _eq5d([("p1", "baseline", 0, 0.6)])
    participants = _participants().assign(withdrawn_on=pd.NaT)
    participants.loc[0, "withdrawn_on"] = D("2024-03-01")
    assert qaly_status(participants, eq, 182).iloc[0] == QALY_CENSORED


@pytest.mark.parametrize(
    ("de", "dc", "start"),
    [
        (0.02, -600.0, "dominant: more effective and less costly"),
        (-0.02, 600.0, "dominated: less effective and more costly"),
        (0.02, 600.0, "€30,000 per QALY gained"),
        (-0.02, -600.0, "€30,000 saved per QALY lost"),
        (0.0, 100.0, "no difference in QALYs"),
    ],
)
def test_icer_is_worded_by_its_quadrant(de: float, dc: float, start: str) -> None:
    """A dominant result is not "€-30,000 per QALY gained", and a south-west one is a
    saving per QALY lost, not a cost per QALY gained."""
    assert icer_statement(de, dc).startswith(start)


def test_imputed_datasets_share_the_bootstrap_and_average_the_means(
    cea_frame: pd.DataFrame,
) -> None:
    """Two completed datasets: means are the average of the two, and the B replicates are
    drawn half in each."""
    other = cea_frame.assign(cost=cea_frame["cost"] + 100 * cea_frame["z"])
    fit = CostEffectivenessAnalysis(bootstrap=400, seed=1).fit_imputed([cea_frame, other])
    single = CostEffectivenessAnalysis(bootstrap=400, seed=1).fit_imputed([cea_frame])
    npt.assert_allclose(fit.delta_cost_, single.delta_cost_ + 50, rtol=1e-12)
    assert fit.replicates_.shape == (400, 2)
    npt.assert_allclose(fit.pooled_["delta_cost"]["estimate"], fit.delta_cost_)
    assert fit.pooled_["delta_cost"]["se"] > single.pooled_["delta_cost"]["se"]


def test_a_zero_within_arm_variance_leaves_only_the_pooled_ci_out() -> None:
    """Found by fuzzing: two participants per arm with equal costs made Rubin's rules
    divide by zero and the whole CEA "not estimable (ZeroDivisionError)"."""
    frame = pd.DataFrame(
        {"z": [1, 1, 0, 0], "cost": [100.0, 100.0, 50.0, 50.0], "qaly": [0.3, 0.2, 0.1, 0.15]}
    )
    fit = CostEffectivenessAnalysis(bootstrap=20, seed=1).fit_imputed([frame])
    assert fit.pooled_ is None and "variance is zero" in fit.pooled_note_
    assert fit.delta_cost_ == 50.0
