"""Stage 3: the results of a completed trial told to its living participants."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from blend.apps.allocation.models import Allocation
from blend.apps.allocation.services import randomize
from blend.apps.audit.models import AuditEvent
from blend.apps.consent.services import withdraw_consent
from blend.apps.disclosure import services
from blend.apps.disclosure.models import Disclosure, ResultsRelease
from blend.apps.followup.services import record_vital_status
from blend.apps.outbox.models import Message, Status
from blend.apps.outbox.services import deliver_due
from tests.web.screening.flow import PASSWORD
from tests.web.trials.flow import confirm_for_vertical

pytestmark = pytest.mark.django_db
TEXTS = {
    "subject_en": "The results of VERTICAL",
    "body_en": "VERTICAL compared two kinds of radiotherapy. You were in the {group}.",
    "subject_nl": "De uitkomsten van VERTICAL",
    "body_nl": "VERTICAL vergeleek twee soorten bestraling. U zat in de {group}.",
}


@pytest.fixture
def vertical_members(make_participant, personas):
    """Six VERTICAL participants (randomized through the service), by arm."""
    people = []
    for _ in range(6):
        member = make_participant()
        confirm_for_vertical(member, personas)
        randomize(member, user=personas["nurse_nina"], trial="VERTICAL")
        people.append(member)
    return people


def _texts(group: str) -> dict[str, str]:
    return {key: value.replace("{group}", group) for key, value in TEXTS.items()}


def test_releasing_needs_the_pi_signature_and_a_completed_trial(vertical_members, personas) -> None:
    ivo, nina = personas["investigator_ivo"], personas["nurse_nina"]
    with pytest.raises(PermissionDenied, match="sign_off"):
        services.release_results(
            "VERTICAL", on=date(2026, 11, 1), summary="x", user=nina, password=PASSWORD
        )
    with pytest.raises(services.DisclosureError, match="password: expected your own password"):
        services.release_results(
            "VERTICAL", on=date(2026, 11, 1), summary="x", user=ivo, password="no"
        )
    with pytest.raises(
        services.DisclosureError, match="expected a completed trial, BLEND is recruiting"
    ):
        services.release_results(
            "BLEND", on=date(2026, 11, 1), summary="x", user=ivo, password=PASSWORD
        )
    assert not ResultsRelease.objects.exists()


def test_the_list_holds_the_living_members_still_in_the_cohort_with_their_group(
    vertical_members, personas
) -> None:
    ivo, nina = personas["investigator_ivo"], personas["nurse_nina"]
    dead, left = vertical_members[0], vertical_members[1]
    record_vital_status(dead, last_contact_on=date(2025, 6, 1), died_on=date(2025, 6, 1), user=nina)
    withdraw_consent(left, "a", on=date(2025, 6, 2), reason="moved abroad", user=nina)
    release = services.release_results(
        "VERTICAL",
        on=date(2026, 11, 1),
        summary="SBRT gave more pain response.",
        user=ivo,
        password=PASSWORD,
    )
    listed = {d.participant_id: d.arm_group for d in release.members.all()}
    assert set(listed) == {m.pk for m in vertical_members[2:]}
    truth = dict(Allocation.objects.filter(trial="VERTICAL").values_list("participant_id", "arm"))
    assert all(truth[pid] == group for pid, group in listed.items())
    event = AuditEvent.objects.get(action="disclosure.results_released")
    assert event.actor == ivo and event.details["not_listed"] == 2


def test_messages_go_out_only_after_review_and_a_later_death_cancels_one(
    vertical_members, personas
) -> None:
    ivo, nina = personas["investigator_ivo"], personas["nurse_nina"]
    release = services.release_results(
        "VERTICAL",
        on=date(2026, 11, 1),
        summary="SBRT gave more pain response.",
        user=ivo,
        password=PASSWORD,
    )
    groups = set(release.members.values_list("arm_group", flat=True))
    for group in groups:
        services.save_template(release, group, _texts(group), user=nina)
    with pytest.raises(services.DisclosureError, match="has not reviewed the message"):
        services.send_disclosures(release, user=nina)
    for template in release.templates.all():
        services.review_template(template, user=ivo, password=PASSWORD)
    counts = services.send_disclosures(release, user=nina)
    assert counts == {"queued": 6}
    first = Disclosure.objects.filter(release=release).order_by("participant_id").first()
    assert first is not None and first.message is not None
    assert "VERTICAL" in first.message.body  # stage 3 may name the completed trial
    record_vital_status(
        first.participant, last_contact_on=date(2026, 11, 2), died_on=date(2026, 11, 2), user=nina
    )
    first.refresh_from_db()
    assert first.state == "cancelled" and first.message is not None
    assert Message.objects.get(pk=first.message.pk).status == Status.CANCELLED
    deliver_due()
    states = sorted(Disclosure.objects.filter(release=release).values_list("state", flat=True))
    assert states == ["cancelled"] + ["sent"] * 5


def test_a_message_may_not_name_a_trial_still_running(vertical_members, personas) -> None:
    ivo, nina = personas["investigator_ivo"], personas["nurse_nina"]
    release = services.release_results(
        "VERTICAL", on=date(2026, 11, 1), summary="done", user=ivo, password=PASSWORD
    )
    texts = {**_texts("control group"), "body_nl": "Doe ook mee aan BLEND!"}
    with pytest.raises(
        services.DisclosureError, match="body_nl: may not name a trial still running \\(BLEND\\)"
    ):
        services.save_template(release, "control", texts, user=nina)


def test_a_question_back_and_its_answer_are_recorded(
    vertical_members, personas, client_for
) -> None:
    ivo, nina = personas["investigator_ivo"], personas["nurse_nina"]
    release = services.release_results(
        "VERTICAL", on=date(2026, 11, 1), summary="done", user=ivo, password=PASSWORD
    )
    member = release.members.first()
    assert member is not None
    with pytest.raises(services.DisclosureError, match="answer: expected a question"):
        services.record_answer(member, "yes", on=date(2026, 11, 3), user=nina)
    client = client_for("nurse_nina")
    url = reverse("disclosure:member", args=["VERTICAL", member.participant.study_id])
    assert (
        client.post(url, {"question": "Does this change my care?", "on": "2026-11-03"}).status_code
        == 302
    )
    assert client.post(url, {"answer": "No, it does not.", "on": "2026-11-04"}).status_code == 302
    member.refresh_from_db()
    assert (member.question, member.answer) == ("Does this change my care?", "No, it does not.")


def test_the_pages_need_allocation_view_in_the_trial(
    vertical_members, personas, client_for
) -> None:
    services.release_results(
        "VERTICAL",
        on=date(2026, 11, 1),
        summary="done",
        user=personas["investigator_ivo"],
        password=PASSWORD,
    )
    assert (
        client_for("admin_ada").get(reverse("disclosure:release", args=["VERTICAL"])).status_code
        == 403
    )
    page = client_for("statistician_stan").get(reverse("disclosure:release", args=["VERTICAL"]))
    assert page.status_code == 200 and "intervention group" in page.content.decode()
    index = client_for("admin_ada").get(reverse("disclosure:index")).content.decode()
    assert "VERTICAL" not in index.split("<tbody>")[1]
