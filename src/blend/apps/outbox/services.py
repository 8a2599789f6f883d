"""Queue and deliver messages. ``queue_message`` is idempotent on ``dedup_key`` (a key
already queued or sent returns the existing message: nothing is ever sent twice), and
``deliver_due`` claims each message atomically before sending it, so two runs at once
cannot both send it."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from blend.apps.outbox import domain as arm_blind
from blend.apps.outbox.backends import SMS, get_sms_backend
from blend.apps.outbox.message_templates import load_templates, render
from blend.apps.outbox.models import LINK_MARK, Audience, Channel, Message, Status

BATCH_SIZE = 500
MAX_ATTEMPTS = 3


class OutboxError(ValueError):
    """A message that cannot be queued; the message names the field."""


def _render_texts(template_code: str, audience: str, channel: str, language: str,
                  context: dict[str, Any]) -> tuple[str, str]:
    template = load_templates().get(template_code)
    if template is None:
        if audience == Audience.STAFF and "body" in context:
            return str(context.get("subject", "")), str(context["body"])
        raise OutboxError(f"template_code: expected one of {sorted(load_templates())}, got {template_code!r}")
    if template.audience != audience:
        raise OutboxError(f"audience: template {template_code} is for {template.audience}, got {audience!r}")
    values = {**context, "link": LINK_MARK}
    if channel == Channel.SMS:
        return "", render(template.source("sms", language), values)
    return render(template.source("subject", language), values), render(template.source("body", language), values)


def queue_message(
    *, audience: str, channel: str, to_address: str, template_code: str, context: dict[str, Any],
    language: str, participant: Any = None, dedup_key: str | None = None, send_after: datetime | None = None,
    link_factory: str = "", link_args: dict[str, Any] | None = None,
) -> Message:
    """Queue one message (or return the one already queued under ``dedup_key``).

    ``link_factory`` ("module:function" or dotted path) mints the personal link at
    delivery: it gets a list of ``link_args`` and returns a URL or None per entry;
    None cancels the message (e.g. the questionnaire was completed meanwhile).
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
        raise OutboxError(f"body: a participant message may not mention {arm_blind.check_text(subject + body)}")
    message = Message(
        participant=participant, audience=audience, channel=channel, to_address=to_address,
        language=language, template_code=template_code, subject=subject, body=body,
        link_factory=link_factory, link_args=link_args or {}, send_after=send_after or timezone.now(),
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


def cancel_queued(**filters: Any) -> int:
    """Cancel queued messages matching ``filters`` (e.g. participant=p after a death)."""
    return Message.objects.filter(status=Status.QUEUED, **filters).update(status=Status.CANCELLED)


def deliver_due(now: datetime | None = None, *, batch_size: int = BATCH_SIZE,
                on_batch: Callable[[int], None] | None = None) -> DeliveryReport:
    """Send every queued message whose time has come, in batches (constant queries per batch)."""
    now = now or timezone.now()
    report, last_id = DeliveryReport(), 0
    while True:
        claim = uuid.uuid4().hex
        # Keyset order: a message that failed goes back to the queue for the next run,
        # never round again in this one.
        ids = list(Message.objects.filter(status=Status.QUEUED, send_after__lte=now, id__gt=last_id)
                   .order_by("id").values_list("id", flat=True)[:batch_size])
        if not ids:
            return report
        last_id = ids[-1]
        Message.objects.filter(id__in=ids, status=Status.QUEUED).update(status=Status.SENDING, claim=claim)
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
    for factory_path, messages in by_factory.items():
        factory = import_string(factory_path.replace(":", "."))
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
            emails.append(EmailMessage(message.subject, text, settings.DEFAULT_FROM_EMAIL, [message.to_address]))
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
