"""The primary analyses of PF at week 4: ITT ANCOVA, CACE (2SLS) and MI-ITT.

Each function returns the contract's block for one estimate or raises
`NotEstimable` with a reason a statistician can act on; `analysis.run_analysis`
turns that into nulls and a note. The checks come before the fit, so the reason
names the data ("no control participant has PF at w4") rather than the algebra.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from blend.stats.errors import NotEstimable
from blend.stats.linear import (
    WEAK_INSTRUMENT_F,
    AncovaFitter,
    TwoStageLeastSquaresFitter,
    design_matrix,
    drop_aliased,
    require_residual_df,
)
from blend.stats.mi import ChainedEquationsImputer, pool_rubin, usable_columns
from blend.stats.tipping import ShiftTerms, shift_terms

if TYPE_CHECKING:
    import pandas as pd

MI_IMPUTE = ["pf_baseline", "pf_w2", "pf_w4", "pf_w12", "ql_baseline"]
MI_PREDICTORS = ["z", "age", "performance_status"]
MI_ANALYSIS = ("pf_w4", "pf_baseline")  # never dropped from the imputation model
ARMS = (("intervention", 1), ("control", 0))


def require_both_arms(frame: pd.DataFrame, what: str) -> None:
    """Raise `NotEstimable` when an arm has no row in `frame` (described by `what`)."""
    for arm, z in ARMS:
        if not (frame["z"] == z).any():
            raise NotEstimable(
                f"no {arm} participant has {what}, so the arm effect is not identified"
            )


def itt(cc: pd.DataFrame, strata: str | None, art: dict[str, Any]) -> dict[str, Any]:
    require_both_arms(cc, "both PF at w4 and baseline PF")
    art["itt_fit"] = AncovaFitter().fit(cc, "pf_w4", ["z", "pf_baseline"], strata=strata)
    return art["itt_fit"].effect("z")


def cace(cc: pd.DataFrame, strata: str | None, art: dict[str, Any]) -> dict[str, Any]:
    """2SLS CACE with the first-stage F and partial R² beside it, and a weak-instrument
    warning when F < 10."""
    require_both_arms(cc, "both PF at w4 and baseline PF")
    received = cc["d"].to_numpy()
    if received.min() == received.max():
        who = "every participant" if received.max() else "no participant"
        raise NotEstimable(
            f"{who} in the complete-case sample received the intervention, "
            "so receipt has no variation to instrument"
        )
    fit = TwoStageLeastSquaresFitter().fit(cc, "pf_w4", "d", "z", ["pf_baseline"], strata=strata)
    art["cace_fit"] = fit
    out = fit.effect("d")
    out["first_stage"] = fit.first_stage_
    if fit.first_stage_["weak"]:
        out["warning"] = (
            f"weak instrument: first-stage F = {fit.first_stage_['f_statistic']:.1f}"
            f" (below {WEAK_INSTRUMENT_F:g}); the CACE and its confidence "
            "interval are unreliable"
        )
    return out


# ------------------------------------------------------------ multiple imputation
def mi_population(wide: pd.DataFrame, strata: str | None) -> tuple[pd.DataFrame, list[str]]:
    """Participants alive at week 4, with stratum dummies as always-complete predictors."""
    frame = wide[~wide["died_before_w4"]].reset_index(drop=True).copy()
    predictors = list(MI_PREDICTORS)
    if strata:
        for level in sorted(frame[strata].unique())[1:]:
            frame[f"stratum_{level}"] = (frame[strata] == level).astype(float)
            predictors.append(f"stratum_{level}")
    return frame, predictors


def multiple_imputation(
    wide: pd.DataFrame, strata: str | None, imputations: int, seed: int, art: dict[str, Any]
) -> dict[str, Any]:
    """MI-ITT among those alive at week 4; `art["mi_shift"]` feeds the tipping point."""
    frame, predictors = mi_population(wide, strata)
    require_both_arms(
        frame[frame["pf_w4"].notna()],
        "an observed PF at w4 among those alive at week 4 (the arm effect "
        "would come from the imputation model alone)",
    )
    impute, predictors, dropped = usable_columns(frame, MI_IMPUTE, predictors, MI_ANALYSIS)
    for name in MI_ANALYSIS:
        if name not in impute:
            reason = next(d["reason"] for d in dropped if d["variable"] == name)
            raise NotEstimable(f"{name} cannot enter the imputation model: {reason}")
    imputer = ChainedEquationsImputer(imputations, seed=seed).fit(frame, impute, predictors)
    designs, outcomes = _completed_designs(frame, imputer, impute, strata)
    shifted = imputer.missing_[:, impute.index("pf_w4")] & (frame["z"].to_numpy() == 1)
    terms = shift_terms(designs, outcomes, shifted, column=1)
    art["mi_shift"] = terms
    return _pooled_block(terms, frame, wide, imputations, dropped)


def _completed_designs(
    frame: pd.DataFrame, imputer: ChainedEquationsImputer, impute: list[str], strata: str | None
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The analysis-model design (intercept, z, pf_baseline, strata) of each imputation."""
    designs: list[np.ndarray] = []
    outcomes: list[np.ndarray] = []
    completed = frame.copy()
    for data in imputer.imputations_:
        completed[impute] = data
        x, names = design_matrix(completed, ["z", "pf_baseline"], strata)
        x, names, _ = drop_aliased(x, names, ["z"])
        require_residual_df(*x.shape)
        if designs and x.shape != designs[0].shape:
            raise NotEstimable(
                "the analysis model has different aliased terms in different imputations"
            )
        designs.append(x)
        outcomes.append(completed["pf_w4"].to_numpy(float))
    return designs, outcomes


def _pooled_block(
    terms: ShiftTerms,
    frame: pd.DataFrame,
    wide: pd.DataFrame,
    imputations: int,
    dropped: list[dict[str, str]],
) -> dict[str, Any]:
    est, var = terms.at(0.0)
    if not np.all(var > 0):
        raise NotEstimable("the residual variance is zero in an imputed dataset")
    pooled = pool_rubin(est, var, terms.df_resid)
    out = {k: pooled[k] for k in ("estimate", "se", "ci95", "p", "df", "imputations")}
    out.update(
        {
            "n": len(frame),
            "excluded_dead_by_w4": int(wide["died_before_w4"].sum()),
            "fraction_missing_information": pooled["lambda"],
            "imputed_pf_w4": int(frame["pf_w4"].isna().sum()),
            "dropped_predictors": dropped,
        }
    )
    if imputations == 1 or not math.isfinite(pooled["lambda"]):
        out["fraction_missing_information"] = None
        out["notes"] = {"fraction_missing_information": "needs at least 2 imputations"}
    return out
