"""The FHIR endpoints and `blend export fhir`: every resource valid FHIR (parsed back with
fhir.resources), the REST API's permissions at every endpoint, a subject's arm only with
``allocation.view`` in that trial, only study IDs (never an identifier), and every bad
request an OperationOutcome."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from blend.apps.accounts.models import User
from blend.apps.allocation.services import randomize
from blend.apps.api.tokens import issue_token
from blend.apps.exports.models import ExportLog
from blend.apps.fhir.services import RESOURCE_TYPES, export_fhir
from blend.apps.followup.models import Assessment
from blend.apps.questionnaires.services import enter_by_staff
from blend.apps.registry.models import Identity, Participant
from blend.interop.fhir_export import PLACEHOLDER_PREFIX, parse
from tests.web.screening.flow import screen_and_confirm

pytestmark = pytest.mark.django_db

C15 = {f"q{i}": 2 for i in range(1, 15)} | {"q15": 5}
EQ5D = {
    "mobility": 2,
    "self_care": 1,
    "usual_activities": 3,
    "pain_discomfort": 4,
    "anxiety_depression": 1,
    "vas": 65,
}
OPIOIDS = {"any": "yes", "drug_1": "morphine|oral", "dose_1": 30}


def _get(user: User, path: str, **params: Any) -> Any:
    token = issue_token(user)
    return Client().get(f"/api/fhir{path}", params, headers={"Authorization": f"Bearer {token}"})


def _questionnaire(member: Participant, nurse: User) -> None:
    day = date(2025, 4, 1)
    assessment = Assessment.objects.create(
        participant=member,
        timepoint="w4",
        instruments=["qlq-c15-pal", "eq5d5l-nl", "omed"],
        anchor_on=day - timedelta(days=28),
        target_on=day,
        opens_on=day - timedelta(days=3),
        closes_on=day + timedelta(days=7),
    )
    enter_by_staff(
        assessment,
        {"qlq-c15-pal": C15, "eq5d5l-nl": EQ5D, "omed": OPIOIDS},
        mode="paper",
        completed_on=day,
        user=nurse,
    )


@pytest.fixture
def member(make_participant: Any, trial_personas: dict[str, User]) -> Participant:
    """A BLEND member, randomized, with one submitted questionnaire."""
    member = make_participant(full_name="Henrietta Zwartkop", hospital_number="Z998877")
    screen_and_confirm(member, trial_personas)
    randomize(member, user=trial_personas["nurse_nina"], trial="BLEND")
    _questionnaire(member, trial_personas["nurse_nina"])
    return member


def _entries(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    bundle = response.json()
    parse(bundle)
    for entry in bundle["entry"]:
        parse(entry["resource"])
    return [entry["resource"] for entry in bundle["entry"]]


SEARCHES = ["/Questionnaire", "/ResearchStudy", "/ResearchSubject", "/QuestionnaireResponse",
            "/Observation"]  # fmt: skip


@pytest.mark.parametrize("path", SEARCHES)
def test_every_resource_of_every_search_is_valid_fhir(
    path: str, member: Participant, trial_personas: dict[str, User]
) -> None:
    found = _entries(_get(trial_personas["datamanager_dirk"], path, _count="200"))
    assert found, path
    assert {r["resourceType"] for r in found} == {path.strip("/")}


def test_the_capability_statement_and_one_read_are_valid(
    member: Participant, trial_personas: dict[str, User]
) -> None:
    dirk = trial_personas["datamanager_dirk"]
    parse(_get(dirk, "/metadata").json())
    read = _get(dirk, "/Questionnaire/qlq-c15-pal").json()
    assert parse(read).id == "qlq-c15-pal"
    assert parse(_get(dirk, "/ResearchStudy/BLEND").json()).id == "BLEND"


def test_the_questionnaire_response_reads_back_as_the_answers_and_the_scores_as_stored(
    member: Participant, trial_personas: dict[str, User]
) -> None:
    from blend.instruments import score
    from blend.interop.fhir_export import answers_of

    dirk = trial_personas["datamanager_dirk"]
    responses = _entries(_get(dirk, "/QuestionnaireResponse", subject=member.study_id))
    answers = dict(answers_of(r) for r in responses)
    assert answers["qlq-c15-pal"] == C15 and answers["eq5d5l-nl"] == EQ5D
    assert score("omed", answers["omed"]) == {"omed": 30.0}
    scores = _entries(_get(dirk, "/Observation", subject=member.study_id, code="eq5d5l-nl/vas"))
    assert [o["valueQuantity"]["value"] for o in scores] == [65.0]


def test_a_subject_shows_the_arm_only_with_allocation_view_in_that_trial(
    member: Participant, trial_personas: dict[str, User]
) -> None:
    seen = _entries(_get(trial_personas["datamanager_dirk"], "/ResearchSubject", trial="BLEND"))
    assert seen[0]["assignedArm"] in {"intervention", "control"}
    blind = _entries(_get(trial_personas["admin_ada"], "/ResearchSubject", trial="BLEND"))
    assert "assignedArm" not in blind[0] and "actualArm" not in blind[0]
    assert blind[0]["status"] == seen[0]["status"] == "on-study"
    assert {k: v for k, v in seen[0].items() if not k.endswith("Arm")} == blind[0]


def test_a_vertical_only_user_sees_no_blend_subject(
    member: Participant, trial_personas: dict[str, User]
) -> None:
    vic = trial_personas["monitor_vic"]
    refused = _get(vic, "/ResearchSubject", trial="BLEND")
    assert refused.status_code == 403
    assert parse(refused.json()).issue[0].code == "forbidden"
    assert _entries(_get(vic, "/ResearchSubject")) == []  # VERTICAL has no subject yet
    assert [s["id"] for s in _entries(_get(vic, "/ResearchStudy"))] == ["VERTICAL"]
    assert _get(vic, "/ResearchStudy/BLEND").status_code == 403


@pytest.mark.parametrize(
    "path", ["/metadata", *SEARCHES, "/Questionnaire/qlq-c15-pal", "/ResearchStudy/BLEND"]
)
def test_without_a_token_every_endpoint_is_a_401_operation_outcome(
    path: str, member: Participant
) -> None:
    response = Client().get(f"/api/fhir{path}")
    assert response.status_code == 401
    assert parse(response.json()).issue[0].code == "login"
    bad = Client().get(f"/api/fhir{path}", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401 and bad.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/ResearchSubject", {"trial": "NOPE"}, "trial"),
        ("/ResearchSubject", {"colour": "red"}, "colour"),
        ("/Observation", {"_count": "0"}, "_count"),
        ("/Observation", {"_count": "abc"}, "_count"),
        ("/QuestionnaireResponse", {"page": "-1"}, "page"),
        ("/QuestionnaireResponse", {"questionnaire": "sf-36"}, "questionnaire"),
        ("/QuestionnaireResponse", {"subject": "http://elsewhere|X"}, "subject"),
        ("/Observation", {"code": "loinc|"}, "code"),
        ("/Questionnaire", {"_count": "9" * 30}, "_count"),
        ("/metadata", {"trial": "blend"}, "trial"),
    ],
)
def test_a_bad_search_parameter_is_a_400_operation_outcome_naming_it(
    path: str, params: dict[str, str], parameter: str, trial_personas: dict[str, User]
) -> None:
    response = _get(trial_personas["datamanager_dirk"], path, **params)
    assert response.status_code in (400, 422), response.content
    outcome = parse(response.json())
    assert outcome.issue[0].expression == [parameter] or parameter in response.content.decode()


def test_an_unknown_instrument_or_trial_is_a_404_operation_outcome(
    trial_personas: dict[str, User],
) -> None:
    dirk = trial_personas["datamanager_dirk"]
    for path in ("/Questionnaire/sf-36", "/ResearchStudy/NOPE"):
        response = _get(dirk, path)
        assert response.status_code == 404
        assert parse(response.json()).issue[0].code == "not-found"


def _identifiers(member: Participant) -> list[str]:
    identity = Identity.objects.get(participant=member)
    return [
        identity.full_name,
        identity.hospital_number,
        identity.date_of_birth.isoformat(),
        identity.date_of_birth.strftime("%d-%m-%Y"),
        identity.email,
        "Zwartkop",
    ]


def test_no_identifier_appears_in_any_answer_or_export_file(
    member: Participant, trial_personas: dict[str, User], tmp_path: Path
) -> None:
    dirk = trial_personas["datamanager_dirk"]
    texts = [
        _get(dirk, path, _count="200").content.decode()
        for path in ["/metadata", *SEARCHES, "/ResearchStudy/BLEND"]
    ]
    export_fhir(tmp_path, user=dirk, via="cli")
    texts += [path.read_text() for path in tmp_path.iterdir()]
    joined = "\n".join(texts)
    assert member.study_id in joined
    for secret in _identifiers(member):
        assert secret not in joined, secret
    assert PLACEHOLDER_PREFIX not in joined  # no licensed Dutch wording that is not installed


def test_the_export_writes_valid_ndjson_per_type_and_is_logged(
    member: Participant, trial_personas: dict[str, User], tmp_path: Path
) -> None:
    dirk = trial_personas["datamanager_dirk"]
    entry = export_fhir(tmp_path, user=dirk, via="cli")
    assert sorted(entry.files) == sorted(f"{kind}.ndjson" for kind in RESOURCE_TYPES)
    for kind in RESOURCE_TYPES:
        lines = (tmp_path / f"{kind}.ndjson").read_text().splitlines()
        assert len(lines) == entry.rows[kind] > 0, kind
        for line in lines:
            assert parse(json.loads(line)).get_resource_type() == kind
    logged = ExportLog.objects.get(pk=entry.pk)
    assert (logged.kind, logged.user, logged.formats) == ("fhir", dirk, ["ndjson"])


def test_the_export_needs_the_export_capability_and_hides_arms_it_may_not_see(
    member: Participant, trial_personas: dict[str, User], tmp_path: Path
) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        export_fhir(tmp_path / "nina", user=trial_personas["nurse_nina"], via="cli")
    assert not ExportLog.objects.exists()
    ada = trial_personas["admin_ada"]
    ada.role = "data_manager"  # may export; a data manager's trial role decides the arms
    ada.save()
    from tests.personas import grant_in_trial

    grant_in_trial(trial_personas, ada, "VERTICAL", "data_manager", approver="admin_ada")
    export_fhir(tmp_path / "ada", user=ada, via="cli")
    text = (tmp_path / "ada" / "ResearchSubject.ndjson").read_text()
    assert text == ""  # no role in BLEND: none of its subjects, let alone their arms


def test_blend_export_fhir_runs_from_the_command_line(
    member: Participant, trial_personas: dict[str, User], tmp_path: Path, capsys: Any
) -> None:
    from blend.cli import main

    assert main(["export", "fhir", str(tmp_path), "--user", "datamanager_dirk"]) == 0
    assert "ResearchSubject" in capsys.readouterr().out
    subject = json.loads((tmp_path / "ResearchSubject.ndjson").read_text().splitlines()[0])
    assert subject["assignedArm"] in {"intervention", "control"}
