"""A synthetic VERTICAL dataset (contract 1.1): SBRT 1 × 18 Gy against conventional RT 1 × 8 Gy.

`make_vertical_dataset(n_randomized, seed, out_dir)` writes a contract-1.1 folder whose
`dataset.json` names trial VERTICAL and its primary outcome (pain response at w12,
risk difference, ITT and IV), as `blend export analysis --trial VERTICAL` does. The
cohort side (screening, deaths, PROM non-response, AEs, costs) is the BLEND generator's
(`blend.stats.synthetic`); what differs is VERTICAL's: an unstratified 1:1 allocation,
about 27% of those offered declining SBRT and some acceptors not completing it
(protocol-vertical.md), and worst pain that falls more after SBRT than after
conventional RT through week 12. The same seed writes byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from blend.stats import synthetic
from blend.stats.synthetic import PERIOD_END, PERIOD_START

VERTICAL_PRIMARY = {
    "measure": "pain_response",
    "timepoint": "w12",
    "analysis": "risk_difference",
    "estimands": ["itt", "iv"],
}
# The BLEND generator's ineligibility codes, renamed to VERTICAL's criteria.
CRITERIA = {
    "no_instability": "unstable_spine",
    "prior_surgery": "prior_rt_same_level",
    "too_frail": "kps_50_or_less",
    "cord_compression": "cord_compression",
    "life_expectancy": "life_expectancy",
}
VERTICAL_ARM_LABELS = {
    "intervention": "SBRT, a single fraction of 18 Gy",
    "control": "Conventional radiotherapy, a single fraction of 8 Gy",
}


def make_vertical_dataset(n_randomized: int, seed: int, out_dir: str | Path) -> Path:
    """Write a contract-1.1 VERTICAL dataset with `n_randomized` participants; return it."""
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    people = _participants(n_randomized, rng)
    screening, cohort = synthetic._screening(people, rng)
    screening["study_id"] = screening["study_id"].str.replace("BS-", "VS-", regex=False)
    for blend_code, vertical_code in CRITERIA.items():
        screening["ineligibility_reasons"] = screening["ineligibility_reasons"].str.replace(
            blend_code, vertical_code, regex=False
        )
    tables = {
        "screening.csv": screening,
        "participants.csv": synthetic._participant_table(people),
        "assessments.csv": _assessments(people, rng),
        "adverse_events.csv": synthetic._adverse_events(people, rng),
        "costs.csv": synthetic._costs(people, rng),
    }
    for name, frame in tables.items():
        frame.to_csv(out / name, index=False, lineterminator="\n")
    meta = {
        "contract_version": "1.1",
        "trial": "VERTICAL",
        "protocol_version": "BMC Cancer 2016;16:909 (synthetic)",
        "cohort_participants": cohort,
        "period_start": str(PERIOD_START),
        "period_end": str(PERIOD_END),
        "exported_at": "2026-07-01T00:00:00Z",
        "primary_outcome": VERTICAL_PRIMARY,
        "arm_labels": VERTICAL_ARM_LABELS,
        "synthetic_seed": seed,
    }
    (out / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out


def _participants(n: int, rng: np.random.Generator) -> dict[str, Any]:
    p: dict[str, Any] = {"n": n, "study_id": np.array([f"VE-{i + 1:05d}" for i in range(n)])}
    p["rand_day"] = np.sort(rng.integers(0, 1100, n))
    p["ps"] = rng.choice(5, n, p=[0.20, 0.45, 0.25, 0.10, 0.0])
    p["stratum"] = np.full(n, "")  # VERTICAL: unstratified blocks (randomization.toml)
    p["arm"] = synthetic._blocked_arms(np.zeros(n), rng)
    p["age"] = np.clip(rng.normal(65, 11, n).round(), 30, 92)
    p["sex"] = np.where(rng.random(n) < 0.45, "female", "male")
    p["tumour"] = rng.choice(
        ["breast", "prostate", "lung", "kidney", "other"], n, p=[0.3, 0.25, 0.2, 0.1, 0.15]
    )
    p["sins"] = rng.integers(3, 10, n)
    z = p["arm"] == "intervention"
    p["offered"] = z & (rng.random(n) < 0.97)
    p["accepted"] = p["offered"] & (rng.random(n) < 0.73)  # 27% declined [V-RES]
    p["refused"] = p["offered"] & ~p["accepted"]
    p["received"] = p["accepted"] & (rng.random(n) < 0.84)  # 16% could not complete it
    synthetic._follow_up(p, rng)
    return p


def _assessments(p: dict[str, Any], rng: np.random.Generator) -> Any:
    """The cohort's PROMs as the BLEND generator writes them, with VERTICAL's pain."""
    frame = synthetic._assessments(p, rng)
    pain = frame["instrument"] == "pain"
    pain0 = np.clip(np.round(rng.normal(6.5, 1.8, p["n"])), 0, 10)
    omed0 = np.where(rng.random(p["n"]) < 0.35, 0.0, np.round(rng.lognormal(3.5, 0.6, p["n"])))
    index = {sid: i for i, sid in enumerate(p["study_id"])}
    who = frame.loc[pain, "study_id"].map(index).to_numpy(int)
    timepoint = frame.loc[pain, "timepoint"].to_numpy(str)
    scale = frame.loc[pain, "scale"].to_numpy(str)
    days = np.array([0 if t == "baseline" else synthetic.DUE_DAYS[t] for t in timepoint])
    ramp = np.minimum(days / 28, 1.0)
    relief = np.where(p["received"][who], 4.2, 2.2) * ramp
    noise = rng.normal(0, 1.9, len(who)) * (days > 0)
    worst = np.clip(np.round(pain0[who] - relief + noise), 0, 10)
    factor = rng.choice([0.5, 0.75, 1.0, 1.0, 1.0, 1.3], len(who))
    omed = np.where(days > 0, np.round(omed0[who] * factor), omed0[who])
    omed = np.where((omed0[who] == 0) & (days > 0) & (rng.random(len(who)) < 0.12), 30.0, omed)
    frame.loc[pain, "value"] = np.where(scale == "worst_pain", worst, omed)
    return frame
