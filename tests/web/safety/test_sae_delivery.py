"""An SAE notification is delivered when the report is saved, to a real SMTP server on
localhost (aiosmtpd, started here); one that fails stays queued with its error, the
screen says "queued, retrying", the dashboard shows it, and the background worker
(``blend db-worker``, run once) delivers it when the server works again, once only.

These tests commit (``transaction=True``): the send happens on commit, as in production.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from blend.apps.audit.models import AuditEvent
from blend.apps.outbox.models import Message
from blend.apps.outbox.services import deliver_due
from blend.apps.outbox.tasks import deliver_messages
from blend.apps.safety.models import AdverseEvent

pytestmark = pytest.mark.django_db(transaction=True)

SAE_FORM = {
    "term": "wound_infection",
    "grade": "3",
    "onset_date": "2025-04-01",
    "serious": "on",
    "seriousness": ["hospitalisation"],
    "related_sbrt": "unlikely",
    "related_surgery": "probable",
    "action_taken": "hospitalised",
    "outcome": "recovering",
    "aware_at": "2025-04-02T09:00",
}
RECIPIENTS = ["pi.blend@example.org", "trialbureau.blend@example.org"]


class Mailbox:
    """An aiosmtpd handler: keeps each accepted message; refuses all while ``refuse``."""

    def __init__(self) -> None:
        self.received: list[Any] = []
        self.refuse = False
        self.unknown: set[str] = set()  # recipients refused at RCPT TO

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.unknown:
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "554 Transaction failed: mailbox unavailable"
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return sorted(address for envelope in self.received for address in envelope.rcpt_tos)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def use_smtp(settings: Any, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    use_smtp(settings, controller.port)
    try:
        yield handler
    finally:
        controller.stop()


def run_worker_once() -> None:
    """``blend db-worker --batch``: run every task that is due, then exit. The worker
    installs its own SIGINT/SIGTERM handlers; the test run gets its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        call_command(
            "db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0
        )
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def report_sae(client_for: Any, study_id: str, language: str = "en") -> str:
    response = client_for("nurse_nina").post(
        f"/safety/{study_id}/new/", SAE_FORM, follow=True, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def test_a_saved_sae_is_delivered_before_the_page_returns(
    mailbox: Mailbox, client_for: Any, make_participant: Any
) -> None:
    p = make_participant()
    page = report_sae(client_for, p.study_id)
    assert mailbox.recipients() == RECIPIENTS  # delivered within the request
    assert all(m.status == "sent" and m.attempts == 1 for m in Message.objects.all())
    assert "the notification was sent to PI and trial office" in page
    assert "queued" not in page.split('data-testid="sae-notification"')[0]
    ae = AdverseEvent.objects.get()
    notified = AuditEvent.objects.filter(action="ae.sae_notified", object_id=str(ae.pk))
    assert sorted(e.details["to"] for e in notified) == ["PI", "trial office"]
    assert not DBTaskResult.objects.exists()  # nothing left to retry
    run_worker_once()
    deliver_due(timezone.now() + timedelta(days=1))  # the cron run: nothing to send again
    assert len(mailbox.received) == 2


def test_a_refused_notification_is_queued_shown_and_retried_by_the_worker(
    mailbox: Mailbox, client_for: Any, make_participant: Any
) -> None:
    p = make_participant()
    mailbox.refuse = True
    page = report_sae(client_for, p.study_id)
    assert mailbox.received == []
    assert "queued, retrying" in page and "have been notified" not in page
    messages = list(Message.objects.order_by("to_address"))
    assert [(m.to_address, m.status, m.attempts) for m in messages] == [
        (RECIPIENTS[0], "queued", 1),
        (RECIPIENTS[1], "queued", 1),
    ]
    assert all("554" in m.error for m in messages)
    ae = AdverseEvent.objects.get()
    assert not AuditEvent.objects.filter(action="ae.sae_notified").exists()
    assert AuditEvent.objects.filter(action="ae.sae_notification_failed").count() == 2
    retry = DBTaskResult.objects.get()
    assert retry.task_path == "blend.apps.outbox.tasks.deliver_messages"
    assert retry.run_after == messages[0].send_after > timezone.now()

    # The dashboard and the outbox page show the failed delivery.
    dashboard = client_for("investigator_ivo").get("/").content.decode()
    assert "SAE notifications not delivered" in dashboard
    assert 'class="card bad"><div class="n">2</div><a href="/outbox/undelivered/">SAE' in dashboard
    undelivered = client_for("investigator_ivo").get("/outbox/undelivered/").content.decode()
    assert "pi.blend@example.org" in undelivered and "554" in undelivered

    # Not due yet: the worker leaves it; the server is fixed; the retry is due: delivered.
    run_worker_once()
    assert mailbox.received == []
    mailbox.refuse = False
    with time_machine.travel(messages[0].send_after + timedelta(seconds=1), tick=False):
        run_worker_once()
        # Run twice, beside the cron run, and with the retry enqueued twice: sent once.
        deliver_messages.enqueue([m.pk for m in messages])
        run_worker_once()
        deliver_due()
    assert mailbox.recipients() == RECIPIENTS
    assert [(m.status, m.attempts) for m in Message.objects.order_by("to_address")] == [
        ("sent", 2),
        ("sent", 2),
    ]
    assert AuditEvent.objects.filter(action="ae.sae_notified", object_id=str(ae.pk)).count() == 2
    detail = client_for("nurse_nina").get(f"/safety/ae/{ae.pk}/").content.decode()
    assert "PI: sent" in detail and "trial office: sent" in detail
    dashboard = client_for("investigator_ivo").get("/").content.decode()
    assert 'class="card ok"><div class="n">0</div><a href="/outbox/undelivered/">SAE' in dashboard


def test_a_mail_server_that_is_down_leaves_the_notification_queued(
    settings: Any, client_for: Any, make_participant: Any
) -> None:
    use_smtp(settings, free_port())  # nothing listens there
    p = make_participant()
    page = report_sae(client_for, p.study_id, language="nl")
    assert "in de wachtrij en wordt opnieuw geprobeerd (volgende poging om" in page
    message = Message.objects.order_by("to_address").first()
    assert message is not None
    assert (message.status, message.attempts) == ("queued", 1)
    assert "ConnectionRefusedError" in message.error
    detail = client_for("nurse_nina").get(f"/safety/ae/{AdverseEvent.objects.get().pk}/")
    assert "queued, retrying (failed attempts: 1;" in detail.content.decode()


def test_a_notification_that_never_gets_through_is_given_up_and_shown_as_failed(
    mailbox: Mailbox, client_for: Any, make_participant: Any
) -> None:
    p = make_participant()
    mailbox.refuse = True
    report_sae(client_for, p.study_id)
    for _ in range(12):  # more retries than allowed: each one due in turn
        pending = Message.objects.filter(status="queued").order_by("send_after").first()
        if pending is None:
            break
        with time_machine.travel(pending.send_after + timedelta(seconds=1), tick=False):
            run_worker_once()
    assert set(Message.objects.values_list("status", flat=True)) == {"failed"}
    assert not DBTaskResult.objects.filter(status="READY").exists()
    detail = client_for("nurse_nina").get(f"/safety/ae/{AdverseEvent.objects.get().pk}/")
    assert "not sent after 8 attempts: tell them yourself" in detail.content.decode()
    assert mailbox.received == []


def test_one_refused_recipient_is_retried_alone_and_the_other_is_not_sent_again(
    mailbox: Mailbox, client_for: Any, make_participant: Any
) -> None:
    p = make_participant()
    mailbox.unknown = {RECIPIENTS[0]}
    page = report_sae(client_for, p.study_id)
    assert mailbox.recipients() == [RECIPIENTS[1]]
    assert "The notification was sent to trial office." in page
    assert "The notification to PI could not be sent yet: it is queued, retrying" in page
    pi = Message.objects.get(to_address=RECIPIENTS[0])
    assert (pi.status, pi.attempts) == ("queued", 1) and "550" in pi.error
    mailbox.unknown = set()
    with time_machine.travel(pi.send_after + timedelta(seconds=1), tick=False):
        run_worker_once()
        deliver_due()
    assert mailbox.recipients() == RECIPIENTS  # the trial office got it once
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
