"""Attacks on the idle timeout kept without a write per page view (issue 15 item 5), and on
reads while the database refuses writes (docs/security.md section 13)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from blend.apps.api.models import ApiToken
from blend.apps.api.tokens import issue_token
from tests.personas import PASSWORD
from tests.web.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

START = "2026-03-02 09:00:30"
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _logged_in() -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": "nurse_nina", "password": PASSWORD})[
        "Location"
    ]
    return client


@contextmanager
def read_only_database() -> Iterator[list[str]]:
    """Every write statement fails as on a read-only database (SQLite's message); the
    refused statements are listed. test_database_restart.py does the same with a real
    read-only PostgreSQL transaction."""
    refused: list[str] = []

    def refuse(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith(WRITES):
            refused.append(sql)
            raise OperationalError("attempt to write a readonly database")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield refused


def test_a_session_in_use_outlives_the_idle_limit(personas) -> None:
    """Saved only when it changes, the session would end SESSION_COOKIE_AGE after log-in
    however busy its user; the once-a-minute touch moves the expiry on."""
    with time_machine.travel(START, tick=False) as clock:
        client = _logged_in()
        for _ in range(3):  # 3 x (age - 2 min) after log-in: well past one idle limit
            clock.shift(settings.SESSION_COOKIE_AGE - 120)
            assert client.get("/participants/").status_code == 200


def test_a_short_idle_limit_is_still_kept_alive_by_use(personas, settings) -> None:
    settings.SESSION_COOKIE_AGE = 60  # the least BLEND_SESSION_SECONDS allows
    with time_machine.travel(START, tick=False) as clock:
        client = _logged_in()
        for _ in range(3):
            clock.shift(40)
            assert client.get("/participants/").status_code == 200
        clock.shift(61)
        assert client.get("/participants/").status_code == 302


def test_an_idle_session_still_ends(personas) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = _logged_in()
        clock.shift(settings.SESSION_COOKIE_AGE - 30)
        assert client.get("/participants/").status_code == 200
        clock.shift(settings.SESSION_COOKIE_AGE + 1)
        assert client.get("/participants/").status_code == 302


def test_reads_within_a_minute_write_no_session(personas) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = _logged_in()
        clock.shift(61)
        client.get("/participants/")  # the one touch of this minute
        with CaptureQueriesContext(connection) as queries:
            for _ in range(5):
                clock.shift(10)
                assert client.get("/participants/").status_code == 200
    session_writes = [
        q["sql"]
        for q in queries.captured_queries
        if "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith(WRITES)
    ]
    assert session_writes == []


def test_pages_that_only_read_work_while_the_database_refuses_writes(personas) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = _logged_in()
        clock.shift(120)  # the session's touch is due, and will be refused
        with read_only_database() as refused:
            assert client.get("/participants/").status_code == 200
            assert client.get("/").status_code == 200
    assert any("django_session" in sql for sql in refused)  # it was tried, and failed quietly


def test_api_reads_work_while_the_database_refuses_writes(personas) -> None:
    with time_machine.travel(START, tick=False) as clock:
        api = ApiClient(issue_token(personas["nurse_nina"]))
        assert api.get("/me").status_code == 200
        clock.shift(120)  # last use due again; the rate-limit counter writes too
        with read_only_database() as refused:
            assert api.get("/me").status_code == 200
            assert api.get("/participants").status_code == 200
    assert any("api_apitoken" in sql for sql in refused)
    assert any("blend_cache" in sql for sql in refused)
    stored = ApiToken.objects.get(user=personas["nurse_nina"])
    assert stored.last_used_at is not None
    assert stored.last_used_at < stored.created_at + timedelta(minutes=1)
