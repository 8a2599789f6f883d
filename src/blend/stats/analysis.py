"""Every analysis of `docs/contracts/analysis-dataset.md`, in one call.

`run_analysis(dataset, config, progress)` returns an `AnalysisResult`: `results`
(the JSON document, every contract key) and `artifacts` (curves, tables and
bootstrap replicates for the report and figures).
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from blend.stats import endpoints
from blend.stats.consort import check_consort, consort_counts
from blend.stats.dataset import TIMEPOINTS, AnalysisDataset
from blend.stats.linear import AncovaFitter, TwoStageLeastSquaresFitter, design_matrix
from blend.stats.mi import ChainedEquationsImputer, pool_rubin

if TYPE_CHECKING:
    import pandas as pd

MI_IMPUTE = ["pf_baseline", "pf_w2", "pf_w4", "pf_w12", "ql_baseline"]
MI_PREDICTORS = ["z", "age", "performance_status"]
LONGITUDINAL_TIMEPOINTS = ("w1", "w2", "w4", "w6", "w8", "w12", "m6", "m12")


@dataclass(frozen=True)
class AnalysisConfig:
    """Options of one analysis run (the `blend analyze` flags)."""

    seed: int = 20260701
    imputations: int = 20
    bootstrap: int = 5000
    horizon_days: int = 182
    tipping_deltas: tuple[int, ...] = tuple(range(0, 21))
    alpha: float = 0.05


@dataclass
class AnalysisResult:
    results: dict[str, Any]
    artifacts: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[str], None]


def run_analysis(ds: AnalysisDataset, config: AnalysisConfig | None = None,
                 progress: Progress | None = None) -> AnalysisResult:
    """Compute everything; `progress(step)` is called as each step starts.

    An analysis that the data cannot support (too few participants, no events, an
    empty arm at a timepoint) gets null values and a note in `meta.not_estimable`;
    the others still run, so an early interim dataset still gives a report.
    """
    config = config or AnalysisConfig()
    tick = progress or (lambda _step: None)
    wide = participant_frame(ds)
    strata = "stratum" if wide["stratum"].nunique() > 1 else None
    art: dict[str, Any] = {"wide": wide, "strata": strata, "config": config}
    notes: list[str] = []
    attempt = _Attempt(notes)
    tick("primary: ITT and CACE")
    cc = wide.dropna(subset=["pf_w4", "pf_baseline"])
    art["cc_ids"] = set(cc["study_id"])
    primary = {"itt": attempt("ITT", lambda: _itt(cc, strata, art), _effect_none(len(cc))),
               "cace": attempt("CACE", lambda: _cace(cc, strata, art), _effect_none(len(cc)))}
    consort = consort_counts(ds, wide["study_id"].isin(art["cc_ids"]).reindex(wide.index))
    for arm, z in (("intervention", 1), ("control", 0)):
        consort[arm]["follow_up"] = _follow_up(wide[wide["z"] == z], art["cc_ids"])
    check_consort(consort)
    tick("multiple imputation")
    primary["itt_mi"], art["tipping"] = attempt(
        "MI-ITT", lambda: _mi(wide, strata, config),
        ({**_effect_none(None), "df": None, "imputations": config.imputations}, []))
    primary["worst_rank"] = attempt("worst rank", lambda: endpoints.worst_rank(wide),
                                    {"statistic": None, "p": None, "n": len(wide)})
    tick("survival and competing risks")
    secondary = {
        "overall_survival": attempt("overall survival", lambda: _survival(wide, art),
                                    _FALLBACK["overall_survival"]),
        "systemic_therapy": attempt("systemic therapy", lambda: _systemic(wide, art),
                                    _FALLBACK["systemic_therapy"])}
    tick("pain, hospital days, adverse events")
    secondary["pain_response_w4"] = attempt(
        "pain response", lambda: endpoints.pain_response(wide), _FALLBACK["pain_response_w4"])
    secondary["hospital_days"] = attempt(
        "hospital days", lambda: endpoints.hospital_days(ds.participants),
        _FALLBACK["hospital_days"])
    _descriptives(ds, wide, art, secondary)
    tick("longitudinal model")
    secondary["pf_longitudinal"] = attempt(
        "longitudinal model", lambda: _longitudinal(wide, strata, art),
        {"model": LONGITUDINAL_MODEL, "arm_effect_by_timepoint": {}})
    tick("cost-effectiveness bootstrap")
    cea = attempt("cost-effectiveness", lambda: _cea(ds, wide, config, art), _cea_none(config))
    meta = {**_meta(ds, config), "not_estimable": notes}
    results = {"meta": meta, "consort": consort, "primary": primary,
               "secondary": secondary, "cea": cea,
               "sensitivity": {"tipping_point": art["tipping"],
                               "tipping_delta": _tipping_delta(art["tipping"], config.alpha)}}
    return AnalysisResult(results=_jsonable(results), artifacts=art)


class _Attempt:
    """Run one analysis; on a numerical impossibility, note it and return the fallback."""

    ERRORS = (ArithmeticError, ValueError, IndexError, np.linalg.LinAlgError)

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes

    def __call__(self, name: str, func: Callable[[], Any], fallback: Any) -> Any:
        try:
            # Degenerate data give NaN (null in results.json), not warnings on stderr.
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return func()
        except self.ERRORS as exc:
            self.notes.append(f"{name}: not estimable from these data ({type(exc).__name__}: "
                              f"{exc})")
            return fallback


def _effect_none(n: int | None) -> dict[str, Any]:
    return {"estimate": None, "se": None, "ci95": [None, None], "p": None, "n": n}


_ARMS_NONE = {"intervention": None, "control": None}
_FALLBACK: dict[str, Any] = {
    "overall_survival": {"median_days": _ARMS_NONE, "hr": None, "hr_ci95": [None, None],
                         "logrank_p": None},
    "systemic_therapy": {"cif_w4": _ARMS_NONE, "cif_w12": _ARMS_NONE, "cs_hr": None,
                         "cs_hr_ci95": [None, None]},
    "pain_response_w4": {"intervention": {"responders": None, "assessable": None},
                         "control": {"responders": None, "assessable": None},
                         "difference": None, "difference_ci95": [None, None]},
    "hospital_days": {"mean": _ARMS_NONE, "median": _ARMS_NONE, "p": None},
}


def _cea_none(config: AnalysisConfig) -> dict[str, Any]:
    return {"horizon_days": config.horizon_days, "qaly": {**_ARMS_NONE, "difference": None},
            "cost": {**_ARMS_NONE, "difference": None}, "icer": None,
            "inb": {"20000": None, "50000": None, "80000": None}, "ceac": [],
            "bootstrap": {"replicates": config.bootstrap, "seed": config.seed,
                          "delta_cost_ci95": [None, None], "delta_qaly_ci95": [None, None],
                          "inb_ci95": {"20000": [None, None], "50000": [None, None],
                                       "80000": [None, None]}, "quadrants": {}},
            "n": {"intervention": 0, "control": 0}}


# ----------------------------------------------------------------- data frame
def participant_frame(ds: AnalysisDataset) -> pd.DataFrame:
    """One row per randomized participant with the derived analysis variables."""
    p = ds.participants.copy()
    p["z"] = (p["arm"] == "intervention").astype(int)
    p["d"] = p["received_intervention"].astype(bool).astype(int)
    a = ds.assessments
    a = a[a["scale"].isin(["PF", "QL", "worst_pain", "omed", "index"])]
    values = a.set_index(["study_id", "scale", "timepoint"])["value"].unstack(["scale",
                                                                               "timepoint"])
    values.columns = [f"{s.lower()}_{t}" for s, t in values.columns]
    wanted = [f"{s.lower()}_{t}" for s in ("PF", "QL") for t in TIMEPOINTS]
    wanted += [f"{s}_{t}" for s in ("worst_pain", "omed", "index") for t in ("baseline", "w4")]
    values = values.reindex(columns=wanted)
    p = p.join(values, on="study_id")
    anchor = p["treatment_start"].fillna(p["randomized_on"])
    week4 = anchor + np.timedelta64(28, "D")
    p["died_before_w4"] = p["death_date"].notna() & (p["death_date"] <= week4)
    p["death_day"] = (p["death_date"] - p["randomized_on"]).dt.days
    p["stratum"] = p["stratum"].fillna("")
    return p


def _follow_up(arm: pd.DataFrame, analysed: set[str]) -> dict[str, int]:
    """Disjoint reasons for not being in the primary analysis (first that applies)."""
    out = ~arm["study_id"].isin(analysed)
    died = out & arm["died_before_w4"]
    no_w4 = out & ~died & arm["pf_w4"].isna()
    return {"died_before_w4": int(died.sum()), "alive_pf_w4_missing": int(no_w4.sum()),
            "pf_baseline_missing": int((out & ~died & ~no_w4).sum())}


# ------------------------------------------------------------------- primary
def _itt(cc: pd.DataFrame, strata: str | None, art: dict[str, Any]) -> dict[str, Any]:
    art["itt_fit"] = AncovaFitter().fit(cc, "pf_w4", ["z", "pf_baseline"], strata=strata)
    return art["itt_fit"].effect("z")


def _cace(cc: pd.DataFrame, strata: str | None, art: dict[str, Any]) -> dict[str, Any]:
    art["cace_fit"] = TwoStageLeastSquaresFitter().fit(cc, "pf_w4", "d", "z", ["pf_baseline"],
                                                       strata=strata)
    return art["cace_fit"].effect("d")


def _mi(wide: pd.DataFrame, strata: str | None, config: AnalysisConfig
        ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """MI-ITT among those alive at treatment_start + 28 days, with the δ tipping point."""
    alive = wide[~wide["died_before_w4"]].reset_index(drop=True)
    predictors = list(MI_PREDICTORS)
    frame = alive.copy()
    if strata:
        for level in sorted(alive[strata].unique())[1:]:
            frame[f"stratum_{level}"] = (alive[strata] == level).astype(float)
            predictors.append(f"stratum_{level}")
    imputer = ChainedEquationsImputer(config.imputations, seed=config.seed).fit(
        frame, MI_IMPUTE, predictors)
    missing_y = imputer.missing_[:, MI_IMPUTE.index("pf_w4")] & (frame["z"].to_numpy() == 1)
    deltas = np.asarray(config.tipping_deltas, float)
    est = np.empty((len(deltas), config.imputations))
    var = np.empty_like(est)
    df_complete = math.inf
    for i, data in enumerate(imputer.imputations_):
        frame[MI_IMPUTE] = data
        x, names = design_matrix(frame, ["z", "pf_baseline"], strata)
        y = frame["pf_w4"].to_numpy()[:, None] - missing_y[:, None] * deltas[None, :]
        beta, se = _ols_many(x, y)
        est[:, i], var[:, i] = beta[names.index("z")], se[names.index("z")] ** 2
        df_complete = len(frame) - x.shape[1]
    pooled = [pool_rubin(est[j], var[j], df_complete) for j in range(len(deltas))]
    main = pooled[int(np.flatnonzero(deltas == 0)[0])] if 0 in deltas else pooled[0]
    itt_mi = {k: main[k] for k in ("estimate", "se", "ci95", "p", "df", "imputations")}
    itt_mi.update({"n": len(frame), "excluded_dead_by_w4": int(wide["died_before_w4"].sum()),
                   "fraction_missing_information": main["lambda"]})
    tipping = [{"delta": float(d), **{k: r[k] for k in ("estimate", "ci95", "p")}}
               for d, r in zip(deltas, pooled, strict=True)]
    return itt_mi, tipping


def _tipping_delta(rows: list[dict[str, Any]], alpha: float) -> float | None:
    """The smallest δ at which significance at `alpha` differs from δ = 0 (None if never)."""
    significant = [r["p"] < alpha for r in rows]
    changed = [r["delta"] for r, sig in zip(rows, significant, strict=True) if sig != significant[0]]
    return changed[0] if changed else None


def _ols_many(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficients and classical SEs for several outcome columns at once."""
    q, r = np.linalg.qr(x)
    beta = np.linalg.solve(r, q.T @ y)
    resid = y - x @ beta
    sigma2 = (resid**2).sum(axis=0) / (x.shape[0] - x.shape[1])
    r_inv = np.linalg.inv(r)
    return beta, np.sqrt(np.outer(np.sum(r_inv**2, axis=1), sigma2))


# ------------------------------------------------------------------- survival
def _survival(wide: pd.DataFrame, art: dict[str, Any]) -> dict[str, Any]:
    from blend.stats.survival import CoxPHFitter, KaplanMeierFitter, logrank_test

    days = (wide["last_contact"] - wide["randomized_on"]).dt.days.to_numpy(float)
    dead = wide["death_date"].notna().to_numpy()
    z = wide["z"].to_numpy()
    km = {arm: KaplanMeierFitter().fit(days[z == v], dead[z == v])
          for arm, v in (("intervention", 1), ("control", 0))}
    cox = CoxPHFitter().fit(days, dead, z)
    art["km"] = km
    return {
        "median_days": {arm: f.median_ for arm, f in km.items()},
        "hr": float(cox.hazard_ratio_[0]), "hr_ci95": cox.hr_ci(0),
        "logrank_p": logrank_test(days, dead, z == 1)["p"],
        "deaths": {"intervention": int(dead[z == 1].sum()), "control": int(dead[z == 0].sum())},
    }


def _systemic(wide: pd.DataFrame, art: dict[str, Any]) -> dict[str, Any]:
    """Time from treatment_start to systemic restart; death first is the competing event."""
    from blend.stats.survival import CoxPHFitter, cumulative_incidence, value_at

    t = wide[wide["treatment_start"].notna()]
    restart = t["systemic_restart_date"].notna()
    dead = t["death_date"].notna()
    end = t["systemic_restart_date"].where(restart, t["death_date"].where(dead, t["last_contact"]))
    days = (end - t["treatment_start"]).dt.days.to_numpy(float)
    status = np.where(restart, 1, np.where(dead, 2, 0))
    z = t["z"].to_numpy()
    curves = {arm: cumulative_incidence(days[z == v], status[z == v])
              for arm, v in (("intervention", 1), ("control", 0))}
    art["cif"] = curves
    cox = CoxPHFitter().fit(days, status == 1, z)
    return {"cif_w4": {a: value_at(*c, 28) for a, c in curves.items()},
            "cif_w12": {a: value_at(*c, 84) for a, c in curves.items()},
            "cs_hr": float(cox.hazard_ratio_[0]), "cs_hr_ci95": cox.hr_ci(0), "n": len(t),
            "restarts": int(restart.sum()), "competing_deaths": int((~restart & dead).sum())}


# ----------------------------------------------------------- descriptives
def _descriptives(ds: AnalysisDataset, wide: pd.DataFrame, art: dict[str, Any],
                  secondary: dict[str, Any]) -> None:
    p = ds.participants.assign(
        treatment_received=np.where(ds.participants["received_intervention"].astype(bool),
                                    "same-day", "standard"))
    secondary["adverse_events"] = {
        "by_arm": endpoints.ae_summary(p, ds.adverse_events, "arm"),
        "by_treatment_received": endpoints.ae_summary(p, ds.adverse_events, "treatment_received"),
    }
    art["ae_terms"] = endpoints.ae_by_term(p, ds.adverse_events)
    compliance = endpoints.prom_compliance(p, ds.assessments, ds.meta["period_end"])
    art["compliance"] = compliance
    secondary["prom_compliance"] = compliance.to_dict(orient="records")
    c15 = ds.assessments[ds.assessments["instrument"] == "qlq-c15-pal"]
    scores = c15.assign(arm=c15["study_id"].map(p.set_index("study_id")["arm"]))
    art["scales"] = endpoints.scales_over_time(scores)
    art["table1"] = endpoints.table_one(wide)
    secondary["offer_groups"] = endpoints.offer_groups(wide)


LONGITUDINAL_MODEL = ("PF ~ PF_baseline + strata + timepoint + arm:timepoint, random intercept "
                      "per participant (REML)")


def _longitudinal(wide: pd.DataFrame, strata: str | None, art: dict[str, Any]
                  ) -> dict[str, Any]:
    """Random-intercept model of post-baseline PF: baseline PF, strata, time, arm × time."""
    from blend.stats.longitudinal import RandomInterceptModel

    cols = [f"pf_{t}" for t in LONGITUDINAL_TIMEPOINTS]
    base = wide.dropna(subset=["pf_baseline"])
    long = base.melt(id_vars=["study_id", "z", "pf_baseline", "stratum"], value_vars=cols,
                     var_name="tp", value_name="pf").dropna(subset=["pf"])
    covariates = ["pf_baseline"]
    for t in LONGITUDINAL_TIMEPOINTS[1:]:
        long[f"time_{t}"] = (long["tp"] == f"pf_{t}").astype(float)
        covariates.append(f"time_{t}")
    for t in LONGITUDINAL_TIMEPOINTS:
        long[f"arm_{t}"] = ((long["tp"] == f"pf_{t}") & (long["z"] == 1)).astype(float)
        covariates.append(f"arm_{t}")
    # A timepoint without data in an arm has no estimable effect: drop empty columns.
    covariates = [c for c in covariates if long[c].to_numpy().any()]
    x, names = design_matrix(long, covariates, strata)
    fit = RandomInterceptModel().fit(x, long["pf"].to_numpy(float), long["study_id"], names)
    art["longitudinal"] = fit
    table = fit.summary
    return {"model": LONGITUDINAL_MODEL,
            "observations": len(long), "participants": int(long["study_id"].nunique()),
            "sigma2": fit.sigma2_, "tau2": fit.tau2_,
            "arm_effect_by_timepoint": {
                t: {"estimate": float(table.loc[f"arm_{t}", "estimate"]),
                    "se": float(table.loc[f"arm_{t}", "se"]),
                    "ci95": [float(table.loc[f"arm_{t}", "lower"]),
                             float(table.loc[f"arm_{t}", "upper"])]}
                for t in LONGITUDINAL_TIMEPOINTS if f"arm_{t}" in table.index}}


# ----------------------------------------------------------------------- CEA
def _cea(ds: AnalysisDataset, wide: pd.DataFrame, config: AnalysisConfig,
         art: dict[str, Any]) -> dict[str, Any]:
    from blend.stats import cea

    frame = wide[["study_id", "z"]].copy()
    frame["qaly"] = cea.qalys(ds.participants, ds.assessments, config.horizon_days).to_numpy()
    frame["cost"] = cea.costs(ds.participants, ds.costs).to_numpy()
    fit = cea.CostEffectivenessAnalysis(config.bootstrap, config.seed).fit(frame)
    art["cea"] = fit
    return {"horizon_days": config.horizon_days,
            "qaly": {**fit.mean_qaly_, "difference": fit.delta_qaly_},
            "cost": {**fit.mean_cost_, "difference": fit.delta_cost_},
            "icer": fit.icer_, "inb": {str(k): v for k, v in fit.inb_.items()},
            "ceac": fit.ceac(), "bootstrap": fit.bootstrap_summary(), "n": fit.n_}


# ----------------------------------------------------------------------- meta
def _meta(ds: AnalysisDataset, config: AnalysisConfig) -> dict[str, Any]:
    from importlib import metadata

    try:
        version = metadata.version("blend-trial")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"blend_version": version, "dataset_sha256": ds.sha256, "seed": config.seed,
            "imputations": config.imputations, "bootstrap": config.bootstrap,
            "horizon_days": config.horizon_days, "data_warnings": list(ds.warnings),
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def _jsonable(value: Any) -> Any:
    """Plain JSON types; NaN and infinities become null."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
