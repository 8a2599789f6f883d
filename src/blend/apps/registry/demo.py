"""Demo cohort members: varied sites, tumours, ages and performance status."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from blend.apps.registry.models import Participant
from blend.apps.registry.services import Registration, register_participant

FIRST = [
    "Anna",
    "Johanna",
    "Maria",
    "Els",
    "Ineke",
    "Sanne",
    "Fatima",
    "Henk",
    "Jan",
    "Pieter",
    "Kees",
    "Ahmed",
    "Willem",
    "Gerrit",
    "Bram",
    "Ria",
    "Truus",
    "Joke",
    "Mohamed",
    "Theo",
    "Yvonne",
    "Linda",
]
LAST = [
    "de Vries",
    "Jansen",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Yilmaz",
    "El Amrani",
]
TUMOURS = (
    ["breast"] * 24
    + ["prostate"] * 20
    + ["lung"] * 22
    + ["kidney"] * 9
    + ["myeloma"] * 5
    + ["other"] * 18
    + ["unknown"] * 2
)
COHORT_START = date(2022, 10, 15)


def _site_weights(sites: list[Any]) -> list[int]:
    """The first centre (the coordinating one) recruits three times as many as each other."""
    return [6] + [2] * (len(sites) - 1)


def populate(ctx: Any) -> None:
    rng, nurse = ctx.rng, ctx.users["nurse"]
    span = (ctx.today - COHORT_START).days
    for i in range(ctx.extra["n_participants"]):
        entered = COHORT_START + timedelta(
            days=int(span * (i + rng.random()) / ctx.extra["n_participants"])
        )
        entered = min(entered, ctx.today)
        born = date(entered.year - rng.randint(38, 88), rng.randint(1, 12), rng.randint(1, 28))
        tumour = rng.choice(TUMOURS)
        sex = (
            "female"
            if tumour == "breast"
            else "male"
            if tumour == "prostate"
            else rng.choice(["female", "male"])
        )
        registration = Registration(
            site=rng.choices(ctx.sites, weights=_site_weights(ctx.sites))[0],
            registered_on=entered,
            sex=sex,
            primary_tumour=tumour,
            metastases_diagnosed_on=entered - timedelta(days=rng.randint(0, 400)),
            performance_status=rng.choices(range(5), weights=[15, 40, 28, 13, 4])[0],
            full_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            date_of_birth=born,
            hospital_number=f"H{7000000 + i:07d}",
            email=f"demo.patient{i}@example.org" if rng.random() < 0.8 else "",
            phone=f"+31 6{rng.randint(10000000, 99999999)}" if rng.random() < 0.7 else "",
            preferred_language="nl" if rng.random() < 0.9 else "en",
        )
        ctx.participants.append(register_participant(registration, user=nurse))
    ctx.participants.sort(key=lambda p: p.registered_on)
    assert Participant.objects.count() >= len(ctx.participants)
    ctx.extra["vertical_cohort"] = _vertical_cohort(ctx, nurse)


# VERTICAL, the completed trial, recruited from the cohort years before BLEND
# (its exports.toml period): these members entered PRESENT then, so its screening,
# randomization and follow-up are history by now.
VERTICAL_ENTRY = (date(2015, 3, 1), date(2019, 6, 30))


def _vertical_cohort(ctx: Any, nurse: Any) -> list[Participant]:
    # A generator of its own, so the BLEND-era demo draws exactly what it drew before.
    rng = random.Random(f"vertical-{ctx.extra['n_participants']}")
    n = max(16, min(110, ctx.extra["n_participants"] // 3))
    first, last = VERTICAL_ENTRY
    members = []
    for i in range(n):
        entered = first + timedelta(days=int((last - first).days * (i + rng.random()) / n))
        tumour = rng.choice(TUMOURS)
        registration = Registration(
            site=rng.choices(ctx.sites, weights=_site_weights(ctx.sites))[0],
            registered_on=entered,
            sex="female"
            if tumour == "breast"
            else "male"
            if tumour == "prostate"
            else rng.choice(["female", "male"]),
            primary_tumour=tumour,
            metastases_diagnosed_on=entered - timedelta(days=rng.randint(0, 300)),
            performance_status=rng.choices(range(4), weights=[20, 45, 25, 10])[0],
            full_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            date_of_birth=date(
                entered.year - rng.randint(40, 85), rng.randint(1, 12), rng.randint(1, 28)
            ),
            hospital_number=f"H{8000000 + i:07d}",
            email=f"demo.vertical{i}@example.org" if rng.random() < 0.6 else "",
            phone=f"+31 6{rng.randint(10000000, 99999999)}" if rng.random() < 0.7 else "",
            preferred_language="nl",
        )
        members.append(register_participant(registration, user=nurse))
    return members
