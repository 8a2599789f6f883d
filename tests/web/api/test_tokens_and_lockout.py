"""Attacks on docs/security.md section 7: tokens expire, a lockout revokes the account's
token and sessions at once, and one address cannot go on failing log-ins or tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from blend.apps.api.models import ApiToken
from blend.apps.api.tokens import issue_token
from blend.apps.audit.models import AuditEvent
from tests.personas import PASSWORD
from tests.web.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

START = "2026-03-02 09:00:30"  # half a minute into a throttle window: no window boundary in a test


def _error(response: Any) -> str:
    body = response.json()
    assert set(body) == {"ok", "error", "errors", "status"} and body["ok"] is False
    return str(body["error"])


# --- expiry ---------------------------------------------------------------------------


def test_a_token_expires_after_the_configured_days_with_a_401_that_says_so(personas) -> None:
    assert settings.API_TOKEN_DAYS == 90
    with time_machine.travel(START, tick=False) as clock:
        raw = issue_token(personas["nurse_nina"])
        stored = ApiToken.objects.get(user=personas["nurse_nina"])
        assert stored.expires_at - stored.created_at == timedelta(days=90)
        client = ApiClient(raw)
        for _ in range(3):  # used within every idle period, so only the 90 days end it
            clock.shift(timedelta(days=29))
            assert client.get("/me").status_code == 200
        clock.shift(timedelta(days=3, seconds=1))  # 90 days and a second after issue
        response = client.get("/me")
    assert response.status_code == 401
    assert "expired on" in _error(response) and "90 days" in _error(response)


def test_a_token_left_unused_for_the_idle_days_stops_working(personas, settings) -> None:
    settings.API_TOKEN_IDLE_DAYS = 30
    with time_machine.travel(START, tick=False) as clock:
        client = ApiClient(issue_token(personas["nurse_nina"]))
        assert client.get("/me").status_code == 200
        clock.shift(timedelta(days=30, minutes=2))
        response = client.get("/me")
    assert response.status_code == 401
    assert "30 days unused" in _error(response)


def test_an_unknown_or_replaced_token_is_refused_saying_which(personas) -> None:
    old = issue_token(personas["nurse_nina"])
    issue_token(personas["nurse_nina"])
    assert "replaced" in _error(ApiClient(old).get("/me"))
    assert "never issued" in _error(ApiClient("blend_guessed").get("/me"))


def test_last_use_is_written_at_most_once_a_minute(personas) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = ApiClient(issue_token(personas["nurse_nina"]))
        client.get("/me")
        first = ApiToken.objects.get(user=personas["nurse_nina"]).last_used_at
        assert first is not None
        clock.shift(timedelta(seconds=59))
        client.get("/me")
        assert ApiToken.objects.get(user=personas["nurse_nina"]).last_used_at == first
        clock.shift(timedelta(seconds=2))
        client.get("/me")
        later = ApiToken.objects.get(user=personas["nurse_nina"]).last_used_at
        assert later is not None and later > first


# --- lockout ----------------------------------------------------------------------------


def _lock_out(username: str) -> None:
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post("/accounts/login/", {"username": username, "password": "wrong"})


def test_a_lockout_refuses_the_accounts_token_and_ends_its_session_at_once(personas) -> None:
    token = ApiClient(issue_token(personas["nurse_nina"]))
    browser = Client()
    assert browser.post("/accounts/login/", {"username": "nurse_nina", "password": PASSWORD})[
        "Location"
    ]
    assert browser.get("/participants/").status_code == 200
    colleague = ApiClient(issue_token(personas["monitor_mo"]))
    assert token.get("/me").status_code == 200

    _lock_out("nurse_nina")

    refused = token.get("/me")
    assert refused.status_code == 401 and "locked" in _error(refused)
    assert browser.get("/participants/").status_code == 302  # back to the log-in page
    assert colleague.get("/me").status_code == 200  # nobody else's access changes
    event = AuditEvent.objects.get(action="access.revoked_on_lockout")
    assert event.details == {"user": "nurse_nina", "tokens": 1, "sessions": 1}


def test_a_lockout_of_a_name_that_is_no_account_changes_nothing(personas) -> None:
    token = ApiClient(issue_token(personas["nurse_nina"]))
    _lock_out("no_such_user")
    assert token.get("/me").status_code == 200
    assert not AuditEvent.objects.filter(action="access.revoked_on_lockout").exists()


# --- per-address throttles ---------------------------------------------------------------


def test_one_address_failing_log_ins_across_many_accounts_is_throttled(personas, settings) -> None:
    """Spraying one password over many accounts never trips the per-account lockout."""
    settings.IP_FAILURE_LIMIT = 6
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    with time_machine.travel(START, tick=False):
        statuses = [
            attacker.post(
                "/accounts/login/", {"username": f"user{i}", "password": "Winter2026!"}
            ).status_code
            for i in range(8)
        ]
        # The right password for a real account, from the throttled address: refused unread.
        blocked = attacker.post(
            "/accounts/login/", {"username": "nurse_nina", "password": PASSWORD}
        )
        dutch = attacker.post(
            "/accounts/login/",
            {"username": "x", "password": "x"},
            headers={"Accept-Language": "nl"},
        )
        other = Client(REMOTE_ADDR="203.0.113.9")
        allowed = other.post("/accounts/login/", {"username": "nurse_nina", "password": PASSWORD})
    assert statuses == [200] * 6 + [429, 429]
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert "Too many failed log-in attempts" in blocked.content.decode()
    assert "Er kwamen te veel mislukte inlogpogingen" in dutch.content.decode()
    assert allowed.status_code == 302  # another address (another ward) logs in


def test_the_throttle_ends_with_its_window(personas, settings) -> None:
    settings.IP_FAILURE_LIMIT = 2
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    with time_machine.travel(START, tick=False) as clock:
        for i in range(2):
            attacker.post("/accounts/login/", {"username": f"user{i}", "password": "x"})
        assert (
            attacker.post("/accounts/login/", {"username": "user9", "password": "x"}).status_code
            == 429
        )
        clock.shift(timedelta(minutes=settings.IP_FAILURE_MINUTES))
        response = attacker.post(
            "/accounts/login/", {"username": "nurse_nina", "password": PASSWORD}
        )
    assert response.status_code == 302


def test_a_forwarded_for_header_does_not_change_the_counted_address(personas, settings) -> None:
    """Without a trusted proxy (BLEND_PROXY_COUNT=0), X-Forwarded-For is the client's own
    claim; rotating it must not reset the count."""
    settings.IP_FAILURE_LIMIT = 3
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    with time_machine.travel(START, tick=False):
        statuses = [
            attacker.post(
                "/accounts/login/",
                {"username": f"user{i}", "password": "x"},
                headers={"X-Forwarded-For": f"10.0.0.{i}"},
            ).status_code
            for i in range(5)
        ]
    assert statuses == [200, 200, 200, 429, 429]


def test_behind_a_trusted_proxy_the_address_it_saw_is_counted(personas, settings) -> None:
    settings.IP_FAILURE_LIMIT, settings.PROXY_COUNT = 2, 1
    proxy = Client(REMOTE_ADDR="10.1.1.1")  # every request arrives from the proxy
    with time_machine.travel(START, tick=False):
        for _ in range(2):
            proxy.post(
                "/accounts/login/",
                {"username": "userx", "password": "x"},
                headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.7"},
            )
        attacker = proxy.post(
            "/accounts/login/",
            {"username": "nurse_nina", "password": PASSWORD},
            headers={"X-Forwarded-For": "5.6.7.8, 198.51.100.7"},  # spoofed left part ignored
        )
        colleague = proxy.post(
            "/accounts/login/",
            {"username": "nurse_nina", "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
    assert attacker.status_code == 429 and colleague.status_code == 302


def test_one_address_trying_tokens_is_throttled_even_with_a_valid_one(personas, settings) -> None:
    settings.IP_FAILURE_LIMIT = 5
    good = issue_token(personas["nurse_nina"])
    with time_machine.travel(START, tick=False):
        statuses = []
        for i in range(7):
            response = Client(REMOTE_ADDR="198.51.100.7").get(
                "/api/me", headers={"Authorization": f"Bearer blend_guess{i}"}
            )
            statuses.append(response.status_code)
        blocked = Client(REMOTE_ADDR="198.51.100.7").get(
            "/api/me", headers={"Authorization": f"Bearer {good}"}
        )
        elsewhere = Client(REMOTE_ADDR="203.0.113.9").get(
            "/api/me", headers={"Authorization": f"Bearer {good}"}
        )
    assert statuses == [401] * 5 + [429, 429]
    assert blocked.status_code == 429 and "too many failed API tokens" in _error(blocked)
    assert int(blocked["Retry-After"]) > 0
    assert elsewhere.status_code == 200


def test_an_expired_token_counts_as_a_failure_too(personas, settings) -> None:
    settings.IP_FAILURE_LIMIT = 2
    client = Client(REMOTE_ADDR="198.51.100.7")
    with time_machine.travel(START, tick=False):
        raw = issue_token(personas["nurse_nina"])
        ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        statuses = [
            client.get("/api/me", headers={"Authorization": f"Bearer {raw}"}).status_code
            for _ in range(3)
        ]
    assert statuses == [401, 401, 429]
