"""The tipping point: exact in δ, searched toward the null from either side, with its
Monte-Carlo error (issue 13, class 8)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import numpy.testing as npt
import pytest

from blend.stats import awkward
from blend.stats.analysis import participant_frame
from blend.stats.dataset import load_dataset
from blend.stats.linear import AncovaFitter
from blend.stats.mi import pool_rubin
from blend.stats.primary import multiple_imputation
from blend.stats.tipping import direction, pooled_p, tipping_analysis

ALPHA = 0.05


def _mi(folder: Path, imputations: int, seed: int = 4) -> dict:
    art: dict = {}
    wide = participant_frame(load_dataset(folder))
    multiple_imputation(wide, "stratum", imputations, seed, art)
    return art


@pytest.fixture(scope="module")
def harmful(synthetic_100: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic trial with PF at w4 lowered by 12 in the intervention arm."""
    folder = tmp_path_factory.mktemp("harmful") / "data"
    shutil.copytree(synthetic_100, folder)
    awkward.shift_outcome(folder, "intervention", -12.0)
    return folder


def test_the_closed_form_equals_refitting_the_shifted_data(synthetic_100: Path) -> None:
    """b + s·a and the quadratic RSS give exactly the OLS of the shifted imputed data."""
    from blend.stats.mi import ChainedEquationsImputer, usable_columns
    from blend.stats.primary import MI_ANALYSIS, MI_IMPUTE, mi_population

    wide = participant_frame(load_dataset(synthetic_100))
    frame, predictors = mi_population(wide, "stratum")
    impute, predictors, _ = usable_columns(frame, MI_IMPUTE, predictors, MI_ANALYSIS)
    imputer = ChainedEquationsImputer(3, seed=4).fit(frame, impute, predictors)
    art: dict = {}
    multiple_imputation(wide, "stratum", 3, 4, art)
    shift = -7.5
    shifted = imputer.missing_[:, impute.index("pf_w4")] & (frame["z"].to_numpy() == 1)
    est, var = art["mi_shift"].at(shift)
    for i in range(3):
        done = imputer.completed(i, frame)
        done["pf_w4"] = done["pf_w4"] + shift * shifted
        effect = AncovaFitter().fit(done, "pf_w4", ["z", "pf_baseline"], "stratum").effect("z")
        npt.assert_allclose([est[i], var[i]], [effect["estimate"], effect["se"] ** 2], rtol=1e-10)


def test_a_significant_benefit_tips_by_lowering_imputed_intervention_values() -> None:
    assert direction(5.0, significant=True) == -1
    assert direction(-5.0, significant=True) == 1
    assert direction(5.0, significant=False) == 1


def test_a_significant_harmful_result_tips_toward_the_null(harmful: Path) -> None:
    """δ used to be subtracted whatever the sign, so a harmful result could never tip."""
    terms = _mi(harmful, 20)["mi_shift"]
    out = tipping_analysis(terms, tuple(range(21)), ALPHA)
    est, var = terms.at(0.0)
    assert pool_rubin(est, var, terms.df_resid)["estimate"] < 0
    assert "raised" in out["tipping_direction"]
    tip = out["tipping_delta"]
    assert tip is not None and tip > 0
    # exact: significance flips at the root, to the bisection tolerance
    assert pooled_p(terms, tip - 1e-5) < ALPHA <= pooled_p(terms, tip + 1e-5)
    assert out["tipping_point"][-1]["delta"] >= tip  # the grid reaches the tipping δ


def test_the_monte_carlo_error_is_reported_and_explains_m20_vs_m100(synthetic_100: Path) -> None:
    """With m = 20 and m = 100 the tipping δ differs only by Monte-Carlo error, which the
    jackknife over imputations reports."""
    small = tipping_analysis(_mi(synthetic_100, 20, seed=1)["mi_shift"], (0, 20), ALPHA)
    large = tipping_analysis(_mi(synthetic_100, 100, seed=2)["mi_shift"], (0, 20), ALPHA)
    for out in (small, large):
        assert out["tipping_delta"] is not None and out["tipping_delta_mcse"] > 0
    spread = np.hypot(small["tipping_delta_mcse"], large["tipping_delta_mcse"])
    assert abs(small["tipping_delta"] - large["tipping_delta"]) < 3 * spread
    assert large["tipping_delta_mcse"] < small["tipping_delta_mcse"]
