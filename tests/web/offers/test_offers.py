"""The offer workflow: intervention arm only; control participants get nothing at all."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from blend.apps.audit.models import AuditEvent
from blend.apps.offers import services
from blend.apps.offers.models import Offer
from tests.web.screening.flow import randomized

pytestmark = pytest.mark.django_db
VERSION = "BLEND ICF v2.0 (2022-09-09)"
EVERYONE = [
    "nurse_nina",
    "investigator_ivo",
    "datamanager_dirk",
    "statistician_stan",
    "monitor_mo",
    "admin_ada",
]
OFFER_WRITERS = {"nurse_nina", "investigator_ivo"}


@pytest.fixture
def intervention(make_participant, personas):
    return randomized(make_participant, personas, "intervention")


@pytest.fixture
def control(make_participant, personas):
    return randomized(make_participant, personas, "control")


def today() -> date:
    return timezone.localdate()


def test_offered_then_accepted_with_the_consent_form_version(intervention, personas) -> None:
    nurse = personas["nurse_nina"]
    offer = services.make_offer(intervention, on=today(), user=nurse)
    assert (offer.state, offer.offered_by, services.offer_state(intervention)) == (
        "offered",
        nurse,
        "offered",
    )
    offer = services.record_acceptance(
        intervention, on=today(), consent_version=VERSION, user=nurse
    )
    assert (offer.state, offer.trial_consent_version, offer.decided_by) == (
        "accepted",
        VERSION,
        nurse,
    )
    assert list(
        AuditEvent.objects.filter(
            participant=intervention, action__startswith="offer."
        ).values_list("action", flat=True)
    ) == ["offer.make", "offer.accept"]
    accepted = AuditEvent.objects.get(participant=intervention, action="offer.accept")
    assert accepted.details == {
        "trial": "BLEND",
        "state": "accepted",
        "offered_on": today().isoformat(),
        "offered_by": "nurse_nina",
        "decided_on": today().isoformat(),
        "decided_by": "nurse_nina",
        "trial_consent_version": VERSION,
    }


def test_the_audit_trail_of_a_role_without_allocation_view_does_not_reveal_the_offer(
    client_for, intervention, personas
) -> None:
    services.make_offer(intervention, on=today(), user=personas["nurse_nina"])
    html = (
        client_for("admin_ada")
        .get(reverse("participant-detail", args=[intervention.study_id]))
        .content.decode()
    )
    assert 'data-testid="audit-trail"' in html  # the administrator has audit.view …
    trail = html.split('data-testid="audit-trail"')[1]
    assert (
        "offer" not in trail.lower() and "intervention" not in trail.lower()
    )  # … but not allocation.view


def test_refused_needs_a_reason_and_the_participant_stays_allocated(intervention, personas) -> None:
    nurse = personas["nurse_nina"]
    services.make_offer(intervention, on=today(), user=nurse)
    with pytest.raises(services.OfferError) as caught:
        services.record_refusal(intervention, on=today(), reason="  ", user=nurse)
    assert "reason" in caught.value.errors and services.offer_state(intervention) == "offered"
    offer = services.record_refusal(
        intervention, on=today(), reason="prefers standard care", user=nurse
    )
    assert offer.state == "refused" and intervention.allocations.get().arm == "intervention"  # ITT


def test_not_offered_with_a_reason_and_no_offer_after_it(intervention, personas) -> None:
    nurse = personas["nurse_nina"]
    offer = services.record_not_offered(
        intervention, on=today(), reason="clinical deterioration", user=nurse
    )
    assert offer.state == "not_offered" and offer.offered_on is None
    with pytest.raises(services.OfferError, match="already recorded"):
        services.make_offer(intervention, on=today(), user=nurse)


def test_an_open_offer_that_cannot_go_ahead_becomes_not_offered(intervention, personas) -> None:
    nurse = personas["nurse_nina"]
    services.make_offer(intervention, on=today(), user=nurse)
    offer = services.record_not_offered(
        intervention, on=today(), reason="died before deciding", user=nurse
    )
    assert (offer.state, offer.offered_on, offer.reason) == (
        "not_offered",
        today(),
        "died before deciding",
    )
    with pytest.raises(services.OfferError, match="already decided"):
        services.record_not_offered(intervention, on=today(), reason="again", user=nurse)
    with pytest.raises(services.OfferError, match="expected an open offer"):
        services.record_refusal(intervention, on=today(), reason="late", user=nurse)


def test_transitions_and_dates_are_checked(intervention, personas) -> None:
    nurse = personas["nurse_nina"]
    with pytest.raises(services.OfferError, match="expected an open offer"):
        services.record_acceptance(intervention, on=today(), consent_version=VERSION, user=nurse)
    with pytest.raises(services.OfferError) as caught:
        services.make_offer(intervention, on=today() - timedelta(days=3), user=nurse)
    assert "offered_on" in caught.value.errors  # before the allocation
    with pytest.raises(services.OfferError) as caught:
        services.make_offer(intervention, on=today() + timedelta(days=1), user=nurse)
    assert "offered_on" in caught.value.errors
    services.make_offer(intervention, on=today(), user=nurse)
    with pytest.raises(services.OfferError) as caught:
        services.record_acceptance(intervention, on=today(), consent_version="v0.1", user=nurse)
    assert "trial_consent_version" in caught.value.errors
    with pytest.raises(services.OfferError, match="already recorded"):
        services.make_offer(intervention, on=today(), user=nurse)
    assert Offer.objects.get().state == "offered"


def test_roles_without_offer_write_cannot_record(intervention, personas) -> None:
    for name in ("datamanager_dirk", "statistician_stan", "monitor_mo", "admin_ada"):
        with pytest.raises(PermissionDenied):
            services.make_offer(intervention, on=today(), user=personas[name])
    assert not Offer.objects.exists()


def test_a_control_participant_cannot_be_offered_anything(control, personas) -> None:
    nurse = personas["nurse_nina"]
    for call in (
        lambda: services.make_offer(control, on=today(), user=nurse),
        lambda: services.record_not_offered(control, on=today(), reason="x", user=nurse),
        lambda: services.record_refusal(control, on=today(), reason="x", user=nurse),
        lambda: services.record_acceptance(
            control, on=today(), consent_version=VERSION, user=nurse
        ),
    ):
        with pytest.raises(services.OfferError, match="intervention arm"):
            call()
    assert not Offer.objects.exists()
    assert services.offer_state(control) is None and not services.may_mention_trial(control)


def test_randomizing_a_control_creates_no_task_offer_or_message(control, personas) -> None:
    from blend.apps.outbox.models import Message

    assert not Offer.objects.filter(participant=control).exists()
    assert not Message.objects.filter(participant=control).exists()
    assert control not in [a.participant for a in services.offer_worklist()]
    actions = set(AuditEvent.objects.filter(participant=control).values_list("action", flat=True))
    assert actions <= {
        "enrol",
        "consent.record",
        "screening.save",
        "eligibility.confirm",
        "allocation.randomize",
    }, actions


def test_the_worklist_holds_intervention_participants_until_decided(
    intervention, control, personas
) -> None:
    from blend.apps.allocation.models import Allocation

    waiting = {a.participant for a in Allocation.objects.filter(arm="intervention")}
    assert {a.participant for a in services.offer_worklist()} == waiting and intervention in waiting
    assert control not in waiting
    services.make_offer(intervention, on=today(), user=personas["nurse_nina"])
    assert intervention in {a.participant for a in services.offer_worklist()}
    services.record_refusal(intervention, on=today(), reason="travel", user=personas["nurse_nina"])
    assert {a.participant for a in services.offer_worklist()} == waiting - {intervention}


@pytest.mark.parametrize("username", EVERYONE)
def test_offer_pages_need_offer_write_and_allocation_view(
    client_for, intervention, personas, username: str
) -> None:
    client = client_for(username)
    expected = 200 if username in OFFER_WRITERS else 403
    assert client.get(reverse("offers:worklist")).status_code == expected
    # Each form is asked for while it applies: offer first, the decision once offered.
    for name in ("offer", "not-offered"):
        assert (
            client.get(reverse(f"offers:{name}", args=[intervention.study_id])).status_code
            == expected
        )
    client.post(
        reverse("offers:offer", args=[intervention.study_id]), {"offered_on": today().isoformat()}
    )
    assert Offer.objects.exists() == (username in OFFER_WRITERS)
    if not Offer.objects.exists():
        services.make_offer(intervention, on=today(), user=personas["nurse_nina"])
    for name in ("accept", "refuse", "not-offered"):
        assert (
            client.get(reverse(f"offers:{name}", args=[intervention.study_id])).status_code
            == expected
        )


def test_the_forms_walk_offer_accept_and_show_field_errors(client_for, intervention) -> None:
    client = client_for("nurse_nina")
    sid = intervention.study_id
    bad = client.post(reverse("offers:offer", args=[sid]), {"offered_on": "not a date"})
    assert (
        bad.status_code == 400
        and "offered_on" in bad.context["form"].errors
        and not Offer.objects.exists()
    )
    assert (
        client.post(
            reverse("offers:offer", args=[sid]), {"offered_on": today().isoformat()}
        ).status_code
        == 302
    )
    bad = client.post(
        reverse("offers:accept", args=[sid]),
        {"decided_on": today().isoformat(), "trial_consent_version": "v9"},
    )
    assert bad.status_code == 400 and "trial_consent_version" in bad.context["form"].errors
    ok = client.post(
        reverse("offers:accept", args=[sid]),
        {"decided_on": today().isoformat(), "trial_consent_version": VERSION},
    )
    assert ok.status_code == 302 and Offer.objects.get().state == "accepted"
    page = client.get(reverse("participant-detail", args=[sid])).content.decode()
    assert 'data-testid="offer-panel"' in page and "accepted" in page


def test_a_control_participant_page_has_no_offer_panel(client_for, control) -> None:
    page = (
        client_for("nurse_nina")
        .get(reverse("participant-detail", args=[control.study_id]))
        .content.decode()
    )
    assert 'data-testid="offer-panel"' not in page
    response = client_for("nurse_nina").post(
        reverse("offers:offer", args=[control.study_id]), {"offered_on": today().isoformat()}
    )
    assert response.status_code == 400 and not Offer.objects.exists()


def test_a_control_participant_gets_a_clear_refusal_before_any_form(client_for, control) -> None:
    client = client_for("nurse_nina")
    for name in services.ACTIONS:
        response = client.get(reverse(f"offers:{name}", args=[control.study_id]))
        page = response.content.decode()
        assert response.status_code == 400 and "form" not in response.context
        assert 'data-testid="offer-not-applicable"' in page
        assert "not allocated to the intervention" in page and "expected" not in page


def test_actions_that_do_not_apply_now_are_refused_and_not_linked(
    client_for, intervention, personas
) -> None:
    client = client_for("nurse_nina")
    sid = intervention.study_id

    def refused(name: str) -> bool:
        response = client.get(reverse(f"offers:{name}", args=[sid]))
        return response.status_code == 400 and b"offer-not-applicable" in response.content

    def linked(name: str) -> bool:
        page = client.get(reverse("participant-detail", args=[sid])).content.decode()
        return reverse(f"offers:{name}", args=[sid]) in page

    assert [refused(n) for n in services.ACTIONS] == [False, True, True, False]
    assert [linked(n) for n in services.ACTIONS] == [True, False, False, True]
    services.make_offer(intervention, on=today(), user=personas["nurse_nina"])
    assert [refused(n) for n in services.ACTIONS] == [True, False, False, False]
    assert [linked(n) for n in services.ACTIONS] == [False, True, True, True]
    services.record_refusal(intervention, on=today(), reason="no", user=personas["nurse_nina"])
    assert all(refused(n) for n in services.ACTIONS)
    assert not any(linked(n) for n in services.ACTIONS)
