"""Adverse-event reporting: report, follow up, submit SAE reports, review deaths.

Every SAE notifies the PI and the trial office at once through the outbox (staff
e-mail): the notification is sent as soon as the report is saved (on commit), and one
that fails stays queued and is retried by the background worker (``outbox.tasks``).
The audit trail says what happened: ``ae.sae_notification_queued`` when it is saved,
``ae.sae_notified`` per recipient once the e-mail went out, and
``ae.sae_notification_failed`` for each failed attempt. The reporting deadline
(``safety.toml`` ``sae_report_hours``, default 24 h from the site becoming aware) is
tracked and overdue reports are flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.permissions import check
from blend.apps.allocation.models import Allocation
from blend.apps.audit.services import audited_save, record_event
from blend.apps.datamanagement.timeline import timeline_values
from blend.apps.followup.models import VitalStatus
from blend.apps.followup.services import death_date
from blend.apps.outbox.models import Message, Status
from blend.apps.outbox.services import message_key, purpose_messages, queue_message
from blend.apps.outbox.tasks import send_on_commit
from blend.apps.registry.models import Participant
from blend.apps.safety.domain import term
from blend.apps.safety.editchecks import ADVERSE_EVENT
from blend.apps.safety.models import AdverseEvent, DeathReview
from blend.editchecks import run_checks, timeline_names
from blend.protocol import load_protocol

AE_FIELDS = (
    "term",
    "other_term",
    "grade",
    "onset_date",
    "resolved_on",
    "serious",
    "seriousness",
    "related_sbrt",
    "related_surgery",
    "action_taken",
    "outcome",
    "description",
    "aware_at",
)
SAE_TEMPLATE = "sae_notification"


class SafetyError(ValueError):
    """An adverse-event report that breaks a rule; the message names the field."""


def settings_section() -> dict[str, Any]:
    return load_protocol().section("safety")


def report_hours() -> int:
    return int(settings_section().get("sae_report_hours", 24))


def attributed_trial(ae: AdverseEvent) -> str:
    """The trial the member was last randomized in on or before the event's onset, or ""
    (a cohort event outside any trial). The arm plays no part: the attribution reveals
    nothing that the randomization itself does not."""
    trial = (
        Allocation.objects.filter(
            participant_id=ae.participant_id, allocated_at__date__lte=ae.onset_date
        )
        .order_by("-allocated_at")
        .values_list("trial", flat=True)
        .first()
    )
    return trial or ""


def _validate(ae: AdverseEvent) -> None:
    try:
        term(ae.term)  # one of the 800-odd CTCAE v5.0 terms (the form and API offer them)
    except ValueError as unknown:
        raise SafetyError(str(unknown)) from None
    values = {name: getattr(ae, name) for name in AE_FIELDS}
    values.update(timeline_values(ae.participant, timeline_names(ADVERSE_EVENT)))
    findings = run_checks(ADVERSE_EVENT, values)
    if ae.onset_date and ae.onset_date > timezone.localdate():
        raise SafetyError(f"onset_date: expected today or earlier, got {ae.onset_date}")
    if findings:
        raise SafetyError("; ".join(f"[{f.check}] {f.message}" for f in findings))


def _apply(ae: AdverseEvent, data: dict[str, Any]) -> None:
    unknown = set(data) - set(AE_FIELDS)
    if unknown:
        raise SafetyError(
            f"fields: expected only {', '.join(AE_FIELDS)}, got {', '.join(sorted(unknown))}"
        )
    for name, value in data.items():
        setattr(ae, name, value)
    ae.seriousness = sorted(ae.seriousness or [])


@transaction.atomic
def report_adverse_event(
    participant: Participant,
    data: dict[str, Any],
    *,
    user: Any,
    follow_up_of: AdverseEvent | None = None,
) -> AdverseEvent:
    """Record a new AE (or a follow-up report linked to its initial report)."""
    check(user, Cap.AE_WRITE)
    if follow_up_of is not None and follow_up_of.participant_id != participant.pk:
        raise SafetyError("follow_up_of: expected a report of the same participant")
    ae = AdverseEvent(
        participant=participant,
        created_by=user,
        follow_up_of=follow_up_of.initial if follow_up_of is not None else None,
    )
    _apply(ae, data)
    _validate(ae)
    ae.trial = ae.follow_up_of.trial if ae.follow_up_of else attributed_trial(ae)
    audited_save(ae, user=user)
    record_event(
        "ae.report" if follow_up_of is None else "ae.follow_up",
        actor=user,
        participant=participant,
        obj=ae,
        details={"term": ae.term, "grade": ae.grade, "serious": ae.serious, "trial": ae.trial},
    )
    if ae.serious:
        notify_sae(ae, user=user)
    return ae


@transaction.atomic
def update_adverse_event(
    ae: AdverseEvent, changes: dict[str, Any], *, user: Any, reason: str
) -> AdverseEvent:
    check(user, Cap.AE_WRITE)
    ae = AdverseEvent.objects.select_for_update().get(pk=ae.pk)
    was_serious = ae.serious
    _apply(ae, changes)
    _validate(ae)
    if ae.follow_up_of_id is None:  # a changed onset may move the event to another trial
        ae.trial = attributed_trial(ae)
    audited_save(ae, user=user, reason=reason)
    record_event(
        "ae.update",
        actor=user,
        participant=ae.participant,
        obj=ae,
        reason=reason,
        details={"fields": sorted(changes)},
    )
    if ae.serious and not was_serious:
        notify_sae(ae, user=user)
    return ae


@transaction.atomic
def mark_sae_reported(ae: AdverseEvent, *, user: Any, at: datetime | None = None) -> AdverseEvent:
    """Record that the SAE report went to the sponsor / ethics committee."""
    check(user, Cap.AE_WRITE)
    if not ae.serious:
        raise SafetyError("serious: only a serious adverse event has an SAE report")
    if ae.reported_at is not None:
        raise SafetyError(f"reported_at: already reported at {ae.reported_at:%Y-%m-%d %H:%M}")
    ae.reported_at = at or timezone.now()
    audited_save(ae, user=user, reason="SAE report submitted")
    record_event(
        "ae.sae_reported",
        actor=user,
        participant=ae.participant,
        obj=ae,
        details={"late": ae.is_overdue(report_hours())},
    )
    return ae


def notify_sae(ae: AdverseEvent, *, user: Any) -> list[Any]:
    """Queue a staff e-mail to every address in ``safety.toml`` ``notify``, immediately."""
    due = ae.report_due_at(report_hours())
    context = {
        "study_id": ae.participant.study_id,
        "term": ae.term_label,
        "grade": ae.grade,
        "onset_date": ae.onset_date.isoformat(),
        "seriousness": ", ".join(ae.seriousness),
        "report_due": f"{timezone.localtime(due):%Y-%m-%d %H:%M}" if due else "",
        "follow_up": bool(ae.follow_up_of_id),
    }
    kind = "Follow-up SAE report" if ae.follow_up_of_id else "New SAE"
    context["subject"] = (
        f"[BLEND] {kind}: {context['study_id']}, {context['term']} grade {ae.grade}"
    )
    context["body"] = (
        f"{kind} for participant {context['study_id']}.\nTerm: {context['term']} (CTCAE v5.0), grade {ae.grade}.\n"
        f"Onset: {context['onset_date']}. Seriousness: {context['seriousness']}.\n"
        f"The SAE report is due by {context['report_due']} ({report_hours()} h after the site became aware).\n"
        "Open the BLEND platform, Safety, to review it."
    )
    messages = []
    for recipient in settings_section().get("notify", []):
        messages.append(
            queue_message(
                audience="staff",
                channel="email",
                to_address=recipient["email"],
                template_code=SAE_TEMPLATE,
                context=context,
                language="en",
                participant=ae.participant,
                dedup_key=message_key(_purpose(ae), recipient["email"]),
            )
        )
    record_event(
        "ae.sae_notification_queued",
        actor=user,
        participant=ae.participant,
        obj=ae,
        details={"to": [r["role"] for r in settings_section().get("notify", [])]},
    )
    send_on_commit(messages)
    return messages


def _purpose(ae: AdverseEvent) -> str:
    return f"sae:{ae.pk}"


def _role_of(address: str) -> str:
    roles = {r["email"]: r["role"] for r in settings_section().get("notify", [])}
    return roles.get(address, address)


def audit_notification_delivery(messages: list[Message]) -> None:
    """The outbox's delivery listener for SAE notifications (registered in
    ``SafetyConfig.ready``): audit each attempt, sent or failed, on its adverse event."""
    ae_ids = {int(m.dedup_key.split(":")[1]): m for m in messages if m.dedup_key.startswith("sae:")}
    events = AdverseEvent.objects.select_related("participant").in_bulk(list(ae_ids))
    for message in messages:
        ae = events.get(int(message.dedup_key.split(":")[1]))
        if ae is None:
            continue
        details: dict[str, Any] = {"to": _role_of(message.to_address), "attempt": message.attempts}
        if message.status == Status.SENT:
            record_event(
                "ae.sae_notified", actor=None, participant=ae.participant, obj=ae, details=details
            )
            continue
        details["error"] = message.error
        details["next_attempt"] = (
            message.send_after.isoformat() if message.status == Status.QUEUED else None
        )
        record_event(
            "ae.sae_notification_failed",
            actor=None,
            participant=ae.participant,
            obj=ae,
            details=details,
        )


@dataclass(frozen=True)
class NotificationState:
    """Where the notification of one SAE stands, per recipient (for the screen)."""

    sent: list[str]  # roles whose e-mail went out
    retrying: list[tuple[str, Message]]  # queued again after a failed attempt
    failed: list[tuple[str, Message]]  # given up after the last attempt
    waiting: list[str]  # queued, not tried yet

    @property
    def delivered(self) -> bool:
        return not (self.retrying or self.failed or self.waiting)


def notification_state(ae: AdverseEvent) -> NotificationState:
    """What actually happened to the SAE notification of ``ae`` (read from the outbox)."""
    sent: list[str] = []
    retrying: list[tuple[str, Message]] = []
    failed: list[tuple[str, Message]] = []
    waiting: list[str] = []
    for message in purpose_messages(_purpose(ae)):
        role = _role_of(message.to_address)
        if message.status == Status.SENT:
            sent.append(role)
        elif message.status == Status.FAILED:
            failed.append((role, message))
        elif message.status in (Status.QUEUED, Status.SENDING) and message.attempts:
            retrying.append((role, message))
        elif message.status in (Status.QUEUED, Status.SENDING):
            waiting.append(role)
    return NotificationState(sent=sent, retrying=retrying, failed=failed, waiting=waiting)


def overdue_saes(now: datetime | None = None) -> list[AdverseEvent]:
    """Initial SAE reports not yet submitted after the deadline (late submissions are flagged on the list)."""
    hours = report_hours()
    pending = AdverseEvent.objects.filter(serious=True, reported_at__isnull=True).select_related(
        "participant"
    )
    return [ae for ae in pending if ae.is_overdue(hours, now)]


def remind_overdue(now: datetime | None = None) -> list[Any]:
    """Queue one staff reminder per overdue SAE per day (run from cron, e.g. hourly)."""
    now = now or timezone.now()
    day = timezone.localtime(now).date().isoformat()
    queued = []
    for ae in overdue_saes(now):
        due = timezone.localtime(ae.report_due_at(report_hours()))
        context = {
            "subject": f"[BLEND] SAE report OVERDUE: {ae.participant.study_id}, {ae.term_label}",
            "body": f"The SAE report for participant {ae.participant.study_id} ({ae.term_label}, grade "
            f"{ae.grade}) was due {due:%Y-%m-%d %H:%M} and has not been recorded as submitted.",
        }
        for recipient in settings_section().get("notify", []):
            queued.append(
                queue_message(
                    audience="staff",
                    channel="email",
                    to_address=recipient["email"],
                    template_code="sae_overdue",
                    context=context,
                    language="en",
                    participant=ae.participant,
                    dedup_key=f"sae-overdue:{ae.pk}:{day}:{recipient['email']}",
                )
            )
    return queued


# --- deaths ------------------------------------------------------------------------------------------


def deaths_needing_review(
    participants: list[Participant] | None = None,
) -> list[tuple[Participant, date]]:
    """Deaths recorded in follow-up with neither a fatal (grade 5) AE report nor a review decision."""
    done = set(DeathReview.objects.values_list("participant_id", flat=True))
    done |= set(AdverseEvent.objects.filter(grade=5).values_list("participant_id", flat=True))
    if participants is None:  # bulk read; the follow-up service answers per participant
        died = {
            pid: on
            for pid, on in VitalStatus.objects.filter(died_on__isnull=False).values_list(
                "participant_id", "died_on"
            )
            if on is not None
        }
        people = Participant.objects.in_bulk([pid for pid in died if pid not in done])
        return sorted(((people[pid], died[pid]) for pid in people), key=lambda pair: pair[1])
    out = []
    for participant in participants:
        died_on = None if participant.pk in done else death_date(participant)
        if died_on is not None:
            out.append((participant, died_on))
    return out


@transaction.atomic
def review_death(
    participant: Participant,
    *,
    death_date: date,
    decision: str,
    user: Any,
    reason: str = "",
    adverse_event: AdverseEvent | None = None,
) -> DeathReview:
    check(user, Cap.AE_WRITE)
    if decision not in DeathReview.Decision.values:
        raise SafetyError(
            f"decision: expected one of {', '.join(DeathReview.Decision.values)}, got {decision!r}"
        )
    if decision == DeathReview.Decision.NOT_SAE and not reason.strip():
        raise SafetyError("reason: expected why this death is not reported as an SAE, got nothing")
    if decision == DeathReview.Decision.SAE_REPORTED and adverse_event is None:
        raise SafetyError("adverse_event: expected the SAE report of this death")
    review = DeathReview(
        participant=participant,
        death_date=death_date,
        decision=decision,
        reason=reason,
        adverse_event=adverse_event,
        reviewed_by=user,
    )
    audited_save(review, user=user)
    record_event(
        "ae.death_review",
        actor=user,
        participant=participant,
        obj=review,
        details={"decision": decision},
    )
    return review
