"""Follow-up state changes (plan the schedule, clinical forms, vital status) and the
read services the calendar, the dashboards, the reminders and the exports use."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.allocation.models import Allocation
from blend.apps.audit.services import audited_delete, audited_save, record_event
from blend.apps.consent.services import bulk_may_send_questionnaires
from blend.apps.followup.domain import AssessmentStatus, assessment_status
from blend.apps.followup.models import Assessment, ClinicalEvent, ExtraAssessment, VitalStatus
from blend.apps.offers.models import Offer, OfferState
from blend.apps.outbox.services import cancel_for_participant
from blend.apps.registry.models import Participant
from blend.apps.trials.lookup import get_trial, trial_code_or_default
from blend.protocol.schedule import load_schedule


class FollowupError(ValueError):
    """A follow-up entry the rules do not allow; the message names the field."""


DeathListener = Callable[[Participant], object]  # what it returns is ignored

_death_listeners: dict[str, DeathListener] = {}


def register_death_listener(name: str, listener: DeathListener) -> None:
    """Call ``listener(participant)`` when a death is recorded, inside the same transaction
    (the questionnaires app revokes its links this way, without follow-up importing it)."""
    _death_listeners[name] = listener


@transaction.atomic
def plan_schedule(
    participant: Participant, *, anchor: date | None, user: User | None
) -> list[Assessment]:
    """Create or move the participant's assessments from ``anchor``, the day the schedule
    counts from (the treatment app gives it: the start of treatment, or the planned day).

    Completed assessments keep their dates (they happened); the rest follow the anchor.
    The arm is never consulted: the schedule is the same for everyone (TwiCs).
    """
    if anchor is None:
        return []
    existing = {a.timepoint: a for a in Assessment.objects.filter(participant=participant)}
    schedule = load_schedule()
    planned = []
    for window in schedule.plan(anchor):
        assessment = existing.get(window.code) or Assessment(
            participant=participant, timepoint=window.code
        )
        if assessment.completed_at is None:
            before = _dates(assessment)
            assessment.instruments = list(schedule.timepoint(window.code).instruments)
            assessment.anchor_on, assessment.target_on = anchor, window.target
            assessment.opens_on, assessment.closes_on = window.opens, window.closes
            if assessment.pk is None:
                audited_save(assessment, user=user)
            elif before != _dates(assessment):
                audited_save(assessment, user=user, reason="start of treatment or schedule changed")
        planned.append(assessment)
    plan_extras(participant, anchor=anchor, user=user)
    return planned


def plan_extras(
    participant: Participant, *, anchor: date, user: User | None
) -> list[ExtraAssessment]:
    """Plan each trial's extra measurements (``schedule.toml`` ``[[extra]]``, audience
    ``acceptors``) for the trials whose offer the participant accepted, from ``anchor``:
    at a cohort timepoint's window, or on a day of its own with its own window. Nothing is
    planned for controls (they have no offer) or for an offer refused or not made; an
    extra not yet done is removed when the offer is no longer accepted. Done extras keep
    their dates."""
    accepted = set(
        Offer.objects.filter(participant=participant, state=OfferState.ACCEPTED).values_list(
            "trial", flat=True
        )
    )
    existing = {
        (e.trial, e.code): e for e in ExtraAssessment.objects.filter(participant=participant)
    }
    windows = {w.code: w for w in load_schedule().plan(anchor)}
    planned = []
    for trial in sorted(accepted):
        for extra in get_trial(trial).outcomes.extra:
            if extra.timepoint is not None:
                window = windows[extra.timepoint]
                target, opens, closes = window.target, window.opens, window.closes
            else:
                target = anchor + timedelta(days=extra.day or 0)
                opens = target - timedelta(days=extra.before)
                closes = target + timedelta(days=extra.after)
            row = existing.pop((trial, extra.code), None) or ExtraAssessment(
                participant=participant, trial=trial, code=extra.code
            )
            if row.completed_on is None:
                before = (row.anchor_on, row.target_on, row.opens_on, row.closes_on)
                row.label, row.instruments = extra.label, list(extra.instruments)
                row.anchor_on, row.target_on, row.opens_on, row.closes_on = (
                    anchor,
                    target,
                    opens,
                    closes,
                )
                if row.pk is None:
                    audited_save(row, user=user)
                elif before != (row.anchor_on, row.target_on, row.opens_on, row.closes_on):
                    audited_save(row, user=user, reason="start of treatment or schedule changed")
            planned.append(row)
    for row in existing.values():  # the offer is no longer accepted, or the extra is gone
        if row.completed_on is None:
            audited_delete(row, user=user, reason="no longer planned: offer not accepted")
    return planned


def replan_extras_after_decision(offer: Offer, user: User | None) -> None:
    """An offer decided after the schedule was planned: plan (or remove) that member's
    extras from the schedule's day 0 (offers' decision listener)."""
    anchor = (
        Assessment.objects.filter(participant=offer.participant)
        .order_by("target_on")
        .values_list("anchor_on", flat=True)
        .first()
    )
    if anchor is not None:
        plan_extras(offer.participant, anchor=anchor, user=user)


def visible_extras(participant: Participant, user: Any) -> list[ExtraAssessment]:
    """The participant's extra measurements in the trials where ``user`` holds
    ``allocation.view`` (an extra reveals the arm); none for anyone else."""
    rows = list(ExtraAssessment.objects.filter(participant=participant).order_by("target_on"))
    allowed = {
        trial
        for trial in {row.trial for row in rows}
        if getattr(user, "is_authenticated", False) and user.can(Cap.ALLOCATION_VIEW, trial=trial)
    }
    return [row for row in rows if row.trial in allowed]


@transaction.atomic
def mark_extra_completed(extra: ExtraAssessment, *, on: date, user: User | None) -> None:
    """Record that an extra measurement was done on ``on`` (the questionnaires app calls
    this when its answers are entered), so it is no longer planned or moved."""
    extra.completed_on = on
    audited_save(extra, user=user, reason="extra measurement completed")


def _dates(a: Assessment) -> tuple[Any, ...]:
    return (a.anchor_on, a.target_on, a.opens_on, a.closes_on, list(a.instruments or []))


def death_date(participant: Participant) -> date | None:
    return (
        VitalStatus.objects.filter(participant=participant)
        .values_list("died_on", flat=True)
        .first()
    )


def last_contact(participant: Participant) -> date | None:
    return (
        VitalStatus.objects.filter(participant=participant)
        .values_list("last_contact_on", flat=True)
        .first()
    )


@transaction.atomic
def record_vital_status(
    participant: Participant,
    *,
    last_contact_on: date,
    died_on: date | None = None,
    cause_of_death: str = "",
    user: User,
    reason: str = "",
) -> VitalStatus:
    """Record the last contact or a death. A death stops every invitation at once."""
    today = timezone.localdate()
    for name, value in (("died_on", died_on), ("last_contact_on", last_contact_on)):
        if value is not None and value > today:
            raise FollowupError(f"{name}: expected today or earlier, got {value}")
        if value is not None and value < participant.registered_on:
            raise FollowupError(
                f"{name}: expected on or after cohort entry {participant.registered_on}, got {value}"
            )
    if died_on is not None:
        last_contact_on = died_on
    status = VitalStatus.objects.filter(participant=participant).first() or VitalStatus(
        participant=participant
    )
    is_new_death = died_on is not None and status.died_on is None
    status.last_contact_on, status.died_on, status.cause_of_death = (
        last_contact_on,
        died_on,
        cause_of_death,
    )
    status.recorded_by = user
    status.full_clean()
    audited_save(status, user=user, reason=reason)
    record_event(
        "followup.death" if is_new_death else "followup.vital_status",
        actor=user,
        participant=participant,
        obj=status,
        reason=reason,
        details={"died_on": str(died_on) if died_on else None},
    )
    if is_new_death:
        stop_invitations(participant)
    return status


def stop_invitations(participant: Participant) -> None:
    """Cancel queued messages and tell every listener (open questionnaire links are revoked)."""
    cancel_for_participant(participant)
    for listener in _death_listeners.values():
        listener(participant)


@transaction.atomic
def save_clinical(instance: ClinicalEvent, *, user: User, reason: str = "") -> ClinicalEvent:
    """Save one clinical follow-up form (first entry, or an edit with a reason)."""
    if instance.pk is None:
        instance.recorded_by = user
    instance.full_clean()
    audited_save(instance, user=user, reason=reason)
    record_event(
        f"followup.{instance._meta.model_name}",
        actor=user,
        participant=instance.participant,
        obj=instance,
        reason=reason,
    )
    return instance


def questionnaire_permission(participant_ids: list[int]) -> dict[int, bool]:
    """``may_send_questionnaires`` for many participants in one query (the rule is consent's)."""
    return bulk_may_send_questionnaires(participant_ids)


def contactable(participant_ids: list[int]) -> set[int]:
    """Who may be contacted for questionnaires: alive, and with questionnaire consent.
    Two queries, whatever the number of participants; the one place this rule lives."""
    dead = set(
        VitalStatus.objects.filter(
            participant_id__in=participant_ids, died_on__isnull=False
        ).values_list("participant_id", flat=True)
    )
    allowed = questionnaire_permission(participant_ids)
    return {pid for pid in participant_ids if pid not in dead and allowed.get(pid)}


def may_contact(participant: Participant) -> bool:
    return participant.pk in contactable([participant.pk])


def statuses(
    assessments: Sequence[Assessment | ExtraAssessment], today: date | None = None
) -> dict[int, AssessmentStatus]:
    """Status of many assessments (routine, or a trial's extras: not both in one call,
    their keys would collide) with a constant number of queries."""
    today = today or timezone.localdate()
    pids = sorted({a.participant_id for a in assessments})
    deaths = dict(
        VitalStatus.objects.filter(participant_id__in=pids, died_on__isnull=False).values_list(
            "participant_id", "died_on"
        )
    )
    allowed = questionnaire_permission(pids)
    return {
        a.pk: assessment_status(
            a.slot,
            today,
            died_on=deaths.get(a.participant_id),
            may_send=allowed.get(a.participant_id, False),
        )
        for a in assessments
    }


def open_window_counts(today: date | None = None) -> Counter[str]:
    """Statuses of the windows open today and not yet completed (due, overdue, or stopped
    for a death or withdrawn consent). Only open windows are read, a small share of the
    cohort's assessments, so the dashboard does not grow with the cohort's history."""
    today = today or timezone.localdate()
    open_now = list(
        Assessment.objects.filter(
            opens_on__lte=today, closes_on__gte=today, completed_at__isnull=True
        ).only("id", "participant_id", "opens_on", "target_on", "closes_on", "completed_at")
    )
    return Counter(str(status) for status in statuses(open_now, today).values())


def completeness(
    today: date | None = None, *, by_arm: bool = False, trial: str | None = None
) -> dict[str, Any]:
    """Counts per timepoint (and per arm of ``trial`` when asked): expected, completed,
    missed, open."""
    assessments = list(
        Assessment.objects.only(
            "id",
            "participant_id",
            "timepoint",
            "opens_on",
            "target_on",
            "closes_on",
            "completed_at",
        )
    )
    status_of = statuses(assessments, today)
    arms: dict[int, str] = {}
    if by_arm:
        arms = dict(
            Allocation.objects.filter(trial=trial_code_or_default(trial)).values_list(
                "participant_id", "arm"
            )
        )
    table: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for a in assessments:
        group = arms.get(a.participant_id, "cohort") if by_arm else "all"
        table[a.timepoint][group][status_of[a.pk]] += 1
    return table


def vital_records(participant_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What follow-up holds that a registry's vital status is checked against, for many
    participants in two queries: ``died_on``, ``last_contact_on``, ``cause_of_death`` (None
    and "" when no vital status is recorded) and ``last_questionnaire_on``, the latest day
    an assessment was completed."""
    found: dict[int, dict[str, Any]] = {
        pid: {
            "died_on": None,
            "last_contact_on": None,
            "cause_of_death": "",
            "last_questionnaire_on": None,
        }
        for pid in participant_ids
    }
    rows = VitalStatus.objects.filter(participant_id__in=participant_ids).values_list(
        "participant_id", "died_on", "last_contact_on", "cause_of_death"
    )
    for pid, died, contact, cause in rows:
        found[pid].update(died_on=died, last_contact_on=contact, cause_of_death=cause)
    completed = (
        Assessment.objects.filter(participant_id__in=participant_ids, completed_on__isnull=False)
        .values("participant_id")
        .annotate(last=Max("completed_on"))
        .values_list("participant_id", "last")
    )
    for pid, last in completed:
        found[pid]["last_questionnaire_on"] = last
    return found
