"""The cost-effectiveness analysis with its missing-data rules stated and counted.

Missing is never zero. A QALY is missing without a baseline EQ-5D-5L or when the
participant was alive and no longer followed before the horizon; a cost is missing
without cost rows; an empty costs.csv makes every cost-based result not estimable.
The default analysis imputes missing costs and QALYs by arm (chained equations with
predictive mean matching); complete case is the sensitivity analysis. `RULES` are
the rules as the report prints them, and `cea.counts` says how many participants
each touched.

Keys of `results["cea"]` besides the contract's (horizon_days, qaly, cost, icer,
inb, ceac, bootstrap): `method: str`, `rules: [str]`, `counts: {arm: {randomized,
qaly_complete, qaly_missing_no_eq5d, qaly_missing_no_baseline,
qaly_missing_censored, cost_complete, cost_missing_no_rows, complete_case}}`,
`n: {intervention, control}`, `quadrant: "NE" | "SE" | "SW" | "NW" | null`,
`quadrant_name: str`, `icer_statement: str`, `mi_pooled: {delta_cost, delta_qaly,
inb: {λ: …}}` with each `{estimate, se, ci95, df}` (Rubin), `imputations`,
`dropped_predictors`, and `complete_case` (the same shape as the main block, or
`{not_estimable}`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from blend.stats import cea
from blend.stats.errors import NotEstimable
from blend.stats.mi import ChainedEquationsImputer, usable_columns

if TYPE_CHECKING:
    import pandas as pd

    from blend.stats.dataset import AnalysisDataset

ARMS = (("intervention", 1), ("control", 0))
IMPUTED = ["cost", "qaly", "u0"]
PREDICTORS = ["age", "performance_status", "died_in_horizon"]
METHOD = (
    "multiple imputation by arm (chained equations, predictive mean matching) of "
    "missing costs and QALYs; complete case as sensitivity analysis"
)
RULES = [
    "QALYs: area under the EQ-5D-5L index curve from randomization (baseline at day 0) to the "
    "horizon, utility falling linearly to 0 at a death on or before the horizon.",
    "A QALY is complete when the baseline EQ-5D-5L is observed and the participant died on or "
    "before the horizon or was followed to it (last contact, and any withdrawal, on or after "
    "the horizon). Otherwise it is missing: no EQ-5D-5L, no baseline EQ-5D-5L, or alive and "
    "followed for less than the horizon. A truncated area is never counted as complete.",
    "Costs: the sum of amount_eur per participant. A participant without cost rows has a "
    "missing cost, not €0; a costs.csv without rows makes costs not estimable.",
    "Default analysis: missing costs, QALYs and baseline utilities are imputed separately in "
    "each arm (chained equations, predictive mean matching; predictors age, performance "
    "status and death within the horizon). Means and Rubin-pooled CIs average over the "
    "imputations; the bootstrap draws its replicates within each imputed dataset in equal "
    "shares and stacks them for the CE plane and the acceptability curve.",
    "Sensitivity analysis: complete case, the participants with both a complete QALY and a cost.",
]


class NotEstimableBlock(NotEstimable):
    """Not estimable, but with the parts that are known (rules, counts) to report."""

    def __init__(self, block: dict[str, Any], reason: str) -> None:
        super().__init__(reason)
        self.block = block


def cea_frame(ds: AnalysisDataset, wide: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """One row per participant: QALY (NaN unless complete), cost (NaN without rows), the
    reason of each, baseline utility and the imputation predictors."""
    p = ds.participants
    frame = wide[["study_id", "z", "age", "performance_status"]].copy()
    status = cea.qaly_status(p, ds.assessments, horizon_days).to_numpy()
    area = cea.qalys(p, ds.assessments, horizon_days).to_numpy()
    frame["qaly_status"] = status
    frame["qaly"] = np.where(status == cea.QALY_COMPLETE, area, np.nan)
    frame["cost"] = cea.costs(p, ds.costs).to_numpy()
    frame["u0"] = wide["index_baseline"].to_numpy(float)
    horizon = wide["randomized_on"] + np.timedelta64(horizon_days, "D")
    frame["died_in_horizon"] = (
        wide["death_date"].notna() & (wide["death_date"] <= horizon)
    ).astype(float)
    return frame.reset_index(drop=True)


def missing_counts(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    out = {}
    for arm, z in ARMS:
        a = frame[frame["z"] == z]
        status = a["qaly_status"]
        out[arm] = {
            "randomized": len(a),
            "qaly_complete": int((status == cea.QALY_COMPLETE).sum()),
            "qaly_missing_no_eq5d": int((status == cea.QALY_NO_EQ5D).sum()),
            "qaly_missing_no_baseline": int((status == cea.QALY_NO_BASELINE).sum()),
            "qaly_missing_censored": int((status == cea.QALY_CENSORED).sum()),
            "cost_complete": int(a["cost"].notna().sum()),
            "cost_missing_no_rows": int(a["cost"].isna().sum()),
            "complete_case": int((a["qaly"].notna() & a["cost"].notna()).sum()),
        }
    return out


def impute_by_arm(
    frame: pd.DataFrame, imputations: int, seed: int
) -> tuple[list[pd.DataFrame], list[dict[str, str]]]:
    """m completed copies of `frame`, each arm imputed on its own."""
    completed = [frame.copy() for _ in range(imputations)]
    dropped: list[dict[str, str]] = []
    for offset, (arm, z) in enumerate(ARMS):
        rows = (frame["z"] == z).to_numpy()
        part = frame[rows].reset_index(drop=True)
        for column, what in (("cost", "cost"), ("qaly", "complete QALY")):
            if part[column].notna().sum() == 0:
                raise NotEstimable(f"no {arm} participant has a {what}, so it cannot be imputed")
        impute, predictors, gone = usable_columns(part, IMPUTED, PREDICTORS, ("cost", "qaly"))
        impute = ["cost", "qaly", *[c for c in impute if c not in ("cost", "qaly")]]
        dropped += [{**d, "arm": arm} for d in gone if d["variable"] not in ("cost", "qaly")]
        imputer = ChainedEquationsImputer(imputations, seed=seed + offset).fit(
            part, impute, predictors
        )
        for i, data in enumerate(imputer.imputations_):
            completed[i].loc[rows, ["cost", "qaly"]] = data[:, :2]
    return completed, dropped


def analyse(
    ds: AnalysisDataset,
    wide: pd.DataFrame,
    horizon_days: int,
    bootstrap: int,
    seed: int,
    imputations: int,
    art: dict[str, Any],
) -> dict[str, Any]:
    """The `cea` block: MI by arm (default) with the complete-case sensitivity analysis."""
    frame = cea_frame(ds, wide, horizon_days)
    block: dict[str, Any] = {
        "horizon_days": horizon_days,
        "method": METHOD,
        "rules": RULES,
        "counts": missing_counts(frame),
    }
    if ds.costs.empty:
        raise NotEstimableBlock(
            block, "costs.csv has no rows: every cost is missing, and an empty cost file is not €0"
        )
    incomplete = frame[["cost", "qaly"]].isna().any(axis=None)
    frames, dropped = impute_by_arm(frame, imputations, seed) if incomplete else ([frame], [])
    fit = cea.CostEffectivenessAnalysis(bootstrap, seed).fit_imputed(frames)
    art["cea"] = fit
    block.update(summarise(fit))
    block.update({"imputations": len(frames) if incomplete else 0, "dropped_predictors": dropped})
    if not incomplete:
        block["method"] = METHOD + " (no cost or QALY was missing: both analyses coincide)"
    block["complete_case"] = _complete_case(frame, bootstrap, seed, art)
    return block


def summarise(fit: cea.CostEffectivenessAnalysis) -> dict[str, Any]:
    """The contract's keys plus the quadrant wording, from a fitted analysis."""
    q = cea.quadrant(fit.delta_qaly_, fit.delta_cost_)
    out: dict[str, Any] = {
        "qaly": {**fit.mean_qaly_, "difference": fit.delta_qaly_},
        "cost": {**fit.mean_cost_, "difference": fit.delta_cost_},
        "icer": fit.icer_,
        "quadrant": q,
        "quadrant_name": cea.QUADRANTS.get(q, "none") if q else "none",
        "icer_statement": cea.icer_statement(fit.delta_qaly_, fit.delta_cost_),
        "inb": {str(k): v for k, v in fit.inb_.items()},
        "ceac": fit.ceac(),
        "bootstrap": fit.bootstrap_summary(),
        "n": fit.n_,
        "mi_pooled": fit.pooled_,
    }
    notes: dict[str, str | None] = {}
    if q is None:
        notes.update(
            {"icer": "ΔQALY is exactly 0: the ICER is undefined", "quadrant": "ΔQALY is exactly 0"}
        )
    if fit.pooled_ is None:
        notes["mi_pooled"] = fit.pooled_note_
    if notes:
        out["notes"] = notes
    return out


def _complete_case(
    frame: pd.DataFrame, bootstrap: int, seed: int, art: dict[str, Any]
) -> dict[str, Any]:
    try:
        fit = cea.CostEffectivenessAnalysis(bootstrap, seed).fit(frame)
    except NotEstimable as exc:
        return {"not_estimable": exc.reason}
    art["cea_complete_case"] = fit
    out = summarise(fit)
    out.pop("mi_pooled")
    out.get("notes", {}).pop("mi_pooled", None)
    if out.get("notes") == {}:
        out.pop("notes")
    return out
