"""Demo adverse events: wound complications after surgery, some SAEs (a few overdue,
one reported late), follow-up reports, and deaths that need an SAE review."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from blend.apps.allocation.models import Allocation
from blend.apps.datamanagement.timeline import timelines
from blend.apps.safety.models import AdverseEvent
from blend.apps.safety.services import (
    deaths_needing_review,
    mark_sae_reported,
    report_adverse_event,
    review_death,
)

TERMS = [
    "wound_complication",
    "wound_infection",
    "wound_dehiscence",
    "seroma",
    "postoperative_hemorrhage",
    "dermatitis_radiation",
    "spinal_fracture",
    "csf_leakage",
]


def _aware(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _event(rng: Any, on: date, serious: bool) -> dict[str, Any]:
    term = rng.choices(TERMS, weights=[25, 25, 12, 10, 8, 10, 6, 4])[0]
    grade = rng.choice([3, 3, 4]) if serious else rng.choice([1, 1, 2])
    if term == "seroma":
        grade = min(grade, 3)
    return {
        "term": term,
        "grade": grade,
        "onset_date": on,
        "serious": serious,
        "seriousness": ["hospitalisation"] if serious else [],
        "related_sbrt": rng.choice(["unlikely", "possible", "not_related"]),
        "related_surgery": rng.choice(["possible", "probable", "definite"])
        if term.startswith("wound")
        else rng.choice(["not_related", "unlikely", "possible"]),
        "action_taken": "reoperation"
        if serious and term.startswith("wound")
        else ("hospitalised" if serious else rng.choice(["none", "medication", "local_care"])),
        "outcome": "recovering",
        "aware_at": _aware(on, rng.randint(8, 17)),
        "description": "Demo event (synthetic).",
    }


def _randomized(ctx: Any) -> list[Any]:
    ids = set(Allocation.objects.values_list("participant_id", flat=True))
    return [p for p in ctx.participants if p.pk in ids]


def populate(ctx: Any) -> None:
    rng, nurse = ctx.rng, ctx.users["nurse"]
    people = _randomized(ctx)
    lines = timelines(people)
    for participant in people:
        line = lines[participant.pk]
        start = line["treatment_start"] or line["randomized_on"]
        last = min(line["death_date"] or ctx.today, ctx.today)
        if start is None or (last - start).days < 3 or rng.random() > 0.45:
            continue
        for _ in range(rng.choice([1, 1, 2])):
            onset = start + timedelta(days=rng.randint(1, min(60, (last - start).days)))
            serious = rng.random() < 0.3
            ae = report_adverse_event(participant, _event(rng, onset, serious), user=nurse)
            _report_or_not(ctx, ae, serious)
            if rng.random() < 0.5 and (last - onset).days > 10:
                follow = _event(rng, onset, serious)
                follow.update(
                    term=ae.term,
                    grade=ae.grade,
                    seriousness=ae.seriousness,
                    outcome="recovered",
                    resolved_on=onset
                    + timedelta(days=rng.randint(5, min(30, (last - onset).days))),
                    aware_at=ae.aware_at + timedelta(days=7),
                )
                report_adverse_event(participant, follow, user=nurse, follow_up_of=ae)
    _review_deaths(ctx, lines)
    ctx.extra["adverse_events"] = True


def _review_deaths(ctx: Any, lines: dict[int, dict[str, Any]]) -> None:
    """Deaths within 30 days of treatment become fatal SAEs; later ones are judged not to be SAEs.
    The three most recent stay open, so the review prompt shows."""
    investigator = ctx.users["investigator"]
    pending = sorted(deaths_needing_review(), key=lambda pair: pair[1])
    for participant, died in pending[:-3]:
        start = (lines.get(participant.pk) or {}).get("treatment_start")
        if start is not None and (died - start).days <= 30:
            fatal = report_adverse_event(
                participant,
                {
                    "term": "other",
                    "other_term": "Death NOS",
                    "grade": 5,
                    "onset_date": died,
                    "serious": True,
                    "seriousness": ["death"],
                    "related_sbrt": "unlikely",
                    "related_surgery": "possible",
                    "action_taken": "none",
                    "outcome": "fatal",
                    "aware_at": _aware(died + timedelta(days=1), 9),
                    "description": "Death within 30 days of treatment (synthetic).",
                },
                user=ctx.users["nurse"],
            )
            mark_sae_reported(fatal, user=investigator, at=fatal.aware_at + timedelta(hours=6))
        else:
            review_death(
                participant,
                death_date=died,
                decision="not_sae",
                user=investigator,
                reason="Death from progressive disease, outside the SAE reporting period.",
            )


def _report_or_not(ctx: Any, ae: AdverseEvent, serious: bool) -> None:
    """Most SAEs are reported within hours; recent ones are sometimes still open (overdue),
    and now and then one goes in late."""
    if not serious:
        return
    roll = ctx.rng.random()
    if roll < 0.15:
        return  # overdue: never submitted
    late = roll < 0.25
    mark_sae_reported(
        ae,
        user=ctx.users["investigator"],
        at=ae.aware_at
        + timedelta(hours=ctx.rng.randint(30, 72) if late else ctx.rng.randint(2, 20)),
    )
