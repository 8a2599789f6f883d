"""The safety, data-management and participant pages render for every persona that may open them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from blend.apps.datamanagement import services as dm
from blend.apps.safety.services import report_adverse_event

ALL = [
    "nurse_nina",
    "investigator_ivo",
    "datamanager_dirk",
    "statistician_stan",
    "monitor_mo",
    "admin_ada",
]


@pytest.fixture
def ae(make_participant, personas):  # type: ignore[no-untyped-def]
    p = make_participant()
    event = report_adverse_event(
        p,
        {
            "term": "wound_complication",
            "grade": 3,
            "onset_date": date(2025, 4, 1),
            "serious": True,
            "seriousness": ["hospitalisation"],
            "related_sbrt": "unlikely",
            "related_surgery": "definite",
            "action_taken": "reoperation",
            "outcome": "recovering",
            "aware_at": datetime(2025, 4, 1, 10, tzinfo=UTC),
        },
        user=personas["nurse_nina"],
    )
    dm.open_query(
        dm.QueryTarget(p, "Adverse event", "grade"),
        "Grade 3?",
        assigned_role="nurse",
        user=personas["datamanager_dirk"],
    )
    dm.lock_participant(p, user=personas["datamanager_dirk"], reason="done")
    return event


@pytest.mark.parametrize("username", ALL)
def test_pages_render(client_for, ae, username) -> None:
    client = client_for(username)
    for url in [
        "/safety/",
        f"/safety/ae/{ae.pk}/",
        "/datamanagement/",
        f"/participants/{ae.participant.study_id}/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    detail = client.get(f"/participants/{ae.participant.study_id}/").content.decode()
    assert "Wound complication" in detail and 'data-testid="locked"' in detail
    assert "OVERDUE" in client.get("/safety/").content.decode()  # aware long ago, never reported


def test_writing_pages_follow_the_matrix(client_for, ae) -> None:
    sid = ae.participant.study_id
    assert client_for("monitor_mo").get(f"/safety/{sid}/new/").status_code == 403
    assert client_for("nurse_nina").get(f"/datamanagement/{sid}/lock/").status_code == 403
    assert client_for("datamanager_dirk").get(f"/datamanagement/{sid}/unlock/").status_code == 200
    assert client_for("nurse_nina").get(f"/datamanagement/{sid}/sign-off/").status_code == 403
    response = client_for("nurse_nina").post(
        f"/safety/ae/{ae.pk}/follow-up/",
        {
            "term": "wound_complication",
            "grade": "3",
            "onset_date": "2025-04-01",
            "serious": "on",
            "seriousness": ["hospitalisation"],
            "related_sbrt": "unlikely",
            "related_surgery": "definite",
            "action_taken": "reoperation",
            "outcome": "recovering",
            "aware_at": "2025-04-05T10:00",
        },
    )
    assert response.status_code == 400 and "is locked" in response.content.decode()
