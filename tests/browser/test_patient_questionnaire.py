"""A patient fills in the QLQ-C15-PAL in Dutch on a phone (390 x 844) from a personal
link; a nurse then sees it scored on the staff side."""

from __future__ import annotations

import pytest
from django.urls import reverse

from blend.apps.followup.models import Assessment
from blend.apps.questionnaires.models import Response
from blend.apps.questionnaires.services import issue_link
from blend.instruments import score
from tests.browser.conftest import login
from tests.personas import PASSWORD
from tests.web.followup.factories import treat  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWERS = {
    f"q{n}": v
    for n, v in zip(range(1, 16), [2, 1, 1, 3, 4, 2, 3, 1, 2, 1, 3, 4, 2, 2, 5], strict=True)
}


def _no_horizontal_scroll(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_patient_fills_qlq_c15_pal_in_dutch_on_a_phone_and_staff_see_the_scores(  # type: ignore[no-untyped-def]
    live_server,
    phone_page,
    page,
    make_participant,
    treat,  # noqa: F811  (the fixture named by the import)
) -> None:
    participant = treat(make_participant(preferred_language="nl"), days_ago=28)
    w4 = Assessment.objects.get(participant=participant, timepoint="w4")
    token = issue_link(w4).rstrip("/").rsplit("/", 1)[1]
    phone = phone_page
    phone.goto(live_server.url + reverse("questionnaires:patient", args=[token]))

    assert phone.locator("html").get_attribute("lang") == "nl"
    assert phone.get_by_role("button", name="Opslaan en verder").is_visible()
    assert "0 van 30 vragen beantwoord" in phone.locator("#progress-label").inner_text()
    assert _no_horizontal_scroll(phone)
    first_option = phone.locator("fieldset#item-q1 label.option").first.bounding_box()
    assert first_option["height"] >= 44 and first_option["width"] >= 300  # large touch targets

    steps_seen = 1
    for key, value in ANSWERS.items():
        if not phone.locator(f"input[name={key}]").count():  # on the next, short step
            phone.locator("#save-status").get_by_text(
                "Opgeslagen"
            ).wait_for()  # htmx saved as the patient went
            phone.get_by_role("button", name="Opslaan en verder").click()
            steps_seen += 1
        phone.locator(f"input[name={key}][value='{value}']").check()
    assert steps_seen > 1  # the 15 questions come in short steps
    assert Response.objects.get(assessment=w4).answers["qlq-c15-pal"]["q1"] == 2

    phone.get_by_role("button", name="Opslaan en verder").click()
    phone.get_by_text("15 van 30 vragen beantwoord").wait_for()
    phone.locator("fieldset.scale label.option", has_text="6").first.click()  # worst pain NRS
    phone.get_by_role("button", name="Opslaan en verder").click()
    review = phone.get_by_role("heading", name="Uw antwoorden versturen")
    for _ in range(10):  # painkillers, EQ-5D-5L and costs left blank: allowed
        if review.count():
            break
        phone.get_by_role("button", name="Opslaan en verder").click()
    review.wait_for()
    assert phone.get_by_text("U heeft 14 vragen niet ingevuld").is_visible()
    phone.get_by_role("button", name="Mijn antwoorden versturen").click()
    phone.get_by_test_id("thanks").wait_for()
    assert "Uw antwoorden zijn ontvangen" in phone.get_by_test_id("thanks").inner_text()

    expected_pf = score("qlq-c15-pal", ANSWERS)["PF"]
    login(page, live_server, "nurse_nina", PASSWORD)
    page.goto(f"{live_server.url}/participants/{participant.study_id}/")
    page.locator("tr[data-timepoint=w4]").get_by_role("link", name="Answers and scores").click()
    cell = page.locator("td[data-scale='qlq-c15-pal:PF']")
    assert cell.inner_text() == f"{expected_pf:.2f}" == "73.33"
    assert page.locator("td[data-scale='pain-nrs:worst_pain']").inner_text() == "6.00"
    assert page.get_by_test_id("assessment-status").inner_text() == "completed"

    phone.goto(
        live_server.url + reverse("questionnaires:patient", args=[token])
    )  # the link is used up
    assert phone.get_by_role("heading", name="Deze link werkt niet (meer)").is_visible()
