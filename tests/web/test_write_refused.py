"""A write to locked data is refused with a clear, translated message on every write
path: staff pages (through one middleware), the API (409) and the commands (a one-line
error, not a traceback). The patient pages are in tests/web/questionnaires."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from blend import cli
from blend.apps.audit.guards import WriteRefused
from blend.apps.datamanagement import services as dm
from blend.apps.datamanagement.locks import Locked
from blend.apps.followup.models import HospitalAdmission
from blend.apps.registry.models import Participant
from tests.web.followup.factories import treat  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

EDIT = {
    "sex": "female",
    "primary_tumour": "breast",
    "metastases_diagnosed_on": "2025-02-01",
    "performance_status": "2",
    "reason": "re-scored",
}


def test_a_lock_is_a_write_refusal_that_lower_apps_can_catch() -> None:
    assert issubclass(Locked, WriteRefused) and issubclass(Locked, PermissionError)


def test_editing_a_locked_participant_explains_the_lock_instead_of_a_500(
    client_for: Any, make_participant: Any, personas: Any
) -> None:
    participant = make_participant()
    dm.lock_participant(participant, user=personas["datamanager_dirk"], reason="casebook complete")
    client = client_for("nurse_nina")
    url = f"/participants/{participant.study_id}/edit/"
    response = client.post(url, EDIT, HTTP_REFERER=f"http://testserver{url}")
    assert response.status_code == 409
    body = response.content.decode()
    assert f"participant {participant.study_id} is locked" in body
    assert "a data manager must unlock it" in body and f'href="http://testserver{url}"' in body
    assert Participant.objects.get(pk=participant.pk).performance_status == 1


def test_the_refusal_is_in_the_staff_members_language(
    client_for: Any, make_participant: Any, personas: Any
) -> None:
    participant = make_participant()
    dm.lock_database(user=personas["datamanager_dirk"], reason="final analysis")
    client = client_for("nurse_nina")
    client.post("/i18n/setlang/", {"language": "nl", "next": "/"})
    response = client.post(
        f"/followup/{participant.study_id}/admission/new/",
        {"admitted_on": "2025-04-01", "discharged_on": "2025-04-06"},
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "de database is vergrendeld" in body and "Deze wijziging is niet opgeslagen" in body
    assert not HospitalAdmission.objects.exists()


def test_an_htmx_write_gets_a_line_it_can_show(
    client_for: Any, make_participant: Any, personas: Any
) -> None:
    participant = make_participant()
    dm.lock_participant(participant, user=personas["datamanager_dirk"], reason="done")
    response = client_for("nurse_nina").post(
        f"/participants/{participant.study_id}/edit/", EDIT, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200  # htmx swaps only 2xx answers into the page
    assert 'data-testid="write-refused"' in response.content.decode()


def test_a_command_that_meets_a_lock_prints_one_clear_line(
    tmp_path: Any,
    capsys: Any,
    make_participant: Any,
    personas: Any,
    treat: Any,  # noqa: F811  (the fixture named by the import)
) -> None:
    participant = treat(make_participant(), days_ago=28)
    dm.lock_database(user=personas["datamanager_dirk"], reason="final analysis")
    rows = [
        "study_id,timepoint,completed_on,mode,instrument,item,value",
        f"{participant.study_id},w4,{timezone.localdate()},paper,pain-nrs,worst_pain,3",
    ]
    path = tmp_path / "q.csv"
    path.write_text("\n".join(rows) + "\n")
    status = cli.main(["import-data", "questionnaires", str(path), "--user", "datamanager_dirk"])
    err = capsys.readouterr().err
    assert status == 1
    assert "blend import-data: refused: " in err and "the database is locked" in err
    assert "Traceback" not in err
