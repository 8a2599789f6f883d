"""The acceptance monitor page: numbers from the offer records, allocation.view only."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.web.offers.offer_flow import make_offers

pytestmark = pytest.mark.django_db
VERSION = "BLEND ICF v2.0 (2022-09-09)"


def today() -> date:
    return timezone.localdate()


@pytest.fixture
def offers_made(make_participant, personas):
    """Two accepted, one refused, one pending."""
    make_offers(make_participant, personas, accepted=2, refused=1, pending=1)


def test_the_monitor_shows_the_counts_rate_reasons_and_reestimation(
    client_for, offers_made
) -> None:
    page = client_for("statistician_stan").get(reverse("offers:acceptance") + "?trial=BLEND")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<td>4</td><td>2</td><td>1</td><td>1</td><td>0</td>" in html
    assert "Acceptance: 0.667 of 3 decided offers (Wilson 95% CI 0.208 to 0.939)." in html
    assert "<td>Too tired</td><td>1</td>" in html
    assert "The sample size assumed 0.73." in html
    assert "observed" in html and "The rule decides at 25 decided offers" in html
    figure = client_for("statistician_stan").get(reverse("offers:acceptance-figure"))
    assert (figure.status_code, figure["Content-Type"]) == (200, "image/png")
    assert figure["Cache-Control"] == "no-store"
    assert figure.content.startswith(b"\x89PNG")


@pytest.mark.parametrize("url_name", ["offers:acceptance", "offers:acceptance-figure"])
def test_the_monitor_is_refused_without_allocation_view(client_for, offers_made, url_name) -> None:
    assert client_for("admin_ada").get(reverse(url_name)).status_code == 403


def test_a_trial_scoped_persona_sees_only_the_trial_it_may_unblind(
    client_for, offers_made, trial_personas
) -> None:
    monitor = client_for("monitor_vic")  # allocation.view in VERTICAL only
    assert monitor.get(reverse("offers:acceptance") + "?trial=BLEND").status_code == 403
    vertical = monitor.get(reverse("offers:acceptance") + "?trial=VERTICAL")
    assert vertical.status_code == 200
    assert "No offer has been decided yet." in vertical.content.decode()


def test_the_dashboard_card_links_the_monitor_for_those_who_may_see_arms(
    client_for, offers_made
) -> None:
    statistician = client_for("statistician_stan").get(reverse("dashboard")).content.decode()
    assert "67% (2/3)" in statistician and reverse("offers:acceptance") in statistician
    admin = client_for("admin_ada").get(reverse("dashboard")).content.decode()
    assert reverse("offers:acceptance") not in admin and "(2/3)" not in admin
