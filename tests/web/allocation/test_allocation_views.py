"""Randomize with a confirmation step; arms only for allocation.view; the overview."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from blend.apps.allocation.models import Allocation
from blend.apps.allocation.overview import overview
from blend.apps.allocation.services import randomize
from tests.web.screening.flow import randomized, screen_and_confirm

pytestmark = pytest.mark.django_db
EVERYONE = [
    "nurse_nina",
    "investigator_ivo",
    "datamanager_dirk",
    "statistician_stan",
    "monitor_mo",
    "admin_ada",
]
RANDOMIZERS = {"nurse_nina", "investigator_ivo"}
ARM_VIEWERS = {
    "nurse_nina",
    "investigator_ivo",
    "datamanager_dirk",
    "statistician_stan",
    "monitor_mo",
}
ARM_WORDS = (
    "intervention",
    "control",
    "Intervention",
    "Control",
    "SBRT and surgery",
    "standard care",
)


@pytest.mark.parametrize("username", EVERYONE)
def test_only_randomizers_can_randomize(
    client_for, make_participant, personas, username: str
) -> None:
    participant = make_participant()
    screen_and_confirm(participant, personas)
    url = reverse("allocation:randomize", args=[participant.study_id])
    client = client_for(username)
    assert client.get(url).status_code == (200 if username in RANDOMIZERS else 403)
    response = client.post(url)
    assert Allocation.objects.filter(participant=participant).exists() == (username in RANDOMIZERS)
    if username in RANDOMIZERS:
        assert response.url == reverse("allocation:detail", args=[participant.study_id])


def test_the_confirmation_step_lists_what_blocks_randomization(
    client_for, make_participant
) -> None:
    participant = make_participant(consent={"a": "yes", "c": "yes"})
    client = client_for("nurse_nina")
    response = client.get(reverse("allocation:randomize", args=[participant.study_id]))
    blockers = response.content.decode()
    assert "not screened eligible" in blockers and "item(s) d" in blockers
    assert 'data-testid="randomize-confirm"' not in blockers
    response = client.post(reverse("allocation:randomize", args=[participant.study_id]))
    assert response.status_code == 400 and not Allocation.objects.exists()


def test_a_second_post_does_not_allocate_again(client_for, make_participant, personas) -> None:
    participant = make_participant()
    screen_and_confirm(participant, personas)
    client = client_for("nurse_nina")
    url = reverse("allocation:randomize", args=[participant.study_id])
    client.post(url)
    response = client.post(url)
    assert response.status_code == 302 and Allocation.objects.count() == 1


@pytest.mark.parametrize("username", EVERYONE)
def test_arms_are_shown_only_to_roles_with_allocation_view(
    client_for, make_participant, personas, username: str
) -> None:
    participant = randomized(make_participant, personas, "intervention")
    client = client_for(username)
    detail = client.get(reverse("allocation:detail", args=[participant.study_id]))
    assert detail.status_code == (200 if username in ARM_VIEWERS else 403)
    page = client.get(reverse("participant-detail", args=[participant.study_id])).content.decode()
    panel = page.split('data-testid="allocation-panel"')[1].split("</section>")[0]
    if username in ARM_VIEWERS:
        assert "intervention" in panel
        assert 'data-testid="offer-panel"' in page
    else:
        assert not any(word in panel for word in ARM_WORDS)
        assert 'data-testid="offer-panel"' not in page


def test_nothing_shows_an_arm_before_allocation(client_for, make_participant, personas) -> None:
    participant = make_participant()
    screen_and_confirm(participant, personas)
    client = client_for("nurse_nina")
    assert client.get(reverse("allocation:detail", args=[participant.study_id])).status_code == 404
    page = client.get(reverse("allocation:randomize", args=[participant.study_id])).content.decode()
    assert not any(word in page for word in ("intervention", "control arm", "Control"))


@pytest.mark.parametrize("username", EVERYONE)
def test_only_the_administrator_sees_the_overview(client_for, username: str) -> None:
    status = client_for(username).get(reverse("allocation:overview")).status_code
    assert status == (200 if username == "admin_ada" else 403)


def test_the_overview_counts_arms_only_up_to_the_delayed_cutoff(
    make_participant, personas, client_for
) -> None:
    for _ in range(4):
        participant = make_participant()
        screen_and_confirm(participant, personas)
        randomize(participant, user=personas["nurse_nina"])
    now = overview()
    assert now["total"] == 4
    assert now["strata"] == [
        {"stratum": "(unstratified)", "total": 4, "intervention": 0, "control": 0}
    ]
    later = overview(today=timezone.localdate() + timedelta(days=7))
    arms = list(Allocation.objects.values_list("arm", flat=True))
    assert later["strata"][0]["intervention"] == arms.count("intervention")
    assert later["strata"][0]["control"] == arms.count("control")
    html = client_for("admin_ada").get(reverse("allocation:overview")).content.decode()
    assert 'data-testid="commitment"' in html
    for study_id in Allocation.objects.values_list("participant__study_id", flat=True):
        assert study_id not in html


@pytest.mark.parametrize("username", EVERYONE)
def test_dashboard_cards_follow_the_capabilities(
    client_for, make_participant, personas, username: str
) -> None:
    randomized(make_participant, personas, "intervention")
    screen_and_confirm(make_participant(), personas)  # ready to randomize
    html = client_for(username).get(reverse("dashboard")).content.decode()
    assert "randomized into BLEND" in html and "screened for BLEND" in html
    assert ("ready to randomize" in html) == (username in RANDOMIZERS)
    assert ("awaiting your confirmation" in html) == (username == "investigator_ivo")
    assert ("offers to make or decide" in html) == (username in RANDOMIZERS)
    assert not any(word in html for word in ("intervention", "control arm"))
