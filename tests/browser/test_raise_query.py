"""A data manager raises a query from a field of an adverse-event report, as in REDCap
or Castor: the control beside the field opens the query form in place (htmx), and the
query is listed under the field's label. No axe violation, no console error, nothing
loaded from outside the server."""

from __future__ import annotations

from typing import Any

import pytest

from blend.apps.datamanagement.models import Query
from blend.apps.safety.services import report_adverse_event
from tests.browser.conftest import login, watched_page
from tests.browser.test_accessibility import violations
from tests.personas import PASSWORD
from tests.web.safety.test_adverse_events import ae_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_data_manager_raises_a_query_from_a_field_and_sees_it_listed_by_its_label(
    browser: Any, live_server: Any, make_participant: Any, personas: Any, tmp_path: Any
) -> None:
    participant = make_participant()
    ae = report_adverse_event(participant, ae_data(), user=personas["nurse_nina"])
    context, page, watch = watched_page(browser, live_server, locale="en-GB")
    login(page, live_server, "datamanager_dirk", PASSWORD)

    page.goto(f"{live_server.url}/participants/{participant.study_id}/")
    found = {"participant page": violations(page)}  # a control beside every cohort field
    page.goto(f"{live_server.url}/safety/ae/{ae.pk}/")
    page.get_by_role("link", name="Raise query on CTCAE grade").click()
    slot = page.locator("#raise-query-slot")
    slot.get_by_text("CTCAE grade").wait_for()  # opened in place, showing the label
    assert page.url == f"{live_server.url}/safety/ae/{ae.pk}/"
    found["form open"] = violations(page)
    page.screenshot(path=str(tmp_path / "raise-query.png"), full_page=True)
    slot.get_by_label("Assigned to").select_option("nurse")
    slot.get_by_label("Question").fill(
        "Grade 3 needs an intervention; the letter says bedside care."
    )
    slot.get_by_role("button", name="Raise query").click()
    page.get_by_text("Query raised on CTCAE grade.").wait_for()
    page.locator(".field-query[data-field=grade]").wait_for()  # shown beside the field now
    found["query beside the field"] = violations(page)

    query = Query.objects.get()
    assert (query.form, query.field, query.object_id) == ("Adverse event", "grade", str(ae.pk))
    page.goto(f"{live_server.url}/datamanagement/")
    row = page.locator("[data-testid=queries] tbody tr").first
    assert row.locator("td").nth(3).inner_text() == "CTCAE grade"
    found["query list"] = violations(page)
    context.close()
    assert {step: v for step, v in found.items() if v} == {}
    assert watch.problems() == {}
