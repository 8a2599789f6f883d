"""Demo data management: the edit checks run once, a data manager's queries in every
state, source verification, and investigator sign-off and locks for finished casebooks."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.http import HttpRequest

from blend.apps.datamanagement import services
from blend.apps.datamanagement.runner import check_data
from blend.apps.datamanagement.timeline import timelines

QUESTIONS = [
    (
        "Cohort registration",
        "performance_status",
        "WHO status 3 here, 1 in the outpatient letter of the same week?",
    ),
    (
        "Cohort registration",
        "metastases_diagnosed_on",
        "Please confirm the diagnosis date against the MRI report.",
    ),
    (
        "Consent",
        "effective_on",
        "Date on the signed form differs from the entered date; please check.",
    ),
    (
        "Adverse event",
        "grade",
        "Grade 3 needs an operative intervention; the letter mentions bedside care only.",
    ),
]
ANSWERS = [
    "Checked the source: entry is correct.",
    "Corrected after checking the source document.",
    "Letter was dictated later; the date in the CRF is right.",
]


def _request() -> HttpRequest:
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    return request


def populate(ctx: Any) -> None:

    rng, dm, nurse = ctx.rng, ctx.users["data_manager"], ctx.users["nurse"]
    check_data(user=None)
    for participant in rng.sample(ctx.participants, k=min(24, len(ctx.participants))):
        form, field, text = rng.choice(QUESTIONS)
        query = services.open_query(
            services.QueryTarget(participant, form, field),
            text,
            assigned_role=rng.choice(["nurse", "nurse", "investigator"]),
            user=dm,
        )
        roll = rng.random()
        if roll < 0.65:
            services.answer_query(query, rng.choice(ANSWERS), user=nurse)
            if roll < 0.4:
                services.close_query(query, "Thank you, resolved.", user=dm)
    for participant in ctx.participants[: len(ctx.participants) // 3]:
        if rng.random() < 0.6:
            services.source_verify(participant, "Cohort registration", user=dm)
            services.source_verify(participant, "Consent", user=dm)
    _sign_and_lock(ctx, ctx.password)


def _casebook_finished(line: dict[str, date | None], today: date) -> bool:
    randomized_on = line["randomized_on"]
    if randomized_on is None:
        return False
    return (line["death_date"] or randomized_on + timedelta(days=400)) < today


def _sign_and_lock(ctx: Any, password: str) -> None:
    """Casebooks finished more than 13 months after randomization (or after death) are signed; most are locked."""
    lines = timelines(ctx.participants)
    finished = [p for p in ctx.participants if _casebook_finished(lines[p.pk], ctx.today)]
    investigator, request = ctx.users["investigator"], _request()
    for participant in finished[:12]:
        services.sign_off(participant, user=investigator, password=password, request=request)
        if ctx.rng.random() < 0.7:
            services.lock_participant(
                participant, user=ctx.users["data_manager"], reason="casebook complete and signed"
            )
