"""The account pages of issue 14 (items 2 and 6) in a real browser: a new colleague sets
their own password with the e-mailed link and is signed in, and the staff, grant and
password pages meet WCAG 2.1 AA (axe-core, as tests/browser/test_accessibility.py)."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from blend.apps.accounts.models import User
from blend.apps.accounts.services import change_role, create_staff
from blend.apps.outbox.services import deliver_due
from tests.browser.conftest import login
from tests.browser.test_accessibility import violations
from tests.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_colleague_sets_their_own_password_and_the_pages_are_accessible(
    live_server, page, personas
) -> None:  # type: ignore[no-untyped-def]
    ada = personas["admin_ada"]
    create_staff(username="ivy", role="investigator", email="ivy@example.org", by=ada)
    change_role(personas["statistician_stan"], "monitor", by=ada)
    deliver_due()
    link = re.search(r"http://\S+(/accounts/password/set/\S+/)", mail.outbox[-1].body)
    assert link is not None
    found: dict[str, list[str]] = {}
    page.goto(live_server.url + link.group(1))
    found["set password"] = violations(page)
    page.fill("#id_new_password1", "ivys-own-Secret-77")
    page.fill("#id_new_password2", "ivys-own-Secret-77")
    page.click("main button[type=submit]")
    page.wait_for_url(
        f"{live_server.url}/accounts/roles/"
    )  # no role until a second person approves
    assert "waits for the approval of a second administrator" in page.inner_text("main")
    assert User.objects.get(username="ivy").check_password("ivys-own-Secret-77")
    page.goto(live_server.url + "/accounts/password/")
    assert page.locator("h1").inner_text() == "Change your password"
    found["change password"] = violations(page)
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/password/reset/")
    found["reset"] = violations(page)
    login(page, live_server, "admin_ada", PASSWORD)
    for url in ["/accounts/staff/", f"/accounts/staff/{ada.pk}/", "/accounts/grants/"]:
        page.goto(live_server.url + url)
        found[url] = violations(page)
    assert "grant requests waiting for a second person" in page.goto(live_server.url + "/").text()  # type: ignore[union-attr]
    assert {name: v for name, v in found.items() if v} == {}
