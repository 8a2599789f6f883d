"""NUL characters are refused at the edge with a 400 naming the field (PostgreSQL cannot
store them and raised a server error instead; schemathesis found it)."""

from __future__ import annotations

import pytest

from blend.apps.api.tokens import issue_token
from blend.apps.registry.models import Participant

pytestmark = pytest.mark.django_db


def test_a_nul_in_a_query_parameter_gets_a_400_naming_it(client_for, make_participant) -> None:
    make_participant()
    response = client_for("nurse_nina").get("/participants/", {"q": "PRS\x00"})
    assert (
        response.status_code == 400 and "q: expected text without NUL" in response.content.decode()
    )


def test_the_api_answers_with_its_error_shape(client, personas) -> None:
    token = issue_token(personas["nurse_nina"])
    response = client.get(
        "/api/participants", {"q": "a\x00b"}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["ok"] is False and body["status"] == 400 and body["errors"][0]["field"] == "q"


def test_a_json_body_with_an_escaped_nul_writes_nothing(client, personas, site) -> None:
    token = issue_token(personas["nurse_nina"])
    response = client.post(
        "/api/participants",
        data='{"full_name": "A\\u0000B"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400 and response.json()["errors"][0]["in"] == "body"
    assert not Participant.objects.exists()


def test_ordinary_requests_pass(client_for) -> None:
    assert client_for("nurse_nina").get("/participants/", {"q": "PRS"}).status_code == 200


def test_a_nul_in_the_path_is_refused_before_any_lookup(client_for) -> None:
    response = client_for("nurse_nina").get("/participants/PRS-0%00/")
    assert (
        response.status_code == 400
        and "path: expected text without NUL" in response.content.decode()
    )
