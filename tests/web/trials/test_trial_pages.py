"""The trial switcher, and each trial's status on the participant page within the
viewer's rights: the arm (and the offer, which reveals it) only with allocation.view."""

from __future__ import annotations

import re
from typing import Any

import pytest

from blend.apps.allocation.services import randomize
from blend.apps.trials.http import SESSION_KEY
from tests.pages import without_csrf
from tests.web.screening.flow import screen_and_confirm
from tests.web.trials.flow import confirm_for_vertical

pytestmark = pytest.mark.django_db


def _status_table(body: str) -> str:
    found = re.search(r'<table data-testid="trial-status">.*?</table>', body, re.S)
    assert found is not None
    return found.group(0)


def test_the_participant_page_shows_every_trial_and_hides_arms_without_allocation_view(
    client_for: Any, make_participant: Any, personas: dict[str, Any]
) -> None:
    member = make_participant()
    confirm_for_vertical(member, personas)
    screen_and_confirm(member, personas)
    arm = randomize(member, user=personas["nurse_nina"], trial="VERTICAL").arm
    url = f"/participants/{member.study_id}/"

    admin = _status_table(without_csrf(client_for("admin_ada").get(url).content))
    assert "VERTICAL" in admin and "BLEND" in admin
    assert "randomized" in admin and "intervention" not in admin and "control" not in admin
    # BLEND refuses the member while they are in VERTICAL's primary-outcome window.
    assert "not while in the primary-outcome window of" in admin

    nurse = _status_table(without_csrf(client_for("nurse_nina").get(url).content))
    assert arm in nurse


def test_the_switcher_keeps_the_trial_and_refuses_an_unknown_one(client_for: Any) -> None:
    client = client_for("nurse_nina")
    page = client.get("/").content.decode()
    assert 'id="trial-switcher"' in page and 'value="VERTICAL"' in page
    response = client.post("/trials/switch/", {"trial": "VERTICAL", "next": "/participants/"})
    assert response.status_code == 302 and response["Location"] == "/participants/"
    assert client.session[SESSION_KEY] == "VERTICAL"
    assert "screened for VERTICAL" in client.get("/").content.decode()
    client.post("/trials/switch/", {"trial": "NOPE", "next": "https://evil.example/"})
    assert client.session[SESSION_KEY] == "VERTICAL"  # unchanged
    response = client.post("/trials/switch/", {"trial": "BLEND", "next": "https://evil.example/"})
    assert response["Location"] == "/"  # never off the site
    assert client.get("/trials/switch/").status_code == 405


def test_pages_follow_the_chosen_trial(
    client_for: Any, make_participant: Any, personas: dict[str, Any]
) -> None:
    member = make_participant()
    client = client_for("nurse_nina")
    client.post("/trials/switch/", {"trial": "VERTICAL", "next": "/"})
    form = client.get(f"/screening/{member.study_id}/").content.decode()
    assert 'name="kps"' in form and 'name="bilsky_grade"' not in form  # VERTICAL's facts
    client.post("/trials/switch/", {"trial": "BLEND", "next": "/"})
    form = client.get(f"/screening/{member.study_id}/").content.decode()
    assert 'name="bilsky_grade"' in form and 'name="kps"' not in form
