"""The web edge (docs/security.md, section 8): a strict Content-Security-Policy on every
response, pages that need no inline script, style or handler to work, and
``Cache-Control: no-store`` on every page that shows identifiers (and every other page
the application makes), while static files stay cacheable.

The browser half (the policy enforced, injected scripts refused) is
tests/browser/test_csp_enforced.py."""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from blend.apps.followup.models import Assessment
from blend.apps.questionnaires.services import issue_link
from blend.web.csp import PolicyError, parse_extra, policy
from tests.pages import finish
from tests.web.followup.factories import treat  # noqa: F401  (fixture)

SRC = Path(__file__).resolve().parents[2] / "src" / "blend"


def directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


class InlineCode(HTMLParser):
    """Collects what a strict policy refuses: inline scripts, handlers, style, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src") and names.get("type") != "application/json":
            self.found.append(f"<script> without src at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on") or name.startswith("hx-on") or name == "style":
                self.found.append(f"<{tag} {name}=...> at line {self.getpos()[0]}")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...> at line {self.getpos()[0]}")
            if name in {"hx-vals", "hx-vars"} and value and value.strip().startswith("js:"):
                self.found.append(f"<{tag} {name}=js:...> at line {self.getpos()[0]}")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_no_template_holds_inline_script_style_or_handlers() -> None:
    templates = sorted(SRC.rglob("templates/**/*.html"))
    assert len(templates) > 40
    found = {
        str(path.relative_to(SRC)): hits
        for path in templates
        if (hits := inline_code(path.read_text(encoding="utf-8")))
    }
    assert found == {}


@pytest.fixture
def pages(client_for, make_participant, treat):  # type: ignore[no-untyped-def]  # noqa: F811
    """(client, url) of the main pages: staff pages with identifiers, a patient's page."""
    waiting = make_participant()
    treated = treat(make_participant(), days_ago=28)
    token = issue_link(Assessment.objects.get(participant=treated, timepoint="w4"))
    nurse = client_for("nurse_nina")
    urls = [
        (nurse, "/"),
        (nurse, "/participants/"),
        (nurse, f"/participants/{waiting.study_id}/"),  # name, hospital number (identifiers.view)
        (nurse, f"/participants/{waiting.study_id}/edit/"),  # the identifier edit form
        (nurse, "/participants/new/"),
        (nurse, f"/consent/{waiting.study_id}/record/"),
        (nurse, f"/screening/{waiting.study_id}/"),
        (nurse, f"/treatment/{treated.study_id}/"),
        (nurse, "/safety/"),
        (client_for("monitor_mo"), f"/participants/{waiting.study_id}/"),
        (client_for("datamanager_dirk"), "/exports/"),
        (nurse.__class__(), "/accounts/login/"),
        (
            nurse.__class__(),
            reverse("questionnaires:patient", args=[token.rstrip("/").rsplit("/", 1)[1]]),
        ),
    ]
    return urls


@pytest.mark.django_db
def test_every_page_carries_the_strict_policy_and_no_store(pages) -> None:  # type: ignore[no-untyped-def]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        policy_ = directives(response["Content-Security-Policy"])
        assert policy_["script-src"] == ["'self'"], url
        assert policy_["style-src"] == ["'self'"], url
        assert policy_["default-src"] == ["'self'"], url
        assert policy_["object-src"] == ["'none'"] and policy_["base-uri"] == ["'none'"], url
        assert policy_["frame-ancestors"] == ["'none'"] and policy_["form-action"] == ["'self'"]
        assert "no-store" in response["Cache-Control"], url
        assert inline_code(response.content.decode()) == [], url


@pytest.mark.django_db
def test_exports_and_errors_are_not_stored_either(client_for, personas) -> None:
    response = client_for("datamanager_dirk").post("/exports/full/download/", {"format": ["csv"]})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    finish(response)
    refused = client_for("nurse_nina").get("/exports/")
    assert refused.status_code == 403 and "no-store" in refused["Cache-Control"]
    assert "Content-Security-Policy" in refused


@pytest.mark.django_db
@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_static_files_stay_cacheable() -> None:
    from django.conf import settings

    middleware = settings.MIDDLEWARE
    assert middleware.index("blend.web.middleware.NoStore") > middleware.index(
        "whitenoise.middleware.WhiteNoiseMiddleware"
    )
    response = Client().get("/static/js/site.js")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    b"".join(response.streaming_content)  # type: ignore[attr-defined]
    finish(response)


def test_a_deployment_may_add_hosts_and_hashes_but_not_weaken_scripts() -> None:
    extra = (
        "img-src https://logo.umcutrecht.nl; script-src 'sha256-AbC+/9=' https://proxy.example:8443"
    )
    assert parse_extra(extra) == {
        "img-src": ["https://logo.umcutrecht.nl"],
        "script-src": ["'sha256-AbC+/9='", "https://proxy.example:8443"],
    }
    built = policy(extra, report_uri="/csp-report")["DIRECTIVES"]
    assert built["script-src"] == ["'self'", "'sha256-AbC+/9='", "https://proxy.example:8443"]
    assert built["img-src"] == ["'self'", "data:", "https://logo.umcutrecht.nl"]
    assert built["report-uri"] == "/csp-report"
    assert policy("font-src https://fonts.example")["DIRECTIVES"]["font-src"] == [
        "'self'",
        "https://fonts.example",
    ]
    for bad, says in [
        ("script-src 'unsafe-inline'", "'unsafe-inline' is refused for script-src"),
        ("script-src 'unsafe-eval'", "'unsafe-eval' is refused"),
        ("style-src 'unsafe-inline'", "'unsafe-inline' is refused for style-src"),
        ("img-src *", "* is refused"),
        ("script-src data:", "data: is refused for script-src"),
        ("default-src https:", "https: is refused"),
        ("sandbox allow-scripts", "expected a directive among"),
        ("frame-ancestors https://evil.example", "expected a directive among"),
        ("img-src", "expected at least one source"),
        ("img-src java script:alert(1)", "expected a host"),
    ]:
        with pytest.raises(PolicyError, match="BLEND_CSP_EXTRA") as raised:
            parse_extra(bad)
        assert says in str(raised.value), bad


def test_a_bad_extra_stops_start_up_with_the_variable_named() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLEND_CSP")}
    env |= {"BLEND_CSP_EXTRA": "script-src 'unsafe-inline'", "BLEND_LOCAL_SETTINGS": ""}
    done = subprocess.run(
        [sys.executable, "-c", "import blend.web.test_settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured: BLEND_CSP_EXTRA: 'unsafe-inline' is refused" in done.stderr
