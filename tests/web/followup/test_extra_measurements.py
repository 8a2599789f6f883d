"""A trial's extra measurements ([[extra]], audience "acceptors") are planned only for
participants who accepted that trial's offer, never for controls or for those who
refused, labelled as extra, and shown only to users who may see that trial's arms (an
extra reveals the arm)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from blend.apps.accounts.services import grant_trial_role
from blend.apps.audit.services import participant_history
from blend.apps.followup.models import ExtraAssessment
from blend.apps.followup.services import plan_schedule, visible_extras
from blend.apps.offers.models import Offer, OfferState
from tests.web.followup.palliate import allocated_in_palliate

pytestmark = pytest.mark.django_db

ANCHOR = date(2025, 4, 1)
_allocated = allocated_in_palliate


def test_extras_are_planned_for_acceptors_only(palliate, make_participant, personas) -> None:
    nurse = personas["nurse_nina"]
    accepted, refused, control = make_participant(), make_participant(), make_participant()
    _allocated(accepted, nurse, "intervention", OfferState.ACCEPTED)
    _allocated(refused, nurse, "intervention", OfferState.REFUSED)
    _allocated(control, nurse, "control", None)
    for member in (accepted, refused, control):
        plan_schedule(member, anchor=ANCHOR, user=nurse)
    (extra,) = ExtraAssessment.objects.all()
    assert extra.participant == accepted and extra.trial == "PALLIATE"
    assert extra.code == "after_consultation" and "extra" in extra.label
    assert extra.instruments == ["eq5d5l-nl"]
    # day 3, window from the day itself to 4 days after
    assert (extra.opens_on, extra.target_on, extra.closes_on) == (
        ANCHOR + timedelta(days=3),
        ANCHOR + timedelta(days=3),
        ANCHOR + timedelta(days=7),
    )
    # The routine schedule is the same for all three (TwiCs).
    routine = {
        m.pk: sorted(m.assessments.values_list("timepoint", flat=True))
        for m in (accepted, refused, control)
    }
    assert routine[accepted.pk] == routine[refused.pk] == routine[control.pk]
    # A new start of treatment moves the extra; an offer no longer accepted removes it.
    plan_schedule(accepted, anchor=ANCHOR + timedelta(days=2), user=nurse)
    extra.refresh_from_db()
    assert extra.target_on == ANCHOR + timedelta(days=5)
    Offer.objects.filter(participant=accepted).update(
        state=OfferState.REFUSED, reason="changed mind"
    )
    plan_schedule(accepted, anchor=ANCHOR, user=nurse)
    assert not ExtraAssessment.objects.exists()


def test_extras_are_shown_only_with_allocation_view_in_their_trial(
    palliate, make_participant, personas, client_for
) -> None:
    nurse = personas["nurse_nina"]
    member = make_participant()
    _allocated(member, nurse, "intervention", OfferState.ACCEPTED)
    plan_schedule(member, anchor=ANCHOR, user=nurse)
    url = reverse("participant-detail", args=[member.study_id])
    seen = client_for("nurse_nina").get(url).content.decode()
    assert 'data-testid="extra-schedule"' in seen and "After the consultation" in seen
    assert visible_extras(member, nurse)
    # The nurse now works in BLEND only: no allocation.view in PALLIATE.
    grant_trial_role(nurse, "BLEND", "nurse", by=personas["admin_ada"])
    assert visible_extras(member, nurse) == []
    hidden = client_for("nurse_nina").get(url).content.decode()
    assert 'data-testid="extra-schedule"' not in hidden and "After the consultation" not in hidden
    # Nor does the audit trail show it to a reader without the trial's arms.
    trail = participant_history(member, include_identifiers=False, include_allocation=["BLEND"])
    assert not [row for row in trail if "extra" in str(row["model"]).lower()]
    full = participant_history(member, include_identifiers=False, include_allocation=True)
    assert [row for row in full if "extra" in str(row["model"]).lower()]


def test_an_offer_accepted_after_the_schedule_was_planned_gets_its_extras(
    palliate, make_participant, personas
) -> None:
    from blend.apps.offers.services import make_offer, record_acceptance

    nurse = personas["nurse_nina"]
    member = make_participant()
    _allocated(member, nurse, "intervention", None)
    plan_schedule(member, anchor=ANCHOR, user=nurse)  # a planned treatment, before the offer
    assert not ExtraAssessment.objects.exists()
    make_offer(member, on=date(2025, 3, 21), user=nurse, trial="PALLIATE")
    assert not ExtraAssessment.objects.exists()  # offered is not accepted
    record_acceptance(
        member,
        on=date(2025, 3, 22),
        consent_version="PALLIATE ICF v1 (test)",
        user=nurse,
        trial="PALLIATE",
    )
    (extra,) = ExtraAssessment.objects.all()
    assert extra.participant == member and extra.target_on == ANCHOR + timedelta(days=3)
