"""Arm-blindness: the check fails on any participant template that mentions the trial,
and the shipped templates pass it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from blend.apps.outbox.checks import check_message_templates, template_problems
from blend.apps.outbox.domain import check_text
from blend.apps.outbox.message_templates import parse_templates
from blend.apps.outbox.services import OutboxError, deliver_due, queue_message
from blend.apps.questionnaires.checks import check_patient_templates, patient_template_problems
from blend.protocol import load_protocol


def _section() -> dict:  # type: ignore[type-arg]
    return copy.deepcopy(load_protocol().section("messages"))


def test_shipped_templates_and_patient_pages_are_arm_blind() -> None:
    assert check_message_templates() == []
    assert check_patient_templates() == []


@pytest.mark.parametrize(
    "text, found",
    [
        ("Thank you for taking part in the BLEND trial.", ["trial", "BLEND"]),
        ("U bent gerandomiseerd voor de interventie.", ["gerandomiseerd", "interventie"]),
        ("You were randomised to same-day treatment.", ["randomi", "same-day"]),
        ("Registered as NCT05575323.", ["NCT05575323"]),
        ("Your allocation: control group", ["allocat", "control group"]),
    ],
)
def test_check_text_finds_trial_words(text: str, found: list[str]) -> None:
    assert sorted(check_text(text)) == sorted(found)


def test_check_text_passes_routine_cohort_wording() -> None:
    assert (
        check_text("Het is tijd voor uw PRESENT-vragenlijst. Heeft u pijn in uw rug of armen?")
        == []
    )


def test_the_check_fails_on_a_template_that_mentions_the_trial() -> None:
    section = _section()
    section["questionnaire_reminder"]["body_nl"] += "\nDit hoort bij de BLEND-trial."
    errors = template_problems(parse_templates(section))
    assert [e.id for e in errors] == ["outbox.E001"]
    assert "questionnaire_reminder (body_nl) mentions trial, BLEND" in errors[0].msg


def test_the_check_fails_on_a_patient_page_that_mentions_randomization(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<p>You were randomized to the intervention arm.</p>")
    errors = patient_template_problems(tmp_path)
    assert [e.id for e in errors] == ["questionnaires.E001"]


@pytest.mark.django_db
def test_staff_messages_may_name_the_trial_participant_messages_may_not() -> None:
    staff = queue_message(
        audience="staff",
        channel="email",
        to_address="pi@example.org",
        template_code="sae_alert",
        context={"subject": "BLEND SAE", "body": "An SAE in the BLEND trial."},
        language="en",
    )
    assert staff.body == "An SAE in the BLEND trial."
    with pytest.raises(OutboxError, match="template_code"):
        queue_message(
            audience="participant",
            channel="email",
            to_address="p@example.org",
            template_code="trial_news",
            context={"body": "the BLEND trial"},
            language="nl",
        )
    deliver_due()
    assert [m.subject for m in mail.outbox] == ["BLEND SAE"]


@pytest.mark.django_db
def test_a_failing_gateway_keeps_the_message_queued(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "tests.web.outbox.test_outbox_arm_blind.BrokenBackend"
    message = queue_message(
        audience="staff",
        channel="email",
        to_address="pi@example.org",
        template_code="x",
        context={"subject": "s", "body": "b"},
        language="en",
        dedup_key="k1",
    )
    report = deliver_due()
    message.refresh_from_db()
    assert (report.failed, message.status, message.attempts) == (1, "queued", 1)
    assert "SMTP down" in message.error
    assert (
        queue_message(
            audience="staff",
            channel="email",
            to_address="pi@example.org",
            template_code="x",
            context={"subject": "s", "body": "b"},
            language="en",
            dedup_key="k1",
        ).pk
        == message.pk
    )


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, messages: list[object]) -> int:
        raise ConnectionError("SMTP down")
