"""Staff views: calendar, completeness per timepoint (per arm only for roles that may
see arms), clinical follow-up forms, and recording a death."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from blend.apps.followup.models import HospitalAdmission, OpioidUse, VitalStatus
from blend.apps.outbox.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort(make_participant, treat, allocate):  # type: ignore[no-untyped-def]
    a, b, c = (treat(make_participant(), days_ago=d) for d in (28, 40, 3))
    allocate(a, "intervention")
    allocate(b, "control")
    return a, b, c


def test_calendar_shows_status_per_participant_and_timepoint(client_for, cohort) -> None:  # type: ignore[no-untyped-def]
    page = client_for("nurse_nina").get("/followup/calendar/").content.decode()
    for p in cohort:
        assert p.study_id in page
    assert "status-due" in page and "status-missed" in page and "status-upcoming" in page
    due_only = client_for("nurse_nina").get("/followup/calendar/?status=due").content.decode()
    assert (
        cohort[0].study_id in due_only and cohort[1].study_id in due_only
    )  # w4 (day 28), w6 (day 40 of 35-49)
    assert cohort[2].study_id not in due_only  # day 3: baseline missed, w1 not yet open


def test_completeness_per_arm_only_for_roles_that_may_see_arms(client_for, cohort) -> None:  # type: ignore[no-untyped-def]
    stan = client_for("statistician_stan").get("/followup/completeness/").content.decode()
    assert "<td>intervention</td>" in stan and "<td>control</td>" in stan
    ada = client_for("admin_ada").get("/followup/completeness/").content.decode()
    assert "intervention" not in ada and "control</td>" not in ada
    assert "Counts per arm are shown only" in ada


def test_recording_a_death_stops_all_invitations(client_for, make_participant, treat) -> None:  # type: ignore[no-untyped-def]
    p = treat(make_participant(), days_ago=25)
    today = timezone.localdate()
    response = client_for("nurse_nina").post(
        f"/followup/{p.study_id}/vital-status/",
        {"died_on": str(today - timedelta(days=1)), "cause_of_death": "progressive disease"},
    )
    assert response.status_code == 302
    status = VitalStatus.objects.get(participant=p)
    assert status.last_contact_on == status.died_on == today - timedelta(days=1)
    call_command("send_reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert mail.outbox == [] and not Message.objects.exists()


def test_a_death_needs_a_cause_and_a_date_not_in_the_future(client_for, make_participant) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    client = client_for("nurse_nina")
    response = client.post(f"/followup/{p.study_id}/vital-status/", {"died_on": "2025-04-01"})
    assert "Expected the cause of death" in response.content.decode()
    future = str(timezone.localdate() + timedelta(days=2))
    response = client.post(
        f"/followup/{p.study_id}/vital-status/", {"died_on": future, "cause_of_death": "x"}
    )
    assert response.status_code == 400 and "expected today or earlier" in response.content.decode()
    assert not VitalStatus.objects.exists()


def test_admission_length_of_stay(client_for, make_participant) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    client = client_for("nurse_nina")
    client.post(
        f"/followup/{p.study_id}/admission/new/",
        {"admitted_on": "2025-04-01", "discharged_on": "2025-04-06", "index_treatment": "on"},
    )
    assert HospitalAdmission.objects.get(participant=p).nights == 5
    response = client.post(
        f"/followup/{p.study_id}/admission/new/",
        {"admitted_on": "2025-04-10", "discharged_on": "2025-04-08"},
    )
    assert response.status_code == 400
    assert HospitalAdmission.objects.count() == 1
    assert "5 nights" in client.get(f"/participants/{p.study_id}/").content.decode()


def test_opioid_use_is_converted_to_omed(client_for, make_participant) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    client_for("nurse_nina").post(
        f"/followup/{p.study_id}/opioids/new/",
        {
            "used_on": "2025-04-03",
            "drug_1": "oxycodone",
            "route_1": "oral",
            "dose_1": "40",
            "unit_1": "mg/day",
            "drug_2": "fentanyl",
            "route_2": "transdermal",
            "dose_2": "25",
            "unit_2": "ug/h",
        },
    )
    assert OpioidUse.objects.get(participant=p).omed_mg_day == pytest.approx(40 * 1.5 + 25 * 2.4)


def test_opioid_with_the_wrong_unit_is_an_error_naming_it(client_for, make_participant) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    response = client_for("nurse_nina").post(
        f"/followup/{p.study_id}/opioids/new/",
        {
            "used_on": "2025-04-03",
            "drug_1": "fentanyl",
            "route_1": "transdermal",
            "dose_1": "25",
            "unit_1": "mg/day",
        },
    )
    assert response.status_code == 400
    assert "unit" in response.content.decode()
    assert not OpioidUse.objects.exists()


@pytest.mark.parametrize(
    "persona", ["statistician_stan", "monitor_mo", "datamanager_dirk", "admin_ada"]
)
def test_read_only_roles_cannot_write_follow_up(client_for, make_participant, persona) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    client = client_for(persona)
    assert (
        client.post(
            f"/followup/{p.study_id}/vital-status/",
            {"died_on": "2025-04-01", "cause_of_death": "x"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/followup/{p.study_id}/admission/new/", {"admitted_on": "2025-04-01"}
        ).status_code
        == 403
    )
    assert client.get("/followup/calendar/").status_code == 200
    assert not VitalStatus.objects.exists() and not HospitalAdmission.objects.exists()
