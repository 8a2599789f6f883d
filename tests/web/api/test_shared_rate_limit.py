"""The API rate limit holds exactly across processes (docs/security.md section 7).

Before, the limit was counted in each process's own memory: 342 of 400 requests spread
over the workers passed a limit of 120 a minute. Here four separate Python processes,
started together, each make 100 requests' worth of throttle checks
(``PerMinuteThrottle.allow_request``, the check ninja runs before every endpoint) on one
token within one minute (the clock frozen at the same instant in each), against the cache
they share. Exactly 120 may pass.

- the database cache: a SQLite file (or, in the PostgreSQL pass, the test database),
  whose ``incr`` must be atomic (Django's own reads and writes back, and loses counts);
- Redis at BLEND_TEST_REDIS_URL (default redis://127.0.0.1:6379/15): skipped when no
  Redis answers, a failure when BLEND_REQUIRE_REDIS=1 (CI).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.db import connection

PROCESSES, EACH, LIMIT = 4, 100, 120
REDIS_URL = os.environ.get("BLEND_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

CHILD = """
import json, os, sys, time
import django
django.setup()
import time_machine
from django.test import RequestFactory
from blend.apps.api.core import RATE_KEY, PerMinuteThrottle

go = sys.argv[1]
while not os.path.exists(go):
    time.sleep(0.005)
throttle, allowed = PerMinuteThrottle(), 0
with time_machine.travel("2026-03-02 09:00:05", tick=False):
    for _ in range(int(sys.argv[2])):
        request = RequestFactory().get("/api/me")
        request.META[RATE_KEY] = sys.argv[3]
        allowed += throttle.allow_request(request)
print(json.dumps({"allowed": allowed}))
"""


def _run_processes(env: dict[str, str], tmp_path: Path) -> list[int]:
    who = uuid.uuid4().hex  # one token's key, fresh for this run
    go = tmp_path / "go"
    child_env = {
        **os.environ,
        **env,
        "DJANGO_SETTINGS_MODULE": "blend.web.test_settings",
        "BLEND_API_RATE_PER_MINUTE": str(LIMIT),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(go), str(EACH), who],
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    time.sleep(0.5)  # let them all import Django and wait at the line
    go.touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1])["allowed"])
    return results


def _database_env(tmp_path: Path) -> dict[str, str]:
    if connection.vendor == "postgresql":
        # The test database (it has the cache table: Django's test set-up creates it).
        s = connection.settings_dict
        url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        if s.get("PASSWORD"):
            url = url.replace("@", f":{s['PASSWORD']}@", 1)
        return {"BLEND_DATABASE_URL": url, "BLEND_CACHE_URL": ""}
    path = tmp_path / "cache.sqlite3"
    env = {"BLEND_DATABASE_URL": f"sqlite:///{path}", "BLEND_CACHE_URL": ""}
    subprocess.run(
        [sys.executable, "-m", "django", "createcachetable"],
        env={
            **os.environ,
            **env,
            "DJANGO_SETTINGS_MODULE": "blend.web.test_settings",
            "PYTHONPATH": os.pathsep.join(sys.path),
        },
        check=True,
    )
    return env


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_rate_limit_holds_exactly_across_processes_in_the_database_cache(
    tmp_path: Path,
) -> None:
    allowed = _run_processes(_database_env(tmp_path), tmp_path)
    assert sum(allowed) == LIMIT, allowed


def _redis_answers(url: str) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    except OSError:
        return False


@pytest.mark.slow
def test_the_rate_limit_holds_exactly_across_processes_in_redis(tmp_path: Path) -> None:
    if not _redis_answers(REDIS_URL):
        message = f"no Redis answers at {REDIS_URL}"
        if os.environ.get("BLEND_REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    allowed = _run_processes({"BLEND_CACHE_URL": REDIS_URL}, tmp_path)
    assert sum(allowed) == LIMIT, allowed


def test_the_cache_is_redis_when_a_url_is_given_and_the_database_otherwise() -> None:
    probe = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"

    def backend(**env: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {probe}"],
            env={
                **os.environ,
                **env,
                "DJANGO_SETTINGS_MODULE": "blend.web.test_settings",
                "PYTHONPATH": os.pathsep.join(sys.path),
            },
            capture_output=True,
            text=True,
        )

    assert backend(BLEND_CACHE_URL="").stdout.strip() == "blend.apps.api.cache.DatabaseCache"
    assert (
        backend(BLEND_CACHE_URL="redis://cache:6379/0").stdout.strip()
        == "django.core.cache.backends.redis.RedisCache"
    )
    refused = backend(BLEND_CACHE_URL="memcached://cache:11211")
    assert refused.returncode != 0
    assert "BLEND_CACHE_URL: expected a Redis URL" in refused.stderr
    assert "got 'memcached'" in refused.stderr


@pytest.mark.django_db
def test_an_unreachable_redis_lets_requests_through_and_logs_it(
    personas: Any, settings: Any, caplog: Any
) -> None:
    """The throttles guard against abuse; a cache outage must not become an outage of the
    API or of the log-in page (the per-account lockout lives in the database)."""
    from django.test import Client

    from blend.apps.api.tokens import issue_token
    from tests.personas import PASSWORD
    from tests.web.api.conftest import ApiClient

    token = issue_token(personas["nurse_nina"])
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    assert ApiClient(token).get("/me").status_code == 200
    assert ApiClient("blend_wrong").get("/me").status_code == 401
    login = Client().post("/accounts/login/", {"username": "nurse_nina", "password": PASSWORD})
    assert login.status_code == 302
    assert "not counted: the cache cannot be written" in caplog.text


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_rate_limit_holds_across_gunicorn_workers(personas: Any, tmp_path: Path) -> None:
    """The whole stack, as issue 14 measured it: 400 requests on one token to three
    gunicorn workers within one clock minute; exactly 120 answer 200, the rest 429."""
    import concurrent.futures
    import urllib.error
    import urllib.request

    from blend.apps.api.tokens import issue_token
    from tests.databases import require_postgres

    require_postgres()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        **_database_env(tmp_path),
        "DJANGO_SETTINGS_MODULE": "blend.web.test_settings",
        "BLEND_API_RATE_PER_MINUTE": str(LIMIT),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "blend.web.wsgi", "--workers", "3", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def get(path: str, bearer: str = "") -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {bearer}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    try:
        for _ in range(600):  # the workers start
            try:
                get("/api/openapi.json")
                break
            except OSError:
                time.sleep(0.1)
        for _attempt in range(2):
            token = issue_token(personas["nurse_nina"])  # a fresh count for each attempt
            while time.time() % 60 > 20:  # the burst must fit in one clock minute
                time.sleep(0.5)
            minute = int(time.time() // 60)
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                statuses = list(
                    pool.map(get, ["/api/me"] * (PROCESSES * EACH), [token] * (PROCESSES * EACH))
                )
            if int(time.time() // 60) == minute:
                break
        assert int(time.time() // 60) == minute, "the burst took longer than a minute"
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert sorted(set(statuses)) == [200, 429], statuses
    assert statuses.count(200) == LIMIT
