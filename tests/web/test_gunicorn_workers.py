"""The production setup of docs/deployment.md ("Several workers"): gunicorn with four
worker processes on PostgreSQL answers a bounded load run (the participant list, a
questionnaire submit, a randomization; about 200 requests from four threads, to
127.0.0.1 only, with a hard time limit) without a single error, and the allocations the
workers made concurrently form one chain that verifies. The p95 latency is printed, never
asserted (speed is measured in bench/bench_load.py).

Run in the PostgreSQL pass (`make test-postgres`): gunicorn's workers read the test
database, which this test commits to (transaction=True). Skipped on SQLite, where the
workers would queue on one writer: that is not the production setup.
"""

from __future__ import annotations

import pytest
from bench import load_run
from django.db import connection

from blend.apps.allocation.models import Allocation
from blend.apps.allocation.verification import verify
from blend.apps.followup.models import Assessment
from tests.databases import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
WORKERS, THREADS = 4, 4
LISTS, RANDOMIZATIONS, QUESTIONNAIRES = 100, 24, 16  # 100 + 2*24 + 3*16 + logins ≈ 200


def _test_database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_four_gunicorn_workers_answer_a_bounded_load_without_errors() -> None:
    require_postgres()
    data = load_run.build(RANDOMIZATIONS, QUESTIONNAIRES)
    server, base = load_run.start_gunicorn(
        load_run.gunicorn_env(_test_database_url()), workers=WORKERS
    )
    try:
        result = load_run.run(data, base, lists=LISTS, threads=THREADS, time_limit=180)
    finally:
        load_run.stop(server)
    print(f"\ngunicorn, {WORKERS} workers, PostgreSQL: {result.summary()}")
    assert result.errors == []
    assert result.requests >= 200
    assert Allocation.objects.filter(trial="BLEND").count() == RANDOMIZATIONS
    assert Assessment.objects.filter(completed_at__isnull=False).count() == QUESTIONNAIRES
    report = verify(trial="BLEND")
    assert report.ok, report.problems
