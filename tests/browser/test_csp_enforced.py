"""The Content-Security-Policy in a real browser (docs/security.md, section 8).

1. The main staff pages, the API docs and the patient questionnaire load under the policy
   with no violation reported, and what their scripts do still works: the language
   switcher, the live eligibility summary, the participant search, the treatment
   pathway fields, the questionnaire's autosave and its "clear this answer".
2. Attack: a script, an inline event handler, a ``javascript:`` link, an htmx ``hx-on``
   handler and a style attribute injected into a real page (as a stored XSS that got past
   the template escaping would be) do not run; the browser reports each violation.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from blend.apps.followup.models import Assessment
from blend.apps.questionnaires.services import issue_link
from tests.browser.conftest import login, watched_page
from tests.personas import PASSWORD
from tests.web.followup.factories import treat  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Installed by the browser before any page script (Playwright's init scripts are not
# page content, so the policy does not apply to them): every violation the page reports.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ""}`.trim());
});
"""


def _open(browser: Any, live_server: Any, **options: Any) -> tuple[Any, Any, Any]:
    context, page, watch = watched_page(browser, live_server, **options)
    context.add_init_script(LISTEN)
    return context, page, watch


def _visit(page: Any, url: str, seen: dict[str, list[str]]) -> None:
    response = page.goto(url)
    assert response.status < 400, (url, response.status)
    headers = response.all_headers() if hasattr(response, "all_headers") else response.headers
    policy = headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (url, policy)
    page.wait_for_load_state("networkidle")
    seen[url] = page.evaluate("window.__csp")


def test_the_pages_run_under_the_policy_and_their_scripts_still_work(
    browser,
    live_server,
    make_participant,
    treat,  # noqa: F811  (the fixture named by the import)
) -> None:
    waiting = make_participant()
    treated = treat(make_participant(preferred_language="nl"), days_ago=28)
    seen: dict[str, list[str]] = {}
    context, page, watch = _open(browser, live_server, locale="en-GB")
    page.set_default_timeout(15000)
    _visit(page, f"{live_server.url}/accounts/login/", seen)
    login(page, live_server, "nurse_nina", PASSWORD)
    for url in [
        "/",
        "/participants/",
        f"/participants/{waiting.study_id}/",
        f"/participants/{waiting.study_id}/edit/",
        "/participants/new/",
        f"/consent/{waiting.study_id}/record/",
        f"/screening/{waiting.study_id}/",
        "/screening/log/",
        f"/treatment/{treated.study_id}/",
        "/followup/calendar/",
        "/safety/",
        "/api/docs",
    ]:
        _visit(page, live_server.url + url, seen)

    # The live eligibility summary (htmx posts the form as it changes)
    _visit(page, f"{live_server.url}/screening/{waiting.study_id}/", seen)
    page.locator("[data-testid=eligibility-status]").wait_for()
    page.fill("#id_levels_to_bridge", "7")
    page.locator("#id_levels_to_bridge").dispatch_event("change")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=eligibility-reasons]')"
        " && document.querySelector('[data-testid=eligibility-reasons]')"
        ".innerText.includes('E2_LEVELS_TO_BRIDGE')"
    )

    # The participant search (htmx, with the address bar following)
    _visit(page, f"{live_server.url}/participants/", seen)
    page.fill("#id_q", waiting.study_id)
    page.wait_for_url(f"**q={waiting.study_id}**")
    assert waiting.study_id in page.locator("#rows").inner_text()

    # The treatment pathway shows its own fields (treatment/pathway.js)
    _visit(page, f"{live_server.url}/treatment/{treated.study_id}/", seen)
    page.select_option("#id_pathway", "same_day")
    assert page.locator("[data-testid=pathway-same_day]").is_visible()
    assert not page.locator("[data-testid=pathway-standard]").is_visible()

    # The language switcher submits on change (js/site.js, no onchange="")
    _visit(page, f"{live_server.url}/participants/", seen)
    page.select_option("#language", "nl")
    page.wait_for_function("() => document.documentElement.lang === 'nl'")
    seen["after switching language"] = page.evaluate("window.__csp")
    page.select_option("#language", "en")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    context.close()

    # The patient's questionnaire on a phone: autosave and "clear this answer"
    w4 = Assessment.objects.get(participant=treated, timepoint="w4")
    token = issue_link(w4).rstrip("/").rsplit("/", 1)[1]
    context, phone, phone_watch = _open(
        browser, live_server, viewport={"width": 390, "height": 844}, locale="nl-NL"
    )
    phone.set_default_timeout(15000)
    url = live_server.url + reverse("questionnaires:patient", args=[token])
    _visit(phone, url, seen)
    phone.locator("input[name=q1][value='2']").check()
    phone.locator("#save-status").get_by_text("Opgeslagen").wait_for()
    phone.evaluate("window.__same_document = true")
    phone.locator("button[data-clears=q1]").click()  # questionnaires/patient.js, in place
    phone.wait_for_function("() => !document.querySelector('input[name=q1]:checked')")
    # Clearing autosaves too: let that request finish before the test's database goes away
    # (an answer still in flight at teardown would hit a flushed database).
    phone.wait_for_load_state("networkidle")
    assert phone.evaluate("window.__same_document") is True  # not the no-script form post
    seen["questionnaire after answering"] = phone.evaluate("window.__csp")
    context.close()

    assert {url: v for url, v in seen.items() if v} == {}
    assert watch.problems() == {} and phone_watch.problems() == {}


ATTACK = """
() => {
  const script = document.createElement("script");
  script.textContent = "window.__pwned = 'inline script'";
  document.body.append(script);
  const holder = document.createElement("div");
  holder.innerHTML =
    '<img id="x-img" src="/static/missing.png" onerror="window.__pwned = \\'onerror\\'">' +
    '<a id="x-link" href="javascript:void(window.__pwned = \\'javascript: link\\')">x</a>' +
    '<button id="x-htmx" hx-on:click="window.__pwned = \\'hx-on\\'">x</button>' +
    '<p id="x-style" style="color: rgb(255, 0, 0)">x</p>';
  document.body.append(holder);
  htmx.process(holder);
}
"""


def test_injected_scripts_handlers_and_styles_do_not_run(browser, live_server, personas) -> None:
    context, page, _watch = _open(browser, live_server)
    page.set_default_timeout(15000)
    login(page, live_server, "nurse_nina", PASSWORD)
    page.goto(f"{live_server.url}/participants/")
    page.wait_for_load_state("networkidle")
    page.evaluate(ATTACK)
    page.click("#x-htmx")
    page.click("#x-link")
    page.wait_for_timeout(500)  # give anything that would run the time to run
    assert page.evaluate("window.__pwned") is None
    page.wait_for_function("() => window.__csp.length >= 3", timeout=5000)
    colour = page.evaluate("getComputedStyle(document.getElementById('x-style')).color")
    assert colour != "rgb(255, 0, 0)"
    directives = {v.split()[0] for v in page.evaluate("window.__csp")}
    assert {"script-src-elem", "script-src-attr", "style-src-attr"} <= directives, directives
    context.close()
