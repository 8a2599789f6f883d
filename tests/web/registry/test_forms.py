"""Bad input on every foundation form gets field errors and writes nothing."""

from __future__ import annotations

import pytest

from blend.apps.audit.models import AuditEvent
from blend.apps.consent.models import ConsentRecord
from blend.apps.registry.models import Identity, Participant
from tests.web.accounts.test_permission_matrix import registration_post

pytestmark = pytest.mark.django_db


def test_a_valid_registration_creates_participant_identity_and_audit(client_for, site) -> None:
    response = client_for("nurse_nina").post(
        "/participants/new/", registration_post() | {"site": str(site.pk)}
    )
    participant = Participant.objects.get()
    assert (
        response.status_code == 302
        and response["Location"] == f"/participants/{participant.study_id}/"
    )
    assert participant.identity.hospital_number == "H1234567"
    assert AuditEvent.objects.filter(participant=participant, action="enrol").exists()


BAD_REGISTRATIONS = [
    ("registered_on", "2099-01-01", "Expected today or earlier"),
    ("date_of_birth", "1850-01-01", "Expected a date between 1900 and today"),
    ("hospital_number", "H 1", "Expected 4–30 letters, digits or hyphens"),
    ("performance_status", "7", "Select a valid choice"),
    ("sex", "unknown", "Select a valid choice"),
    ("email", "not-an-email", "valid email"),
    ("phone", "call me", "Expected a phone number"),
    ("metastases_diagnosed_on", "2025-06-01", "Expected on or before the cohort entry date"),
    ("full_name", "", "This field is required"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_REGISTRATIONS)
def test_bad_registration_input_names_the_field_and_writes_nothing(
    client_for, site, field, value, message
) -> None:
    data = registration_post() | {"site": str(site.pk), field: value}
    response = client_for("nurse_nina").post("/participants/new/", data)
    assert response.status_code == 400
    assert message in response.context["form"].errors[field][0]
    assert not Participant.objects.exists() and not Identity.objects.exists()


def test_a_duplicate_hospital_number_is_refused(client_for, make_participant, site) -> None:
    make_participant(hospital_number="H1234567")
    response = client_for("nurse_nina").post(
        "/participants/new/", registration_post() | {"site": str(site.pk)}
    )
    assert (
        response.status_code == 400
        and "already registered" in response.context["form"].errors["hospital_number"][0]
    )
    assert Participant.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"effective_on": "2099-01-01", "item_a": "yes"},
            "effective_on",
            "Expected today or earlier",
        ),
        ({"effective_on": "2025-03-02", "item_a": "perhaps"}, "item_a", "Select a valid choice"),
        ({"effective_on": "2025-03-02"}, "__all__", "at least one consent item"),
        ({"effective_on": "", "item_a": "yes"}, "effective_on", "This field is required"),
    ],
)
def test_bad_consent_input_names_the_field_and_writes_nothing(
    client_for, make_participant, consent_version, data, field, message
) -> None:
    participant = make_participant(consent={})
    response = client_for("nurse_nina").post(
        f"/consent/{participant.study_id}/record/", {"form_version": str(consent_version.pk)} | data
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not ConsentRecord.objects.filter(participant=participant).exists()


def test_a_consent_form_is_all_or_nothing(client_for, make_participant, consent_version) -> None:
    participant = make_participant(
        consent={}, registered_on=__import__("datetime").date(2025, 3, 1)
    )
    data = {
        "form_version": str(consent_version.pk),
        "effective_on": "2025-02-01",
        "item_a": "yes",
        "item_b": "no",
    }
    response = client_for("nurse_nina").post(f"/consent/{participant.study_id}/record/", data)
    assert response.status_code == 400 and "on or after cohort entry" in response.content.decode()
    assert not ConsentRecord.objects.filter(participant=participant).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"item": "c", "effective_on": "2025-04-01", "reason": ""}, "reason"),
        ({"item": "x", "effective_on": "2025-04-01", "reason": "r"}, "item"),
        ({"item": "c", "effective_on": "someday", "reason": "r"}, "effective_on"),
    ],
)
def test_bad_withdrawals_name_the_field_and_write_nothing(
    client_for, make_participant, data, field
) -> None:
    participant = make_participant()
    before = ConsentRecord.objects.count()
    response = client_for("nurse_nina").post(f"/consent/{participant.study_id}/withdraw/", data)
    assert response.status_code == 400 and field in response.context["form"].errors
    assert ConsentRecord.objects.count() == before


def test_an_edit_needs_a_reason_and_a_valid_value(client_for, make_participant) -> None:
    participant = make_participant()
    url = f"/participants/{participant.study_id}/edit/"
    base = {"sex": "female", "primary_tumour": "breast", "metastases_diagnosed_on": "2025-02-01"}
    response = client_for("nurse_nina").post(
        url, base | {"performance_status": "9", "reason": "typo"}
    )
    assert response.status_code == 400 and "performance_status" in response.context["form"].errors
    response = client_for("nurse_nina").post(url, base | {"performance_status": "2", "reason": ""})
    assert response.status_code == 400 and "reason" in response.context["form"].errors
    assert Participant.objects.get(pk=participant.pk).performance_status == 1
    response = client_for("nurse_nina").post(
        url, base | {"performance_status": "2", "reason": "re-scored"}
    )
    assert (
        response.status_code == 302
        and Participant.objects.get(pk=participant.pk).performance_status == 2
    )


CLINICAL_CHOICES = ("sex", "primary_tumour", "performance_status", "preferred_language", "site")


def test_the_registration_form_preselects_no_clinical_value(client_for, site) -> None:
    form = client_for("nurse_nina").get("/participants/new/").context["form"]
    for name in CLINICAL_CHOICES:
        field = form[name]
        assert field.value() in (None, ""), name
        assert field.field.required and list(field.field.choices)[0][0] in ("", None), name
        assert 'selected value=""' in str(field) or 'value="" selected' in str(field), name


@pytest.mark.parametrize("field", ["sex", "primary_tumour", "performance_status"])
def test_a_clinical_choice_left_empty_is_required(client_for, site, field) -> None:
    data = registration_post() | {"site": str(site.pk), field: ""}
    response = client_for("nurse_nina").post("/participants/new/", data)
    assert response.status_code == 400 and field in response.context["form"].errors
    assert not Participant.objects.exists()
