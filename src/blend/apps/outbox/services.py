"""Queue and deliver messages: the only code that creates or cancels outbox rows.

``queue_message`` (one message) and ``queue_many`` (a batch of :class:`Draft`) are
idempotent on the message key (a key already queued or sent is not queued again:
nothing is ever sent twice), and ``deliver_due`` (the cron run) and ``deliver`` (named
messages: the send on commit and the background retry of ``outbox.tasks``) claim each
message atomically before sending it, so two runs at once cannot both send it.

A failed attempt leaves the message queued with its attempt count and error, and moves
its ``send_after`` on by the next of :data:`RETRY_DELAYS`; after :data:`MAX_ATTEMPTS`
it is ``failed`` (shown on the dashboard, ``outbox.panels``).

A message has a *purpose* (what it is for, e.g. ``q:17``, the questionnaire of
assessment 17) and a *step* within it (``invite``, ``reminder``); the key is
``<purpose>:<step>``. Callers cancel by purpose (``cancel_purpose``) or everything
still queued for a participant (``cancel_for_participant``), never by the key format.

A personal link is minted at delivery by a *link factory* that the owning app
registers by name (``register_link_factory``), so the outbox never imports it."""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from blend.apps.outbox import domain as arm_blind
from blend.apps.outbox.backends import SMS, get_sms_backend
from blend.apps.outbox.message_templates import load_templates, render
from blend.apps.outbox.models import LINK_MARK, Audience, Channel, Message, Status

BATCH_SIZE = 500
#: The wait before each retry of a failed delivery: 1 min, 5 min, 15 min, then hourly;
#: the attempt after the last delay is the final one (4 h 21 min after the first).
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=1),
    timedelta(hours=1),
    timedelta(hours=1),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


class OutboxError(ValueError):
    """A message that cannot be queued; the message names the field."""


LinkFactory = Callable[[list[dict[str, Any]]], list[str | None]]

_link_factories: dict[str, LinkFactory] = {}


def register_link_factory(name: str, factory: LinkFactory) -> None:
    """``factory`` gets the ``link_args`` of a batch of messages and returns a URL, or None
    to cancel the message, for each (the owning app registers it from ``AppConfig.ready``)."""
    _link_factories[name] = factory


DeliveryListener = Callable[[list[Message]], None]

_delivery_listeners: dict[str, DeliveryListener] = {}


def register_delivery_listener(template_code: str, listener: DeliveryListener) -> None:
    """``listener`` gets every message of ``template_code`` after each delivery attempt,
    in the state it left it (``sent``, or ``queued``/``failed`` with its error), within
    the same transaction (the owning app registers it from ``AppConfig.ready`` and
    writes its own audit trail, e.g. safety's ``ae.sae_notified``)."""
    _delivery_listeners[template_code] = listener


def message_key(purpose: str, step: str) -> str:
    return f"{purpose}:{step}"


@dataclass(frozen=True)
class Draft:
    """A rendered participant or staff message, ready to be queued."""

    purpose: str
    step: str
    audience: str
    channel: str
    to_address: str
    language: str
    template_code: str
    subject: str
    body: str
    participant_id: int | None = None
    link_factory: str = ""
    link_args: dict[str, Any] = field(default_factory=dict)
    send_after: datetime | None = None
    sent_at: datetime | None = (
        None  # set only to record a message already sent elsewhere (a past log)
    )
    # Stage 3 (results disclosure) of this completed trial: its own name, randomization and
    # arms may be mentioned; any trial still running may not (domain.check_disclosure_text).
    disclosed_trial: str = ""

    def blinding_problems(self) -> list[str]:
        if self.audience != Audience.PARTICIPANT:
            return []
        text = f"{self.subject}\n{self.body}"
        if self.disclosed_trial:
            return arm_blind.check_disclosure_text(text, self.disclosed_trial)
        return arm_blind.check_text(text)

    @property
    def key(self) -> str:
        return message_key(self.purpose, self.step)


def existing_keys(keys: list[str]) -> set[str]:
    """The keys among ``keys`` that were queued before (in any state: once means once)."""
    return set(Message.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True))


def given_on(keys: list[str]) -> dict[str, date]:
    """The day each of ``keys`` was given to its recipient: the day it was sent, or,
    while it waits in the queue, the day it was queued (one query). Follow-up steps
    (a reminder) are timed from this day, not from the calendar."""
    rows = Message.objects.filter(dedup_key__in=keys).values_list(
        "dedup_key", "sent_at", "created_at"
    )
    return {key: timezone.localdate(sent or created) for key, sent, created in rows}


def queue_many(drafts: list[Draft]) -> int:
    """Queue a batch in one insert; drafts whose key exists already are skipped. A
    participant message that mentions the trial is refused (defence in depth: the
    system check ``outbox.E001`` already refuses such templates). Returns how many were queued."""
    _check_blinding(drafts)
    known = existing_keys([d.key for d in drafts])
    fresh = [d for d in drafts if d.key not in known]
    now = timezone.now()
    Message.objects.bulk_create(
        [
            Message(
                participant_id=d.participant_id,
                audience=d.audience,
                channel=d.channel,
                to_address=d.to_address,
                language=d.language,
                template_code=d.template_code,
                subject=d.subject,
                body=d.body,
                link_factory=d.link_factory,
                link_args=d.link_args,
                send_after=d.send_after or now,
                dedup_key=d.key,
                status=Status.SENT if d.sent_at else Status.QUEUED,
                sent_at=d.sent_at,
            )
            for d in fresh
        ],
        ignore_conflicts=True,
    )
    return len(fresh)


def _check_blinding(drafts: list[Draft]) -> None:
    """Refuse the batch if any participant message mentions a trial. Each distinct text
    is checked once: a reminder batch sends a few texts to thousands of people."""
    checked: set[tuple[str, str, str, str]] = set()
    for draft in drafts:
        text = (draft.audience, draft.disclosed_trial, draft.subject, draft.body)
        if text in checked:
            continue
        found = draft.blinding_problems()
        if found:
            raise OutboxError(f"body: a participant message may not mention {found}")
        checked.add(text)


def _render_texts(
    template_code: str, audience: str, channel: str, language: str, context: dict[str, Any]
) -> tuple[str, str]:
    template = load_templates().get(template_code)
    if template is None:
        if audience == Audience.STAFF and "body" in context:
            return str(context.get("subject", "")), str(context["body"])
        raise OutboxError(
            f"template_code: expected one of {sorted(load_templates())}, got {template_code!r}"
        )
    if template.audience != audience:
        raise OutboxError(
            f"audience: template {template_code} is for {template.audience}, got {audience!r}"
        )
    values = {**context, "link": LINK_MARK}
    if channel == Channel.SMS:
        return "", render(template.source("sms", language), values)
    return render(template.source("subject", language), values), render(
        template.source("body", language), values
    )


def queue_message(
    *,
    audience: str,
    channel: str,
    to_address: str,
    template_code: str,
    context: dict[str, Any],
    language: str,
    participant: Any = None,
    dedup_key: str | None = None,
    send_after: datetime | None = None,
    link_factory: str = "",
    link_args: dict[str, Any] | None = None,
) -> Message:
    """Queue one message (or return the one already queued under ``dedup_key``).

    ``link_factory`` names a registered factory (``register_link_factory``) that mints the
    personal link at delivery: it gets a list of ``link_args`` and returns a URL or None
    per entry; None cancels the message (e.g. the questionnaire was completed meanwhile).
    """
    if channel not in Channel.values:
        raise OutboxError(f"channel: expected one of {Channel.values}, got {channel!r}")
    if not to_address:
        raise OutboxError("to_address: expected an e-mail address or phone number, got nothing")
    key = dedup_key or f"once:{uuid.uuid4().hex}"
    existing = Message.objects.filter(dedup_key=key).first()
    if existing is not None:
        return existing
    subject, body = _render_texts(template_code, audience, channel, language, context)
    if audience == Audience.PARTICIPANT and arm_blind.check_text(f"{subject}\n{body}"):
        raise OutboxError(
            f"body: a participant message may not mention {arm_blind.check_text(subject + body)}"
        )
    message = Message(
        participant=participant,
        audience=audience,
        channel=channel,
        to_address=to_address,
        language=language,
        template_code=template_code,
        subject=subject,
        body=body,
        link_factory=link_factory,
        link_args=link_args or {},
        send_after=send_after or timezone.now(),
        dedup_key=key,
    )
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        return Message.objects.get(dedup_key=key)
    return message


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    batches: int = 0
    queries_per_batch: list[int] = field(default_factory=list)
    #: Messages that failed and stay queued, with the time of their next attempt.
    retry_at: dict[int, datetime] = field(default_factory=dict)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt (the last delay repeats)."""
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


#: A message still marked as being sent this long after it was due was left by a run that
#: died mid-send: it may or may not have gone out, so a person must look at it.
STUCK_AFTER = timedelta(minutes=15)


def undelivered(now: datetime | None = None) -> QuerySet[Message]:
    """Messages whose delivery failed at least once and that have not been sent: still
    queued for a retry, or given up (``failed``); and any stuck in ``sending``. The
    dashboard counts them."""
    now = now or timezone.now()
    return Message.objects.filter(
        Q(status__in=[Status.QUEUED, Status.SENDING, Status.FAILED], attempts__gt=0)
        | Q(status=Status.SENDING, send_after__lt=now - STUCK_AFTER)
    )


def purpose_messages(purpose: str) -> list[Message]:
    """Every message of one purpose (e.g. ``sae:17``), in any state, oldest first."""
    return list(
        Message.objects.filter(dedup_key__startswith=message_key(purpose, "")).order_by("id")
    )


def cancel_purpose(purpose: str) -> int:
    """Cancel every queued message of one purpose (e.g. the questionnaire was completed)."""
    queued = Message.objects.filter(
        status=Status.QUEUED, dedup_key__startswith=message_key(purpose, "")
    )
    return queued.update(status=Status.CANCELLED)


def cancel_for_participant(participant: Any) -> int:
    """Cancel every message still queued for the participant (e.g. after a death)."""
    queued = Message.objects.filter(
        status=Status.QUEUED, participant=participant, audience=Audience.PARTICIPANT
    )
    return queued.update(status=Status.CANCELLED)


def deliver_due(
    now: datetime | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> DeliveryReport:
    """Send every queued message whose time has come, in batches (constant queries per batch)."""
    now = now or timezone.now()
    report, last_id = DeliveryReport(), 0
    while True:
        claim = uuid.uuid4().hex
        # Keyset order: a message that failed goes back to the queue for the next run,
        # never round again in this one.
        ids = list(
            Message.objects.filter(status=Status.QUEUED, send_after__lte=now, id__gt=last_id)
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return report
        last_id = ids[-1]
        batch = _claim(ids, claim)
        _deliver_batch(batch, now, report)
        report.batches += 1
        if on_batch:
            on_batch(len(batch))


def deliver(ids: list[int], now: datetime | None = None) -> DeliveryReport:
    """Send the named messages now, whatever their ``send_after``, if they are still
    queued: one already sent, cancelled, given up or being sent by another run is left
    alone, so calling this twice (or beside the cron run) never sends a message twice."""
    report = DeliveryReport()
    batch = _claim(ids, uuid.uuid4().hex)
    if batch:
        _deliver_batch(batch, now or timezone.now(), report)
        report.batches = 1
    return report


def _claim(ids: list[int], claim: str) -> list[Message]:
    """Mark the still-queued messages among ``ids`` as being sent by this run (one UPDATE:
    a message claimed by another run is not claimed again) and return them."""
    Message.objects.filter(id__in=ids, status=Status.QUEUED).update(
        status=Status.SENDING, claim=claim
    )
    return list(Message.objects.filter(claim=claim, status=Status.SENDING).order_by("id"))


def _resolve_links(batch: list[Message]) -> dict[int, str | None]:
    by_factory: dict[str, list[Message]] = defaultdict(list)
    for message in batch:
        if message.link_factory:
            by_factory[message.link_factory].append(message)
    links: dict[int, str | None] = {}
    for name, messages in by_factory.items():
        factory = _link_factories.get(name)
        if factory is None:  # its app is not installed: nothing can mint the link
            links.update({m.pk: None for m in messages})
            continue
        for message, url in zip(messages, factory([m.link_args for m in messages]), strict=True):
            links[message.pk] = url
    return links


def _deliver_batch(batch: list[Message], now: datetime, report: DeliveryReport) -> None:
    links = _resolve_links(batch)
    emails: list[tuple[Message, EmailMessage]] = []
    smses: list[tuple[Message, SMS]] = []
    cancelled: list[Message] = []
    for message in batch:
        text = message.body
        if message.link_factory:
            url = links.get(message.pk)
            if url is None:
                cancelled.append(message)
                continue
            text = text.replace(LINK_MARK, url)
        if message.channel == Channel.EMAIL:
            email = EmailMessage(
                message.subject, text, settings.DEFAULT_FROM_EMAIL, [message.to_address]
            )
            emails.append((message, email))
        else:
            smses.append((message, SMS(message.to_address, text)))
    errors = {**_send_emails(emails), **_send_smses(smses)}
    sent = [message for message, _ in [*emails, *smses]]
    for message in sent:
        message.attempts += 1
        error = errors.get(message.pk, "")
        if error:
            message.error = error
            if message.attempts < MAX_ATTEMPTS:
                message.status = Status.QUEUED
                message.send_after = now + retry_delay(message.attempts)
                report.retry_at[message.pk] = message.send_after
            else:
                message.status = Status.FAILED
            report.failed += 1
        else:
            message.status, message.sent_at, message.error = Status.SENT, now, ""
            report.sent += 1
    for message in cancelled:
        message.status = Status.CANCELLED
    with transaction.atomic():  # the outcome and the owning app's audit of it, together
        _store_outcomes(sent, cancelled)
        _tell_listeners(sent)
    report.cancelled += len(cancelled)


def _store_outcomes(attempted: list[Message], cancelled: list[Message]) -> None:
    """Write each message's outcome with set-based UPDATEs, one per distinct outcome:
    the messages sent on their first attempt share one, the cancelled ones another, and
    messages that failed alike (a gateway that was down) share one. ``bulk_update`` built
    a CASE per row and field and took half of a reminder run; the values written are
    the same (``send_after`` changes only on a failure)."""
    outcomes: dict[tuple[tuple[str, Any], ...], list[int]] = defaultdict(list)
    for m in attempted:
        fields: dict[str, Any] = {
            "status": m.status,
            "sent_at": m.sent_at,
            "attempts": m.attempts,
            "error": m.error,
        }
        if m.status != Status.SENT:
            fields["send_after"] = m.send_after
        outcomes[tuple(fields.items())].append(m.pk)
    if cancelled:
        outcomes[(("status", Status.CANCELLED),)].extend(m.pk for m in cancelled)
    for outcome, ids in outcomes.items():
        for chunk in _chunks(ids):
            Message.objects.filter(id__in=chunk).update(**dict(outcome))


def _chunks(ids: list[int], size: int = 900) -> list[list[int]]:
    """Id lists short enough for SQLite's 999 parameters per statement."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _tell_listeners(attempted: list[Message]) -> None:
    by_template: dict[str, list[Message]] = defaultdict(list)
    for message in attempted:
        if message.template_code in _delivery_listeners:
            by_template[message.template_code].append(message)
    for code, messages in by_template.items():
        _delivery_listeners[code](messages)


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _send_emails(emails: list[tuple[Message, EmailMessage]]) -> dict[int, str]:
    """Send each e-mail on one connection; return the error text of each that failed.
    Each message has its own outcome, so a refused recipient fails its own message only
    and a retry never sends again what already went out."""
    if not emails:
        return {}
    connection = get_connection()
    try:
        connection.open()
    except Exception as error:  # SMTP server unreachable, refused login: retried later
        return {message.pk: _error_text(error) for message, _ in emails}
    errors = {}
    try:
        for message, email in emails:
            try:
                connection.send_messages([email])
            except Exception as error:  # this message refused (e.g. 554): retried later
                errors[message.pk] = _error_text(error)
    finally:
        with contextlib.suppress(Exception):  # a broken connection has nothing left to close
            connection.close()
    return errors


def _send_smses(smses: list[tuple[Message, SMS]]) -> dict[int, str]:
    """Send each SMS; return the error text of each that failed (a failing gateway
    leaves its messages queued for a retry instead of losing them)."""
    if not smses:
        return {}
    try:
        backend = get_sms_backend()
    except Exception as error:
        return {message.pk: _error_text(error) for message, _ in smses}
    errors = {}
    for message, sms in smses:
        try:
            backend.send_messages([sms])
        except Exception as error:  # the gateway refused or is down: retried later
            errors[message.pk] = _error_text(error)
    return errors
