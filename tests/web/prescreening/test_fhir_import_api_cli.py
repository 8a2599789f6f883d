"""The FHIR import's two entry points: POST /api/prescreening/fhir-bundle and
`blend import-fhir FILE --user NAME`. Good bundles pre-fill, bad ones are refused whole
with the resource, path, expected and found, and nothing is ever a 500."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from blend.apps.api.tokens import issue_token
from blend.apps.prescreening.models import CohortFact
from tests.web.prescreening.test_fhir_import_prefill import IMPORTED, bundle_for

pytestmark = pytest.mark.django_db

URL = "/api/prescreening/fhir-bundle"


def post(
    personas: Any, username: str, body: Any, content_type: str = "application/fhir+json"
) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"Authorization": f"Bearer {issue_token(personas[username])}"}
    return Client().post(URL, data, content_type=content_type, headers=headers)


def test_a_good_bundle_is_imported_and_its_facts_wait_for_confirmation(
    make_participant, personas
) -> None:
    member = make_participant()
    response = post(personas, "nurse_nina", bundle_for(member.study_id))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["study_id"] == member.study_id and sorted(body["to_confirm"]) == sorted(IMPORTED)
    kps = next(fact for fact in body["facts"] if fact["key"] == "kps")
    assert kps == {
        "key": "kps",
        "value": 70,
        "written": "added",
        "resources": ["Observation/ecog"],
        "observed_on": "2026-03-02",
    }
    assert body["unused"] == ["Observation/weight: no rule of the mapping reads its code"]
    assert CohortFact.objects.filter(participant=member).count() == len(IMPORTED)


def test_a_bad_bundle_is_a_400_naming_resource_path_expected_and_found(
    make_participant, personas
) -> None:
    member = make_participant()
    bundle = bundle_for(member.study_id)
    bundle["entry"][2]["resource"]["valueInteger"] = "one"
    response = post(personas, "nurse_nina", bundle)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "Bundle.entry[2].resource.valueInteger"
    assert error["resource"] == "Observation/ecog"
    assert error["received"] == "'one'" and "a valid FHIR R4 value" in error["expected"]
    assert not CohortFact.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ("{not json", "application/fhir+json", 400, "expected a JSON document"),
        (b'{"a": "\xff"}', "application/fhir+json", 400, "bytes that are not UTF-8"),
        ("[]", "application/json", 400, "expected a FHIR Bundle (a JSON object)"),
        ("<Bundle/>", "application/fhir+xml", 415, "expected Content-Type application/fhir+json"),
    ],
)
def test_what_is_not_a_json_bundle_is_refused_never_a_500(
    personas, body: Any, content_type: str, status: int, message: str
) -> None:
    response = post(personas, "nurse_nina", body, content_type)
    assert response.status_code == status
    assert message in response.json()["error"]


@pytest.mark.parametrize("persona", ["datamanager_dirk", "monitor_mo", "statistician_stan"])
def test_roles_that_do_not_record_cohort_facts_get_a_403(
    make_participant, personas, persona
) -> None:
    member = make_participant()
    response = post(personas, persona, bundle_for(member.study_id))
    assert response.status_code == 403
    assert "participant.write" in response.json()["error"]
    assert not CohortFact.objects.exists()


def test_the_command_imports_a_file_and_says_what_waits(
    make_participant, personas, tmp_path: Path
) -> None:
    member = make_participant()
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle_for(member.study_id)), encoding="utf-8")
    out = StringIO()
    call_command("import_fhir", str(path), user="nurse_nina", stdout=out)
    assert (
        f"Imported 6 facts for {member.study_id} from UMCU-2026-03-02-0018; 6 wait"
        in out.getvalue()
    )
    assert CohortFact.objects.filter(participant=member).count() == len(IMPORTED)


def test_the_command_refuses_a_bad_bundle_whole(make_participant, personas, tmp_path: Path) -> None:
    make_participant()
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle_for("PRS999999")), encoding="utf-8")
    err = StringIO()
    with pytest.raises(
        CommandError, match="the bundle was refused .1 problem.s..; nothing was imported"
    ):
        call_command("import_fhir", str(path), user="nurse_nina", stderr=err)
    assert (
        "Bundle.entry[0].resource.identifier: expected the study ID of one cohort member"
        in err.getvalue()
    )
    with pytest.raises(CommandError, match="participant.write"):
        call_command("import_fhir", str(path), user="monitor_mo")
    with pytest.raises(CommandError, match="expected an existing username"):
        call_command("import_fhir", str(path), user="nobody")
    with pytest.raises(CommandError, match="expected a readable file"):
        call_command("import_fhir", str(tmp_path / "missing.json"), user="nurse_nina")
    assert not CohortFact.objects.exists()


def test_the_command_says_a_locked_member_is_locked(
    make_participant, personas, tmp_path: Path
) -> None:
    """A lock is a write guard's refusal (a PermissionError, so an OSError too): the
    command names the lock, not an unreadable file, and writes nothing."""
    from blend.apps.datamanagement.services import lock_participant

    participant = make_participant()
    lock_participant(participant, user=personas["datamanager_dirk"], reason="casebook complete")
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle_for(participant.study_id)), encoding="utf-8")
    with pytest.raises(CommandError, match="is locked") as refused:
        call_command("import_fhir", str(path), user="nurse_nina")
    assert "readable file" not in str(refused.value)
    assert not CohortFact.objects.filter(participant=participant).exists()
