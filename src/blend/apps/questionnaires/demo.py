"""Demo questionnaires across both arms and the routine cohort: completed on time (by
link, some on paper or by phone), late, partly (submitted with blanks, or started and
left), and not at all; none after a death or a withdrawal. Finally the reminders that
are due today are queued, so the outbox shows what `blend send-reminders` would send."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from blend.apps.allocation.models import Allocation
from blend.apps.audit.services import audited_save
from blend.apps.followup.models import Assessment, VitalStatus
from blend.apps.followup.services import statuses
from blend.apps.outbox.services import queue_many
from blend.apps.questionnaires.models import Response
from blend.apps.questionnaires.reminders import build_message, plan_messages
from blend.apps.questionnaires.services import save_all, submit
from blend.apps.registry.models import Identity
from blend.protocol.schedule import load_schedule, window_for

PROFILES = {"keen": 0.93, "usual": 0.75, "struggling": 0.4}
MODES = ["web"] * 7 + ["paper"] * 2 + ["telephone"]


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _answers(rng: Any, code: str, wellbeing: float) -> dict[str, Any]:
    """Plausible answers: ``wellbeing`` 0 (very ill) .. 1 (well)."""
    burden = 1 - wellbeing
    if code == "qlq-c15-pal":
        items = {f"q{n}": _clamp(1 + 3 * burden + rng.gauss(0, 0.7), 1, 4) for n in range(1, 15)}
        items["q15"] = _clamp(1 + 6 * wellbeing + rng.gauss(0, 0.8), 1, 7)
        return items
    if code == "pain-nrs":
        return {"worst_pain": _clamp(9 * burden + rng.gauss(0, 1.5), 0, 10)}
    if code == "omed":
        if rng.random() < wellbeing * 0.8:
            return {"any": "no"}
        return {
            "any": "yes",
            "drug_1": rng.choice(["oxycodone|oral", "morphine|oral", "fentanyl|transdermal"]),
            "dose_1": rng.choice([10, 20, 25, 40]),
        }
    if code == "eq5d5l-nl":
        dims = (
            "mobility",
            "self_care",
            "usual_activities",
            "pain_discomfort",
            "anxiety_depression",
        )
        levels = {d: _clamp(1 + 4 * burden + rng.gauss(0, 0.8), 1, 5) for d in dims}
        return {**levels, "vas": _clamp(100 * wellbeing + rng.gauss(0, 10), 0, 100)}
    work = rng.random() < 0.2
    return {
        "gp_visits": rng.randint(0, 4),
        "specialist_visits": rng.randint(0, 5),
        "physio_sessions": rng.randint(0, 8),
        "homecare_hours": rng.choice([0, 0, 4, 12, 30]),
        "hospital_nights": rng.choice([0, 0, 0, 2, 5]),
        "paid_work": "yes" if work else "no",
        "sick_days": rng.randint(0, 20) if work else None,
    }


def _wellbeing(rng: Any, day: int, arm: str | None) -> float:
    """Worse before treatment; recovery over weeks; a small early advantage of same-day care."""
    recovery = min(day, 84) / 84 * 0.35
    early = 0.08 if arm == "intervention" and 0 < day <= 42 else 0.0
    return max(0.05, min(0.95, 0.35 + recovery + early + rng.gauss(0, 0.12)))


def _fill(
    rng: Any, a: Assessment, on: date, arm: str | None, *, mode: str, partly: bool, nurse: Any
) -> None:
    user = None if mode == "web" else nurse
    wellbeing = _wellbeing(rng, (a.target_on - a.anchor_on).days, arm)
    answers = {}
    for i, code in enumerate(a.instruments):
        if partly and i > 0 and rng.random() < 0.4:
            continue
        values = _answers(rng, code, wellbeing)
        answers[code] = (
            {k: v for k, v in values.items() if rng.random() > 0.25} if partly else values
        )
    save_all(a, answers, mode=mode, language="nl", user=user)


def _moment(on: date) -> datetime:
    return timezone.make_aware(datetime.combine(on, time(10, 30)))


def _backdate(a: Assessment, on: date) -> None:
    """The demo's answers were saved today; date them back to when the patient filled them in.
    Through the audit trail like any edit: `blend check-audit` proves that every row equals
    its last history row, and the demo's data passes it."""
    moment = _moment(on)
    for response in Response.objects.filter(assessment=a):
        response.started_at = response.updated_at = moment
        audited_save(response, user=None, reason="demo data: dated back to when it was filled in")


def _one(
    rng: Any,
    a: Assessment,
    status: str,
    profile: float,
    arm: str | None,
    ctx: Any,
    died_on: date | None = None,
) -> str:
    today, nurse = ctx.today, ctx.users["nurse"]
    if status in {"stopped", "upcoming"} or (status in {"due", "overdue"} and rng.random() < 0.5):
        return "none"
    if rng.random() > profile:
        if status == "missed" and rng.random() < 0.25:  # started, never sent
            _fill(rng, a, a.opens_on, arm, mode="web", partly=True, nurse=nurse)
            _backdate(a, a.opens_on)
            return "started"
        return "missed"
    late = status == "missed" and rng.random() < 0.12
    on = min(
        today,
        a.closes_on + timedelta(days=rng.randint(1, 6))
        if late
        else a.opens_on
        + timedelta(days=rng.randint(0, (min(a.closes_on, today) - a.opens_on).days)),
    )
    if died_on is not None and on > died_on:
        return "missed"  # a late answer would have come after the member died: none came
    mode, partly = rng.choice(MODES), rng.random() < 0.1
    _fill(rng, a, on, arm, mode=mode, partly=partly, nurse=nurse)
    submit(a, mode=mode, completed_on=on, user=None if mode == "web" else nurse, at=_moment(on))
    _backdate(a, on)
    return "late" if late else ("partly" if partly else "on_time")


def _history(done: list[tuple[Assessment, str]]) -> None:
    """The invitations and reminders that were sent for past windows (the outbox log)."""
    schedule = load_schedule()
    contacts = {
        pid: (email, phone, lang)
        for pid, email, phone, lang in Identity.objects.values_list(
            "participant_id", "email", "phone", "preferred_language"
        )
    }
    log = []
    for a, outcome in done:
        window = window_for(schedule.timepoint(a.timepoint), a.anchor_on)
        finished = a.completed_on if outcome in {"on_time", "partly"} else a.closes_on
        for step, on in schedule.message_days(window):
            if on > (finished or a.closes_on):
                break
            draft = build_message(a, step, schedule, contacts.get(a.participant_id))
            if draft is not None:
                moment = timezone.make_aware(datetime.combine(on, time(9, 0)))
                log.append(dataclasses.replace(draft, send_after=moment, sent_at=moment))
    queue_many(log)


def populate(ctx: Any) -> None:
    rng = ctx.rng
    load_schedule()
    assessments = list(
        Assessment.objects.select_related("participant").order_by("participant_id", "target_on")
    )
    status_of = statuses(assessments, ctx.today)
    # The arm each member was allocated to, in any trial: what the synthetic answers follow.
    arms = dict(Allocation.objects.values_list("participant_id", "arm"))
    deaths = dict(
        VitalStatus.objects.filter(died_on__isnull=False).values_list("participant_id", "died_on")
    )
    profiles: dict[int, float] = {}
    counts: dict[str, int] = {}
    done: list[tuple[Assessment, str]] = []
    for a in assessments:
        profile = profiles.setdefault(
            a.participant_id, PROFILES[rng.choice(["keen", "keen", "usual", "struggling"])]
        )
        arm = arms.get(a.participant_id)
        outcome = _one(rng, a, status_of[a.pk], profile, arm, ctx, deaths.get(a.participant_id))
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome != "none":
            done.append((a, outcome))
    fresh = Assessment.objects.in_bulk(
        [a.pk for a, _ in done]
    )  # completion dates were set by the services
    _history([(fresh[a.pk], outcome) for a, outcome in done])
    plan_messages(today=ctx.today)
    ctx.extra["questionnaires"] = counts
