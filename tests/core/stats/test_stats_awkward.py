"""The datasets real trials produce (issue 13): one generator per defect class, and the
analysis either agrees with R (reference code in the docstring, values pinned) or says
"not estimable" with the reason. Never an unchecked number.

Each test builds its dataset from `make_dataset(100, 1)` with a generator of
`blend.stats.awkward` and runs `run_analysis` on it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest

from blend.stats import awkward
from blend.stats.analysis import AnalysisConfig, participant_frame, run_analysis
from blend.stats.analysis import unexplained_nulls as nulls
from blend.stats.dataset import load_dataset

CONFIG = AnalysisConfig(imputations=5, bootstrap=200, seed=3)


def analyse(base: Path, tmp_path: Path, *edits: Callable[[Path], None]) -> dict[str, Any]:
    folder = tmp_path / "data"
    shutil.copytree(base, folder)
    for edit in edits:
        edit(folder)
    results = run_analysis(load_dataset(folder), CONFIG).results
    assert nulls(results) == []  # every null has its reason
    return results


def notes_for(results: dict[str, Any], label: str) -> list[str]:
    return [n for n in results["meta"]["not_estimable"] if n.startswith(f"{label}:")]


# ----------------------------------------------------------------------- class 1
def test_an_arm_without_primary_outcomes_is_not_estimable_everywhere(
    synthetic_100: Path, tmp_path: Path
) -> None:
    """ITT came out near 1e15 and CACE as 0.00; R's lm reports NA for the aliased arm."""
    r = analyse(synthetic_100, tmp_path, lambda f: awkward.no_outcomes_in_arm(f, "control"))
    for key in ("itt", "cace", "itt_mi"):
        block = r["primary"][key]
        assert block["estimate"] is None and block["se"] is None
        assert "no control participant" in block["not_estimable"]
    assert (
        "not estimable" in r["sensitivity"]["not_estimable"]
        or r["sensitivity"]["tipping_delta"] is None
    )
    pain = r["secondary"]["pain_response_w4"]
    assert pain["control"]["observed_w4"] == 0 and pain["difference"] is None
    assert "imputed non-responders" in pain["notes"]["difference"]
    assert notes_for(r, "ITT") and notes_for(r, "pain response difference")


def test_an_arm_with_outcomes_but_an_empty_stratum_level_still_matches_lm(
    synthetic_100: Path, tmp_path: Path
) -> None:
    """A stratum level without anyone in the complete-case sample is dropped as lm drops
    an NA term; the arm effect is then the lm estimate without that level."""

    def one_stratum_at_w4(folder: Path) -> None:
        p = pd.read_csv(folder / "participants.csv", dtype=str, keep_default_na=False)
        ids = set(p.loc[p["stratum"] == "ps2-4", "study_id"])
        awkward._edit(
            folder,
            "assessments.csv",
            lambda a: a[~(a["study_id"].isin(ids) & (a["timepoint"] == "w4"))],
        )

    r = analyse(synthetic_100, tmp_path, one_stratum_at_w4)
    assert r["primary"]["itt"]["estimate"] is not None
    wide = participant_frame(load_dataset(tmp_path / "data"))
    cc = wide.dropna(subset=["pf_w4", "pf_baseline"])
    assert set(cc["stratum"]) == {"ps0-1"}
    x = np.column_stack([np.ones(len(cc)), cc["z"], cc["pf_baseline"]])
    beta = np.linalg.lstsq(x, cc["pf_w4"].to_numpy(float), rcond=None)[0]
    npt.assert_allclose(r["primary"]["itt"]["estimate"], beta[1], rtol=1e-10)


# ----------------------------------------------------------------------- class 2
def test_no_pf_at_the_first_visit_moves_the_reference_visit(
    synthetic_100: Path, tmp_path: Path
) -> None:
    """With w1 absent the w1-referenced time dummies were collinear with the intercept
    and τ² came out wrong without a note; now the reference is the first visit with data,
    and the fit equals the full-data fit restricted to the other visits."""
    r = analyse(synthetic_100, tmp_path, lambda f: awkward.no_visit(f, "w1"))
    ri = r["secondary"]["pf_longitudinal"]
    assert ri["reference_timepoint"] == "w2" and "w1" not in ri["arm_effect_by_timepoint"]
    assert ri["tau2"] > 0 and ri["sigma2"] > 0
    assert "w1" not in r["secondary"]["pf_mmrm"]["timepoints"]
    from blend.stats.repeated import long_frame, random_intercept

    wide = participant_frame(load_dataset(synthetic_100))
    long = long_frame(wide)
    reference = random_intercept(long[long["tp"] != "w1"], "stratum", {})
    assert ri["tau2"] == pytest.approx(reference["tau2"], rel=1e-9)


def test_a_visit_where_one_arm_has_no_pf_has_no_arm_effect(
    synthetic_100: Path, tmp_path: Path
) -> None:
    r = analyse(synthetic_100, tmp_path, lambda f: awkward.no_outcomes_in_arm(f, "control", "m12"))
    for model in ("pf_mmrm", "pf_longitudinal"):
        block = r["secondary"][model]
        assert "m12" not in block["arm_effect_by_timepoint"]
        assert block["not_estimable_timepoints"]["m12"] == "no control participant has PF at m12"
        assert "w4" in block["arm_effect_by_timepoint"]


# ----------------------------------------------------------------------- class 3
def test_mi_drops_an_auxiliary_that_is_entirely_missing(
    synthetic_100: Path, tmp_path: Path
) -> None:
    """An interim before w12: PF_w12 has no observed value. The MI failed with
    "ValueError: high <= 0"; mice removes the constant predictor and goes on."""
    r = analyse(synthetic_100, tmp_path, lambda f: awkward.interim_before(f, "w12"))
    mi = r["primary"]["itt_mi"]
    assert mi["estimate"] is not None and "not_estimable" not in mi
    assert mi["dropped_predictors"] == [{"variable": "pf_w12", "reason": "no observed values"}]


# ----------------------------------------------------------------------- class 4
def test_a_diverging_cox_model_leaves_km_log_rank_and_the_cif_alone(tmp_path: Path) -> None:
    """n = 10 with every death in the intervention arm: R's coxph warns "coefficient may be
    infinite"; KM, log-rank and the CIF are nonparametric and still reported."""
    from blend.stats.synthetic import make_dataset

    base = make_dataset(10, 4, tmp_path / "base")
    r = analyse(base, tmp_path, lambda f: awkward.no_deaths_in_arm(f, "control"))
    os_ = r["secondary"]["overall_survival"]
    assert os_["hr"] is None and "did not converge" in os_["notes"]["hr"]
    assert os_["logrank_p"] is not None
    assert os_["deaths"]["control"] == 0 and os_["deaths"]["intervention"] > 0
    assert os_["median_days"]["control"] is None
    assert "not reached" in os_["notes"]["median_days.control"]
    cif = r["secondary"]["systemic_therapy"]["cif_w4"]
    assert any(v is not None for v in cif.values())
    assert notes_for(r, "overall survival, Cox model")


def test_a_logrank_without_deaths_is_not_estimable_but_km_is(tmp_path: Path) -> None:
    from blend.stats.synthetic import make_dataset

    base = make_dataset(12, 1, tmp_path / "base")
    r = analyse(
        base,
        tmp_path,
        awkward.no_deaths_in_arm,
        lambda f: awkward.no_deaths_in_arm(f, "intervention"),
    )
    os_ = r["secondary"]["overall_survival"]
    assert os_["logrank_p"] is None and os_["notes"]["logrank_p"] == "no deaths"
    assert os_["hr"] is None and "no events" in os_["notes"]["hr"]


# ----------------------------------------------------------------------- class 5
def test_missing_costs_and_qalys_are_counted_and_imputed_not_zero(
    synthetic_100: Path, tmp_path: Path
) -> None:
    r = analyse(
        synthetic_100,
        tmp_path,
        lambda f: awkward.drop_cost_rows(f, 0.2, 1),
        lambda f: awkward.drop_baseline_eq5d(f, 0.2, 2),
        lambda f: awkward.early_last_contact(f, 0.2, 90, 3),
    )
    cea = r["cea"]
    counts = {k: sum(arm[k] for arm in cea["counts"].values()) for k in cea["counts"]["control"]}
    assert counts["cost_missing_no_rows"] > 0 and counts["qaly_missing_no_baseline"] > 0
    assert counts["qaly_missing_censored"] > 0
    assert cea["method"].startswith("multiple imputation by arm")
    assert cea["imputations"] == CONFIG.imputations and len(cea["rules"]) == 5
    cc = cea["complete_case"]
    assert cc["n"]["intervention"] + cc["n"]["control"] == counts["complete_case"]
    assert cea["n"]["intervention"] + cea["n"]["control"] == 100
    # the complete case is plain means over the complete participants
    frame = pd.read_csv(tmp_path / "data" / "costs.csv")
    assert cc["cost"]["difference"] != cea["cost"]["difference"]
    assert len(frame["study_id"].unique()) == counts["cost_complete"]


def test_an_empty_cost_file_is_not_estimable_not_zero(synthetic_100: Path, tmp_path: Path) -> None:
    """A header-only costs.csv reported "ICER €0 per QALY gained"."""
    r = analyse(synthetic_100, tmp_path, awkward.empty_costs)
    cea = r["cea"]
    assert cea["icer"] is None and cea["cost"]["difference"] is None
    assert "costs.csv has no rows" in cea["not_estimable"]
    assert (
        cea["counts"]["control"]["cost_missing_no_rows"] == cea["counts"]["control"]["randomized"]
    )
    assert cea["rules"]


def test_complete_case_cea_matches_an_independent_computation(
    synthetic_100: Path, tmp_path: Path
) -> None:
    """The complete-case block against plain arm means of the participants whose QALY
    is complete and who have cost rows (the rule, independently coded here)."""
    r = analyse(synthetic_100, tmp_path, lambda f: awkward.drop_cost_rows(f, 0.2, 1))
    ds = load_dataset(tmp_path / "data")
    from blend.stats.cea import QALY_COMPLETE, qaly_status, qalys

    p = ds.participants.set_index("study_id")
    status = qaly_status(ds.participants, ds.assessments, 182).to_numpy()
    frame = pd.DataFrame(
        {
            "z": (p["arm"] == "intervention").astype(int).to_numpy(),
            "qaly": qalys(ds.participants, ds.assessments, 182).to_numpy(),
            "cost": ds.costs.groupby("study_id")["amount_eur"].sum().reindex(p.index).to_numpy(),
        }
    )
    ok = (status == QALY_COMPLETE) & frame["cost"].notna().to_numpy()
    g = frame[ok].groupby("z").mean()
    cc = r["cea"]["complete_case"]
    npt.assert_allclose(cc["qaly"]["difference"], g.loc[1, "qaly"] - g.loc[0, "qaly"], rtol=1e-12)
    npt.assert_allclose(cc["cost"]["difference"], g.loc[1, "cost"] - g.loc[0, "cost"], rtol=1e-12)


# ----------------------------------------------------------------------- class 6
@pytest.mark.parametrize(
    ("cost_factor", "utility_shift", "quadrant", "wording"),
    [
        (0.5, 0.15, "SE", "dominant"),
        (1.8, -0.15, "NW", "dominated"),
        (1.8, 0.15, "NE", "per QALY gained"),
        (0.5, -0.15, "SW", "saved per QALY lost"),
    ],
)
def test_the_icer_is_worded_by_quadrant(
    synthetic_100: Path,
    tmp_path: Path,
    cost_factor: float,
    utility_shift: float,
    quadrant: str,
    wording: str,
) -> None:
    r = analyse(
        synthetic_100,
        tmp_path,
        lambda f: awkward.scale_costs(f, "intervention", cost_factor),
        lambda f: awkward.shift_utilities(f, "intervention", utility_shift),
    )
    assert r["cea"]["quadrant"] == quadrant
    assert wording in r["cea"]["icer_statement"]
    assert "€-" not in r["cea"]["icer_statement"]


# ----------------------------------------------------------------------- class 7
def test_almost_everyone_refusing_gives_a_weak_instrument_warning(
    synthetic_100: Path, tmp_path: Path
) -> None:
    r = analyse(synthetic_100, tmp_path, lambda f: awkward.everyone_refuses(f, keep=2))
    cace = r["primary"]["cace"]
    assert cace["first_stage"]["weak"] is True and cace["first_stage"]["f_statistic"] < 10
    assert cace["warning"].startswith("weak instrument: first-stage F =")
    assert 0 < cace["first_stage"]["partial_r2"] < 0.1


def test_controls_crossing_over_give_a_weak_instrument_warning(
    synthetic_100: Path, tmp_path: Path
) -> None:
    """Half the controls get the same-day treatment outside the trial: the first-stage F of
    the offer falls to about 4."""
    r = analyse(synthetic_100, tmp_path, lambda f: awkward.controls_cross_over(f, 0.5, 1))
    cace = r["primary"]["cace"]
    assert cace["first_stage"]["f_statistic"] < 10 and "weak instrument" in cace["warning"]


def test_a_strong_instrument_has_no_warning_but_reports_its_f(
    synthetic_100: Path, tmp_path: Path
) -> None:
    r = analyse(synthetic_100, tmp_path)
    cace = r["primary"]["cace"]
    assert cace["first_stage"]["f_statistic"] > 10 and "warning" not in cace


def test_everyone_refusing_makes_the_cace_not_estimable(
    synthetic_100: Path, tmp_path: Path
) -> None:
    def nobody_receives(folder: Path) -> None:
        awkward.everyone_refuses(folder, keep=0)

        def change(p: pd.DataFrame) -> pd.DataFrame:
            p["received_intervention"] = "false"
            return p

        awkward._edit(folder, "participants.csv", change)

    r = analyse(synthetic_100, tmp_path, nobody_receives)
    assert (
        "no participant in the complete-case sample received"
        in r["primary"]["cace"]["not_estimable"]
    )
    assert r["primary"]["itt"]["estimate"] is not None


# ----------------------------------------------------------------------- class 8
def test_a_significant_harmful_result_can_tip(synthetic_100: Path, tmp_path: Path) -> None:
    r = analyse(synthetic_100, tmp_path, lambda f: awkward.shift_outcome(f, "intervention", -12.0))
    s = r["sensitivity"]
    assert r["primary"]["itt_mi"]["estimate"] < 0 and r["primary"]["itt_mi"]["p"] < 0.05
    assert "raised" in s["tipping_direction"] and s["tipping_delta"] is not None
    assert s["tipping_delta_mcse"] is not None
    assert s["tipping_point"][1]["shift"] == 1.0


# ----------------------------------------------------------------------- class 9
def test_worst_rank_counts_the_survivors_it_could_not_rank(
    synthetic_100: Path, tmp_path: Path
) -> None:
    r = analyse(synthetic_100, tmp_path, lambda f: awkward.survivors_without_outcome(f, 0.3, 5))
    w = r["primary"]["worst_rank"]
    wide = participant_frame(load_dataset(tmp_path / "data"))
    alive_missing = int((~wide["died_before_w4"] & wide["pf_w4"].isna()).sum())
    assert w["excluded_alive_without_pf_w4"] == alive_missing > 20
    assert w["ranked"] + alive_missing == w["randomized"] == 100 == len(wide)
    assert w["n"] == w["ranked"] and "left out" in w["rule"]
