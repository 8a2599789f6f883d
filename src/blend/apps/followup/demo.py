"""Demo follow-up: deaths (which stop every invitation), last contacts, the index
admission, return to systemic therapy, ASIA at follow-up (a few deteriorate), opioid
use and the occasional re-intervention."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from blend.apps.accounts.models import User
from blend.apps.followup.models import (
    HospitalAdmission,
    NeuroAssessment,
    OpioidUse,
    ReIntervention,
    SystemicTherapy,
)
from blend.apps.followup.services import record_vital_status, save_clinical
from blend.apps.registry.models import Participant
from blend.instruments import score

CAUSES = [
    "progressive disease",
    "progressive disease",
    "progressive disease",
    "pneumonia",
    "unknown",
]
OPIOIDS = [
    ("oxycodone", "oral", "mg/day", [10, 20, 40, 60]),
    ("morphine", "oral", "mg/day", [30, 60, 90]),
    ("fentanyl", "transdermal", "ug/h", [12, 25, 50]),
]


def _death(rng: random.Random, start: date, today: date) -> date | None:
    """About a quarter of patients with spinal metastases die within the first year."""
    if rng.random() > 0.28:
        return None
    died = start + timedelta(days=int(rng.expovariate(1 / 150)) + 5)
    return died if died <= today else None


def _opioids(rng: random.Random, participant: Participant, on: date, nurse: User) -> None:
    drug, route, unit, doses = rng.choice(OPIOIDS)
    meds = (
        []
        if rng.random() < 0.3
        else [{"drug": drug, "route": route, "dose": rng.choice(doses), "unit": unit}]
    )
    save_clinical(
        OpioidUse(
            participant=participant,
            used_on=on,
            medications=meds,
            omed_mg_day=score("omed", {"medications": meds})["omed"],
        ),
        user=nurse,
    )


def _clinical(
    rng: random.Random, treatment: dict[str, Any], start: date, last: date, nurse: User
) -> None:
    p = treatment["participant"]
    surgery = treatment["surgery_day"]
    if surgery and surgery <= last:
        nights = rng.randint(2, 6) if treatment["pathway"] == "same_day" else rng.randint(3, 10)
        out = min(surgery + timedelta(days=nights), last)
        save_clinical(
            HospitalAdmission(
                participant=p,
                admitted_on=surgery - timedelta(days=rng.choice([0, 1])),
                discharged_on=out,
                index_treatment=True,
            ),
            user=nurse,
        )
    if rng.random() < 0.6 and start + timedelta(days=14) < last:
        restart = start + timedelta(days=rng.randint(14, min(120, (last - start).days)))
        save_clinical(_systemic(p, restart, rng), user=nurse)
    for days in (28, 84):
        if start + timedelta(days=days) <= last:
            grade = "E" if rng.random() < 0.85 else rng.choice(["D", "D", "C"])
            save_clinical(
                NeuroAssessment(
                    participant=p,
                    assessed_on=start + timedelta(days=days),
                    asia_grade=grade,
                    timepoint="w4" if days == 28 else "w12",
                ),
                user=nurse,
            )
    for days in (0, 28):
        if start + timedelta(days=days) <= last:
            _opioids(rng, p, start + timedelta(days=days), nurse)
    if rng.random() < 0.05 and start + timedelta(days=20) < last:
        save_clinical(
            ReIntervention(
                participant=p,
                performed_on=start + timedelta(days=rng.randint(10, 20)),
                kind=rng.choice(["wound", "surgery"]),
                description="demo",
            ),
            user=nurse,
        )


def _systemic(participant: Participant, on: date, rng: random.Random) -> SystemicTherapy:
    return SystemicTherapy(
        participant=participant,
        started_on=on,
        therapy_type=rng.choice(["chemotherapy", "immunotherapy", "targeted", "hormonal"]),
    )


def populate(ctx: Any) -> None:  # ctx: demo's DemoContext (the demo app sits above this one)
    rng, nurse, today = ctx.rng, ctx.users["nurse"], ctx.today
    deaths = []
    for treatment in ctx.extra.get(
        "treatments", []
    ):  # handed on by the treatment demo, which runs first
        start = treatment["start"]
        if start is None:
            continue
        died = _death(rng, start, today)
        last = died or max(start, today - timedelta(days=rng.randint(0, 45)))
        if treatment["randomized"]:
            _clinical(rng, treatment, start, last, nurse)
        record_vital_status(
            treatment["participant"],
            last_contact_on=last,
            died_on=died,
            cause_of_death=rng.choice(CAUSES) if died else "",
            user=nurse,
        )
        if died:
            deaths.append(treatment["participant"].pk)
    ctx.extra["deaths"] = deaths
