"""gunicorn with 4 workers on PostgreSQL under a bounded load: the p95 latency.

The production setup of docs/deployment.md ("Several workers"), driven by the same load
run as tests/web/test_gunicorn_workers.py (bench/load_run.py): 100 participant-list
views, 24 randomizations (form and POST) and 16 questionnaires (page, save, submit) from
4 client threads, to 127.0.0.1 only, plus each thread's login: about 200 requests. A
fresh database (BENCH_LOAD_PG_URL, default
postgres://postgres@127.0.0.1:5432/blend_bench_load) is migrated and filled first.
Figures: the p95 per kind and overall (reported; the issue sets no goal for them), and
the errors (goal: none).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from figures import Figure, record

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # this checkout's code, and bench.load_run

from bench import load_run  # noqa: E402

OUT = ROOT / "bench" / "out"
PG_URL = os.environ.get("BENCH_LOAD_PG_URL", "postgres://postgres@127.0.0.1:5432/blend_bench_load")
WORKERS, THREADS = 4, 4
LISTS, RANDOMIZATIONS, QUESTIONNAIRES = 100, 24, 16


def fresh_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    OUT.mkdir(exist_ok=True)
    fresh_database(PG_URL)
    anchors = tempfile.mkdtemp(prefix="bench-load-anchors-")
    env = load_run.gunicorn_env(PG_URL, BLEND_CHAIN_ANCHOR_DIR=anchors)
    os.environ.update(
        {
            k: env[k]
            for k in ("BLEND_DATABASE_URL", "DJANGO_SETTINGS_MODULE", "BLEND_CHAIN_ANCHOR_DIR")
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    data = load_run.build(RANDOMIZATIONS, QUESTIONNAIRES)
    from django.db import connections

    connections.close_all()
    server, base = load_run.start_gunicorn(env, workers=WORKERS)
    try:
        result = load_run.run(data, base, lists=LISTS, threads=THREADS, time_limit=300)
    finally:
        load_run.stop(server)
    from blend.apps.allocation.verification import verify

    verified = verify(trial="BLEND").ok
    print(f"gunicorn, {WORKERS} workers, PostgreSQL: {result.summary()}")
    print(f"chain verifies: {verified}")
    for error in result.errors[:10]:
        print("error:", error)
    kinds = ("participant list", "questionnaire submit", "randomization")
    report = {
        "workers": WORKERS,
        "threads": THREADS,
        "requests": result.requests,
        "seconds": result.seconds,
        "errors": result.errors,
        "verified": verified,
        "p95_ms": {kind: result.p95(kind) * 1000 for kind in result.latencies}
        | {"overall": result.p95() * 1000},
    }
    (OUT / "load.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    figures = [
        Figure(
            f"{WORKERS} gunicorn workers, PostgreSQL: p95 {kind}",
            value=result.p95(kind) * 1000,
            unit="ms",
            note=f"{len(result.latencies.get(kind, []))} requests",
        )
        for kind in kinds
    ]
    figures.append(
        Figure(
            f"{WORKERS} gunicorn workers, PostgreSQL: p95 overall",
            value=result.p95() * 1000,
            unit="ms",
            note=f"{result.requests} requests from {THREADS} threads in {result.seconds:.1f} s",
        )
    )
    figures.append(
        Figure(
            f"{WORKERS} gunicorn workers, PostgreSQL: errors",
            value=len(result.errors),
            unit="errors",
            goal_value_max=0,
            note="chain verified" if verified else "chain did NOT verify",
        )
    )
    record("load", figures)
    return 0 if not result.errors and verified else 1


if __name__ == "__main__":
    raise SystemExit(main())
