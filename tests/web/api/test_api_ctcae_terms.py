"""The API takes any CTCAE v5.0 term by its key (a MedDRA code) and refuses an unknown
one with a 400 that names the field, what was expected and what was received."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.django_db


def test_the_api_takes_a_meddra_code_and_names_the_field_for_an_unknown_term(
    api_for, make_participant
) -> None:  # type: ignore[no-untyped-def]
    participant = make_participant()
    body = {
        "grade": 2,
        "onset_date": "2025-04-01",
        "related_sbrt": "unlikely",
        "related_surgery": "unlikely",
        "action_taken": "medication",
        "outcome": "recovering",
        "aware_at": datetime(2025, 4, 2, 9, tzinfo=UTC).isoformat(),
    }
    url = f"/participants/{participant.study_id}/adverse-events"
    made = api_for("nurse_nina").post(url, {**body, "term": "10002272"})
    assert made.status_code == 201 and made.json()["term_label"] == "Anemia"
    refused = api_for("nurse_nina").post(url, {**body, "term": "anaemia"})
    assert refused.status_code == 400
    assert "term: expected a CTCAE v5.0 term" in refused.json()["error"]
    assert "'anaemia'" in refused.json()["error"]
