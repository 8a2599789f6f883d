"""WCAG 2.1 A/AA checks with axe-core (vendored: tests/browser/vendor, MPL-2.0) on the
patient questionnaire at phone size and on the main staff pages.

axe finds the machine-checkable part of WCAG (contrast, names, labels, landmarks,
language ...); it does not replace a review with users."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from blend.apps.followup.models import Assessment
from blend.apps.questionnaires.domain import split_steps
from blend.apps.questionnaires.services import issue_link, pages_for
from tests.browser.conftest import login
from tests.personas import PASSWORD
from tests.web.followup.factories import treat  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe-4.14.1.min.js").read_text(encoding="utf-8")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    # Evaluated by the browser's debugging protocol, not as a <script> in the page: the
    # Content-Security-Policy refuses inline scripts (axe sets window.axe itself).
    page.evaluate("() => {" + AXE + "\n}")
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def test_every_patient_questionnaire_page_meets_wcag_21_aa_on_a_phone(
    live_server,
    phone_page,
    make_participant,
    treat,  # noqa: F811  (the fixture named by the import)
) -> None:
    participant = treat(make_participant(preferred_language="nl"), days_ago=28)
    w4 = Assessment.objects.get(participant=participant, timepoint="w4")
    url = live_server.url + reverse(
        "questionnaires:patient", args=[issue_link(w4).rstrip("/").rsplit("/", 1)[1]]
    )
    found = {}
    pages = pages_for(w4, "nl")
    for index, page in enumerate(pages):  # every step of every page
        for step in range(len(split_steps(page))):
            phone_page.goto(f"{url}?page={index}&step={step}")
            found[f"{index}.{step}"] = violations(phone_page)
    phone_page.goto(f"{url}?page={len(pages)}")
    found["review"] = violations(phone_page)
    phone_page.goto(live_server.url + "/questionnaires/q/not-a-valid-link-0000000000000000/")
    found["invalid link"] = violations(phone_page)
    assert {page: v for page, v in found.items() if v} == {}


def test_the_main_staff_pages_meet_wcag_21_aa(live_server, page, make_participant) -> None:
    participant = make_participant()
    page.goto(f"{live_server.url}/accounts/login/")
    found = {"login": violations(page)}
    login(page, live_server, "nurse_nina", PASSWORD)
    for url in [
        "/",
        "/participants/",
        f"/participants/{participant.study_id}/",
        "/participants/new/",
        f"/consent/{participant.study_id}/record/",
        "/screening/log/",
        "/followup/calendar/",
        "/safety/",
    ]:
        page.goto(live_server.url + url)
        found[url] = violations(page)
    assert {url: v for url, v in found.items() if v} == {}


def test_the_check_reports_a_real_violation(page) -> None:
    page.set_content(
        '<html lang="en"><body><main><img src="x.png"><input type="text"></main></body></html>'
    )
    found = " ".join(violations(page))
    assert "image-alt" in found and "label" in found
