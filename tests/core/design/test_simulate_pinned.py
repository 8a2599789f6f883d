"""The simulator's estimates, pinned before the start-up work of issue 15.

Making ``blend simulate`` start fast (no ``scipy.stats``, fewer imports, cheaper draws)
must not change a single result: these are the summaries and the first replicates' estimates
and SEs the simulator gave for three fixed seeds before that work began. Power, coverage and
failures are compared exactly (they are counts); the estimates to 1e-12 relative, which any
change in the data-generating mechanism or the estimators exceeds by orders of magnitude,
while another CPU's BLAS rounding (≈ 1e-15) stays within it.
"""

from __future__ import annotations

from typing import Any

import pytest

from blend.design.scenario import make_scenario
from blend.design.simulate import _chunks, run, run_chunk

SCENARIOS: dict[str, dict[str, Any]] = {
    "default": {"n": 100, "reps": 1000},
    "twics_mi": {
        "n": 100,
        "reps": 600,
        "refusal": 0.25,
        "death": 0.1,
        "missing": 0.15,
        "mi": 3,
        "seed": 11,
        "population": 20000,
    },
    "robust_mnar": {
        "n": 80,
        "reps": 500,
        "refusal": 0.3,
        "missing": 0.2,
        "missing_mechanism": "mnar",
        "se": "robust",
        "continuous": True,
        "seed": 5,
        "population": 20000,
    },
}

# Printed by the simulator at commit 4600e0b (before issue 15's simulator work).
PINNED: dict[str, dict[str, Any]] = {
    "default": {
        "true": {"itt": 9.77748, "cace": 9.77748, "complier_fraction": 1.0},
        "methods": {
            "itt_cc": {
                "mean": 9.76154090731944,
                "emp_se": 3.5306912669531787,
                "model_se": 3.4980255274559204,
                "power": 0.785,
                "coverage": 0.949,
                "failed": 0,
            },
            "cace_2sls": {
                "mean": 9.761540907319446,
                "emp_se": 3.530691266953177,
                "model_se": 3.4980255274559204,
                "power": 0.785,
                "coverage": 0.949,
                "failed": 0,
            },
        },
        "first": {
            "itt_cc": [
                9.288043047449847,
                12.814634334183964,
                2.6053830221303116,
                3.491754914443775,
                3.807183440541765,
                3.317085048129863,
            ],
            "cace_2sls": [
                9.288043047449811,
                12.814634334183914,
                2.605383022130365,
                3.4917549144437747,
                3.8071834405417673,
                3.3170850481298624,
            ],
        },
    },
    "twics_mi": {
        "true": {"itt": 7.257, "cace": 9.69344820677219, "complier_fraction": 0.74865},
        "methods": {
            "itt_cc": {
                "mean": 7.363302491580516,
                "emp_se": 4.098502275256255,
                "model_se": 4.075283123049786,
                "power": 0.4116666666666667,
                "coverage": 0.955,
                "failed": 0,
            },
            "cace_2sls": {
                "mean": 9.825069369281133,
                "emp_se": 5.457358644148898,
                "model_se": 5.463397578862297,
                "power": 0.42833333333333334,
                "coverage": 0.96,
                "failed": 0,
            },
            "itt_mi": {
                "mean": 7.373447402667552,
                "emp_se": 4.148489361525739,
                "model_se": 4.262917517329155,
                "power": 0.375,
                "coverage": 0.96,
                "failed": 0,
            },
        },
        "first": {
            "itt_cc": [
                14.13617709330316,
                5.060771503265897,
                9.9626109195939,
                3.893194102720905,
                4.0142109988197845,
                5.293926602249139,
            ],
            "cace_2sls": [
                19.71508458979266,
                6.898479012164337,
                12.133921226771278,
                5.386446618790305,
                5.403439620082294,
                6.347129836024057,
            ],
            "itt_mi": [
                12.70368603923446,
                5.914756756267896,
                8.198647979607637,
                3.8666043965816583,
                3.792754093856831,
                5.628267835482105,
            ],
        },
    },
    "robust_mnar": {
        "true": {"itt": 7.0075, "cace": 10.0, "complier_fraction": 0.70075},
        "methods": {
            "itt_cc": {
                "mean": 6.83842029751225,
                "emp_se": 4.578924570365732,
                "model_se": 4.377606015563212,
                "power": 0.34,
                "coverage": 0.93,
                "failed": 0,
            },
            "cace_2sls": {
                "mean": 9.530122120331276,
                "emp_se": 6.384979039393359,
                "model_se": 6.010250686576688,
                "power": 0.38,
                "coverage": 0.934,
                "failed": 0,
            },
        },
        "first": {
            "itt_cc": [
                3.5690726725444506,
                8.251689302482177,
                3.850698871173634,
                3.891099745672244,
                4.486009898111181,
                3.910410483133567,
            ],
            "cace_2sls": [
                4.869790751090946,
                11.681282819469985,
                5.947658373656324,
                5.232033557945955,
                5.9390736127251245,
                5.831127970358605,
            ],
        },
    },
}
EXACT = ("power", "coverage", "failed")


@pytest.mark.parametrize("name", SCENARIOS)
def test_summaries_equal_the_pinned_ones(name: str) -> None:
    sc = make_scenario(SCENARIOS[name], name)
    (result,) = run([sc], workers=1)
    pinned = PINNED[name]
    assert result["true"] == pytest.approx(pinned["true"], rel=1e-12)
    assert set(result["methods"]) == set(pinned["methods"])
    for method, expected in pinned["methods"].items():
        got = result["methods"][method]
        for key, value in expected.items():
            if key in EXACT:
                assert got[key] == value, (method, key)
            else:
                assert got[key] == pytest.approx(value, rel=1e-12), (method, key)


@pytest.mark.parametrize("name", SCENARIOS)
def test_first_replicates_equal_the_pinned_ones(name: str) -> None:
    sc = make_scenario(SCENARIOS[name], name)
    seed, size = _chunks(sc)[0]
    methods = run_chunk(sc, seed, size)["methods"]
    for method, expected in PINNED[name]["first"].items():
        got = [*methods[method]["est"][:3], *methods[method]["se"][:3]]
        assert got == pytest.approx(expected, rel=1e-12), method


def test_the_pure_t_quantile_is_within_1e_9_of_stdtrit_on_its_whole_domain() -> None:
    """The domain where the simulator decides with the pure quantile (its band is 1e-8)."""
    import numpy as np
    from scipy.special import stdtrit

    from blend.design.simulate import _PURE_DF, _PURE_P, _pure_quantile

    df = np.concatenate([np.arange(1.0, 301.0), np.geomspace(301, _PURE_DF[1], 60), [2.5, 7.3]])
    for p in (_PURE_P[0], 0.9, 0.95, 0.975, 0.99, 0.995, 0.999, _PURE_P[1]):
        for part in np.array_split(df, 3):  # ≤ 200 distinct df per call, as in a run
            pure = _pure_quantile(p, part)
            assert pure is not None
            assert np.max(np.abs(pure / stdtrit(part, p) - 1)) < 1e-9, p
    assert _pure_quantile(0.975, np.array([1e6])) is None  # outside: scipy decides
    assert _pure_quantile(0.6, np.array([50.0])) is None


def test_a_statistic_at_the_critical_value_is_decided_by_stdtrit() -> None:
    """Inside the band the pure value could be on the wrong side: the exact one decides."""
    import numpy as np
    from scipy.special import stdtrit

    from blend.design.simulate import _decisions

    exact = float(stdtrit(97.0, 0.975))
    theta = np.array([exact, np.nextafter(exact, 10.0), 1.0, 5.0])
    reject, cover = _decisions(theta, np.ones(4), np.full(4, 97.0), 0.0, 0.05)
    assert reject.tolist() == [False, True, False, True]
    assert cover.tolist() == [True, False, True, False]
