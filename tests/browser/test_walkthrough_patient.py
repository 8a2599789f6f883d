"""A patient's whole questionnaire at 390 × 844 in Dutch, step by step, as a person
would: answers tapped, one cleared again, a painkiller chosen by mistake and emptied,
then sent. It fails on any 500, any console error, any request that leaves the server
and any axe violation; and it checks the layout the issue asked for (short steps, each
header inside the box of its questions). Staff pages and /api/docs get the same
external-request guard."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from blend.apps.followup.models import Assessment
from blend.apps.questionnaires.models import Response
from blend.apps.questionnaires.services import issue_link
from tests.browser.conftest import login, watched_page
from tests.browser.test_accessibility import violations
from tests.personas import PASSWORD
from tests.web.followup.factories import treat  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "nl-NL",
}
#: A step of at most five questions fits a few phone screens, not the 6,800 px page it was.
MAX_STEP_HEIGHT = 3000


#: Every group's box, its header and its first and last question, read in one layout pass
#: (measuring element by element once caught a box mid-reflow).
_GROUP_BOXES = """() => [...document.querySelectorAll('section.question-group')].map(group => {
  const box = el => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; };
  const items = group.querySelectorAll('fieldset.item');
  return {outer: box(group), header: box(group.querySelector('h2.item-header')),
          first: items.length ? box(items[0]) : null,
          last: items.length ? box(items[items.length - 1]) : null};
})"""


def _check_headers_sit_with_their_questions(phone: Any) -> None:
    for group in phone.evaluate(_GROUP_BOXES):
        outer, header, first, last = group["outer"], group["header"], group["first"], group["last"]
        assert first is not None and last is not None  # a group holds at least one question
        assert outer["top"] <= header["top"] < first["top"]  # the header opens the box ...
        assert last["bottom"] <= outer["bottom"] + 1  # ... that holds them


def _answer_every_question_on_the_step(phone: Any) -> None:
    for fieldset in phone.locator("fieldset.item:not(.scale)").all():
        radios = fieldset.locator("input[type=radio]")
        if radios.count():
            radios.first.check()
    for fieldset in phone.locator("fieldset.scale").all():
        fieldset.locator("label.option").nth(3).click()
    for number in phone.locator("input.number").all():
        number.fill("2")
        number.press("Tab")  # a typed answer is saved when the patient moves on


def test_a_patient_walks_through_the_questionnaire_on_a_phone_in_dutch(
    browser: Any,
    live_server: Any,
    make_participant: Any,
    treat: Any,  # noqa: F811  (the fixture named by the import)
) -> None:
    participant = treat(make_participant(preferred_language="nl"), days_ago=28)
    w4 = Assessment.objects.get(participant=participant, timepoint="w4")
    token = issue_link(w4).rstrip("/").rsplit("/", 1)[1]
    context, phone, watch = watched_page(browser, live_server, **PHONE)
    phone.goto(live_server.url + reverse("questionnaires:patient", args=[token]))
    found: dict[str, list[str]] = {}
    steps = 0
    while phone.get_by_role("button", name="Opslaan en verder").count():
        steps += 1
        title = phone.locator("h1").inner_text()
        assert phone.evaluate("document.documentElement.scrollHeight") <= MAX_STEP_HEIGHT, title
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert f"stap {steps} van" in phone.locator("#progress-label").inner_text()
        _check_headers_sit_with_their_questions(phone)
        found[f"step {steps}"] = violations(phone)
        if phone.locator("select[name=drug_1]").count():
            phone.locator("input[name=any][value=yes]").check()
            phone.locator("select[name=drug_1]").select_option("morphine|oral")
            phone.locator("input[name=dose_1]").fill("60")
            phone.locator("select[name=drug_2]").select_option("oxycodone|oral")  # by mistake
            assert "oxycodon (mg per dag)" in phone.locator("select[name=drug_2]").inner_text()
            phone.locator("select[name=drug_2]").select_option("")  # "—" empties it again
            phone.locator("input[name=dose_1]").press("Tab")
        else:
            _answer_every_question_on_the_step(phone)
        if steps == 1:  # tapped by mistake: cleared in place, and saved as blank
            clear = phone.locator("#item-q2").get_by_role("button", name="Antwoord wissen")
            assert clear.is_visible()
            clear.click()
            assert phone.locator("input[name=q2]:checked").count() == 0
            assert not clear.is_visible()
        phone.locator("#save-status").get_by_text("Opgeslagen").wait_for()
        phone.wait_for_function(  # a function, not an expression: the CSP refuses eval
            "() => !document.querySelector('form.questionnaire.htmx-request')"
        )
        with phone.expect_navigation():  # the next step is measured only once it has loaded
            phone.get_by_role("button", name="Opslaan en verder").click()
    assert steps >= 8
    phone.get_by_role("heading", name="Uw antwoorden versturen").wait_for()
    found["review"] = violations(phone)
    phone.get_by_role("button", name="Mijn antwoorden versturen").click()
    phone.get_by_test_id("thanks").wait_for()
    context.close()

    assert {step: v for step, v in found.items() if v} == {}
    assert watch.problems() == {}
    saved = Response.objects.get(assessment=w4)
    assert saved.answers["qlq-c15-pal"]["q2"] is None and saved.answers["qlq-c15-pal"]["q1"] == 1
    assert saved.scores["omed"] == {"omed": 60.0}  # not 60 + the oxycodone tapped by mistake


def test_no_page_loads_anything_from_outside_the_server(
    browser: Any, live_server: Any, make_participant: Any
) -> None:
    participant = make_participant()
    context, page, watch = watched_page(browser, live_server, locale="en-GB")
    page.goto(f"{live_server.url}/accounts/login/")
    login(page, live_server, "datamanager_dirk", PASSWORD)
    for url in [
        "/",
        "/participants/",
        f"/participants/{participant.study_id}/",
        "/questionnaires/translations/",
        "/datamanagement/",
        "/safety/",
        "/outbox/",
    ]:
        page.goto(live_server.url + url)
    page.goto(f"{live_server.url}/api/docs")
    page.locator(".swagger-ui .info .title").get_by_text("BLEND trial platform API").wait_for()
    context.close()
    assert watch.problems() == {}


def test_the_guard_reports_a_request_to_another_host(browser: Any, live_server: Any) -> None:
    # The page's Content-Security-Policy would stop the fetch before the guard sees it
    # (tests/browser/test_csp_enforced.py); this checks the guard itself, so without it.
    context, page, watch = watched_page(browser, live_server, bypass_csp=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate("fetch('https://cdn.example.org/swagger-ui.css').catch(() => null)")
    page.wait_for_timeout(200)
    context.close()
    assert watch.external == ["https://cdn.example.org/swagger-ui.css"]
