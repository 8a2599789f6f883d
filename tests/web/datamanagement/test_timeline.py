"""The participant's timeline comes from the app that owns each date; a form reads only
the dates its checks name; the casebook lists the forms each app declares."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blend.apps.allocation.models import Allocation
from blend.apps.consent.editchecks import CONSENT_FORM
from blend.apps.datamanagement import services
from blend.apps.datamanagement.runner import find_issues
from blend.apps.datamanagement.timeline import timelines
from blend.apps.followup.models import VitalStatus
from blend.apps.registry.models import Participant
from blend.apps.safety.editchecks import ADVERSE_EVENT
from blend.apps.safety.forms import AdverseEventForm
from blend.apps.screening.models import Screening
from blend.apps.treatment.models import TreatmentRecord
from blend.apps.treatment.services import treatment_start
from blend.editchecks import timeline_names
from blend.web.forms import timeline_values


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


def _followed_up(participant: Participant, nurse: Any) -> Participant:
    """Screened 10 March, randomized 12 March, operated 20 March 2025, died 1 September 2025."""
    Screening.objects.create(
        trial="BLEND",
        participant=participant,
        screened_on=date(2025, 3, 10),
        screened_by=nurse,
        status="eligible",
        criteria_version="test",
    )
    Allocation.objects.create(
        trial="BLEND",
        participant=participant,
        arm="control",
        sequence_number=participant.pk,
        stratum="",
        stratum_index=participant.pk,
        allocated_at=_aware(date(2025, 3, 12)),
        allocated_by=nurse,
    )
    TreatmentRecord.objects.create(
        trial="BLEND",
        participant=participant,
        pathway="standard",
        planned_on=date(2025, 3, 20),
        surgery_on=date(2025, 3, 20),
        radiotherapy_on=date(2025, 3, 30),
        recorded_by=nurse,
    )
    VitalStatus.objects.create(
        participant=participant,
        last_contact_on=date(2025, 9, 1),
        died_on=date(2025, 9, 1),
        recorded_by=nurse,
    )
    return participant


def test_the_timeline_reads_each_date_from_its_owner(make_participant, personas) -> None:
    p = _followed_up(make_participant(), personas["nurse_nina"])
    assert timelines([p])[p.pk] == {
        "registered_on": date(2025, 3, 1),
        "consent_on": date(2025, 3, 1),
        "screened_on": date(2025, 3, 10),
        "randomized_on": date(2025, 3, 12),
        "treatment_start": treatment_start(p),
        "death_date": date(2025, 9, 1),
    }
    assert treatment_start(p) is not None


def test_only_randomized_participants_have_a_treatment_start(make_participant, personas) -> None:
    p = make_participant()
    TreatmentRecord.objects.create(
        trial="BLEND",
        participant=p,
        pathway="standard",
        planned_on=date(2025, 3, 20),
        surgery_on=date(2025, 3, 20),
        recorded_by=personas["nurse_nina"],
    )
    assert timelines([p])[p.pk]["treatment_start"] is None


def test_a_form_reads_only_the_timeline_dates_its_checks_name(make_participant, personas) -> None:
    p = Participant.objects.get(pk=_followed_up(make_participant(), personas["nurse_nina"]).pk)
    assert timeline_names(ADVERSE_EVENT) == {"registered_on", "randomized_on", "death_date"}
    assert timeline_names(CONSENT_FORM) == frozenset()
    with CaptureQueriesContext(connection) as nothing:
        assert timeline_values(p, CONSENT_FORM) == {}
    assert len(nothing.captured_queries) == 0
    assert timeline_values(p, ADVERSE_EVENT) == {
        "timeline.registered_on": date(2025, 3, 1),
        "timeline.randomized_on": date(2025, 3, 12),
        "timeline.death_date": date(2025, 9, 1),
    }


def test_the_adverse_event_form_checks_the_randomization_date_live(
    make_participant, personas
) -> None:
    p = _followed_up(make_participant(), personas["nurse_nina"])
    form = AdverseEventForm(
        {
            "term": "wound_infection",
            "grade": "2",
            "onset_date": "2025-03-11",
            "related_sbrt": "possible",
            "related_surgery": "possible",
            "action_taken": "none",
            "outcome": "recovering",
            "aware_at": "2025-03-11T09:00",
        },
        participant=p,
    )
    assert not form.is_valid()
    assert [e.code for e in form.errors.as_data()["onset_date"]] == ["AE12"]


def test_check_data_runs_the_timeline_checks(make_participant, personas) -> None:
    p = _followed_up(make_participant(), personas["nurse_nina"])
    Screening.objects.filter(participant=p).update(
        screened_on=date(2025, 3, 13)
    )  # after randomization
    [issue] = [i for i in find_issues() if i.participant_id == p.pk]
    assert (issue.finding.check, issue.form, issue.object_type) == (
        "T03",
        "Participant timeline",
        "registry.Participant",
    )


def test_the_casebook_lists_every_app_s_forms_in_order(make_participant, personas) -> None:
    p = _followed_up(make_participant(), personas["nurse_nina"])
    assert services.entered_forms(p) == [
        ("Cohort registration", ""),
        ("Consent", ""),
        ("Screening", ""),
        ("Randomization", ""),
        ("Treatment", ""),
        ("Vital status", ""),
    ]
