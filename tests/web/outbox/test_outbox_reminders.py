"""`blend send-reminders`: invitations and reminders on the configured days, never twice,
never after completion, death or withdrawal; links minted only into the sent copy."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from blend.apps.consent.services import withdraw_consent
from blend.apps.followup.models import Assessment
from blend.apps.followup.services import record_vital_status
from blend.apps.outbox.models import LINK_MARK, Message
from blend.apps.questionnaires.models import AccessToken
from blend.apps.questionnaires.reminders import plan_messages
from blend.apps.questionnaires.services import resolve_token, save_answers, submit

pytestmark = pytest.mark.django_db


def run() -> None:
    call_command("send_reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115


def _link(body: str) -> str:
    return next(w for w in body.split() if "/questionnaires/q/" in w).rstrip("/").rsplit("/", 1)[1]


@pytest.fixture
def invited(make_participant, treat):  # type: ignore[no-untyped-def]
    """w4 window opened today (treatment 25 days ago: target day 28, window ±3)."""
    return treat(make_participant(), days_ago=25)


def test_window_opening_sends_one_invitation_with_a_working_link(invited) -> None:  # type: ignore[no-untyped-def]
    run()
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.subject == "Uw PRESENT-vragenlijst" and email.to == [invited.identity.email]
    assert "Week 4" in email.body
    token = _link(email.body)
    assert resolve_token(token).timepoint == "w4"
    stored = Message.objects.get(participant=invited)
    assert LINK_MARK in stored.body and token not in stored.body
    assert stored.status == "sent" and stored.dedup_key.endswith(":invitation")


def test_running_again_sends_nothing_twice(invited) -> None:  # type: ignore[no-untyped-def]
    run()
    run()
    run()
    assert len(mail.outbox) == 1
    assert Message.objects.count() == 1


def test_reminder_after_three_days_and_a_last_reminder(invited) -> None:  # type: ignore[no-untyped-def]
    run()  # the window opens today: the invitation
    assessment = Assessment.objects.get(participant=invited, timepoint="w4")
    today = timezone.localdate()
    plan_messages(today=today + timedelta(days=2))
    assert Message.objects.filter(participant=invited).count() == 1  # nothing before day 3
    plan_messages(today=today + timedelta(days=3))
    plan_messages(today=today + timedelta(days=5))
    plan_messages(today=today + timedelta(days=5))
    assert list(
        Message.objects.filter(participant=invited)
        .order_by("id")
        .values_list("template_code", flat=True)
    ) == [
        "questionnaire_invitation",
        "questionnaire_reminder",
        "questionnaire_last_reminder",
    ]
    assert assessment.closes_on == today + timedelta(days=6)


def test_the_first_message_is_an_invitation_even_late_in_the_window(
    make_participant, treat
) -> None:  # type: ignore[no-untyped-def]
    """The treatment was entered after the window had opened (5 days ago): the first
    message is the invitation, not "last reminder"; the reminder follows it, on the
    window's last day at the latest."""
    p = treat(make_participant(), days_ago=30)  # w4 window opened 5 days ago, closes in 1
    run()
    messages = Message.objects.filter(participant=p)
    assert [m.template_code for m in messages] == ["questionnaire_invitation"]
    assert "Laatste herinnering" not in mail.outbox[0].subject + mail.outbox[0].body
    run()  # the same day: nothing more
    assert messages.count() == 1
    plan_messages(today=timezone.localdate() + timedelta(days=1))  # the window's last day
    assert list(messages.order_by("id").values_list("template_code", flat=True)) == [
        "questionnaire_invitation",
        "questionnaire_last_reminder",
    ]


def test_a_reminder_counts_its_days_from_its_own_invitation(make_participant, treat) -> None:  # type: ignore[no-untyped-def]
    p = treat(make_participant(), days_ago=27)  # window opened 2 days ago, invited today
    run()
    today = timezone.localdate()
    plan_messages(today=today + timedelta(days=1))  # day 3 of the window, day 1 after inviting
    assert Message.objects.filter(participant=p).count() == 1
    plan_messages(today=today + timedelta(days=3))
    assert Message.objects.filter(participant=p).order_by("id").last().template_code == (
        "questionnaire_reminder"
    )


def test_nothing_after_completion(invited) -> None:  # type: ignore[no-untyped-def]
    w4 = Assessment.objects.get(participant=invited, timepoint="w4")
    save_answers(w4, "pain-nrs", {"worst_pain": 4}, mode="web", language="nl")
    submit(w4, mode="web")
    run()
    assert mail.outbox == [] and not Message.objects.exists()


def test_nothing_after_death_and_queued_messages_are_cancelled(invited, personas) -> None:  # type: ignore[no-untyped-def]
    plan_messages()  # queued, not yet delivered
    today = timezone.localdate()
    record_vital_status(
        invited,
        last_contact_on=today,
        died_on=today,
        cause_of_death="progression",
        user=personas["nurse_nina"],
    )
    run()
    assert mail.outbox == []
    assert list(Message.objects.values_list("status", flat=True)) == ["cancelled"]


def test_nothing_after_withdrawal_of_questionnaire_consent(invited, personas) -> None:  # type: ignore[no-untyped-def]
    withdraw_consent(
        invited, "b", on=date.today(), reason="no more questionnaires", user=personas["nurse_nina"]
    )
    run()
    assert mail.outbox == [] and not Message.objects.exists()


def test_withdrawal_between_queueing_and_delivery_cancels_at_delivery(invited, personas) -> None:  # type: ignore[no-untyped-def]
    plan_messages()
    withdraw_consent(
        invited, "b", on=date.today(), reason="changed mind", user=personas["nurse_nina"]
    )
    run()
    assert mail.outbox == []
    assert Message.objects.get().status == "cancelled"
    assert not AccessToken.objects.exists()


def test_sms_when_there_is_no_email_in_english(make_participant, treat, sms_outbox) -> None:  # type: ignore[no-untyped-def]
    treat(make_participant(email="", preferred_language="en"), days_ago=25)
    run()
    assert mail.outbox == []
    assert len(sms_outbox) == 1
    assert sms_outbox[0].body.startswith("PRESENT: your questionnaire (Week 4) is ready: http")


def test_no_address_no_message(make_participant, treat) -> None:  # type: ignore[no-untyped-def]
    treat(make_participant(email="", phone=""), days_ago=25)
    run()
    assert not Message.objects.exists()


def test_controls_and_intervention_get_the_same_routine_messages(
    make_participant, treat, allocate
) -> None:  # type: ignore[no-untyped-def]
    control = treat(make_participant(), days_ago=25)
    intervention = treat(make_participant(), days_ago=25, pathway="same_day")
    allocate(control, "control")
    allocate(intervention, "intervention")
    run()
    bodies = {m.participant_id: (m.subject, m.body) for m in Message.objects.all()}
    assert bodies[control.pk] == bodies[intervention.pk]
    assert {m.template_code for m in Message.objects.all()} == {"questionnaire_invitation"}


def test_dry_run_queues_and_sends_nothing(invited) -> None:  # type: ignore[no-untyped-def]
    from io import StringIO

    out = StringIO()
    call_command("send_reminders", "--dry-run", stdout=out)
    assert "Would queue 1 message(s)" in out.getvalue()
    assert mail.outbox == [] and not Message.objects.exists()
