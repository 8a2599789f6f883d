"""Worst rank, Wilcoxon, pain response, Newcombe CI, PROM compliance and CONSORT invariants."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest

from blend.stats.consort import invariant_violations
from blend.stats.endpoints import (
    categorise,
    newcombe_difference,
    pain_category,
    prom_compliance,
    wilcoxon_rank_sum,
    worst_rank,
)


def test_wilcoxon_with_ties_matches_r() -> None:
    """R: wilcox.test(c(1,2,2,3,5,8,8,9), c(2,3,3,4,4,6,7,7,7,10), exact = FALSE,
    correct = TRUE)   # W = 35, p-value = 0.687128055819
    """
    out = wilcoxon_rank_sum([1, 2, 2, 3, 5, 8, 8, 9], [2, 3, 3, 4, 4, 6, 7, 7, 7, 10])
    assert out["statistic"] == 35
    npt.assert_allclose(out["p"], 0.687128055819, rtol=1e-9)


def test_worst_rank_puts_early_deaths_below_every_survivor() -> None:
    """Intervention: survivors PF 90, 80 and an early death at day 20; control: two early
    deaths (days 5, 10) and PF 10. Ranks: deaths 5, 10, 20 → 1, 2, 3; PF 10, 80, 90 → 4, 5, 6.
    W (intervention) = (3 + 5 + 6) − 3·4/2 = 8."""
    frame = pd.DataFrame(
        {
            "z": [1, 1, 1, 0, 0, 0],
            "pf_w4": [90, 80, np.nan, np.nan, np.nan, 10],
            "died_before_w4": [False, False, True, True, True, False],
            "death_day": [np.nan, np.nan, 20, 5, 10, np.nan],
        }
    )
    out = worst_rank(frame)
    assert out["statistic"] == 8
    assert out["n"] == 6 and out["deaths_ranked"] == 3


def test_newcombe_hybrid_score_matches_the_published_examples() -> None:
    """Newcombe, Stat Med 1998;17:873–890, Table II, method 10:
    56/70 − 48/80: 0.0524 to 0.3339;  9/10 − 3/10: 0.1705 to 0.8090."""
    d, ci = newcombe_difference(56, 70, 48, 80)
    npt.assert_allclose(d, 0.2)
    npt.assert_allclose(ci, [0.0524, 0.3339], atol=5e-5)
    _, ci = newcombe_difference(9, 10, 3, 10)
    npt.assert_allclose(ci, [0.1705, 0.8090], atol=5e-5)


@pytest.mark.parametrize(
    ("pain0", "pain1", "omed0", "omed1", "expected"),
    [
        (6, 0, 40, 40, "CR"),  # pain 0, no analgesic increase
        (6, 0, 40, 60, "IR"),  # pain 0 but OMED up: neither CR nor PR, not PP (pain fell)
        (6, 4, 40, 40, "PR"),  # −2 points, stable OMED
        (6, 6, 40, 30, "PR"),  # OMED −25 %, pain not higher
        (4, 6, 40, 40, "PP"),  # +2 points with stable OMED
        (4, 5, 40, 50, "PP"),  # OMED +25 % with pain +1
        (4, 7, 40, 60, "IR"),  # contradictory: +3 and +50 % (ambiguity d)
        (5, 4, 0, 0, "IR"),  # −1 point only
        (5, 5, 0, 10, "PP"),  # baseline OMED 0: any OMED counts as +25 % (ambiguity c)
    ],
)
def test_local_pain_categories_follow_the_literal_consensus(
    pain0: float, pain1: float, omed0: float, omed1: float, expected: str
) -> None:
    assert pain_category(pain0, pain1, omed0, omed1) == expected


def test_shared_scorer_and_local_rule_agree_on_a_grid() -> None:
    """`categorise` uses blend.instruments when installed; both must give the same category."""
    grid = list(itertools.product(range(0, 11, 2), range(0, 11), (0, 20, 40), (0, 15, 30, 40, 60)))
    frame = pd.DataFrame(
        grid, columns=["worst_pain_baseline", "worst_pain_w4", "omed_baseline", "omed_w4"]
    ).astype(float)
    local = [
        pain_category(*row)
        for row in frame[
            ["worst_pain_baseline", "worst_pain_w4", "omed_baseline", "omed_w4"]
        ].itertuples(index=False)
    ]
    assert list(categorise(frame)) == local


def test_compliance_excludes_deaths_from_the_expected_count() -> None:
    day = pd.Timestamp
    participants = pd.DataFrame(
        {
            "study_id": ["a", "b", "c"],
            "arm": ["intervention"] * 3,
            "randomized_on": [day("2024-01-01")] * 3,
            "treatment_start": [day("2024-01-03"), pd.NaT, day("2024-01-05")],
            "death_date": [pd.NaT, day("2024-01-20"), pd.NaT],
            "withdrawn_on": [pd.NaT, pd.NaT, day("2024-01-10")],
        }
    )
    assessments = pd.DataFrame(
        {
            "study_id": ["a", "b", "c", "a"],
            "timepoint": ["baseline", "baseline", "baseline", "w4"],
            "instrument": ["qlq-c15-pal"] * 4,
        }
    )
    table = prom_compliance(participants, assessments, "2024-12-31").set_index(["arm", "timepoint"])
    base = table.loc[("intervention", "baseline")]
    w4 = table.loc[("intervention", "w4")]
    assert (base["expected"], base["received"], base["died"]) == (3, 3, 0)
    # b died on day 19 (< due day 28): out of the denominator; c withdrew; a returned it.
    assert (w4["expected"], w4["received"], w4["died"], w4["withdrawn"], w4["other"]) == (
        2,
        1,
        1,
        1,
        0,
    )


def consistent_counts() -> dict:
    return {
        "cohort": 20,
        "screened": 18,
        "randomization_consent": 14,
        "eligible": 10,
        "randomized": 8,
        "intervention": {
            "allocated": 4,
            "offered": 4,
            "accepted": 3,
            "refused": 1,
            "not_offered": 0,
            "received": 3,
            "analysed_primary": 3,
        },
        "control": {
            "allocated": 4,
            "received_standard": 4,
            "received_intervention": 0,
            "analysed_primary": 4,
        },
    }


def test_consistent_consort_counts_have_no_violations() -> None:
    assert invariant_violations(consistent_counts()) == []


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("eligible",), 7, "eligible ≥ randomized"),
        (("cohort",), 10, "cohort ≥ screened"),
        (("intervention", "refused"), 2, "offered = accepted + refused"),
        (("intervention", "received"), 4, "intervention.received ≤ accepted"),
        (("control", "analysed_primary"), 5, "control.analysed_primary ≤ allocated"),
    ],
)
def test_each_broken_invariant_is_reported(path: tuple, value: int, message: str) -> None:
    counts = consistent_counts()
    target = counts
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert message in invariant_violations(counts)


def test_follow_up_losses_must_add_up() -> None:
    counts = consistent_counts()
    counts["control"]["follow_up"] = {
        "died_before_w4": 0,
        "alive_pf_w4_missing": 0,
        "pf_baseline_missing": 0,
    }
    assert invariant_violations(counts) == []
    counts["control"]["follow_up"]["died_before_w4"] = 1
    assert invariant_violations(counts) == [
        "control.allocated = analysed_primary + follow-up losses"
    ]


def _baseline_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": ["intervention"] * 4 + ["control"] * 4,
            "z": [1] * 4 + [0] * 4,
            "age": [60.0, 70, 80, 90, 50, 60, 70, 80],
            "pf_baseline": [60.0, 60, 40, 20, 60, 40, 40, 20],
            "index_baseline": [0.5] * 8,
            "worst_pain_baseline": [5.0] * 8,
            "sins_total": [8, 9, 10, 11, 8, 9, 10, 11],
            "sex": ["female", "female", "male", "male", "female", "male", "male", "male"],
            "primary_tumour": ["lung"] * 8,
            "performance_status": [1, 1, 2, 2, 1, 2, 2, 2],
            "stratum": [""] * 8,
            "offered": pd.array(
                [True, True, False, False, None, None, None, None], dtype="boolean"
            ),
            "accepted": pd.array(
                [True, False, None, None, None, None, None, None], dtype="boolean"
            ),
            "died_before_w4": [False, False, True, False] + [False] * 4,
            "pf_w4": [70.0, np.nan, np.nan, 40] + [50.0] * 4,
        }
    )


def test_table_one_reports_standardised_differences() -> None:
    """Age: means 75 and 65, both SD √(500/3) → SMD = 10/12.91 = 0.77; female 50 % vs 25 %:
    (0.5 − 0.25)/√((0.25 + 0.1875)/2) = 0.53."""
    from blend.stats.endpoints import table_one

    rows = {r["label"].strip(): r for r in table_one(_baseline_frame())}
    assert rows["Age, years, mean (SD)"]["intervention"] == "75.0 (12.9)"
    assert rows["Age, years, mean (SD)"]["smd"] == "0.77"
    assert (rows["female"]["intervention"], rows["female"]["control"]) == ("2 (50%)", "1 (25%)")
    assert rows["female"]["smd"] == "0.53"
    assert "" not in rows  # empty strata are not listed as a level


def test_offer_groups_split_the_intervention_arm() -> None:
    from blend.stats.endpoints import offer_groups

    groups = {g["group"]: g for g in offer_groups(_baseline_frame())}
    assert {k: v["n"] for k, v in groups.items()} == {"accepted": 1, "refused": 1, "not offered": 2}
    assert groups["not offered"]["died_before_w4"] == 1
    assert groups["not offered"]["pf_w4_observed"] == 1
