"""A nurse reports an adverse event with a term outside BLEND's own: typing in "Find a
CTCAE term" narrows the 838-entry list in place (htmx), choosing the term shows its
grade definitions, and the report saves with the term's MedDRA code. No axe violation,
no console error, nothing loaded from outside the server."""

from __future__ import annotations

from typing import Any

import pytest

from blend.apps.safety.models import AdverseEvent
from tests.browser.conftest import login, watched_page
from tests.browser.test_accessibility import violations
from tests.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_nurse_finds_a_ctcae_term_by_typing_and_reports_it(
    browser: Any, live_server: Any, make_participant: Any, tmp_path: Any
) -> None:
    participant = make_participant()
    context, page, watch = watched_page(browser, live_server, locale="en-GB")
    login(page, live_server, "nurse_nina", PASSWORD)
    page.goto(f"{live_server.url}/safety/{participant.study_id}/new/")
    terms = page.locator("#id_term option")
    assert terms.count() == 839  # the blank choice, 837 CTCAE terms and "other"
    page.get_by_label("Find a CTCAE term").fill("anem")
    # (CSP forbids eval, so wait on the DOM: the one kept entry besides Anemia is "other")
    page.locator("#id_term option[value='wound_infection']").wait_for(state="detached")
    assert terms.all_inner_texts() == ["---------", "Anemia", "Other (name the CTCAE v5.0 term)"]
    page.get_by_label("CTCAE v5.0 term").select_option(label="Anemia")
    page.get_by_text("Hgb <8.0 g/dL; <4.9 mmol/L; <80 g/L; transfusion indicated").wait_for()
    found = {"term found": violations(page)}
    page.screenshot(path=str(tmp_path / "ctcae-search.png"), full_page=True)
    page.get_by_label("CTCAE grade").select_option("2")
    page.get_by_label("Onset date").fill("2025-04-01")
    page.get_by_label("Relatedness to SBRT").select_option("unlikely")
    page.get_by_label("Relatedness to surgery").select_option("unlikely")
    page.get_by_label("Action taken").select_option("medication")
    page.get_by_label("Outcome").select_option("recovering")
    page.get_by_label("Site became aware").fill("2025-04-02T09:00")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Anemia").wait_for()
    assert AdverseEvent.objects.get().term == "10002272"
    context.close()
    assert {step: v for step, v in found.items() if v} == {}
    assert watch.problems() == {}
