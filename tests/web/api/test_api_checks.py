"""Attacks on the API's input checks (issue 14, item 9): every write refuses what the
web form refuses, in the one JSON error shape, with a 4xx and never a 500; a role
that may not write gets a 403 whatever the body; an oversized body is a 413."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from blend.apps.api.endpoints import api
from blend.apps.consent.models import ConsentRecord
from blend.apps.registry.models import Identity, Participant
from blend.apps.safety.models import AdverseEvent
from blend.apps.screening.models import Screening
from tests.web.prescreening.test_fhir_import_prefill import bundle_for

SHAPE = {"ok", "error", "errors", "status"}


def registration(**changes: Any) -> dict[str, Any]:
    return {
        "site": "umcu",
        "registered_on": "2025-03-01",
        "sex": "male",
        "primary_tumour": "lung",
        "metastases_diagnosed_on": "2025-02-01",
        "performance_status": 2,
        "full_name": "Nieuwe Deelnemer",
        "date_of_birth": "1955-01-02",
        "hospital_number": "H1234567",
        **changes,
    }


def in_a_year() -> str:
    return str(timezone.localdate() + timedelta(days=366))


def refused(response: Any, status: int, field: str) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == SHAPE and body["ok"] is False and body["status"] == status
    assert any(e["field"] == field for e in body["errors"]), body
    return body


# Each input the attack report listed, and the field the refusal names.
REGISTRATIONS = [
    ("birth after entry", {"date_of_birth": "2025-06-01"}, "registered_on"),
    ("entry in the future", {"registered_on": "2030-01-01"}, "registered_on"),
    ("entry a year from today", {"registered_on": in_a_year()}, "registered_on"),
    ("birth in 1850", {"date_of_birth": "1850-05-05"}, "date_of_birth"),
    ("birth in 9999", {"date_of_birth": "9999-01-01"}, "date_of_birth"),
    ("entry in 9999", {"registered_on": "9999-12-31"}, "registered_on"),
    ("diagnosis after entry", {"metastases_diagnosed_on": "2025-04-01"}, "metastases_diagnosed_on"),
    ("too young (edit check R01)", {"date_of_birth": "2015-01-01"}, "date_of_birth"),
    ("invalid e-mail", {"email": "not-an-address"}, "email"),
    ("invalid phone", {"phone": "call me"}, "phone"),
]


@pytest.mark.parametrize(
    ("case", "changes", "field"), REGISTRATIONS, ids=[c for c, *_ in REGISTRATIONS]
)
def test_the_api_refuses_what_the_registration_form_refuses(
    api_for, site, client_for, case, changes, field
) -> None:
    response = api_for("nurse_nina").post("/participants", registration(**changes))
    body = refused(response, 400, field)
    error = next(e for e in body["errors"] if e["field"] == field)
    assert error["expected"] and error["received"]
    assert not Participant.objects.exists()
    # ... and the web form refuses the same input on the same field.
    form = client_for("nurse_nina").post(
        "/participants/new/",
        {**registration(**changes), "site": site.pk, "preferred_language": "nl"},
    )
    assert form.status_code == 400 and field in form.context["form"].errors


def test_the_example_of_docs_api_md(api_for, site) -> None:
    response = api_for("nurse_nina").post("/participants", registration(registered_on="2030-01-01"))
    today = timezone.localdate()
    assert response.json() == {
        "ok": False,
        "status": 400,
        "error": "registered_on: Expected today or earlier, got 2030-01-01.",
        "errors": [
            {
                "field": "registered_on",
                "in": "body",
                "message": "Expected today or earlier, got 2030-01-01.",
                "expected": f"today ({today}) or earlier",
                "received": "2030-01-01",
            }
        ],
    }


def test_a_duplicate_hospital_number_is_a_400_not_a_500(api_for, site) -> None:
    client = api_for("nurse_nina")
    assert client.post("/participants", registration()).status_code == 201
    body = refused(client.post("/participants", registration()), 400, "hospital_number")
    assert "already registered" in body["error"]
    assert Identity.objects.count() == 1


def test_a_hospital_number_differing_only_in_case_is_a_duplicate(api_for, client_for, site) -> None:
    client = api_for("nurse_nina")
    assert client.post("/participants", registration(hospital_number="H1234567")).status_code == 201
    refused(
        client.post("/participants", registration(hospital_number="h1234567")),
        400,
        "hospital_number",
    )
    form = client_for("nurse_nina").post(
        "/participants/new/",
        {**registration(hospital_number="h1234567"), "site": site.pk, "preferred_language": "nl"},
    )
    assert form.status_code == 400 and "hospital_number" in form.context["form"].errors
    assert Identity.objects.count() == 1


def test_the_database_refuses_a_case_variant_hospital_number_too(make_participant) -> None:
    from django.db import IntegrityError, transaction

    make_participant(hospital_number="H5550001")
    identity = Identity.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Identity.objects.bulk_create(
            [
                Identity(
                    participant=make_participant(hospital_number="H5550002"),
                    full_name="x",
                    date_of_birth=identity.date_of_birth,
                    hospital_number="h5550001",
                )
            ]
        )


# Every write endpoint of the API: a body its web form refuses, and the field named.
def _consent_body(version: str) -> dict[str, Any]:
    return {
        "effective_on": "2025-03-02",
        "form_version": version,
        "decisions": {"d": "yes", "c": "no"},
    }


WRITES: dict[str, Any] = {
    "POST /participants": lambda sid, version: (
        "/participants",
        registration(date_of_birth="1850-01-01"),
        "date_of_birth",
    ),
    "POST /participants/{study_id}/consent": lambda sid, version: (
        f"/participants/{sid}/consent",
        _consent_body(version),
        "item_d",
    ),
    "POST /participants/{study_id}/screening": lambda sid, version: (
        f"/participants/{sid}/screening",
        {"screened_on": in_a_year(), "facts": {}},
        "screened_on",
    ),
    "POST /participants/{study_id}/randomization": None,  # no body: the service's rules (409)
    "POST /participants/{study_id}/adverse-events": lambda sid, version: (
        f"/participants/{sid}/adverse-events",
        {
            "term": "wound_infection",
            "grade": 3,
            "onset_date": in_a_year(),
            "related_sbrt": "possible",
            "related_surgery": "probable",
            "action_taken": "hospitalised",
            "outcome": "recovering",
        },
        "onset_date",
    ),
}


def _fhir_bundle(study_id: str) -> dict[str, Any]:
    """The docs' example bundle for this member, with an ECOG the FHIR library refuses."""
    bundle = bundle_for(study_id)
    bundle["entry"][2]["resource"]["valueInteger"] = "one"
    return bundle


WRITES["POST /prescreening/fhir-bundle"] = lambda sid, version: (
    "/prescreening/fhir-bundle",
    _fhir_bundle(sid),
    "Bundle.entry[2].resource.valueInteger",
)


def api_writes() -> set[str]:
    schema = api.get_openapi_schema()
    return {
        f"{method.upper()} {path.removeprefix('/api')}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"post", "put", "patch", "delete"}
    }


def test_every_write_endpoint_is_in_the_table() -> None:
    assert api_writes() == set(WRITES)


@pytest.mark.parametrize("operation", sorted(k for k, v in WRITES.items() if v))
def test_every_write_runs_the_forms_checks(
    api_for, make_participant, consent_version, operation
) -> None:
    participant = make_participant(consent={})
    path, body, field = WRITES[operation](participant.study_id, consent_version.version)
    before = (
        Participant.objects.count(),
        ConsentRecord.objects.count(),
        Screening.objects.count(),
        AdverseEvent.objects.count(),
    )
    refused(api_for("investigator_ivo").post(path, body), 400, field)
    after = (
        Participant.objects.count(),
        ConsentRecord.objects.count(),
        Screening.objects.count(),
        AdverseEvent.objects.count(),
    )
    assert after == before


def test_randomization_refused_by_its_service_is_a_409(api_for, make_participant) -> None:
    participant = make_participant(consent={})
    response = api_for("investigator_ivo").post(
        f"/participants/{participant.study_id}/randomization", {}
    )
    assert response.status_code == 409 and set(response.json()) == SHAPE


@pytest.mark.parametrize("operation", sorted(WRITES))
def test_a_role_that_may_not_write_gets_403_not_the_schema(
    api_for, make_participant, operation
) -> None:
    """A monitor sends a body that breaks the schema: the answer is the 403, and it does not
    list the schema's fields."""
    participant = make_participant()
    path = operation.split(" ", 1)[1].replace("{study_id}", participant.study_id)
    response = api_for("monitor_mo").post(path, {"nonsense": [1, 2, 3], "grade": "x"})
    body = response.json()
    assert response.status_code == 403 and set(body) == SHAPE and body["errors"] == []


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_an_oversized_body_is_a_413_in_the_error_shape(api_for, site) -> None:
    body = registration(full_name="x" * 20_000)
    response = api_for("nurse_nina").post("/participants", body)
    assert response.status_code == 413 and set(response.json()) == SHAPE
    assert response.json()["errors"][0]["expected"] == "at most 10000 bytes"
    assert not Participant.objects.exists()
    # Without a token it is the same 413: nothing reads the body first.
    anonymous = Client().post("/api/participants", body, content_type="application/json")
    assert anonymous.status_code == 413


def test_a_duplicate_saved_between_form_and_service_is_a_form_error_not_a_500(
    client_for, make_participant, site, monkeypatch
) -> None:
    """The form's own duplicate check is passed (as when another request saves the same
    number in between); the service's check still refuses, and the page says so."""
    from blend.apps.registry.forms import RegistrationForm

    make_participant(hospital_number="H1234567")
    monkeypatch.setattr(
        RegistrationForm, "clean_hospital_number", lambda form: form.cleaned_data["hospital_number"]
    )
    response = client_for("nurse_nina").post(
        "/participants/new/",
        {**registration(hospital_number="h1234567"), "site": site.pk, "preferred_language": "nl"},
    )
    assert response.status_code == 400
    assert "already registered" in response.context["form"].errors["hospital_number"][0]
    assert Identity.objects.count() == 1


def test_an_unknown_field_is_refused_not_dropped(api_for, site) -> None:
    body = refused(
        api_for("nurse_nina").post("/participants", registration(bsn="123456782")), 422, "bsn"
    )
    assert body["errors"][0]["in"] == "body"
    assert not Participant.objects.exists()


def test_every_request_body_forbids_unknown_fields() -> None:
    schema = api.get_openapi_schema()
    # The FHIR import's body is a FHIR Bundle, not a schema of ours: the FHIR library's
    # models refuse an element FHIR does not define (tests/core/interop).
    bodies = [
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
        for operations in schema["paths"].values()
        for operation in operations.values()
        if "requestBody" in operation
        and "$ref" in operation["requestBody"]["content"]["application/json"]["schema"]
    ]
    assert len(bodies) == 4  # participants, consent, screening, adverse events
    for name in bodies:
        assert schema["components"]["schemas"][name]["additionalProperties"] is False, name


def test_an_unknown_site_or_consent_version_is_a_400_naming_the_field(
    api_for, make_participant
) -> None:
    client = api_for("investigator_ivo")
    body = refused(client.post("/participants", registration(site="nowhere")), 400, "site")
    assert body["errors"][0]["received"] == "nowhere" and "umcu" in body["errors"][0]["expected"]
    participant = make_participant(consent={})
    consent = {"effective_on": "2025-03-02", "form_version": "v0", "decisions": {"a": "yes"}}
    refused(
        client.post(f"/participants/{participant.study_id}/consent", consent), 400, "form_version"
    )
