"""Awkward but contract-valid datasets: the ones real trials produce.

Each generator edits, in place, a dataset folder written by
`blend.stats.synthetic.make_dataset`, and the result still passes `load_dataset`.
One generator per defect class of the analysis (docs/analysis.md, "Datasets the
analysis must survive"); the tests build each and assert agreement with R or a
"not estimable" result with its reason, and the property test combines them at
random.

>>> folder = make_dataset(60, seed=3, out_dir="awkward")
>>> no_outcomes_in_arm(folder, "control")     # an arm without any PF at w4
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

TIMEPOINTS = ("baseline", "w1", "w2", "w4", "w6", "w8", "w12", "m6", "m12")


def _edit(folder: Path, name: str, change: Callable[[Any], Any]) -> None:
    """Rewrite one CSV of the folder through `change(frame) -> frame` (all text)."""
    import pandas as pd

    path = Path(folder) / name
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(frame).to_csv(path, index=False, lineterminator="\n")


def _arm_ids(folder: Path, arm: str) -> set[str]:
    import pandas as pd

    p = pd.read_csv(Path(folder) / "participants.csv", dtype=str, keep_default_na=False)
    return set(p.loc[p["arm"] == arm, "study_id"])


def _pick(ids: list[str], fraction: float, seed: int) -> set[str]:
    rng = np.random.default_rng(seed)
    return {i for i in ids if rng.random() < fraction}


# ---------------------------------------------------------------- class 1
def no_outcomes_in_arm(folder: Path, arm: str = "control", timepoint: str = "w4") -> None:
    """No questionnaire of `arm` at `timepoint`: an interim before its first w4 visit."""
    ids = _arm_ids(folder, arm)
    _edit(
        folder,
        "assessments.csv",
        lambda a: a[~(a["study_id"].isin(ids) & (a["timepoint"] == timepoint))],
    )


# ---------------------------------------------------------------- class 2
def no_visit(folder: Path, timepoint: str = "w1") -> None:
    """Nobody has a questionnaire at `timepoint` (e.g. the w1 visit was never run)."""
    _edit(folder, "assessments.csv", lambda a: a[a["timepoint"] != timepoint])


# ---------------------------------------------------------------- class 3
def interim_before(folder: Path, timepoint: str = "w12") -> None:
    """An interim analysis before `timepoint`: no questionnaire at it or later."""
    later = set(TIMEPOINTS[TIMEPOINTS.index(timepoint) :])
    _edit(folder, "assessments.csv", lambda a: a[~a["timepoint"].isin(later)])


# ---------------------------------------------------------------- class 4
def no_deaths_in_arm(folder: Path, arm: str = "control") -> None:
    """Nobody in `arm` dies (censored at the old death date): all deaths in one arm, the
    monotone likelihood of a small Cox model."""
    ids = _arm_ids(folder, arm)

    def change(p: Any) -> Any:
        p.loc[p["study_id"].isin(ids), "death_date"] = ""
        return p

    _edit(folder, "participants.csv", change)


# ---------------------------------------------------------------- class 5
def drop_cost_rows(folder: Path, fraction: float = 0.15, seed: int = 0) -> None:
    """Some participants have no cost rows at all (their costs are missing, not €0)."""

    def change(c: Any) -> Any:
        gone = _pick(sorted(set(c["study_id"])), fraction, seed)
        return c[~c["study_id"].isin(gone)]

    _edit(folder, "costs.csv", change)


def empty_costs(folder: Path) -> None:
    """A header-only costs.csv: no cost was exported."""
    _edit(folder, "costs.csv", lambda c: c.iloc[0:0])


def drop_baseline_eq5d(folder: Path, fraction: float = 0.15, seed: int = 0) -> None:
    """Some participants lack the baseline EQ-5D-5L (their QALY AUC has no start)."""

    def change(a: Any) -> Any:
        base = (a["instrument"] == "eq5d5l-nl") & (a["timepoint"] == "baseline")
        gone = _pick(sorted(set(a.loc[base, "study_id"])), fraction, seed)
        return a[~(base & a["study_id"].isin(gone))]

    _edit(folder, "assessments.csv", change)


def early_last_contact(folder: Path, fraction: float = 0.15, days: int = 90, seed: int = 0) -> None:
    """Some survivors were last seen `days` after randomization, before the CEA horizon."""
    import pandas as pd

    moved: dict[str, str] = {}

    def change(p: Any) -> Any:
        alive = p["death_date"] == ""
        rand = pd.to_datetime(p["randomized_on"])
        contact = pd.to_datetime(p["last_contact"])
        new = rand + pd.Timedelta(days=days)
        candidates = sorted(p.loc[alive & (contact > new), "study_id"])
        chosen = p["study_id"].isin(_pick(candidates, fraction, seed))
        p.loc[chosen, "last_contact"] = new[chosen].dt.strftime("%Y-%m-%d")
        for column in ("withdrawn_on", "systemic_restart_date"):
            late = chosen & (p[column] != "") & (pd.to_datetime(p[column]) > new)
            p.loc[late, column] = ""
        moved.update(
            dict(zip(p.loc[chosen, "study_id"], p.loc[chosen, "last_contact"], strict=True))
        )
        return p

    _edit(folder, "participants.csv", change)

    def after_contact(frame: Any, column: str) -> Any:
        limit = pd.to_datetime(frame["study_id"].map(moved))
        return frame[~(limit.notna() & (pd.to_datetime(frame[column]) > limit))]

    _edit(folder, "assessments.csv", lambda a: after_contact(a, "assessed_on"))
    _edit(folder, "adverse_events.csv", lambda e: after_contact(e, "onset_date"))


# ---------------------------------------------------------------- class 6
def scale_costs(folder: Path, arm: str, factor: float) -> None:
    """Multiply every cost of `arm` by `factor` (to place the ICER in a quadrant)."""
    ids = _arm_ids(folder, arm)

    def change(c: Any) -> Any:
        mine = c["study_id"].isin(ids)
        c.loc[mine, "amount_eur"] = (
            (c.loc[mine, "amount_eur"].astype(float) * factor).round(2).astype(str)
        )
        return c

    _edit(folder, "costs.csv", change)


def shift_utilities(folder: Path, arm: str, delta: float) -> None:
    """Add `delta` to every post-baseline EQ-5D-5L index of `arm` (clipped to the tariff)."""
    ids = _arm_ids(folder, arm)

    def change(a: Any) -> Any:
        rows = (
            a["study_id"].isin(ids)
            & (a["instrument"] == "eq5d5l-nl")
            & (a["scale"] == "index")
            & (a["timepoint"] != "baseline")
        )
        a.loc[rows, "value"] = (
            (a.loc[rows, "value"].astype(float) + delta).clip(-0.446, 1.0).round(4).astype(str)
        )
        return a

    _edit(folder, "assessments.csv", change)


# ---------------------------------------------------------------- class 7
def everyone_refuses(folder: Path, keep: int = 2) -> None:
    """All offered intervention participants refuse except the first `keep` receivers."""

    def change(p: Any) -> Any:
        receivers = p.index[(p["arm"] == "intervention") & (p["received_intervention"] == "true")]
        refuse = (p["offered"] == "true") & ~p.index.isin(receivers[:keep])
        p.loc[refuse, ["accepted", "received_intervention"]] = "false"
        p.loc[refuse, "refusal_reason"] = "prefers standard care"
        return p

    _edit(folder, "participants.csv", change)


def controls_cross_over(folder: Path, fraction: float = 0.5, seed: int = 0) -> None:
    """A `fraction` of controls receives the same-day treatment outside the trial."""
    ids = _arm_ids(folder, "control")

    def change(p: Any) -> Any:
        chosen = p["study_id"].isin(_pick(sorted(ids), fraction, seed))
        p.loc[chosen, "received_intervention"] = "true"
        return p

    _edit(folder, "participants.csv", change)


# ---------------------------------------------------------------- class 8
def shift_outcome(
    folder: Path, arm: str = "intervention", delta: float = -30.0, timepoint: str = "w4"
) -> None:
    """Add `delta` to PF at `timepoint` in `arm` (clipped to 0–100): a harmful result."""
    ids = _arm_ids(folder, arm)

    def change(a: Any) -> Any:
        rows = a["study_id"].isin(ids) & (a["timepoint"] == timepoint) & (a["scale"] == "PF")
        a.loc[rows, "value"] = (
            (a.loc[rows, "value"].astype(float) + delta).clip(0, 100).round(2).astype(str)
        )
        return a

    _edit(folder, "assessments.csv", change)


# ---------------------------------------------------------------- class 9
def survivors_without_outcome(folder: Path, fraction: float = 0.3, seed: int = 0) -> None:
    """A `fraction` of participants loses the w4 PF (alive, questionnaire not returned)."""

    def change(a: Any) -> Any:
        w4 = (a["timepoint"] == "w4") & (a["scale"] == "PF")
        gone = _pick(sorted(set(a.loc[w4, "study_id"])), fraction, seed)
        return a[~(w4 & a["study_id"].isin(gone))]

    _edit(folder, "assessments.csv", change)


GENERATORS: dict[str, Callable[..., None]] = {
    "no_outcomes_in_arm": no_outcomes_in_arm,
    "no_visit": no_visit,
    "interim_before": interim_before,
    "no_deaths_in_arm": no_deaths_in_arm,
    "drop_cost_rows": drop_cost_rows,
    "empty_costs": empty_costs,
    "drop_baseline_eq5d": drop_baseline_eq5d,
    "early_last_contact": early_last_contact,
    "scale_costs": scale_costs,
    "shift_utilities": shift_utilities,
    "everyone_refuses": everyone_refuses,
    "controls_cross_over": controls_cross_over,
    "shift_outcome": shift_outcome,
    "survivors_without_outcome": survivors_without_outcome,
}
