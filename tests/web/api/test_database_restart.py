"""A database restart, and a database that is read-only, on PostgreSQL (docs/security.md
section 13). Run in the PostgreSQL pass (`make test-postgres`); skipped on SQLite."""

from __future__ import annotations

import io
from typing import Any
from wsgiref.util import setup_testing_defaults

import psycopg
import pytest
import time_machine
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.db import connection, transaction
from django.test import Client

from blend.apps.api.tokens import issue_token
from tests.databases import require_postgres
from tests.personas import PASSWORD
from tests.web.api.conftest import ApiClient

pytestmark = pytest.mark.postgres


def _wsgi_get(path: str, token: str) -> tuple[str, bytes]:
    """One request through the WSGI application as gunicorn makes it: with Django's
    request_started/finished signals, which the test client switches off and which are
    where a kept connection is checked (CONN_HEALTH_CHECKS) or closed."""
    environ: dict[str, Any] = {
        "PATH_INFO": path,
        "REQUEST_METHOD": "GET",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.input": io.BytesIO(b""),
    }
    setup_testing_defaults(environ)
    status: list[str] = []

    def start_response(line: str, headers: Any, exc_info: Any = None) -> Any:
        status.append(line)
        return lambda data: None

    body = b"".join(get_wsgi_application()(environ, start_response))
    return status[0], body


def _terminate_the_apps_connections() -> int:
    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"],
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
        autocommit=True,
    ) as killer:
        rows = killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


@pytest.mark.django_db(transaction=True)
def test_a_restarted_database_gives_no_error_page(personas) -> None:
    require_postgres()
    assert (settings.DATABASES["default"]["CONN_MAX_AGE"] or 0) > 0  # connections are kept ...
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"]  # ... and checked
    token = issue_token(personas["nurse_nina"])
    assert _wsgi_get("/api/me", token)[0].startswith("200")
    assert connection.connection is not None  # kept for the next request
    assert _terminate_the_apps_connections() >= 1  # what a restart does to it
    status, body = _wsgi_get("/api/me", token)
    assert status.startswith("200"), body[:500]


@pytest.mark.django_db
def test_reads_work_in_a_read_only_postgresql_transaction(personas) -> None:
    require_postgres()
    with time_machine.travel("2026-03-02 09:00:30", tick=False) as clock:
        browser = Client()
        browser.post("/accounts/login/", {"username": "nurse_nina", "password": PASSWORD})
        api = ApiClient(issue_token(personas["nurse_nina"]))
        assert api.get("/me").status_code == 200
        clock.shift(120)  # the session's and the token's touch are both due
        with pytest.raises(_Undo), transaction.atomic():
            with connection.cursor() as cursor:
                # What a standby, or `default_transaction_read_only`, does to every write.
                cursor.execute("SET transaction_read_only = on")
            assert browser.get("/participants/").status_code == 200
            assert api.get("/me").status_code == 200
            assert api.get("/participants").status_code == 200
            with connection.cursor() as cursor:
                cursor.execute("SHOW transaction_read_only")
                assert cursor.fetchone() == ("on",)  # it really was read-only throughout
            raise _Undo  # back to read-write (the savepoint's SET is undone) for the teardown


class _Undo(Exception):
    pass
