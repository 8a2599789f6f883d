"""Queue and deliver messages: the only code that creates or cancels outbox rows.

``queue_message`` (one message) and ``queue_many`` (a batch of :class:`Draft`) are
idempotent on the message key (a key already queued or sent is not queued again:
nothing is ever sent twice), and ``deliver_due`` claims each message atomically
before sending it, so two runs at once cannot both send it.

A message has a *purpose* (what it is for, e.g. ``q:17``, the questionnaire of
assessment 17) and a *step* within it (``invite``, ``reminder``); the key is
``<purpose>:<step>``. Callers cancel by purpose (``cancel_purpose``) or everything
still queued for a participant (``cancel_for_participant``), never by the key format.

A personal link is minted at delivery by a *link factory* that the owning app
registers by name (``register_link_factory``), so the outbox never imports it."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone

from blend.apps.outbox import domain as arm_blind
from blend.apps.outbox.backends import SMS, get_sms_backend
from blend.apps.outbox.message_templates import load_templates, render
from blend.apps.outbox.models import LINK_MARK, Audience, Channel, Message, Status

BATCH_SIZE = 500
MAX_ATTEMPTS = 3


class OutboxError(ValueError):
    """A message that cannot be queued; the message names the field."""


LinkFactory = Callable[[list[dict[str, Any]]], list[str | None]]

_link_factories: dict[str, LinkFactory] = {}


def register_link_factory(name: str, factory: LinkFactory) -> None:
    """``factory`` gets the ``link_args`` of a batch of messages and returns a URL, or None
    to cancel the message, for each (the owning app registers it from ``AppConfig.ready``)."""
    _link_factories[name] = factory


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
    for draft in drafts:
        if draft.audience == Audience.PARTICIPANT and arm_blind.check_text(
            f"{draft.subject}\n{draft.body}"
        ):
            raise OutboxError(
                f"body: a participant message may not mention "
                f"{arm_blind.check_text(draft.subject + draft.body)}"
            )
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
        Message.objects.filter(id__in=ids, status=Status.QUEUED).update(
            status=Status.SENDING, claim=claim
        )
        batch = list(Message.objects.filter(claim=claim, status=Status.SENDING))
        _deliver_batch(batch, now, report)
        report.batches += 1
        if on_batch:
            on_batch(len(batch))


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
    emails, smses, sent, cancelled = [], [], [], []
    for message in batch:
        text = message.body
        if message.link_factory:
            url = links.get(message.pk)
            if url is None:
                cancelled.append(message)
                continue
            text = text.replace(LINK_MARK, url)
        if message.channel == Channel.EMAIL:
            emails.append(
                EmailMessage(
                    message.subject, text, settings.DEFAULT_FROM_EMAIL, [message.to_address]
                )
            )
        else:
            smses.append(SMS(message.to_address, text))
        sent.append(message)
    error = _send(emails, smses)
    for message in sent:
        message.attempts += 1
        if error:
            message.status = Status.QUEUED if message.attempts < MAX_ATTEMPTS else Status.FAILED
            message.error = error
        else:
            message.status, message.sent_at = Status.SENT, now
    for message in cancelled:
        message.status = Status.CANCELLED
    Message.objects.bulk_update([*sent, *cancelled], ["status", "sent_at", "attempts", "error"])
    report.sent += 0 if error else len(sent)
    report.failed += len(sent) if error else 0
    report.cancelled += len(cancelled)


def _send(emails: list[EmailMessage], smses: list[SMS]) -> str:
    """Send both lists; return an error text (empty on success). A failing gateway leaves
    the batch queued for the next run instead of losing it."""
    try:
        if emails:
            get_connection().send_messages(emails)
        if smses:
            get_sms_backend().send_messages(smses)
    except Exception as error:  # any transport failure: SMTP, gateway; retried next run
        return f"{type(error).__name__}: {error}"
    return ""
