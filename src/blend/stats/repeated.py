"""PF over all post-baseline visits: the MMRM (primary longitudinal model) and the
random-intercept model (sensitivity).

Both use the visits that have PF data; a visit where one arm has no PF has no arm
effect (listed in `not_estimable_timepoints` with the reason) instead of an effect
made up by collinear columns. The random-intercept model takes the first visit with
data as its reference level (it used to be `w1` always, which made the time dummies
collinear with the intercept when nobody had PF at w1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from blend.stats.errors import NotEstimable
from blend.stats.linear import design_matrix, drop_aliased
from blend.stats.longitudinal import RandomInterceptModel
from blend.stats.mmrm import MixedModelRepeatedMeasures

if TYPE_CHECKING:
    import pandas as pd

TIMEPOINTS = ("w1", "w2", "w4", "w6", "w8", "w12", "m6", "m12")
RANDOM_INTERCEPT_MODEL = (
    "PF ~ PF_baseline + strata + timepoint + arm:timepoint, random intercept per participant (REML)"
)
MMRM_MODEL = (
    "PF ~ timepoint + arm:timepoint + PF_baseline:timepoint + strata, unstructured "
    "covariance over timepoints (REML), Satterthwaite df"
)


def long_frame(wide: pd.DataFrame) -> pd.DataFrame:
    """One row per participant × post-baseline visit with PF (baseline PF required)."""
    base = wide.dropna(subset=["pf_baseline"])
    long = base.melt(
        id_vars=["study_id", "z", "pf_baseline", "stratum"],
        value_vars=[f"pf_{t}" for t in TIMEPOINTS],
        var_name="tp",
        value_name="pf",
    ).dropna(subset=["pf"])
    long["tp"] = long["tp"].str.removeprefix("pf_")
    return long.reset_index(drop=True)


def visits_without_arm_effect(long: pd.DataFrame) -> dict[str, str]:
    """Visits with PF data where one arm has none: no arm effect there, and why."""
    out = {}
    for t in TIMEPOINTS:
        arms = set(long.loc[long["tp"] == t, "z"])
        if arms and arms != {0, 1}:
            missing = "control" if 1 in arms else "intervention"
            out[t] = f"no {missing} participant has PF at {t}"
    return out


def visits_with_data(long: pd.DataFrame) -> list[str]:
    present = set(long["tp"])
    return [t for t in TIMEPOINTS if t in present]


# --------------------------------------------------------------- random intercept
def random_intercept(long: pd.DataFrame, strata: str | None, art: dict[str, Any]) -> dict[str, Any]:
    visits = visits_with_data(long)
    if not visits:
        raise NotEstimable("no post-baseline PF with a baseline PF")
    skipped = visits_without_arm_effect(long)
    frame = long.copy()
    covariates = ["pf_baseline"]
    for t in visits[1:]:  # the first visit with data is the reference level
        frame[f"time_{t}"] = (frame["tp"] == t).astype(float)
        covariates.append(f"time_{t}")
    for t in visits:
        if t not in skipped:
            frame[f"arm_{t}"] = ((frame["tp"] == t) & (frame["z"] == 1)).astype(float)
            covariates.append(f"arm_{t}")
    x, names = design_matrix(frame, covariates, strata)
    x, names, _ = drop_aliased(x, names, [c for c in covariates if c.startswith("arm_")])
    if frame["study_id"].nunique() < 2 or len(frame) <= x.shape[1]:
        raise NotEstimable("too few participants or observations for the model")
    fit = RandomInterceptModel().fit(x, frame["pf"].to_numpy(float), frame["study_id"], names)
    art["longitudinal"] = fit
    table = fit.summary
    return {
        "model": RANDOM_INTERCEPT_MODEL,
        "role": "sensitivity",
        "reference_timepoint": visits[0],
        "observations": len(frame),
        "participants": int(frame["study_id"].nunique()),
        "sigma2": fit.sigma2_,
        "tau2": fit.tau2_,
        "arm_effect_by_timepoint": {
            t: {
                "estimate": _cell(table, f"arm_{t}", "estimate"),
                "se": _cell(table, f"arm_{t}", "se"),
                "ci95": [_cell(table, f"arm_{t}", "lower"), _cell(table, f"arm_{t}", "upper")],
            }
            for t in visits
            if f"arm_{t}" in table.index
        },
        "not_estimable_timepoints": skipped,
    }


# --------------------------------------------------------------------------- MMRM
MIN_PER_VISIT = 5  # a visit's own intercept, arm and baseline slope, and its variance
MIN_PER_PAIR = 2  # participants seen at both visits, for their covariance


def mmrm_visits(long: pd.DataFrame) -> tuple[list[str], dict[str, str]]:
    """Visits the unstructured covariance can be estimated on, and why others are out.

    A visit needs MIN_PER_VISIT PF values; two visits need MIN_PER_PAIR participants
    seen at both (otherwise their covariance is not identified and REML is flat): the
    sparser visit of such a pair is left out, until every pair is covered.
    """
    counts = long["tp"].value_counts()
    visits = [t for t in visits_with_data(long) if counts[t] >= MIN_PER_VISIT]
    out = {
        t: f"{counts[t]} PF value(s) at {t}: too few for an unstructured covariance"
        for t in visits_with_data(long)
        if t not in visits
    }
    seen = long.assign(one=1).pivot_table(
        index="study_id", columns="tp", values="one", fill_value=0
    )
    while len(visits) > 1:
        joint = seen[visits].T @ seen[visits]
        bad = [
            (a, b)
            for i, a in enumerate(visits)
            for b in visits[i + 1 :]
            if _cell(joint, a, b) < MIN_PER_PAIR
        ]
        if not bad:
            break
        a, b = bad[0]
        gone, other = (a, b) if counts[a] < counts[b] else (b, a)
        out[gone] = (
            f"seen together with {other} in fewer than {MIN_PER_PAIR} participants: "
            "their covariance is not identified"
        )
        visits.remove(gone)
    return visits, out


def mmrm(long: pd.DataFrame, strata: str | None, art: dict[str, Any]) -> dict[str, Any]:
    """The MMRM over the visits whose covariance is estimable (`blend.stats.mmrm`)."""
    visits, sparse = mmrm_visits(long)
    if not visits:
        raise NotEstimable(
            "no visit has enough post-baseline PF (with a baseline PF) for an "
            "unstructured covariance"
        )
    long = long[long["tp"].isin(visits)].reset_index(drop=True)
    skipped = {**sparse, **visits_without_arm_effect(long)}
    x, names = mmrm_design(long, visits, skipped, strata)
    x, names, dropped = drop_aliased(x, names, [f"arm_{t}" for t in visits if t not in skipped])
    visit_index = long["tp"].map({t: i for i, t in enumerate(visits)}).to_numpy()
    fit = MixedModelRepeatedMeasures().fit(
        x, long["pf"].to_numpy(float), long["study_id"], visit_index, names
    )
    art["mmrm"] = fit
    effects = {t: fit.effect(f"arm_{t}") for t in visits if f"arm_{t}" in names}
    sd = np.sqrt(np.diag(fit.covariance_))
    return {
        "model": MMRM_MODEL,
        "role": "primary longitudinal model",
        "covariance": "unstructured",
        "df_method": "Satterthwaite",
        "timepoints": visits,
        "observations": len(long),
        "participants": int(long["study_id"].nunique()),
        "arm_effect_by_timepoint": effects,
        "not_estimable_timepoints": skipped,
        "residual_sd_by_timepoint": dict(zip(visits, sd.tolist(), strict=True)),
        "correlation": (fit.covariance_ / np.outer(sd, sd)).tolist(),
        "dropped_terms": dropped,
        "iterations": fit.iterations_,
    }


def mmrm_design(
    long: pd.DataFrame, visits: list[str], skipped: dict[str, str], strata: str | None
) -> tuple[np.ndarray, list[str]]:
    """Cell-means coding: per visit an intercept, an arm effect (where estimable) and a
    baseline slope; strata as main effects. R: `0 + tp + tp:z + tp:pf_baseline + stratum`."""
    tp = long["tp"].to_numpy()
    columns, names = [], []
    for prefix, values in (
        ("visit", None),
        ("arm", long["z"].to_numpy(float)),
        ("baseline", long["pf_baseline"].to_numpy(float)),
    ):
        for t in visits:
            if prefix == "arm" and t in skipped:
                continue
            column = (tp == t).astype(float)
            columns.append(column if values is None else column * values)
            names.append(f"{prefix}_{t}")
    x = np.column_stack(columns)
    if strata is not None:
        dummies, dummy_names = design_matrix(long, [], strata)
        x = np.hstack([x, dummies[:, 1:]])
        names += dummy_names[1:]
    return x, names


def _cell(table: pd.DataFrame, row: Any, column: Any) -> float:
    """One number of a table (``.loc`` is typed as any scalar, which float() does not take)."""
    return float(np.asarray(table.loc[row, column], dtype=float))
