"""Each staff role's main task in Chromium, on a ward's closed network: the investigator
signs off a casebook with their password, the statistician downloads the analysis
dataset, the monitor reads a participant's casebook and audit trail and finds nothing to
change. Fails on any console error, server error, request leaving the server or axe
violation (the nurse's, data manager's and administrator's tasks are walked through in
test_randomization_flow, test_registry_flow, test_raise_query and test_accounts_pages)."""

from __future__ import annotations

from typing import Any

import pytest

from blend.apps.datamanagement.models import Signature
from blend.apps.exports.models import ExportLog
from tests.browser.conftest import login, watched_page
from tests.browser.test_accessibility import violations
from tests.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _finish(context: Any, watch: Any, found: dict[str, list[str]]) -> None:
    context.close()
    assert {page: v for page, v in found.items() if v} == {}
    assert watch.problems() == {}


def test_the_investigator_signs_off_a_casebook_with_their_password(
    browser: Any, live_server: Any, make_participant: Any
) -> None:
    member = make_participant()
    context, page, watch = watched_page(browser, live_server, locale="en-GB")
    login(page, live_server, "investigator_ivo", PASSWORD)
    page.goto(f"{live_server.url}/participants/{member.study_id}/")
    page.get_by_role("link", name="Sign off").first.click()
    found = {"sign-off form": violations(page)}
    page.get_by_label("I have read the meaning of this signature").check()
    page.get_by_label("Your password (to sign)").fill("not my password")
    page.get_by_role("button", name="Sign").click()
    page.locator(".errorlist").first.wait_for()  # a wrong password signs nothing
    assert not Signature.objects.exists()
    # The refused form answers 400 on purpose, which the browser reports in its console.
    watch.console_errors[:] = [e for e in watch.console_errors if "status of 400" not in e]
    page.get_by_label("I have read the meaning of this signature").check()
    page.get_by_label("Your password (to sign)").fill(PASSWORD)
    page.get_by_role("button", name="Sign").click()
    page.get_by_text("Signed.").wait_for()
    found["after signing"] = violations(page)
    signature = Signature.objects.get()
    assert signature.participant == member and signature.signed_by.username == "investigator_ivo"
    _finish(context, watch, found)


def test_the_statistician_downloads_the_analysis_dataset(
    browser: Any, live_server: Any, make_participant: Any
) -> None:
    make_participant()
    context, page, watch = watched_page(browser, live_server, locale="en-GB", accept_downloads=True)
    login(page, live_server, "statistician_stan", PASSWORD)
    page.goto(f"{live_server.url}/exports/")
    found = {"exports page": violations(page)}
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the analysis dataset").click()
    assert download.value.suggested_filename.endswith(".zip")
    log = ExportLog.objects.get()
    assert log.kind == "analysis" and log.user.username == "statistician_stan"
    _finish(context, watch, found)


def test_the_monitor_reads_the_casebook_and_audit_trail_and_can_change_nothing(
    browser: Any, live_server: Any, make_participant: Any
) -> None:
    member = make_participant()
    context, page, watch = watched_page(browser, live_server, locale="en-GB")
    login(page, live_server, "monitor_mo", PASSWORD)
    page.goto(f"{live_server.url}/participants/{member.study_id}/")
    page.get_by_test_id("audit-trail").wait_for()
    found = {"participant page": violations(page)}
    main = page.locator("main")
    for action in ("Edit", "Record consent", "Screen for BLEND", "Sign off", "Lock"):
        assert main.get_by_role("link", name=action, exact=True).count() == 0, action
        assert main.get_by_role("button", name=action, exact=True).count() == 0, action
    assert page.get_by_test_id("audit-trail").locator("tr").count() > 1
    _finish(context, watch, found)
