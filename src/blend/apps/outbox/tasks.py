"""Deliver a message as soon as it is saved; retry a failed delivery in the background.

Built on Django's tasks framework: the ``django-tasks`` backport on Django 5.2 (on
Django 6 the same ``task`` comes from ``django.tasks``), with the database backend of
``django-tasks-db`` (settings.TASKS); ``blend db-worker`` is the worker that runs the
tasks (docs/deployment.md).

The outbox row is the retry store. A task carries only message ids, and delivery
claims each row before sending it (``services.deliver``), so a task run twice, or
beside the cron run (``blend send-reminders``), never sends a message twice. If the
worker is down, the cron run still delivers every queued message that is due.

``send_on_commit`` is for a message that must leave at once (an SAE notification):
after the transaction that queued it commits, it is sent in the same request, so the
page can say whether it went out; one that failed stays queued with its error and
attempt count, and a task is enqueued to retry it when its ``send_after`` comes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from functools import partial

from django.db import transaction
from django_tasks import default_task_backend, task

from blend.apps.outbox.models import Message, Status
from blend.apps.outbox.services import DeliveryReport, deliver

logger = logging.getLogger(__name__)


@task()
def deliver_messages(message_ids: list[int]) -> dict[str, int]:
    """The background retry: send the still-queued messages among ``message_ids``;
    schedule the next retry of any that fail again."""
    report = deliver(message_ids)
    schedule_retries(report)
    return {"sent": report.sent, "failed": report.failed, "cancelled": report.cancelled}


def worker_configured() -> bool:
    """Whether the task backend can hold a retry until its time (the database backend
    can; the immediate backend, which runs a task at once, cannot)."""
    return bool(default_task_backend.supports_defer)


def schedule_retries(report: DeliveryReport) -> int:
    """Enqueue one retry task per retry time of the failed messages in ``report``;
    returns how many tasks were enqueued. Without a deferring backend nothing is
    enqueued and the cron run retries them."""
    if not report.retry_at or not worker_configured():
        return 0
    by_time: dict[datetime, list[int]] = defaultdict(list)
    for pk, at in report.retry_at.items():
        by_time[at].append(pk)
    for at, ids in sorted(by_time.items()):
        deliver_messages.using(run_after=at).enqueue(sorted(ids))
    return len(by_time)


def send_now(message_ids: list[int]) -> DeliveryReport:
    """Send the messages now and schedule a retry of those that fail."""
    report = deliver(message_ids)
    try:
        schedule_retries(report)
    except Exception:  # the messages stay queued: the cron run delivers them
        logger.exception("outbox: could not enqueue the retry of messages %s", message_ids)
    return report


def send_on_commit(messages: list[Message]) -> None:
    """Send the queued ``messages`` once the current transaction commits (at once when
    there is none). A message already sent, or a rollback, sends nothing."""
    ids = [message.pk for message in messages if message.status == Status.QUEUED]
    if ids:
        transaction.on_commit(partial(send_now, ids), robust=True)
