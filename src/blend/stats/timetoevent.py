"""Overall survival and time to return to systemic therapy, each estimate on its own.

KM, the log-rank test and the Aalen–Johansen CIF are nonparametric and estimable
whenever an arm has participants; the Cox, cause-specific Cox and Fine–Gray models
can fail (no events, a monotone likelihood at n = 10). Each is run separately by
`Estimation.fields`, so a diverging model nulls only its own numbers, with a note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from blend.stats.errors import NotEstimable
from blend.stats.finegray import FineGrayFitter
from blend.stats.survival import (
    CoxPHFitter,
    KaplanMeierFitter,
    cumulative_incidence,
    logrank_test,
    value_at,
)

if TYPE_CHECKING:
    import pandas as pd

    from blend.stats.analysis import Estimation

ARMS = (("intervention", 1), ("control", 0))
CIF_DAYS = {"cif_w4": 28, "cif_w12": 84}


def overall_survival(wide: pd.DataFrame, art: dict[str, Any], est: Estimation) -> dict[str, Any]:
    days = (wide["last_contact"] - wide["randomized_on"]).dt.days.to_numpy(float)
    dead = wide["death_date"].notna().to_numpy()
    z = wide["z"].to_numpy()
    block: dict[str, Any] = {"deaths": {arm: int(dead[z == v].sum()) for arm, v in ARMS}}
    art["km"] = {
        arm: KaplanMeierFitter().fit(days[z == v], dead[z == v])
        for arm, v in ARMS
        if (z == v).any()
    }
    block["median_days"] = {
        arm: art["km"][arm].median_ if arm in art["km"] else None for arm, _ in ARMS
    }
    _note_medians(block, art["km"], dead, z)
    est.fields(
        block,
        "overall survival, log-rank test",
        {"logrank_p": None},
        lambda: {"logrank_p": _logrank(days, dead, z)},
    )
    est.fields(
        block,
        "overall survival, Cox model",
        {"hr": None, "hr_ci95": [None, None]},
        lambda: _cox(days, dead, z, "hr"),
    )
    return block


def _note_medians(
    block: dict[str, Any], km: dict[str, KaplanMeierFitter], dead: np.ndarray, z: np.ndarray
) -> None:
    for arm, v in ARMS:
        if block["median_days"][arm] is None:
            reason = (
                "no participants in this arm"
                if arm not in km
                else "not reached: the Kaplan–Meier curve stays above 0.5 "
                f"({int(dead[z == v].sum())} deaths)"
            )
            block.setdefault("notes", {})[f"median_days.{arm}"] = reason


def _logrank(days: np.ndarray, dead: np.ndarray, z: np.ndarray) -> float:
    _require_arms(z)
    if not dead.any():
        raise NotEstimable("no deaths")
    test = logrank_test(days, dead, z == 1)
    if not np.isfinite(test["chi2"]):
        raise NotEstimable("the log-rank variance is zero: at every death only one arm was at risk")
    return test["p"]


def _require_arms(z: np.ndarray) -> None:
    for arm, v in ARMS:
        if not (z == v).any():
            raise NotEstimable(f"no participants in the {arm} arm")


def _cox(days: np.ndarray, events: np.ndarray, z: np.ndarray, key: str) -> dict[str, Any]:
    _require_arms(z)
    fit = CoxPHFitter().fit(days, events, z)
    return {key: float(fit.hazard_ratio_[0]), f"{key}_ci95": fit.hr_ci(0)}


# ------------------------------------------------------------ systemic therapy
def systemic_therapy(wide: pd.DataFrame, art: dict[str, Any], est: Estimation) -> dict[str, Any]:
    """Time from treatment_start to systemic restart; death first is the competing event."""
    days, status, z = _competing_data(wide)
    block: dict[str, Any] = {
        "n": len(days),
        "restarts": int((status == 1).sum()),
        "competing_deaths": int((status == 2).sum()),
    }
    art["cif"] = {
        arm: cumulative_incidence(days[z == v], status[z == v]) for arm, v in ARMS if (z == v).any()
    }
    for key, day in CIF_DAYS.items():
        block[key] = {arm: _cif_at(art["cif"], arm, days[z == v], day, block) for arm, v in ARMS}
    est.fields(
        block,
        "systemic therapy, cause-specific Cox model",
        {"cs_hr": None, "cs_hr_ci95": [None, None]},
        lambda: _cox(days, status == 1, z, "cs_hr"),
    )
    est.fields(
        block,
        "systemic therapy, Fine–Gray model",
        {"fine_gray": {"shr": None, "shr_ci95": [None, None], "p": None}},
        lambda: {"fine_gray": _fine_gray(days, status, z)},
    )
    return block


def _competing_data(wide: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = wide[wide["treatment_start"].notna()]
    restart = t["systemic_restart_date"].notna()
    dead = t["death_date"].notna()
    end = t["systemic_restart_date"].where(restart, t["death_date"].where(dead, t["last_contact"]))
    days = (end - t["treatment_start"]).dt.days.to_numpy(float)
    status = np.where(restart, 1, np.where(dead, 2, 0))
    return days, status, t["z"].to_numpy()


def _cif_at(
    curves: dict[str, Any], arm: str, followed: np.ndarray, day: int, block: dict[str, Any]
) -> float | None:
    """CIF at `day`, or None (with a note) when nobody in the arm was followed that long."""
    if arm in curves and followed.max() >= day:
        times, values = curves[arm]
        return value_at(times, values, day)
    key = next(k for k, d in CIF_DAYS.items() if d == day)
    block.setdefault("notes", {})[f"{key}.{arm}"] = (
        "no treated participants in this arm"
        if arm not in curves
        else f"nobody in this arm was followed for {day} days after treatment start"
    )
    return None


def _fine_gray(days: np.ndarray, status: np.ndarray, z: np.ndarray) -> dict[str, Any]:
    _require_arms(z)
    fit = FineGrayFitter().fit(days, status, z)
    return {
        "shr": float(fit.hazard_ratio_[0]),
        "shr_ci95": fit.hr_ci(0),
        "p": fit.p(0),
        "se_log_shr": float(fit.se_[0]),
        "model": "Fine–Gray subdistribution hazards (cmprsk::crr), death competing, robust SE",
    }
