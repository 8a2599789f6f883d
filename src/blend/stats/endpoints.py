"""Secondary endpoints and descriptive tables: worst rank, pain response, hospital days,
adverse events, PROM compliance, scales over time and Table 1."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from blend.stats.dataset import C15_SCALES, TIMEPOINTS
from blend.stats.distributions import norm_quantile, norm_two_sided_p
from blend.stats.errors import NotEstimable

if TYPE_CHECKING:
    import pandas as pd

ARM_LABELS = {"intervention": "Same-day SBRT + surgery", "control": "Standard care"}
DUE_DAYS = {
    "baseline": 0,
    "w1": 7,
    "w2": 14,
    "w4": 28,
    "w6": 42,
    "w8": 56,
    "w12": 84,
    "m6": 182,
    "m12": 365,
}
WOUND_PREFIX = "wound"


# ------------------------------------------------------------------ rank tests
def average_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mid-ranks (1-based) and the tie-group sizes."""
    order = np.argsort(values, kind="stable")
    sorted_v = values[order]
    _, first, counts = np.unique(sorted_v, return_index=True, return_counts=True)
    mid = first + (counts + 1) / 2.0
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(mid, counts)
    return ranks, counts


def wilcoxon_rank_sum(x: Any, y: Any) -> dict[str, float]:
    """R `wilcox.test(x, y, exact = FALSE, correct = TRUE)`: W and the two-sided p."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n1, n2 = len(x), len(y)
    ranks, ties = average_ranks(np.concatenate([x, y]))
    w = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2)
    n = n1 + n2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - np.sum(ties**3 - ties) / (n * (n - 1))))
    z = w - n1 * n2 / 2
    z = (z - math.copysign(0.5, z)) / sigma if z != 0 else 0.0
    return {"statistic": w, "p": norm_two_sided_p(z), "n": n}


WORST_RANK_RULE = (
    "all randomized participants are ranked on one scale: deaths before week 4 worst, "
    "earlier death worse, then survivors by PF at w4; survivors without PF at w4 cannot be "
    "placed on it and are left out (counted in excluded_alive_without_pf_w4)"
)


def worst_rank(frame: pd.DataFrame) -> dict[str, Any]:
    """Composite ranking: deaths before week 4 rank worst (earlier death worse), then PF_w4.

    `frame` has columns z, pf_w4, died_before_w4 and death_day. Survivors with a
    missing PF_w4 cannot be ranked and are left out; how many is reported beside the
    test (`excluded_alive_without_pf_w4`), with the rule, since the contract asks for
    every randomized participant to be ranked.
    """
    died = frame["died_before_w4"].to_numpy(bool)
    score = np.where(
        died,
        -1_000.0 + frame["death_day"].fillna(0).to_numpy(float),
        frame["pf_w4"].to_numpy(float),
    )
    ok = ~np.isnan(score)
    z = frame["z"].to_numpy() == 1
    for arm, mask in (("intervention", z), ("control", ~z)):
        if not (ok & mask).any():
            raise NotEstimable(
                f"no {arm} participant can be ranked (no death before week 4 and no PF at w4)"
            )
    if np.ptp(score[ok]) == 0:
        raise NotEstimable("every ranked participant has the same rank")
    out: dict[str, Any] = dict(wilcoxon_rank_sum(score[ok & z], score[ok & ~z]))
    excluded = int((~ok).sum())
    out.update(
        {
            "randomized": len(frame),
            "ranked": int(ok.sum()),
            "excluded_alive_without_pf_w4": excluded,
            "excluded": excluded,
            "deaths_ranked": int(died.sum()),
            "rule": WORST_RANK_RULE,
        }
    )
    return out


# ----------------------------------------------------------------- pain response
def pain_category(pain0: float, pain1: float, omed0: float, omed1: float) -> str:
    """International consensus category (Chow 2012) with the literal readings of
    `instruments.md` §4 (a)–(e): CR, PR, PP or IR."""
    omed_up = omed1 > omed0 if omed0 > 0 else omed1 > 0
    if pain1 == 0 and not omed_up:
        return "CR"
    pain_down_2 = pain1 <= pain0 - 2
    omed_down_25 = omed0 > 0 and omed1 <= 0.75 * omed0
    if (pain_down_2 and not omed_up) or (omed_down_25 and pain1 <= pain0):
        return "PR"
    stable = (0.75 * omed0 < omed1 < 1.25 * omed0) if omed0 > 0 else omed1 == omed0
    omed_up_25 = omed1 >= 1.25 * omed0 if omed0 > 0 else omed1 > 0
    if (pain1 >= pain0 + 2 and stable) or (omed_up_25 and pain0 <= pain1 <= pain0 + 1):
        return "PP"
    return "IR"


def categorise(frame: pd.DataFrame, timepoint: str = "w4") -> pd.Series:
    """Consensus categories for rows with baseline and `timepoint` pain and OMED.

    Uses `blend.instruments.score_frame("pain-response", ...)` (the shared scorer,
    default options = the literal readings) when that package is installed, else
    the local `pain_category`, which implements the same readings.
    """
    import pandas as pd

    inputs = pd.DataFrame(
        {
            "baseline_worst_pain": frame["worst_pain_baseline"].to_numpy(float),
            "baseline_omed": frame["omed_baseline"].to_numpy(float),
            "followup_worst_pain": frame[f"worst_pain_{timepoint}"].to_numpy(float),
            "followup_omed": frame[f"omed_{timepoint}"].to_numpy(float),
        },
        index=frame.index,
    )
    try:
        from blend.instruments import score_frame
    except ImportError:
        return pd.Series(
            [
                pain_category(*row)
                for row in inputs[
                    ["baseline_worst_pain", "followup_worst_pain", "baseline_omed", "followup_omed"]
                ].itertuples(index=False)
            ],
            index=frame.index,
            dtype=object,
        )
    return score_frame("pain-response", inputs)["category"].astype(object)


def wilson(x: int, n: int, level: float = 0.95) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    z = norm_quantile(0.5 + level / 2)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def newcombe_difference(x1: int, n1: int, x2: int, n2: int) -> tuple[float, list[float]]:
    """p1 − p2 with Newcombe's hybrid score CI (method 10, Stat Med 1998)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1)
    l2, u2 = wilson(x2, n2)
    d = p1 - p2
    return d, [
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    ]


PAIN_ASSESSABLE_MIN = 2  # baseline worst pain at the treated site (consensus)


def pain_categories(wide: pd.DataFrame, timepoint: str = "w4") -> pd.DataFrame:
    """The assessable participants (baseline worst pain ≥ 2 and a baseline OMED) with
    their consensus `category` at `timepoint`: CR, PR, PP, IR, or "missing" when the
    pain score or OMED at `timepoint` is absent (dead, withdrawn, not returned)."""
    assessable = (wide["worst_pain_baseline"] >= PAIN_ASSESSABLE_MIN) & wide[
        "omed_baseline"
    ].notna()
    sub = wide[assessable]
    complete = sub[f"worst_pain_{timepoint}"].notna() & sub[f"omed_{timepoint}"].notna()
    cats = sub[f"worst_pain_{timepoint}"].map(lambda _: "missing").astype(object)
    if complete.any():
        cats[complete] = categorise(sub[complete], timepoint).to_numpy()
    return sub.assign(category=cats)


def pain_response(wide: pd.DataFrame, timepoint: str = "w4") -> dict[str, Any]:
    """Responders (CR or PR) at `timepoint` among the assessable (baseline worst pain ≥ 2),
    per arm.

    Assessable participants without a pain score and OMED at `timepoint` (dead,
    missing) count as non-responders, the ITT composite of `analysis-methods.md` §2.5.
    The difference is left to `pain_difference`, which refuses an arm without any
    observed assessment at `timepoint`. The count of those is `observed_<timepoint>`.
    """
    sub = pain_categories(wide, timepoint)
    out: dict[str, Any] = {}
    for arm, z in (("intervention", 1), ("control", 0)):
        part = sub[sub["z"] == z]
        out[arm] = {
            "responders": int(part["category"].isin(["CR", "PR"]).sum()),
            "assessable": len(part),
            f"observed_{timepoint}": int((part["category"] != "missing").sum()),
            "categories": part["category"].value_counts().to_dict(),
        }
    return out


def pain_difference(counts: dict[str, Any], timepoint: str = "w4") -> dict[str, Any]:
    """Intervention − control response proportion with Newcombe's CI.

    Not estimable when an arm has no assessable participant, or none with an observed
    assessment at `timepoint`: the "difference" would then compare with non-responders
    by imputation only (zero observed controls).
    """
    for arm in ("intervention", "control"):
        if not counts[arm]["assessable"]:
            raise NotEstimable(f"no assessable {arm} participant (baseline worst pain ≥ 2)")
        if not counts[arm][f"observed_{timepoint}"]:
            raise NotEstimable(
                f"no assessable {arm} participant has pain and OMED at {timepoint}, so "
                "the arm's responders would all be imputed non-responders"
            )
    i, c = counts["intervention"], counts["control"]
    difference, ci = newcombe_difference(
        i["responders"], i["assessable"], c["responders"], c["assessable"]
    )
    return {"difference": difference, "difference_ci95": ci}


# --------------------------------------------------------------- hospital days
def hospital_days(participants: pd.DataFrame) -> dict[str, Any]:
    z = participants["arm"] == "intervention"
    days = participants["hospital_days"]
    if z.all() or not z.any():
        raise NotEstimable("one arm has no participants")
    if days.nunique() < 2:
        raise NotEstimable("every participant has the same number of hospital days")
    test = wilcoxon_rank_sum(days[z], days[~z])
    return {
        "mean": {"intervention": float(days[z].mean()), "control": float(days[~z].mean())},
        "median": {"intervention": float(days[z].median()), "control": float(days[~z].median())},
        "p": test["p"],
        "test": "Wilcoxon rank-sum (normal approximation)",
    }


# --------------------------------------------------------------- adverse events
def ae_summary(participants: pd.DataFrame, aes: pd.DataFrame, group: str = "arm") -> dict[str, Any]:
    """Participants with ≥ 1 event (n, %) and event counts per group and category."""
    groups = participants.set_index("study_id")[group]
    aes = aes.assign(group=aes["study_id"].map(groups))
    categories = {
        "any": aes.index == aes.index,
        "grade_3_plus": aes["grade"] >= 3,
        "serious": aes["serious"].astype(bool),
        "wound_complication": aes["term"].str.lower().str.startswith(WOUND_PREFIX),
        "related": aes["related"].astype(bool),
    }
    table: dict[str, Any] = {}
    for level in sorted(groups.unique()):
        n = int((groups == level).sum())
        in_group = aes["group"] == level
        table[str(level)] = {
            "participants": n,
            **{
                name: {
                    "participants": int(aes.loc[in_group & mask, "study_id"].nunique()),
                    "events": int((in_group & mask).sum()),
                    "percent": 100.0 * aes.loc[in_group & mask, "study_id"].nunique() / n
                    if n
                    else None,
                }
                for name, mask in categories.items()
            },
        }
    return table


def ae_by_term(participants: pd.DataFrame, aes: pd.DataFrame) -> pd.DataFrame:
    """Participants per term and arm, any grade and grade ≥ 3."""
    import pandas as pd

    arm = aes["study_id"].map(participants.set_index("study_id")["arm"])
    frame = aes.assign(arm=arm)
    arms = ["intervention", "control"]
    any_grade = frame.groupby(["term", "arm"])["study_id"].nunique().unstack(fill_value=0)
    any_grade = any_grade.reindex(columns=arms, fill_value=0)
    severe_counts = frame[frame["grade"] >= 3].groupby(["term", "arm"])["study_id"].nunique()
    severe = severe_counts.unstack(fill_value=0).reindex(
        index=any_grade.index, columns=arms, fill_value=0
    )
    out = pd.concat({"any grade": any_grade, "grade ≥ 3": severe}, axis=1).fillna(0).astype(int)
    return out.sort_values(("any grade", "intervention"), ascending=False)


# ------------------------------------------------------------ PROM compliance
def prom_compliance(
    participants: pd.DataFrame, assessments: pd.DataFrame, period_end: Any
) -> pd.DataFrame:
    """Expected, received, died, withdrawn and other-missing C15-PAL by arm and timepoint.

    A questionnaire is due on anchor + the schedule offset, where the anchor is
    randomized_on for baseline and treatment_start (else randomized_on) afterwards.
    Deaths on or before the due date leave the denominator (SISAQOL); questionnaires
    not yet due at period_end are not counted.
    """
    import pandas as pd

    c15 = assessments[assessments["instrument"] == "qlq-c15-pal"]
    returned = c15.groupby("timepoint")["study_id"].agg(set).to_dict()
    end = pd.Timestamp(period_end)
    rows = []
    anchor_fu = participants["treatment_start"].fillna(participants["randomized_on"])
    for tp in TIMEPOINTS:
        anchor = participants["randomized_on"] if tp == "baseline" else anchor_fu
        due = anchor + pd.to_timedelta(DUE_DAYS[tp], unit="D")
        died = participants["death_date"].notna() & (participants["death_date"] <= due)
        counted = due <= end
        got = participants["study_id"].isin(returned.get(tp, set())).to_numpy()
        withdrawn = participants["withdrawn_on"].notna() & (participants["withdrawn_on"] <= due)
        for arm in ("intervention", "control"):
            a = (participants["arm"] == arm) & counted
            expected = a & ~died
            rows.append(
                {
                    "arm": arm,
                    "timepoint": tp,
                    "expected": int(expected.sum()),
                    "received": int((expected & got).sum()),
                    "died": int((a & died).sum()),
                    "withdrawn": int((expected & ~got & withdrawn).sum()),
                    "other": int((expected & ~got & ~withdrawn).sum()),
                }
            )
    out = pd.DataFrame(rows)
    out["compliance"] = out["received"] / out["expected"].where(out["expected"] > 0)
    return out


def compliance_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The compliance table as JSON records; a row with nothing expected says why."""
    rows: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in table.to_dict(orient="records")
    ]
    for row in rows:
        if not row["expected"]:
            row["compliance"] = None
            row["notes"] = {
                "compliance": "no questionnaire expected at this timepoint (none "
                "due by period_end, or every participant due had "
                "died)"
            }
    return rows


# --------------------------------------------------------- scales over time
def scales_over_time(wide_scores: pd.DataFrame) -> pd.DataFrame:
    """Mean, SD and n of every C15-PAL scale by arm and timepoint (long `scores` input)."""
    grouped = wide_scores.groupby(["scale", "timepoint", "arm"])["value"]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    order = {t: i for i, t in enumerate(TIMEPOINTS)}
    out["order"] = out["timepoint"].map(order)
    out["scale"] = out["scale"].astype(str)
    known = out["scale"].isin(C15_SCALES)
    return out[known].sort_values(["scale", "order", "arm"]).drop(columns="order")


# -------------------------------------------------------------------- Table 1
TABLE_ONE_CONTINUOUS = (
    ("Age, years", "age"),
    ("Baseline PF (C15-PAL)", "pf_baseline"),
    ("Baseline EQ-5D-5L index", "index_baseline"),
    ("Baseline worst pain (0–10)", "worst_pain_baseline"),
)
TABLE_ONE_CATEGORICAL = (
    ("Sex", "sex"),
    ("Primary tumour", "primary_tumour"),
    ("WHO performance status", "performance_status"),
    ("Stratum", "stratum"),
)


def table_one(
    wide: pd.DataFrame, group: str = "arm", levels: tuple[str, str] = ("intervention", "control")
) -> list[dict[str, Any]]:
    """Baseline characteristics by group: rows of {label, <level>…, smd} strings.

    Standardised mean differences instead of p-values (CONSORT): (m₁ − m₂)/√((s₁² + s₂²)/2)
    for means, (p₁ − p₂)/√((p₁(1 − p₁) + p₂(1 − p₂))/2) for proportions.
    """
    groups = {a: wide[wide[group] == a] for a in levels}
    first, second = (groups[a] for a in levels)
    rows: list[dict[str, Any]] = [
        {"label": "Participants, n", **{a: str(len(d)) for a, d in groups.items()}, "smd": ""}
    ]
    for label, col in TABLE_ONE_CONTINUOUS:
        rows.append(
            {
                "label": f"{label}, mean (SD)",
                **{a: _mean_sd(d[col]) for a, d in groups.items()},
                "smd": _smd_mean(first[col], second[col]),
            }
        )
    rows.append(
        {
            "label": "SINS, median (IQR)",
            **{a: _median_iqr(d["sins_total"]) for a, d in groups.items()},
            "smd": _smd_mean(first["sins_total"], second["sins_total"]),
        }
    )
    for label, col in TABLE_ONE_CATEGORICAL:
        rows.append({"label": label, **{a: "" for a in levels}, "smd": ""})
        for level in sorted(wide[col].astype(str).unique()):
            if level in ("", "nan"):
                continue
            masks = {a: d[col].astype(str) == level for a, d in groups.items()}
            rows.append(
                {
                    "label": f"  {level}",
                    **{a: _n_pct(m) for a, m in masks.items()},
                    "smd": _smd_proportion(*masks.values()),
                }
            )
    return rows


def _smd_mean(a: pd.Series, b: pd.Series) -> str:
    a, b = a.dropna(), b.dropna()
    if len(a) < 2 or len(b) < 2:
        return "–"
    pooled = math.sqrt((a.var() + b.var()) / 2)
    return f"{(a.mean() - b.mean()) / pooled:.2f}" if pooled > 0 else "–"


def _smd_proportion(a: pd.Series, b: pd.Series) -> str:
    if not len(a) or not len(b):
        return "–"
    p, q = a.mean(), b.mean()
    pooled = math.sqrt((p * (1 - p) + q * (1 - q)) / 2)
    return f"{(p - q) / pooled:.2f}" if pooled > 0 else "–"


def offer_groups(wide: pd.DataFrame) -> list[dict[str, Any]]:
    """Intervention arm by offer outcome (accepted / refused / not offered): descriptive
    only, since it is not randomised (analysis-methods §1.6 item 4)."""
    z = wide[wide["z"] == 1]
    group = np.where(
        z["accepted"].fillna(False).astype(bool),
        "accepted",
        np.where(z["offered"].fillna(False).astype(bool), "refused", "not offered"),
    )
    frame = z.assign(offer=group)
    rows = []
    for name in ("accepted", "refused", "not offered"):
        d = frame[frame["offer"] == name]
        rows.append(
            {
                "group": name,
                "n": len(d),
                "age": _mean_sd(d["age"]),
                "performance_status": _mean_sd(d["performance_status"]),
                "pf_baseline": _mean_sd(d["pf_baseline"]),
                "died_before_w4": int(d["died_before_w4"].sum()),
                "pf_w4_observed": int(d["pf_w4"].notna().sum()),
            }
        )
    return rows


def _mean_sd(s: pd.Series) -> str:
    s = s.dropna()
    return f"{s.mean():.1f} ({s.std():.1f})" if len(s) > 1 else "–"


def _median_iqr(s: pd.Series) -> str:
    q = s.dropna().quantile([0.25, 0.5, 0.75])
    return f"{q[0.5]:.0f} ({q[0.25]:.0f}–{q[0.75]:.0f})"


def _n_pct(mask: pd.Series) -> str:
    n = len(mask)
    return f"{int(mask.sum())} ({100 * mask.sum() / n:.0f}%)" if n else "–"
