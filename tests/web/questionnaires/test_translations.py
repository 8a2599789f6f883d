"""The data manager sees which questionnaire lacks its licensed wording in which
language; `check --deploy` fails while a patient questionnaire shows a placeholder;
an installed translation reaches the patient page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from blend.apps.followup.models import Assessment
from blend.apps.questionnaires.checks import check_patient_translations, patient_instruments
from blend.apps.questionnaires.services import issue_link
from blend.instruments.cli import main_instruments
from blend.instruments.translations import DIR_ENV_VAR
from tests.translation_fixture import write_translation

pytestmark = pytest.mark.django_db


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(DIR_ENV_VAR, str(tmp_path / "installed"))

    def install(*codes: str) -> None:
        assert (
            main_instruments(
                ["install-translation", str(write_translation(tmp_path / "t.json", *codes))]
            )
            == 0
        )

    return install


def test_the_data_manager_sees_what_lacks_a_translation(client_for: Any, installed: Any) -> None:
    installed("eq5d5l-nl")
    page = client_for("datamanager_dirk").get("/questionnaires/translations/")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-instrument="qlq-c15-pal" data-language="nl"' in body
    assert "placeholder: 15 of 15 items not translated" in body
    assert "licensed translation installed" in body  # the EQ-5D-5L
    assert "blend instruments install-translation FILE.json" in body
    assert 'data-testid="translations-missing"' in body


def test_only_data_management_roles_open_the_page(client_for: Any) -> None:
    assert client_for("nurse_nina").get("/questionnaires/translations/").status_code == 403


def test_the_deploy_check_fails_until_every_patient_questionnaire_is_translated(
    installed: Any,
) -> None:
    codes = patient_instruments()
    assert {"qlq-c15-pal", "eq5d5l-nl"} <= set(codes)
    errors = check_patient_translations()
    assert {e.id for e in errors} == {"questionnaires.E002"}
    assert any(
        "qlq-c15-pal (nl) still shows placeholder text in 15 of 15 items" in e.msg for e in errors
    )
    installed(*[c for c in codes if c != "pain-nrs" and c != "omed"])
    assert check_patient_translations() == []


def test_an_installed_translation_reaches_the_patient(
    installed: Any, make_participant: Any, treat: Any
) -> None:
    installed("qlq-c15-pal")
    w4 = Assessment.objects.get(participant=treat(make_participant(), days_ago=28), timepoint="w4")
    url = "/questionnaires/q/" + issue_link(w4).rstrip("/").rsplit("/", 1)[1] + "/"
    body = Client().get(url).content.decode()
    assert "Testvraag q1?" in body and "Testantwoord 1" in body
    assert "Some questions are shown in English" not in body
    assert "Sommige vragen staan nog in het Engels" not in body
