from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_every_registry_page_renders_for_the_nurse(client_for, make_participant) -> None:
    participant = make_participant()
    client = client_for("nurse_nina")
    for url in [
        "/",
        "/participants/",
        "/participants/new/",
        f"/participants/{participant.study_id}/",
        f"/participants/{participant.study_id}/edit/",
        f"/consent/{participant.study_id}/record/",
        f"/consent/{participant.study_id}/withdraw/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
