"""Every analysis of `docs/contracts/analysis-dataset.md`, in one call.

`run_analysis(dataset, config, progress)` returns an `AnalysisResult`: `results`
(the JSON document, every contract key) and `artifacts` (curves, tables and
bootstrap replicates for the report and figures).

Every estimate succeeds or fails on its own (`Estimation`). One the data cannot
support is null in `results.json`, never an unchecked number, and the reason is
given twice: in `meta.not_estimable` (a list of "<estimate>: not estimable from
these data (<reason>)" for the report's header) and beside the numbers, as
`not_estimable: "<reason>"` on a block that failed as a whole, or as
`notes: {"<key path>": "<reason>"}` on the block when only some of its values are
null (e.g. `secondary.overall_survival.notes["median_days.control"]` when the median
is not reached). `unexplained_nulls(results)` lists any null without such a reason;
the property test requires it to be empty for every contract-valid dataset.

Keys added to the contract's (shapes; the report can show them):

- `primary.measure`, `primary.timepoint`, `primary.analysis`, `primary.estimands`: the
  dataset's primary outcome (contract 1.1, or BLEND's implied one); each estimand is a
  key of `primary`. A `pain_response` primary has `primary.itt`, `primary.complete_case`
  and `primary.iv` (or `cace`) instead of the PF blocks (see `primary.pain_itt`), and
  no `sensitivity`. `meta.trial` and `meta.contract_version` name the dataset.

- `primary.itt` / `primary.cace`: `dropped_terms: [str]` when an aliased nuisance
  term (a stratum level) was dropped as `lm` does.
- `primary.cace.first_stage`: `{f_statistic, df: [1, n − k], p, partial_r2, weak}`
  (the F of the instrument in the first stage; `weak` is F < 10) and
  `primary.cace.warning: str`, present only when the instrument is weak.
- `primary.itt_mi`: `n`, `excluded_dead_by_w4`, `fraction_missing_information`,
  `imputed_pf_w4`, `dropped_predictors: [{variable, reason}]` (constant, empty or
  collinear variables removed from the imputation model, as mice does).
- `primary.worst_rank`: `randomized`, `ranked`, `excluded_alive_without_pf_w4`,
  `deaths_ranked`, `rule: str` (`n` is the number ranked, `excluded` kept as before).
- `sensitivity`: `tipping_point: [{delta, shift, estimate, ci95, p}]`,
  `tipping_delta`, `tipping_delta_mcse`, `tipping_direction: str`,
  `tipping_rule: str` (see `blend.stats.tipping`).
- `secondary.overall_survival.deaths: {intervention, control}`; a null median has
  `notes["median_days.<arm>"]` ("not reached: …").
- `secondary.systemic_therapy`: `n`, `restarts`, `competing_deaths`,
  `fine_gray: {shr, shr_ci95: [lo, hi], p, se_log_shr, model}`; a null CIF has
  `notes["cif_w12.<arm>"]` (nobody followed that long).
- `secondary.pain_response_w4.<arm>`: `categories`, `observed_w4`.
- `secondary.pf_mmrm` (primary longitudinal model): `{model, role, covariance:
  "unstructured", df_method: "Satterthwaite", timepoints: [str], observations,
  participants, arm_effect_by_timepoint: {t: {estimate, se, df, ci95, p}},
  not_estimable_timepoints: {t: reason}, residual_sd_by_timepoint: {t: sd},
  correlation: [[r]] (over `timepoints`), dropped_terms: [str], iterations}`.
- `secondary.pf_longitudinal` (random-intercept model): adds `role: "sensitivity"`,
  `reference_timepoint` and `not_estimable_timepoints: {t: reason}`.
- `secondary.prom_compliance[i].notes.compliance` when nothing was expected.
- `cea`: see `blend.stats.costeffectiveness` (`method`, `rules`, `counts`,
  `quadrant`, `quadrant_name`, `icer_statement`, `mi_pooled`, `imputations`,
  `dropped_predictors`, `complete_case`).
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from blend.stats import costeffectiveness, endpoints, primary, repeated, timetoevent
from blend.stats.consort import check_consort, consort_counts
from blend.stats.dataset import TIMEPOINTS, AnalysisDataset
from blend.stats.errors import NotEstimable
from blend.stats.tipping import tipping_analysis

if TYPE_CHECKING:
    import pandas as pd


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


def run_analysis(
    ds: AnalysisDataset, config: AnalysisConfig | None = None, progress: Progress | None = None
) -> AnalysisResult:
    """Compute everything; `progress(step)` is called as each step starts."""
    config = config or AnalysisConfig()
    tick = progress or (lambda _step: None)
    outcome = ds.primary_outcome
    wide = participant_frame(ds)
    strata = "stratum" if wide["stratum"].nunique() > 1 else None
    art: dict[str, Any] = {
        "wide": wide,
        "strata": strata,
        "config": config,
        "trial": ds.trial,
        "arm_labels": dict(ds.meta["arm_labels"]),
        "primary_outcome": outcome,
    }
    est = Estimation()
    results: dict[str, Any] = {}
    if outcome["measure"] == "pf":
        _pf_primary(ds, wide, strata, config, art, est, results, tick)
    else:
        _pain_primary(ds, wide, strata, art, est, results, tick)
    tick("survival and competing risks")
    results["secondary"] = {
        "overall_survival": timetoevent.overall_survival(wide, art, est),
        "systemic_therapy": timetoevent.systemic_therapy(wide, art, est),
    }
    tick("pain, hospital days, adverse events")
    _secondary_endpoints(ds, wide, art, est, results["secondary"])
    tick("longitudinal model")
    _longitudinal(wide, strata, art, est, results["secondary"])
    tick("cost-effectiveness bootstrap")
    results["cea"] = est.block(
        "cost-effectiveness", lambda: _cea(ds, wide, config, art), _cea_none(config)
    )
    results["cea"].update(art.pop("cea_known", {}))
    results["meta"] = {**_meta(ds, config), "not_estimable": est.notes}
    return AnalysisResult(results=_jsonable(results), artifacts=art)


def _descriptor(outcome: dict[str, Any]) -> dict[str, Any]:
    """The generic head of `results["primary"]`: which outcome, analysis and estimands
    (each estimand is a key of `results["primary"]`)."""
    return {k: outcome[k] for k in ("measure", "timepoint", "analysis", "estimands")}


def _pf_primary(
    ds: AnalysisDataset,
    wide: pd.DataFrame,
    strata: str | None,
    config: AnalysisConfig,
    art: dict[str, Any],
    est: Estimation,
    results: dict[str, Any],
    tick: Progress,
) -> None:
    """BLEND's primary: PF at w4, ITT ANCOVA, CACE, MI-ITT, tipping point, worst rank."""
    tick("primary: ITT and CACE")
    cc = wide.dropna(subset=["pf_w4", "pf_baseline"])
    art["cc_ids"] = set(cc["study_id"])
    results["primary"] = {
        **_descriptor(ds.primary_outcome),
        "itt": est.block("ITT", lambda: primary.itt(cc, strata, art), _effect_none(len(cc))),
        "cace": est.block("CACE", lambda: primary.cace(cc, strata, art), _effect_none(len(cc))),
    }
    results["consort"] = _consort(ds, wide, art["cc_ids"])
    tick("multiple imputation")
    results["primary"]["itt_mi"] = est.block(
        "MI-ITT",
        lambda: primary.multiple_imputation(wide, strata, config.imputations, config.seed, art),
        {**_effect_none(None), "df": None, "imputations": config.imputations},
    )
    results["sensitivity"] = est.block(
        "tipping point",
        lambda: _tipping(art, config),
        {"tipping_point": [], "tipping_delta": None, "tipping_delta_mcse": None},
    )
    results["primary"]["worst_rank"] = est.block(
        "worst rank",
        lambda: endpoints.worst_rank(wide),
        {"statistic": None, "p": None, "n": len(wide)},
    )


def _pain_primary(
    ds: AnalysisDataset,
    wide: pd.DataFrame,
    strata: str | None,
    art: dict[str, Any],
    est: Estimation,
    results: dict[str, Any],
    tick: Progress,
) -> None:
    """A pain-response primary: ITT risk difference, complete case, and 2SLS (iv/cace)."""
    outcome = ds.primary_outcome
    timepoint = outcome["timepoint"]
    tick(f"primary: pain response at {timepoint}")
    sample = primary.pain_response_sample(wide, timepoint)
    art["cc_ids"] = set(sample["study_id"])
    n = len(sample)
    block: dict[str, Any] = {
        **_descriptor(outcome),
        "itt": est.block("ITT", lambda: primary.pain_itt(wide, timepoint), _effect_none(n)),
        "complete_case": est.block(
            "complete case",
            lambda: primary.pain_complete_case(wide, timepoint),
            _effect_none(int(sample["observed"].sum())),
        ),
    }
    for estimand in outcome["estimands"]:
        if estimand != "itt":
            block[estimand] = est.block(
                estimand.upper(),
                lambda: primary.pain_iv(wide, timepoint, strata, art),
                _effect_none(n),
            )
    results["primary"] = block
    consort = consort_counts(ds, wide["study_id"].isin(art["cc_ids"]).reindex(wide.index))
    for arm, z in (("intervention", 1), ("control", 0)):
        part = wide[(wide["z"] == z) & ~wide["study_id"].isin(art["cc_ids"])]
        no_baseline = part["worst_pain_baseline"].isna() | part["omed_baseline"].isna()
        consort[arm]["follow_up"] = {
            "baseline_pain_below_2": int((~no_baseline).sum()),
            "baseline_pain_or_omed_missing": int(no_baseline.sum()),
        }
    check_consort(consort)
    results["consort"] = consort


class Estimation:
    """Runs each estimate on its own: what the data cannot support becomes null + reason."""

    ERRORS = (ArithmeticError, ValueError, IndexError, np.linalg.LinAlgError)

    def __init__(self) -> None:
        self.notes: list[str] = []

    def run(self, label: str, func: Callable[[], Any]) -> tuple[Any, str | None]:
        """(value, None), or (None, reason) with the reason noted under `label`."""
        try:
            # Degenerate data give NaN (null in results.json), not warnings on stderr.
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return func(), None
        except NotEstimable as exc:
            reason = exc.reason
        except self.ERRORS as exc:
            reason = f"{type(exc).__name__}: {exc}"
        self.notes.append(f"{label}: not estimable from these data ({reason})")
        return None, reason

    def block(
        self, label: str, func: Callable[[], dict[str, Any]], fallback: dict[str, Any]
    ) -> dict[str, Any]:
        """A whole result block, or `fallback` with `not_estimable: reason`."""
        value, reason = self.run(label, func)
        return value if reason is None else {**fallback, "not_estimable": reason}

    def fields(
        self,
        block: dict[str, Any],
        label: str,
        fallback: dict[str, Any],
        func: Callable[[], dict[str, Any]],
    ) -> None:
        """Some keys of `block` from `func()`, or their `fallback` with a note per key."""
        value, reason = self.run(label, func)
        if reason is None:
            block.update(value)
        else:
            block.update(fallback)
            block.setdefault("notes", {}).update({key: reason for key in fallback})


def _effect_none(n: int | None) -> dict[str, Any]:
    return {"estimate": None, "se": None, "ci95": [None, None], "p": None, "n": n}


_ARMS_NONE = {"intervention": None, "control": None}
_FALLBACK: dict[str, Any] = {
    "pain_response_w4": {
        "intervention": {"responders": None, "assessable": None},
        "control": {"responders": None, "assessable": None},
        "difference": None,
        "difference_ci95": [None, None],
    },
    "hospital_days": {"mean": _ARMS_NONE, "median": _ARMS_NONE, "p": None},
}


def _cea_none(config: AnalysisConfig) -> dict[str, Any]:
    return {
        "horizon_days": config.horizon_days,
        "qaly": {**_ARMS_NONE, "difference": None},
        "cost": {**_ARMS_NONE, "difference": None},
        "icer": None,
        "inb": {"20000": None, "50000": None, "80000": None},
        "ceac": [],
        "bootstrap": {
            "replicates": config.bootstrap,
            "seed": config.seed,
            "delta_cost_ci95": [None, None],
            "delta_qaly_ci95": [None, None],
            "inb_ci95": {"20000": [None, None], "50000": [None, None], "80000": [None, None]},
            "quadrants": {},
        },
        "n": {"intervention": 0, "control": 0},
    }


# ----------------------------------------------------------------- data frame
def participant_frame(ds: AnalysisDataset) -> pd.DataFrame:
    """One row per randomized participant with the derived analysis variables."""
    p = ds.participants.copy()
    p["z"] = (p["arm"] == "intervention").astype(int)
    p["d"] = p["received_intervention"].astype(bool).astype(int)
    a = ds.assessments
    a = a[a["scale"].isin(["PF", "QL", "worst_pain", "omed", "index"])]
    values = a.set_index(["study_id", "scale", "timepoint"])["value"].unstack(
        ["scale", "timepoint"]
    )
    pairs = cast(
        list[tuple[str, str]], values.columns.tolist()
    )  # (scale, timepoint) after the unstack
    values.columns = [f"{s.lower()}_{t}" for s, t in pairs]
    wanted = [f"{s.lower()}_{t}" for s in ("PF", "QL") for t in TIMEPOINTS]
    pain_at = dict.fromkeys(("baseline", "w4", ds.primary_outcome["timepoint"]))
    wanted += [f"{s}_{t}" for s in ("worst_pain", "omed") for t in pain_at]
    wanted += [f"index_{t}" for t in ("baseline", "w4")]
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
    return {
        "died_before_w4": int(died.sum()),
        "alive_pf_w4_missing": int(no_w4.sum()),
        "pf_baseline_missing": int((out & ~died & ~no_w4).sum()),
    }


def _consort(ds: AnalysisDataset, wide: pd.DataFrame, analysed: set[str]) -> dict[str, Any]:
    consort = consort_counts(ds, wide["study_id"].isin(analysed).reindex(wide.index))
    for arm, z in (("intervention", 1), ("control", 0)):
        consort[arm]["follow_up"] = _follow_up(wide[wide["z"] == z], analysed)
    check_consort(consort)
    return consort


def _tipping(art: dict[str, Any], config: AnalysisConfig) -> dict[str, Any]:
    if "mi_shift" not in art:
        raise NotEstimable("the MI-ITT it perturbs is not estimable")
    return tipping_analysis(art["mi_shift"], config.tipping_deltas, config.alpha)


# ------------------------------------------------- other secondary endpoints
def _secondary_endpoints(
    ds: AnalysisDataset,
    wide: pd.DataFrame,
    art: dict[str, Any],
    est: Estimation,
    secondary: dict[str, Any],
) -> None:
    pain = est.block(
        "pain response", lambda: endpoints.pain_response(wide), _FALLBACK["pain_response_w4"]
    )
    if "not_estimable" not in pain:
        est.fields(
            pain,
            "pain response difference",
            {"difference": None, "difference_ci95": [None, None]},
            lambda: endpoints.pain_difference(pain),
        )
    secondary["pain_response_w4"] = pain
    secondary["hospital_days"] = est.block(
        "hospital days",
        lambda: endpoints.hospital_days(ds.participants),
        _FALLBACK["hospital_days"],
    )
    p = ds.participants.assign(
        treatment_received=np.where(
            ds.participants["received_intervention"].astype(bool),
            *(
                ("same-day", "standard")
                if ds.trial == "BLEND"
                else ("intervention received", "control treatment")
            ),
        )
    )
    secondary["adverse_events"] = {
        "by_arm": endpoints.ae_summary(p, ds.adverse_events, "arm"),
        "by_treatment_received": endpoints.ae_summary(p, ds.adverse_events, "treatment_received"),
    }
    art["ae_terms"] = endpoints.ae_by_term(p, ds.adverse_events)
    compliance = endpoints.prom_compliance(p, ds.assessments, ds.meta["period_end"])
    art["compliance"] = compliance
    secondary["prom_compliance"] = endpoints.compliance_records(compliance)
    c15 = ds.assessments[ds.assessments["instrument"] == "qlq-c15-pal"]
    scores = c15.assign(arm=c15["study_id"].map(p.set_index("study_id")["arm"]))
    art["scales"] = endpoints.scales_over_time(scores)
    art["table1"] = endpoints.table_one(wide)
    secondary["offer_groups"] = endpoints.offer_groups(wide)


def _longitudinal(
    wide: pd.DataFrame,
    strata: str | None,
    art: dict[str, Any],
    est: Estimation,
    secondary: dict[str, Any],
) -> None:
    """The MMRM (primary longitudinal model) and the random-intercept sensitivity model."""
    long = repeated.long_frame(wide)
    empty: dict[str, Any] = {"arm_effect_by_timepoint": {}}
    secondary["pf_mmrm"] = est.block(
        "MMRM", lambda: repeated.mmrm(long, strata, art), {"model": repeated.MMRM_MODEL, **empty}
    )
    secondary["pf_longitudinal"] = est.block(
        "longitudinal model (random intercept)",
        lambda: repeated.random_intercept(long, strata, art),
        {"model": repeated.RANDOM_INTERCEPT_MODEL, "role": "sensitivity", **empty},
    )


# ----------------------------------------------------------------------- CEA
def _cea(
    ds: AnalysisDataset, wide: pd.DataFrame, config: AnalysisConfig, art: dict[str, Any]
) -> dict[str, Any]:
    try:
        return costeffectiveness.analyse(
            ds, wide, config.horizon_days, config.bootstrap, config.seed, config.imputations, art
        )
    except costeffectiveness.NotEstimableBlock as exc:
        art["cea_known"] = exc.block  # the rules and counts still go in the report
        raise


# ----------------------------------------------------------------------- meta
def _meta(ds: AnalysisDataset, config: AnalysisConfig) -> dict[str, Any]:
    from importlib import metadata

    try:
        version = metadata.version("blend-trial")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {
        "blend_version": version,
        "trial": ds.trial,
        "contract_version": ds.meta["contract_version"],
        "dataset_sha256": ds.sha256,
        "seed": config.seed,
        "imputations": config.imputations,
        "bootstrap": config.bootstrap,
        "horizon_days": config.horizon_days,
        "data_warnings": list(ds.warnings),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


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


def unexplained_nulls(results: dict[str, Any]) -> list[str]:
    """Paths ("a.b.0") of null values without a reason.

    A null is explained by a `not_estimable` string on an enclosing object, or by a
    `notes` object on an enclosing object with a key that is the null's path relative
    to that object, or a prefix of it (`notes["ci95"]` explains `ci95.0` and `ci95.1`).
    """
    found: list[str] = []
    _walk(results, [], [], found)
    return found


def _walk(
    value: Any, path: list[str], notes: list[tuple[int, dict[str, Any]]], found: list[str]
) -> None:
    if isinstance(value, dict):
        if isinstance(value.get("not_estimable"), str):
            return
        if isinstance(value.get("notes"), dict):
            notes = [*notes, (len(path), value["notes"])]
        for key, item in value.items():
            _walk(item, [*path, str(key)], notes, found)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, [*path, str(i)], notes, found)
    elif value is None and not _explained(path, notes):
        found.append(".".join(path))


def _explained(path: list[str], notes: list[tuple[int, dict[str, Any]]]) -> bool:
    for depth, reasons in notes:
        relative = path[depth:]
        if any(".".join(relative[:i]) in reasons for i in range(1, len(relative) + 1)):
            return True
    return False
