"""Each role × each foundation page and action. The expected sets are written out
here, independently of blend.apps.accounts.domain, so a change to the matrix that
nobody meant fails a test."""

from __future__ import annotations

from datetime import date

import pytest

from blend.apps.consent.models import ConsentRecord
from blend.apps.registry.models import Participant

pytestmark = pytest.mark.django_db

ALL = {
    "nurse_nina",
    "investigator_ivo",
    "datamanager_dirk",
    "statistician_stan",
    "monitor_mo",
    "admin_ada",
}
CLINICAL = {"nurse_nina", "investigator_ivo"}

PAGES = [
    ("/", ALL),
    ("/participants/", ALL),
    ("/participants/{sid}/", ALL),
    ("/participants/new/", CLINICAL),
    ("/participants/{sid}/edit/", CLINICAL),
    ("/consent/{sid}/record/", CLINICAL),
    ("/consent/{sid}/withdraw/", CLINICAL),
    ("/accounts/roles/", ALL),
]


@pytest.mark.parametrize("username", sorted(ALL))
@pytest.mark.parametrize(("url", "allowed"), PAGES)
def test_each_role_opens_exactly_its_pages(
    client_for, make_participant, username, url, allowed
) -> None:
    participant = make_participant()
    response = client_for(username).get(url.format(sid=participant.study_id))
    assert response.status_code == (200 if username in allowed else 403)


@pytest.mark.parametrize("url", [p for p, _ in PAGES])
def test_anonymous_visitors_are_sent_to_the_login_page(client, make_participant, url) -> None:
    participant = make_participant()
    response = client.get(url.format(sid=participant.study_id))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def registration_post() -> dict[str, str]:
    return {
        "site": "1",
        "registered_on": "2025-03-01",
        "full_name": "Nieuwe Deelnemer",
        "date_of_birth": "1955-01-02",
        "hospital_number": "H1234567",
        "sex": "male",
        "primary_tumour": "lung",
        "metastases_diagnosed_on": "2025-02-01",
        "performance_status": "2",
        "email": "",
        "phone": "",
        "preferred_language": "nl",
    }


@pytest.mark.parametrize("username", sorted(ALL - CLINICAL))
def test_only_clinical_staff_can_register(client_for, site, username) -> None:
    data = registration_post() | {"site": str(site.pk)}
    assert client_for(username).post("/participants/new/", data).status_code == 403
    assert not Participant.objects.exists()


@pytest.mark.parametrize("username", sorted(ALL - CLINICAL))
def test_the_monitor_and_other_non_clinical_roles_cannot_record_consent(
    client_for, make_participant, consent_version, username
) -> None:
    participant = make_participant(consent={})
    data = {"effective_on": "2025-03-02", "form_version": str(consent_version.pk), "item_a": "yes"}
    assert (
        client_for(username).post(f"/consent/{participant.study_id}/record/", data).status_code
        == 403
    )
    assert not ConsentRecord.objects.filter(participant=participant).exists()


@pytest.mark.parametrize("username", ["statistician_stan", "datamanager_dirk", "admin_ada"])
def test_roles_without_identifier_access_never_see_a_name(
    client_for, make_participant, username
) -> None:
    participant = make_participant(full_name="Geheime Naam", hospital_number="H7777777")
    client = client_for(username)
    for url in [
        "/participants/",
        f"/participants/{participant.study_id}/",
        "/participants/?q=Geheime",
    ]:
        body = client.get(url).content.decode()
        assert "Geheime Naam" not in body and "H7777777" not in body and "1960-05-17" not in body


def test_searching_by_name_is_only_for_roles_that_see_identifiers(
    client_for, make_participant
) -> None:
    participant = make_participant(full_name="Geheime Naam")
    assert (
        participant.study_id
        in client_for("nurse_nina").get("/participants/?q=Geheime").content.decode()
    )
    assert (
        participant.study_id
        not in client_for("statistician_stan").get("/participants/?q=Geheime").content.decode()
    )


@pytest.mark.parametrize(
    ("username", "sees_trail"),
    [
        ("datamanager_dirk", True),
        ("monitor_mo", True),
        ("statistician_stan", False),
        ("nurse_nina", False),
    ],
)
def test_the_audit_trail_is_shown_to_data_managers_and_monitors(
    client_for, make_participant, username, sees_trail
) -> None:
    participant = make_participant()
    body = client_for(username).get(f"/participants/{participant.study_id}/").content.decode()
    assert ('data-testid="audit-trail"' in body) is sees_trail


def test_the_monitor_sees_identifiers_for_source_verification(client_for, make_participant) -> None:
    participant = make_participant(full_name="Bron Verificatie")
    assert (
        "Bron Verificatie"
        in client_for("monitor_mo").get(f"/participants/{participant.study_id}/").content.decode()
    )


def test_an_inactive_user_is_refused_even_with_a_session(
    client_for, personas, make_participant
) -> None:
    client = client_for("nurse_nina")
    personas["nurse_nina"].is_active = False
    personas["nurse_nina"].save()
    assert client.get("/participants/").status_code in {302, 403}


def test_dates_are_iso_in_the_list(client_for, make_participant) -> None:
    make_participant(registered_on=date(2025, 3, 1))
    assert "2025-03-01" in client_for("monitor_mo").get("/participants/").content.decode()
