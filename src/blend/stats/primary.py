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


# ------------------------------------------------------------ pain response (binary)
RISK_DIFFERENCE_CI = "Newcombe hybrid score interval (method 10; Wilson score limits per arm)"
RISK_DIFFERENCE_TEST = "two-proportion z test, pooled variance (R prop.test, correct = FALSE)"
PAIN_MISSING_RULE = (
    "assessable participants (baseline worst pain ≥ 2 with a baseline OMED) without a pain "
    "score and OMED at the primary timepoint (dead, withdrawn, not returned) count as "
    "non-responders: the ITT composite of analysis-methods.md §2.5; complete_case leaves "
    "them out"
)


def pain_response_sample(wide: pd.DataFrame, timepoint: str) -> pd.DataFrame:
    """The assessable participants with `category` and `response` (1 = CR or PR, 0 otherwise,
    missing counted 0) and `observed` (pain and OMED present at `timepoint`)."""
    from blend.stats.endpoints import pain_categories

    sub = pain_categories(wide, timepoint)
    return sub.assign(
        response=sub["category"].isin(["CR", "PR"]).astype(int),
        observed=(sub["category"] != "missing").astype(int),
    )


def risk_difference(sample: pd.DataFrame, outcome: str = "response") -> dict[str, Any]:
    """Intervention − control proportion of `outcome` = 1, with Newcombe's CI.

    `se` is the unpooled Wald SE √(p₁(1−p₁)/n₁ + p₀(1−p₀)/n₀); `p` is the pooled
    two-proportion z test (R `prop.test(x, n, correct = FALSE)`); `ci95` is Newcombe's
    hybrid score interval, which, unlike the Wald interval, stays inside [−1, 1] and
    behaves at 0 or 100% responders.
    """
    from blend.stats.distributions import norm_two_sided_p
    from blend.stats.endpoints import newcombe_difference

    counts: dict[str, tuple[int, int]] = {}
    for arm, z in ARMS:
        y = sample.loc[sample["z"] == z, outcome].to_numpy(int)
        if len(y) == 0:
            raise NotEstimable(f"no {arm} participant is in the pain-response sample")
        counts[arm] = (int(y.sum()), len(y))
    (x1, n1), (x0, n0) = counts["intervention"], counts["control"]
    p1, p0 = x1 / n1, x0 / n0
    pooled = (x1 + x0) / (n1 + n0)
    if pooled in (0.0, 1.0):
        raise NotEstimable(
            "every participant in the sample is a "
            + ("responder" if pooled else "non-responder")
            + ", so the difference has no variance to test"
        )
    difference, ci = newcombe_difference(x1, n1, x0, n0)
    z_stat = difference / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    return {
        "estimate": difference,
        "se": math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0),
        "ci95": ci,
        "p": norm_two_sided_p(z_stat),
        "n": n1 + n0,
        "proportion": {"intervention": p1, "control": p0},
        "responders": {"intervention": x1, "control": x0},
        "denominator": {"intervention": n1, "control": n0},
        "ci_method": RISK_DIFFERENCE_CI,
        "test": RISK_DIFFERENCE_TEST,
    }


def pain_itt(wide: pd.DataFrame, timepoint: str) -> dict[str, Any]:
    """ITT risk difference of pain response at `timepoint` (missing = non-responder)."""
    sample = pain_response_sample(wide, timepoint)
    require_both_arms(sample, "a baseline worst pain ≥ 2 (assessable for pain response)")
    require_both_arms(
        sample[sample["observed"] == 1],
        f"pain and OMED at {timepoint} among the assessable (the arm's responders would "
        "all be imputed non-responders)",
    )
    out = risk_difference(sample)
    out["missing_as_non_responder"] = {
        arm: int(((sample["z"] == z) & (sample["observed"] == 0)).sum()) for arm, z in ARMS
    }
    out["categories"] = {
        arm: sample.loc[sample["z"] == z, "category"].value_counts().to_dict() for arm, z in ARMS
    }
    out["missing_rule"] = PAIN_MISSING_RULE
    return out


def pain_complete_case(wide: pd.DataFrame, timepoint: str) -> dict[str, Any]:
    """The same difference among the assessable with an observed response ("evaluable")."""
    sample = pain_response_sample(wide, timepoint)
    observed = sample[sample["observed"] == 1]
    require_both_arms(observed, f"pain and OMED at {timepoint} among the assessable")
    return risk_difference(observed)


def pain_iv(
    wide: pd.DataFrame, timepoint: str, strata: str | None, art: dict[str, Any]
) -> dict[str, Any]:
    """2SLS (linear probability model) of response on receipt, instrumented by allocation.

    Same sample and outcome as the ITT (assessable, missing = non-responder); the
    intercept and stratum indicators (when the design has strata) are exogenous. HC1
    robust SEs with t on n − k df; the classical first-stage F beside it, flagged weak
    below 10, as the CACE of PF.
    """
    sample = pain_response_sample(wide, timepoint)
    require_both_arms(sample, "a baseline worst pain ≥ 2 (assessable for pain response)")
    received = sample["d"].to_numpy()
    if received.min() == received.max():
        who = "every participant" if received.max() else "no participant"
        raise NotEstimable(
            f"{who} in the pain-response sample received the intervention, "
            "so receipt has no variation to instrument"
        )
    fit = TwoStageLeastSquaresFitter().fit(
        sample, "response", "d", "z", [], strata=strata, robust=True
    )
    art["pain_iv_fit"] = fit
    out = fit.effect("d")
    out["covariance"] = "HC1 (heteroskedasticity-consistent), t on n − k df"
    out["first_stage"] = fit.first_stage_
    if fit.first_stage_["weak"]:
        out["warning"] = (
            f"weak instrument: first-stage F = {fit.first_stage_['f_statistic']:.1f}"
            f" (below {WEAK_INSTRUMENT_F:g}); the IV estimate and its confidence "
            "interval are unreliable"
        )
    return out
