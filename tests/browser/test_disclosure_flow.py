"""The PI releases VERTICAL's results, staff write each group's message, the PI reviews
them and the messages are queued: the whole stage-3 path in Chromium, with no axe
violation, console error, server error or request leaving the server."""

from __future__ import annotations

from typing import Any

import pytest

from blend.apps.allocation.services import randomize
from blend.apps.disclosure.models import Disclosure
from tests.browser.conftest import login, watched_page
from tests.browser.test_accessibility import violations
from tests.personas import PASSWORD
from tests.web.trials.flow import confirm_for_vertical

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MESSAGE = {
    "subject_nl": "De uitkomsten van VERTICAL",
    "body_nl": "VERTICAL vergeleek twee soorten bestraling. Dank voor uw deelname.",
    "subject_en": "The results of VERTICAL",
    "body_en": "VERTICAL compared two kinds of radiotherapy. Thank you for taking part.",
}


def test_the_pi_releases_reviews_and_the_messages_are_queued(
    browser: Any, live_server: Any, make_participant: Any, personas: Any, tmp_path: Any
) -> None:
    for _ in range(4):
        member = make_participant()
        confirm_for_vertical(member, personas)
        randomize(member, user=personas["nurse_nina"], trial="VERTICAL")
    context, page, watch = watched_page(browser, live_server, locale="en-GB")
    login(page, live_server, "investigator_ivo", PASSWORD)
    page.goto(f"{live_server.url}/disclosure/")
    page.get_by_role("link", name="VERTICAL").click()
    found = {"release form": violations(page)}
    page.get_by_label("The results, in a few sentences").fill("SBRT gave more pain response.")
    page.get_by_label("Your password (signature)").fill(PASSWORD)
    page.get_by_role("button", name="Release and sign").click()
    page.get_by_text("Results released; the list of participants is made.").wait_for()
    groups = sorted(set(Disclosure.objects.values_list("arm_group", flat=True)))
    for group in groups:
        section = page.locator(f"[data-testid=template-{group}]")
        for field, text in MESSAGE.items():
            section.locator(f"[name={group}-{field}]").fill(text)
        section.get_by_role("button", name="Save the message").click()
        page.get_by_text("Message saved; it needs the PI's review again.").wait_for()
        section = page.locator(f"[data-testid=template-{group}]")
        section.get_by_label("Your password (signature)").fill(PASSWORD)
        section.get_by_role("button", name="Reviewed: sign").click()
        page.get_by_text("Message reviewed.").wait_for()
    found["messages reviewed"] = violations(page)
    page.get_by_test_id("send-disclosures").click()
    page.get_by_text("Messages queued: 4.").wait_for()
    page.screenshot(path=str(tmp_path / "disclosure.png"), full_page=True)
    assert set(Disclosure.objects.values_list("state", flat=True)) == {"queued"}
    assert {k: v for k, v in found.items() if v} == {}
    assert watch.problems() == {}
    context.close()
