"""Screen → confirm → randomize → offer → accept, in a real browser, as the investigator."""

from __future__ import annotations

import pytest
from django.utils import timezone

from blend.apps.allocation.models import Allocation
from blend.apps.offers.models import Offer
from blend.apps.screening.models import Screening
from blend.randomization import load_spec, sequence
from tests.browser.conftest import login
from tests.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TEST_SEED = "5eed" * 16  # blend.web.test_settings

SELECTS = {
    "#id_sins_location": "semi_rigid",
    "#id_sins_pain": "mechanical",
    "#id_sins_bone_lesion": "lytic",
    "#id_sins_alignment": "normal",
    "#id_sins_collapse": "under_50",
    "#id_sins_posterolateral": "none",
    "#id_bilsky_grade": "1a",
    "#id_radiotherapy_indicated": "yes",
    "#id_surgery_indicated": "yes",
    "#id_malignancy_proof": "histology",
    "#id_radiographic_evidence": "yes",
    "#id_prior_surgery_index": "no",
    "#id_prior_radiotherapy_index": "no",
    "#id_multiple_myeloma": "no",
    "#id_asia_grade": "E",
    "#id_long_halflife_drugs": "no",
    "#id_can_lie_on_table": "yes",
    "#id_fit_for_radiosurgery": "yes",
}


def test_investigator_screens_confirms_randomizes_offers_and_records_acceptance(
    page, live_server, personas, make_participant
) -> None:
    # The fixed test seed puts the first allocation in the intervention arm; the offer needs it.
    assert sequence(load_spec(), TEST_SEED, 1) == ["intervention"]
    participant = make_participant()
    sid = participant.study_id
    login(page, live_server, "investigator_ivo", PASSWORD)

    page.goto(f"{live_server.url}/participants/{sid}/")
    page.click("text=Screen for BLEND")
    summary = page.locator("[data-testid=eligibility-summary]")
    summary.locator("text=pending").wait_for()
    page.fill("#id_screened_on", "2025-03-10")
    page.check("input[name=index_levels][value=T7]")
    page.check("input[name=symptoms][value=mechanical_pain]")
    for selector, value in SELECTS.items():
        page.select_option(selector, value)
    page.fill("#id_levels_to_bridge", "7")
    page.fill("#id_radiotherapy_locations", "1")
    page.fill("#id_life_expectancy_months", "10")
    page.locator("#id_life_expectancy_months").dispatch_event("change")
    page.wait_for_function(  # the live summary, before saving
        "() => document.querySelector('[data-testid=eligibility-status]').innerText === 'ineligible'"
    )
    reasons = summary.locator("[data-testid=eligibility-reasons]").inner_text()
    assert "E2_LEVELS_TO_BRIDGE" in reasons and "7 levels to bridge" in reasons
    page.fill("#id_levels_to_bridge", "3")
    page.locator("#id_levels_to_bridge").dispatch_event("change")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=eligibility-status]').innerText === 'eligible'"
    )
    page.click("text=Save screening")
    page.wait_for_selector("text=Screening saved: eligible")
    assert Screening.objects.get(participant=participant).facts["sins_total"] == 8

    page.click("text=Confirm eligibility")
    page.fill("#id_password", PASSWORD)
    page.check("#id_attest")
    page.click("button:has-text('Confirm eligibility')")
    page.wait_for_selector("text=Eligibility confirmed.")
    assert (
        Screening.objects.get(participant=participant).confirmed_by == personas["investigator_ivo"]
    )

    page.click("[data-testid=allocation-panel] a.button")
    page.click("[data-testid=randomize-confirm]")
    page.wait_for_url(f"{live_server.url}/allocation/{sid}/")
    assert page.locator("[data-testid=arm]").inner_text().startswith("intervention")
    assert Allocation.objects.get(participant=participant).arm == "intervention"

    page.click("text=Record the offer")
    page.fill("#id_offered_on", timezone.localdate().isoformat())
    page.click("button:has-text('Save')")
    page.wait_for_selector("[data-testid=offer-panel] >> text=offered")
    page.click("[data-testid=offer-panel] >> text=Accepted")
    page.select_option("#id_trial_consent_version", "BLEND ICF v2.0 (2022-09-09)")
    page.click("button:has-text('Save')")
    page.wait_for_selector("[data-testid=offer-panel] >> text=accepted")
    offer = Offer.objects.get(participant=participant)
    assert (offer.state, offer.trial_consent_version) == ("accepted", "BLEND ICF v2.0 (2022-09-09)")
