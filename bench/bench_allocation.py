"""Allocations per second under 8 concurrent clients, on SQLite and on PostgreSQL.

Each figure is compared with the same database's raw rate of durable single-row
insert-and-commit, measured in the same run with the same 8 clients and the same
connection settings. Durable means fsync at commit: on SQLite the production settings
(WAL, synchronous=NORMAL) are not durable, so the allocation service switches its own
commit to synchronous=FULL and the raw baseline does the same; PostgreSQL commits
durably by default. The ratio says how close the full allocation (check eligibility and
consent, lock the sequence row, check the commitment, run the design over the stratum's
history, write allocation + chained log record + audit event, commit) comes to the
cheapest possible durable write. The single-client raw rate is reported too: the
allocations of one trial form one chain, so they are serialised by design, and
PostgreSQL's group commit lets 8 raw clients share fsyncs that a chain cannot share.

Clients are run twice: as 8 threads of one process and as 8 forked processes (gunicorn's
default is separate worker processes). Every database runs in its own child process
(Django binds one database per process).
Environment: BENCH_ALLOCATIONS (default 400), BENCH_RAW_INSERTS (default 2000),
BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/blend_bench_alloc).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CLIENTS = 8
ALLOCATIONS = int(os.environ.get("BENCH_ALLOCATIONS", "400"))
RAW_INSERTS = int(os.environ.get("BENCH_RAW_INSERTS", "2000"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/blend_bench_alloc")
MODE = os.environ.get("BENCH_MODE", "threads")  # set per child by main()
SEED = "be" * 32
CHAIN_KEY = "c4" * 32


# ----------------------------------------------------------------- parent process
def main() -> int:
    OUT.mkdir(exist_ok=True)
    results: dict[str, Any] = {}
    databases = (
        ("sqlite", f"sqlite:///{OUT / 'bench_allocation.sqlite3'}"),
        ("postgresql", PG_URL),
    )
    for mode in ("threads", "processes"):
        for name, url in databases:
            key = f"{name} ({mode})"
            done = subprocess.run(
                [sys.executable, __file__, "--child", name, url],
                capture_output=True,
                text=True,
                env={**os.environ, "BENCH_MODE": mode},
            )
            if done.returncode:
                print(f"{key}: failed\n{done.stderr[-3000:]}")
                lines = done.stderr.strip().splitlines()
                results[key] = {"error": lines[-1] if lines else "failed"}
                continue
            results[key] = json.loads(done.stdout.strip().splitlines()[-1])
    report(results)
    (OUT / "allocation.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if all("error" not in r for r in results.values()) else 1


def report(results: dict[str, Any]) -> None:
    print(
        f"Allocation throughput, {CLIENTS} concurrent clients ({ALLOCATIONS} allocations, "
        f"{RAW_INSERTS} raw inserts per database)"
    )
    print(
        f"{'database (clients)':<24} {'alloc/s':>9} {'raw/s (8 clients)':>18} {'ratio':>6} "
        f"{'raw/s (1 client)':>17} {'ratio':>6}  verify"
    )
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<24} error: {r['error']}")
            continue
        print(
            f"{name:<24} {r['allocations_per_second']:>9.1f} {r['raw_inserts_per_second']:>18.1f} "
            f"{r['ratio']:>6.2f} {r['raw_single_client_per_second']:>17.1f} {r['ratio_to_single_client']:>6.2f}"
            f"  {'ok' if r['verified'] else 'FAILED'}"
        )
    print("(aim: ratio >= 0.5)")


# ------------------------------------------------------------------ child process
def child(name: str, url: str) -> None:
    os.environ.update(
        {
            "BLEND_DATABASE_URL": url,
            "BLEND_DEBUG": "1",
            "BLEND_SECURE": "0",
            "BLEND_RANDOMIZATION_SEED": SEED,
            "BLEND_CHAIN_KEY": CHAIN_KEY,
            # each allocation appends and fsyncs its head here, as in production
            "BLEND_CHAIN_ANCHOR_DIR": tempfile.mkdtemp(prefix=f"bench-anchors-{name}-"),
            "DJANGO_SETTINGS_MODULE": "blend.web.settings",
        }
    )
    fresh_database(name, url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    user, participants = build_cohort(ALLOCATIONS)
    raw = raw_insert_rate(CLIENTS)
    raw_single = raw_insert_rate(1)
    alloc = allocation_rate(participants, user)
    from blend.apps.allocation.verification import verify

    verified = verify(SEED).ok
    print(
        json.dumps(
            {
                "allocations_per_second": alloc,
                "raw_inserts_per_second": raw,
                "ratio": alloc / raw,
                "raw_single_client_per_second": raw_single,
                "ratio_to_single_client": alloc / raw_single,
                "verified": verified,
                "clients": CLIENTS,
                "mode": MODE,
                "allocations": ALLOCATIONS,
                "raw_inserts": RAW_INSERTS,
            }
        )
    )


def fresh_database(name: str, url: str) -> None:
    if name == "sqlite":
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    base, db = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')


def build_cohort(n: int) -> tuple[Any, list[Any]]:
    """Participants with full consent and a confirmed eligible screening (bulk set-up;
    the measured part is the allocation only)."""
    from datetime import date

    from django.utils import timezone

    from blend.apps.accounts.models import User
    from blend.apps.consent.models import ConsentFormVersion, ConsentRecord
    from blend.apps.registry.domain import format_study_id
    from blend.apps.registry.models import Participant, Site
    from blend.apps.screening.models import Screening

    site = Site.objects.create(code="umcu", name="UMC Utrecht")
    user = User.objects.create_user("bench", password="x" * 12, role="nurse", site=site)
    version = ConsentFormVersion.objects.create(version="v3", valid_from=date(2020, 1, 1))
    Participant.objects.bulk_create(
        [
            Participant(
                study_id=format_study_id(i + 1),
                site=site,
                registered_on=date(2025, 1, 1),
                sex="female",
                birth_year=1960,
                primary_tumour="breast",
                metastases_diagnosed_on=date(2024, 12, 1),
                performance_status=1,
                created_by=user,
            )
            for i in range(n)
        ]
    )
    people = list(Participant.objects.order_by("id"))
    ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                participant=p,
                item=item,
                answer="yes",
                effective_on=p.registered_on,
                form_version=version,
                recorded_by=user,
            )
            for p in people
            for item in "abcde"
        ]
    )
    confirmed = timezone.now()
    Screening.objects.bulk_create(
        [
            Screening(
                trial="BLEND",
                participant=p,
                screened_on=date(2025, 1, 2),
                screened_by=user,
                facts={},
                status="eligible",
                criteria_version="bench",
                confirmed_at=confirmed,
                confirmed_by=user,
            )
            for p in people
        ]
    )
    return user, people


def run_clients(work: list[list[Any]], task: Any, clients: int = CLIENTS) -> float:
    """Run ``task(item)`` for every item, one client per work list, all at once; return the
    wall time. MODE "threads": threads of this process (one gunicorn worker with threads);
    "processes": forked processes (gunicorn's default: separate worker processes)."""
    if MODE == "processes":
        return _run_processes(work, task)
    from django.db import connections

    barrier = threading.Barrier(len(work) + 1)
    errors: list[BaseException] = []

    def client(items: list[Any]) -> None:
        try:
            barrier.wait()
            for item in items:
                task(item)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(items,)) for items in work]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


def _run_processes(work: list[list[Any]], task: Any) -> float:
    import multiprocessing

    from django.db import connections

    connections.close_all()  # never share a connection across fork
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(work) + 1)

    def client(items: list[Any]) -> None:
        barrier.wait()
        for item in items:
            task(item)
        connections.close_all()

    processes = [context.Process(target=client, args=(items,)) for items in work]
    for process in processes:
        process.start()
    barrier.wait()
    start = time.perf_counter()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - start
    failed = [p.exitcode for p in processes if p.exitcode]
    if failed:
        raise RuntimeError(f"{len(failed)} client processes failed (exit codes {failed})")
    return elapsed


def raw_insert_rate(clients: int) -> float:
    from django.db import connection

    table = f"bench_raw_{clients}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, v varchar(64) NOT NULL)")
    connection.close()

    def insert(i: int) -> None:
        from django.db import connection as conn
        from django.db import transaction

        if conn.vendor == "sqlite":  # durable, like the allocation's own commit
            with conn.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=FULL")
        with transaction.atomic(), conn.cursor() as cursor:  # one row, one commit
            cursor.execute(f"INSERT INTO {table} (id, v) VALUES (%s, %s)", [i, f"row {i:08d}"])

    n = RAW_INSERTS if clients > 1 else RAW_INSERTS // 4
    work = [list(range(c, n, clients)) for c in range(clients)]
    return n / run_clients(work, insert, clients)


def allocation_rate(participants: list[Any], user: Any) -> float:
    from blend.apps.allocation.services import randomize

    work = [participants[c::CLIENTS] for c in range(CLIENTS)]
    return len(participants) / run_clients(work, lambda p: randomize(p, user=user))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(main())
