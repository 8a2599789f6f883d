from __future__ import annotations

import pytest

from blend.apps.consent.models import ConsentFormVersion
from blend.apps.consent.services import consent_states
from blend.apps.registry.models import Participant
from tests.browser.conftest import login
from tests.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_nurse_registers_a_participant_records_consent_and_finds_them(
    page, live_server, personas, tmp_path
) -> None:
    ConsentFormVersion.objects.create(version="PRESENT v3.0", valid_from="2020-01-01")
    login(page, live_server, "nurse_nina", PASSWORD)

    page.goto(f"{live_server.url}/participants/new/")
    page.select_option("#id_site", label="UMC Utrecht")
    page.fill("#id_registered_on", "2025-03-01")
    page.fill("#id_full_name", "Willemijn Browser")
    page.fill("#id_date_of_birth", "1958-07-04")
    page.fill("#id_hospital_number", "H5550001")
    page.select_option("#id_sex", "female")
    page.select_option("#id_primary_tumour", "breast")
    page.fill("#id_metastases_diagnosed_on", "2025-02-10")
    page.select_option("#id_performance_status", "1")
    page.select_option("#id_preferred_language", "nl")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Registered")
    participant = Participant.objects.get(identity__hospital_number="H5550001")

    page.click("text=Record consent")
    page.fill("#id_effective_on", "2025-03-01")
    page.select_option("#id_form_version", label="PRESENT v3.0")
    for item in "abcd":
        page.select_option(f"#id_item_{item}", "yes")
    page.select_option("#id_item_e", "postponed")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Consent recorded")
    assert consent_states(participant)["c"] == "yes"
    assert consent_states(participant)["e"] == "postponed"

    page.goto(f"{live_server.url}/participants/")
    page.fill("#id_q", "Willemijn")
    page.wait_for_selector(f"#rows >> text={participant.study_id}")
    page.screenshot(path=str(tmp_path / "participant-list.png"), full_page=True)
    assert page.locator("#rows tbody tr").count() == 1
