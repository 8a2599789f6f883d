"""A realistic synthetic analysis dataset, written in the contract format.

`make_dataset(n_randomized, seed, out_dir)` simulates a TwiCs trial inside a
cohort: screening with consent refusals and ineligibility, permuted-block
randomisation by stratum, offers with refusals, early deaths, PROM non-response
that depends on performance status (MAR), adverse events, costs and EQ-5D. It is
used by the tests, the benchmark and `docs/analysis.md`; the same seed always
writes byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

PF_GRID = np.array([0, 6.67, 13.33, 20, 26.67, 33.33, 46.67, 60, 73.33, 93.33])
PERIOD_START = np.datetime64("2022-10-15")
PERIOD_END = np.datetime64("2026-06-30")
DUE_DAYS = {"w1": 7, "w2": 14, "w4": 28, "w6": 42, "w8": 56, "w12": 84, "m6": 182, "m12": 365}
SCALE_STEPS = {
    "EF": 100 / 12,
    "FA": 100 / 9,
    "NV": 100 / 6,
    "PA": 100 / 6,
    "DY": 100 / 3,
    "SL": 100 / 3,
    "AP": 100 / 3,
    "CO": 100 / 3,
    "QL": 100 / 6,
}
SYMPTOM_SCALES = {"FA", "NV", "PA", "DY", "SL", "AP", "CO"}  # higher = worse
EQ5D_TIMEPOINTS = ("baseline", "w4", "w12", "m6", "m12")
PAIN_TIMEPOINTS = ("baseline", "w1", "w2", "w4", "w8", "w12")
AE_TERMS = np.array(
    [
        "Wound complication",
        "Wound infection",
        "Wound dehiscence",
        "Back pain",
        "Fatigue",
        "Nausea",
        "Pneumonia",
        "Urinary tract infection",
        "Thromboembolic event",
        "Radiation dermatitis",
    ]
)
AE_PROBS = np.array([0.10, 0.08, 0.04, 0.18, 0.16, 0.12, 0.08, 0.09, 0.05, 0.10])
NONE = -1_000_000  # day offset standing for an empty date
REFUSAL_REASONS = np.array(
    ["prefers standard care", "fears the combined procedure", "travel burden", "no reason given"]
)


def make_dataset(n_randomized: int, seed: int, out_dir: str | Path) -> Path:
    """Write a contract dataset with `n_randomized` participants to `out_dir`; return it."""
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    people = _participants(n_randomized, rng)
    screening, cohort = _screening(people, rng)
    tables = {
        "screening.csv": screening,
        "participants.csv": _participant_table(people),
        "assessments.csv": _assessments(people, rng),
        "adverse_events.csv": _adverse_events(people, rng),
        "costs.csv": _costs(people, rng),
    }
    for name, frame in tables.items():
        frame.to_csv(out / name, index=False, lineterminator="\n")
    meta = {
        "trial": "BLEND",
        "protocol_version": "1.0-synthetic",
        "cohort_participants": cohort,
        "period_start": str(PERIOD_START),
        "period_end": str(PERIOD_END),
        "exported_at": "2026-07-01T00:00:00Z",
        "synthetic_seed": seed,
    }
    (out / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out


def _participants(n: int, rng: np.random.Generator) -> dict[str, Any]:
    p: dict[str, Any] = {"n": n, "study_id": np.array([f"BL-{i + 1:05d}" for i in range(n)])}
    p["rand_day"] = np.sort(rng.integers(0, 1100, n))
    p["ps"] = rng.choice(5, n, p=[0.15, 0.40, 0.30, 0.12, 0.03])
    p["stratum"] = np.where(p["ps"] <= 1, "ps0-1", "ps2-4")
    p["arm"] = _blocked_arms(p["stratum"], rng)
    p["age"] = np.clip(rng.normal(66, 10, n).round(), 30, 92)
    p["sex"] = np.where(rng.random(n) < 0.45, "female", "male")
    p["tumour"] = rng.choice(
        ["breast", "prostate", "lung", "kidney", "other"], n, p=[0.25, 0.2, 0.25, 0.1, 0.2]
    )
    p["sins"] = rng.integers(7, 14, n)
    _offers(p, rng)
    _follow_up(p, rng)
    return p


def _blocked_arms(stratum: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Permuted blocks of 4 within each stratum, in randomisation order."""
    arms = np.empty(len(stratum), dtype=object)
    for value in np.unique(stratum):
        idx = np.flatnonzero(stratum == value)
        blocks = [rng.permutation([1, 1, 0, 0]) for _ in range(len(idx) // 4 + 1)]
        arms[idx] = np.concatenate(blocks)[: len(idx)]
    return np.where(arms.astype(int) == 1, "intervention", "control")


def _offers(p: dict[str, Any], rng: np.random.Generator) -> None:
    n = p["n"]
    z = p["arm"] == "intervention"
    p["offered"] = z & (rng.random(n) < 0.96)
    # Refusal depends on prognosis, as Candlish 2017 warns it may.
    p_accept = np.clip(0.85 - 0.06 * p["ps"], 0.3, 0.95)
    p["accepted"] = p["offered"] & (rng.random(n) < p_accept)
    p["refused"] = p["offered"] & ~p["accepted"]
    p["received"] = (p["accepted"] & (rng.random(n) < 0.92)) | (~z & (rng.random(n) < 0.02))


def _follow_up(p: dict[str, Any], rng: np.random.Generator) -> None:
    n = p["n"]
    hazard = np.log(2) / 300 * np.exp(0.35 * (p["ps"] - 1)) * np.where(p["received"], 0.9, 1.0)
    death_t = np.maximum(1, np.ceil(rng.exponential(1 / hazard)))
    admin = (PERIOD_END - PERIOD_START).astype(int) - p["rand_day"]
    lost = np.where(rng.random(n) < 0.05, rng.integers(30, 400, n), admin)
    censor = np.minimum(admin, lost)
    p["dead"] = death_t <= censor
    p["fu"] = np.where(p["dead"], death_t, censor).astype(int)
    start = np.where(p["received"], rng.integers(1, 8, n), rng.integers(3, 22, n))
    p["treated"] = (start < p["fu"]) & (rng.random(n) > 0.01)
    p["ts_day"] = np.where(p["treated"], start, NONE)
    p["withdrawn"] = np.where(rng.random(n) < 0.03, (p["fu"] * rng.random(n)).astype(int), NONE)
    restart = p["ts_day"] + np.ceil(rng.exponential(70, n))
    p["restart_day"] = np.where(p["treated"] & (restart < p["fu"]), restart, NONE).astype(int)
    p["hospital_days"] = np.where(p["received"], 1 + rng.poisson(5, n), 2 + rng.poisson(8, n))
    neuro = rng.random(n) < 0.06
    p["neuro"] = np.where(rng.random(n) < 0.1, "", np.where(neuro, "true", "false"))


def _date(days: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
    """Days after PERIOD_START (plus `base`) as ISO strings; `NONE` marks an empty date."""
    total = days if base is None else base + days
    empty = days <= NONE
    text = (PERIOD_START + np.where(empty, 0, total).astype("timedelta64[D]")).astype(str)
    return np.where(empty, "", text)


def _bool(values: np.ndarray) -> np.ndarray:
    return np.where(values, "true", "false")


def _participant_table(p: dict[str, Any]) -> Any:
    import pandas as pd

    z = p["arm"] == "intervention"
    rd = p["rand_day"]
    reasons = np.where(p["refused"], REFUSAL_REASONS[np.arange(p["n"]) % 4], "")
    return pd.DataFrame(
        {
            "study_id": p["study_id"],
            "randomized_on": _date(rd),
            "arm": p["arm"],
            "stratum": p["stratum"],
            "offered": np.where(z, _bool(p["offered"]), ""),
            "accepted": np.where(p["offered"], _bool(p["accepted"]), ""),
            "refusal_reason": reasons,
            "received_intervention": _bool(p["received"]),
            "treatment_start": _date(p["ts_day"], rd),
            "death_date": _date(np.where(p["dead"], p["fu"], NONE), rd),
            "last_contact": _date(p["fu"], rd),
            "withdrawn_on": _date(p["withdrawn"], rd),
            "age": p["age"].astype(int),
            "sex": p["sex"],
            "primary_tumour": p["tumour"],
            "sins_total": p["sins"],
            "performance_status": p["ps"],
            "systemic_restart_date": _date(p["restart_day"], rd),
            "hospital_days": p["hospital_days"],
            "neuro_deterioration": p["neuro"],
        }
    )


def _screening(p: dict[str, Any], rng: np.random.Generator) -> tuple[Any, int]:
    import pandas as pd

    n = p["n"]
    extra = max(4, int(round(1.1 * n)))
    consent = rng.choice(["yes", "no", "postponed"], extra, p=[0.62, 0.28, 0.10])
    eligibility = np.where(
        rng.random(extra) < 0.8,
        "ineligible",
        np.where(rng.random(extra) < 0.5, "pending", "eligible"),
    )
    codes = np.array(
        ["life_expectancy", "no_instability", "prior_surgery", "too_frail", "cord_compression"]
    )
    first, second = rng.integers(0, 5, extra), rng.integers(0, 5, extra)
    reasons = np.where(
        first == second, codes[first], np.char.add(np.char.add(codes[first], ";"), codes[second])
    )
    frame = pd.DataFrame(
        {
            "study_id": np.concatenate([p["study_id"], [f"BS-{i + 1:05d}" for i in range(extra)]]),
            "screened_on": np.concatenate(
                [
                    _date(np.maximum(0, p["rand_day"] - rng.integers(0, 15, n))),
                    _date(rng.integers(0, 1100, extra)),
                ]
            ),
            "randomization_consent": np.concatenate([np.full(n, "yes"), consent]),
            "eligibility": np.concatenate([np.full(n, "eligible"), eligibility]),
            "ineligibility_reasons": np.concatenate(
                [np.full(n, ""), np.where(eligibility == "ineligible", reasons, "")]
            ),
            "randomized": np.concatenate([np.full(n, "true"), np.full(extra, "false")]),
        }
    )
    cohort = len(frame) + int(round(0.15 * n))
    return frame, cohort


def _assessments(p: dict[str, Any], rng: np.random.Generator) -> Any:
    import pandas as pd

    n = p["n"]
    latent0 = 58 - 9 * (p["ps"] - 1) + rng.normal(0, 16, n)
    frames = []
    for timepoint in ("baseline", *DUE_DAYS):
        day, returned = _visit_day(p, timepoint, rng)
        if not returned.any():
            continue
        latent = _latent_pf(p, latent0, timepoint, rng)
        frames.append(_visit_rows(p, timepoint, day, returned, latent, rng))
    return pd.concat(frames, ignore_index=True).sort_values(["study_id"], kind="stable")


def _visit_day(p: dict[str, Any], timepoint: str, rng: np.random.Generator) -> tuple[Any, Any]:
    n = p["n"]
    if timepoint == "baseline":
        return -rng.integers(0, 8, n), rng.random(n) < 0.95
    anchor = np.where(p["ts_day"] >= 0, p["ts_day"], 0)
    day = anchor + DUE_DAYS[timepoint] + rng.integers(-2, 4, n)
    alive = day <= p["fu"]
    not_withdrawn = (p["withdrawn"] < 0) | (day < p["withdrawn"])
    respond = rng.random(n) < np.clip(0.93 - 0.05 * p["ps"], 0.5, 0.95)
    return day, alive & not_withdrawn & respond


def _latent_pf(
    p: dict[str, Any], latent0: np.ndarray, timepoint: str, rng: np.random.Generator
) -> np.ndarray:
    if timepoint == "baseline":
        return latent0
    weeks = DUE_DAYS[timepoint] / 7
    ramp = min(weeks / 4, 1.0)
    decline = 0.25 * weeks * (p["ps"] >= 2)
    effect = 12 * ramp * p["received"]
    return 0.6 * latent0 + 22 + effect - decline + rng.normal(0, 13, p["n"])


def _snap(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    idx = np.abs(values[:, None] - grid[None, :]).argmin(axis=1)
    return grid[idx]


def _visit_rows(
    p: dict[str, Any],
    timepoint: str,
    day: np.ndarray,
    returned: np.ndarray,
    latent: np.ndarray,
    rng: np.random.Generator,
) -> Any:
    import pandas as pd

    n = p["n"]
    values: dict[tuple[str, str], np.ndarray] = {("qlq-c15-pal", "PF"): _snap(latent, PF_GRID)}
    for scale, step in SCALE_STEPS.items():
        sign = -1 if scale in SYMPTOM_SCALES else 1
        raw = 50 + sign * 0.5 * (latent - 45) + rng.normal(0, 18, n)
        values[("qlq-c15-pal", scale)] = np.clip(np.round(raw / step) * step, 0, 100).round(2)
    if timepoint in EQ5D_TIMEPOINTS:
        index = np.clip(0.15 + 0.0075 * latent + rng.normal(0, 0.1, n), -0.446, 1.0)
        values[("eq5d5l-nl", "index")] = index.round(4)
        values[("eq5d5l-nl", "vas")] = np.clip(
            25 + 0.55 * latent + rng.normal(0, 10, n), 0, 100
        ).round()
    if timepoint in PAIN_TIMEPOINTS:
        values[("pain", "worst_pain")], values[("pain", "omed")] = _pain(p, timepoint, rng)
    dates = _date(day, p["rand_day"])
    rows = []
    for (instrument, scale), value in values.items():
        keep = returned & (rng.random(n) < 0.985)  # the odd scale cannot be scored
        rows.append(
            pd.DataFrame(
                {
                    "study_id": p["study_id"][keep],
                    "timepoint": timepoint,
                    "assessed_on": dates[keep],
                    "instrument": instrument,
                    "scale": scale,
                    "value": value[keep],
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _pain(p: dict[str, Any], timepoint: str, rng: np.random.Generator) -> tuple[Any, Any]:
    n = p["n"]
    base_rng = np.random.default_rng(int(p["rand_day"].sum()) + n)  # baseline shared by visits
    pain0 = np.clip(np.round(base_rng.normal(6, 2, n)), 0, 10)
    omed0 = np.where(base_rng.random(n) < 0.3, 0.0, np.round(base_rng.lognormal(3.6, 0.6, n)))
    if timepoint == "baseline":
        return pain0, omed0
    relief = np.where(p["received"], 3.0, 1.2) * min(DUE_DAYS[timepoint] / 28, 1.0)
    pain = np.clip(np.round(pain0 - relief + rng.normal(0, 1.8, n)), 0, 10)
    omed = np.round(omed0 * rng.choice([0.5, 0.8, 1.0, 1.0, 1.3, 1.6], n))
    omed = np.where((omed0 == 0) & (rng.random(n) < 0.15), 30.0, omed)
    return pain, omed


def _adverse_events(p: dict[str, Any], rng: np.random.Generator) -> Any:
    import pandas as pd

    counts = rng.poisson(0.7 + 0.6 * p["received"])
    who = np.repeat(np.arange(p["n"]), counts)
    m = len(who)
    probs = np.tile(AE_PROBS, (m, 1))
    probs[:, :3] *= np.where(p["received"][who], 1.8, 1.0)[:, None]
    probs /= probs.sum(axis=1, keepdims=True)
    term = (probs.cumsum(axis=1) < rng.random(m)[:, None]).sum(axis=1)
    grade = rng.choice([1, 2, 3, 4], m, p=[0.42, 0.33, 0.19, 0.06])
    serious = np.where(grade >= 3, rng.random(m) < 0.7, rng.random(m) < 0.04)
    onset = (rng.random(m) * np.minimum(p["fu"][who], 120)).astype(int)
    return pd.DataFrame(
        {
            "study_id": p["study_id"][who],
            "term": AE_TERMS[term],
            "grade": grade,
            "serious": _bool(serious),
            "onset_date": _date(onset, p["rand_day"][who]),
            "related": _bool(rng.random(m) < np.where(term < 3, 0.9, 0.2)),
        }
    )


def _costs(p: dict[str, Any], rng: np.random.Generator) -> Any:
    import pandas as pd

    n = p["n"]
    treated = p["treated"]
    items = {
        "hospital_stay": p["hospital_days"] * 690.0,
        "surgery": np.where(treated, rng.normal(9800, 1500, n), 0.0),
        "radiotherapy": np.where(treated, np.where(p["received"], 2600.0, 1450.0), 0.0),
        "outpatient": rng.poisson(4, n) * 145.0,
        "medication": np.round(rng.lognormal(6.5, 0.8, n), 2),
        "productivity": np.where(rng.random(n) < 0.15, np.round(rng.gamma(2, 1500, n), 2), 0.0),
    }
    frames = []
    for category, amount in items.items():
        keep = amount > 0
        frames.append(
            pd.DataFrame(
                {
                    "study_id": p["study_id"][keep],
                    "category": category,
                    "amount_eur": np.round(np.maximum(amount[keep], 0), 2),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values("study_id", kind="stable")


def rising_variance_pf(n: int, seed: int) -> Any:
    """Long PF data whose residual SD rises over the visits (10 → 26) with AR(1)-like
    correlation 0.6^|Δ| and MAR dropout: the case where a random-intercept model's SE
    of a late arm effect is too small and an MMRM's is right.

    Columns: study_id, z, pf_baseline, stratum, tp, pf (one row per attended visit).
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    visits = ["w1", "w4", "w12", "m6", "m12"]
    sd = np.array([10.0, 14.0, 18.0, 22.0, 26.0])
    lag = np.abs(np.subtract.outer(np.arange(5), np.arange(5)))
    cov = 0.6**lag * np.outer(sd, sd)
    z = rng.integers(0, 2, n)
    stratum = np.where(rng.random(n) < 0.5, "ps0-1", "ps2-4")
    base = np.clip(np.round(rng.normal(55, 18, n), 2), 0, 100)
    effect = np.array([2.0, 6.0, 8.0, 8.0, 6.0])
    mean = (
        20
        + 0.6 * base[:, None]
        + effect[None, :] * z[:, None]
        - 4.0 * (stratum == "ps2-4")[:, None]
    )
    pf = mean + rng.multivariate_normal(np.zeros(5), cov, n)
    low = pf < 40
    dropped = np.zeros(n, bool)
    keep = np.ones((n, 5), bool)
    for v in range(1, 5):  # dropout after a low value (MAR)
        dropped |= low[:, v - 1] & (rng.random(n) < 0.3)
        keep[:, v] = ~dropped & (rng.random(n) < 0.95)
    rows = [
        (f"P{i:04d}", int(z[i]), float(base[i]), stratum[i], visits[v], round(pf[i, v], 2))
        for i in range(n)
        for v in range(5)
        if keep[i, v]
    ]
    return pd.DataFrame(rows, columns=["study_id", "z", "pf_baseline", "stratum", "tp", "pf"])
