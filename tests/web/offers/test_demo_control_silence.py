"""The TwiCs invariant on the demo data: nothing patient-facing mentions the trial to a
control participant, and nothing at all is created for them by the offer workflow."""

from __future__ import annotations

import pytest

from blend.apps.allocation.models import Allocation
from blend.apps.allocation.verification import verify
from blend.apps.demo.services import load_demo
from blend.apps.offers.models import Offer
from blend.apps.screening.models import Screening

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        load_demo(participants=320, seed=20221015, force=True)  # `blend demo` defaults
        yield
        from django.core.management import call_command

        call_command("flush", "--no-input", verbosity=0)


def test_no_patient_facing_message_to_a_control_participant_mentions_the_trial(demo) -> None:
    from blend.apps.outbox.domain import check_text
    from blend.apps.outbox.models import Message

    controls = list(
        Allocation.objects.filter(arm="control").values_list("participant_id", flat=True)
    )
    assert len(controls) >= 10
    messages = list(Message.objects.filter(participant_id__in=controls, audience="participant"))
    assert messages, (
        "the demo should hold patient-facing messages to controls, or this test checks nothing"
    )
    leaks = [
        (m.participant_id, m.template_code, found)
        for m in messages
        if (found := check_text(f"{m.subject}\n{m.body}"))
    ]
    assert leaks == []


def test_the_demo_creates_no_offer_for_controls_and_covers_every_stage(demo) -> None:
    arms = {(a.participant_id, a.trial): a.arm for a in Allocation.objects.all()}
    offered = set(Offer.objects.values_list("participant_id", "trial"))
    assert offered and all(arms.get(key) == "intervention" for key in offered)
    statuses = set(Screening.objects.values_list("status", flat=True))
    assert statuses == {"eligible", "ineligible", "pending"}
    states = set(Offer.objects.values_list("state", flat=True))
    assert {"accepted", "refused"} <= states
    assert verify().ok
