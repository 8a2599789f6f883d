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
