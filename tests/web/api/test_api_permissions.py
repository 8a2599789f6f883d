"""The API grants each persona exactly what the web interface grants (the same
capabilities, written out here independently), plus tokens, errors, paging and rate limits."""

from __future__ import annotations

import pytest

from blend.apps.api.models import ApiToken
from blend.apps.api.tokens import hash_token, issue_token
from blend.apps.consent.models import ConsentRecord
from blend.apps.outbox.models import Message
from blend.apps.registry.models import Participant
from blend.apps.safety.models import AdverseEvent

ALL = {
    "nurse_nina",
    "investigator_ivo",
    "datamanager_dirk",
    "statistician_stan",
    "monitor_mo",
    "admin_ada",
}
CLINICAL = {"nurse_nina", "investigator_ivo"}
SEE_ARMS = ALL - {"admin_ada"}

READS = [
    ("/participants", ALL),
    ("/participants/{sid}", ALL),
    ("/participants/{sid}/consent", ALL),
    ("/participants/{sid}/randomization", SEE_ARMS),
    ("/participants/{sid}/assessments", ALL),
    ("/adverse-events", ALL),
]


@pytest.mark.parametrize("username", sorted(ALL))
@pytest.mark.parametrize(("path", "allowed"), READS)
def test_each_role_reads_exactly_what_the_pages_show(
    api_for, make_participant, username, path, allowed
) -> None:
    participant = make_participant()
    response = api_for(username).get(path.format(sid=participant.study_id))
    assert response.status_code == (200 if username in allowed else 403)
    if response.status_code == 403:
        assert response.json() == {
            "ok": False,
            "error": response.json()["error"],
            "errors": [],
            "status": 403,
        }


def registration() -> dict[str, object]:
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
    }


@pytest.mark.parametrize("username", sorted(ALL))
def test_only_clinical_staff_register(api_for, site, username) -> None:
    response = api_for(username).post("/participants", registration())
    if username in CLINICAL:
        assert response.status_code == 201
        body = response.json()
        assert (
            body["study_id"].startswith("PRS-")
            and "full_name" not in body
            and "Nieuwe" not in response.content.decode()
        )
    else:
        assert response.status_code == 403 and not Participant.objects.exists()


@pytest.mark.parametrize("username", sorted(ALL))
def test_only_clinical_staff_record_consent(
    api_for, make_participant, consent_version, username
) -> None:
    participant = make_participant(consent={})
    body = {
        "effective_on": "2025-03-02",
        "form_version": consent_version.version,
        "decisions": {"a": "yes"},
    }
    response = api_for(username).post(f"/participants/{participant.study_id}/consent", body)
    assert response.status_code == (200 if username in CLINICAL else 403)
    assert ConsentRecord.objects.filter(participant=participant).exists() == (username in CLINICAL)
    if username in CLINICAL:
        assert response.json()["states"]["a"] == "yes"


AE = {
    "term": "wound_infection",
    "grade": 3,
    "onset_date": "2025-04-01",
    "serious": True,
    "seriousness": ["hospitalisation"],
    "related_sbrt": "possible",
    "related_surgery": "probable",
    "action_taken": "hospitalised",
    "outcome": "recovering",
}


@pytest.mark.parametrize("username", sorted(ALL))
def test_only_clinical_staff_report_adverse_events(api_for, make_participant, username) -> None:
    participant = make_participant()
    response = api_for(username).post(f"/participants/{participant.study_id}/adverse-events", AE)
    assert response.status_code == (201 if username in CLINICAL else 403)
    assert AdverseEvent.objects.exists() == (username in CLINICAL)
    if username in CLINICAL:
        assert response.json()["serious"] and response.json()["report_due_at"]
        assert (
            Message.objects.filter(audience="staff").count() == 2
        )  # the SAE notification went out


@pytest.mark.parametrize("username", sorted(ALL - {"nurse_nina", "investigator_ivo"}))
def test_non_clinical_roles_cannot_screen_or_randomize(api_for, make_participant, username) -> None:
    sid = make_participant().study_id
    client = api_for(username)
    assert (
        client.post(
            f"/participants/{sid}/screening", {"screened_on": "2025-03-05", "facts": {}}
        ).status_code
        == 403
    )
    assert client.post(f"/participants/{sid}/randomization", {}).status_code == 403


def test_the_api_never_returns_identifiers_even_to_roles_that_may_see_them(
    api_for, make_participant
) -> None:
    participant = make_participant(full_name="Geheime Naam", hospital_number="H7777777")
    client = api_for("monitor_mo")
    for path in [
        "/participants",
        f"/participants/{participant.study_id}",
        f"/participants/{participant.study_id}/consent",
    ]:
        text = client.get(path).content.decode()
        assert "Geheime" not in text and "H7777777" not in text and "1960-05-17" not in text


def test_tokens_are_hashed_and_one_per_user(personas, api_for) -> None:
    raw = issue_token(personas["nurse_nina"])
    stored = ApiToken.objects.get(revoked_at__isnull=True)
    assert stored.key_hash == hash_token(raw) and raw not in {stored.key_hash, stored.prefix}
    newer = issue_token(personas["nurse_nina"])
    assert (
        ApiToken.objects.filter(user=personas["nurse_nina"], revoked_at__isnull=True).count() == 1
    )
    from tests.web.api.conftest import ApiClient

    assert ApiClient(raw).get("/me").status_code == 401
    assert ApiClient(newer).get("/me").json()["role"] == "nurse"
    personas["nurse_nina"].is_active = False
    personas["nurse_nina"].save()
    assert ApiClient(newer).get("/me").status_code == 401


def test_one_error_shape(api_for, client) -> None:
    response = client.get("/api/participants")
    assert response.status_code == 401 and set(response.json()) == {
        "ok",
        "error",
        "errors",
        "status",
    }
    bad = api_for("nurse_nina").post("/participants", {**registration(), "performance_status": 9})
    body = bad.json()
    assert bad.status_code == 422 and body["ok"] is False and body["status"] == 422
    assert any(e["field"].endswith("performance_status") for e in body["errors"])
    missing = api_for("nurse_nina").get("/participants/PRS-99999-9")
    assert missing.status_code == 404 and missing.json()["status"] == 404


def test_domain_errors_are_400_with_the_field_named(api_for, make_participant) -> None:
    participant = make_participant()
    response = api_for("nurse_nina").post(
        f"/participants/{participant.study_id}/adverse-events", {**AE, "term": "seroma", "grade": 4}
    )
    assert response.status_code == 400 and "AE02" in response.json()["error"]


def test_pagination(api_for, make_participant) -> None:
    for _ in range(5):
        make_participant()
    page = api_for("statistician_stan").get("/participants", page=2, page_size=2).json()
    assert (page["count"], page["page"], page["page_size"], len(page["items"])) == (5, 2, 2, 2)
    assert api_for("statistician_stan").get("/participants", page_size=500).status_code == 422


def test_rate_limit(api_for, settings) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    client = api_for("nurse_nina")
    statuses = [client.get("/me").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    assert api_for("monitor_mo").get("/me").status_code == 200  # the limit is per token


def test_docs_and_schema_are_published(client) -> None:
    assert client.get("/api/docs").status_code == 200
    schema = client.get("/api/openapi.json").json()
    assert {
        "/api/participants",
        "/api/adverse-events",
        "/api/participants/{study_id}/randomization",
    } <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_anonymous_users_cannot_use_the_api(client, make_participant) -> None:
    sid = make_participant().study_id
    for path in ["/api/participants", f"/api/participants/{sid}", "/api/adverse-events"]:
        assert client.get(path).status_code == 401
    assert (
        client.post(
            "/api/participants", registration(), content_type="application/json"
        ).status_code
        == 401
    )


def test_locked_data_answers_409(api_for, make_participant, personas) -> None:
    from blend.apps.datamanagement.services import lock_participant

    participant = make_participant()
    lock_participant(participant, user=personas["datamanager_dirk"], reason="casebook complete")
    response = api_for("nurse_nina").post(
        f"/participants/{participant.study_id}/adverse-events", AE
    )
    assert response.status_code == 409 and "is locked" in response.json()["error"]
    assert not AdverseEvent.objects.exists()
