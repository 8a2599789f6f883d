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

Allocation is measured at 1 client and at 8, with each call's latency (p99 reported,
goal <= 50 ms under 8 clients). Clients are run as 8 threads of one process, where
concurrent allocations of the trial are committed together (group commit,
apps/allocation/group_commit.py), as the same threads with group commit off (the lean
single path: one transaction per allocation), and as 8 forked processes (gunicorn's
default: separate worker processes, each grouping only its own requests). Every
database and scenario runs in its own child process (Django binds one database per
process). Headline figures go to bench/out/allocation.figures.json (bench/figures.py).
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

from figures import Figure, record

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CLIENTS = 8
ALLOCATIONS = int(os.environ.get("BENCH_ALLOCATIONS", "400"))
RAW_INSERTS = int(os.environ.get("BENCH_RAW_INSERTS", "2000"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/blend_bench_alloc")
MODE = os.environ.get("BENCH_MODE", "threads")  # set per child by main()
GROUP_COMMIT = os.environ.get("BENCH_GROUP_COMMIT", "1") == "1"  # set per child by main()
SCENARIOS = (  # (label, clients as, group commit)
    ("threads, group commit", "threads", True),
    ("threads, lean single path", "threads", False),
    ("processes, one request at a time each", "processes", True),
)
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
    for label, mode, group in SCENARIOS:
        for name, url in databases:
            key = f"{name} ({label})"
            done = subprocess.run(
                [sys.executable, __file__, "--child", name, url],
                capture_output=True,
                text=True,
                env={**os.environ, "BENCH_MODE": mode, "BENCH_GROUP_COMMIT": "1" if group else "0"},
            )
            if done.returncode:
                print(f"{key}: failed\n{done.stderr[-3000:]}")
                lines = done.stderr.strip().splitlines()
                results[key] = {"error": lines[-1] if lines else "failed"}
                continue
            results[key] = json.loads(done.stdout.strip().splitlines()[-1])
    report(results)
    (OUT / "allocation.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    record("allocation", figures(results))
    return 0 if all("error" not in r for r in results.values()) else 1


def figures(results: dict[str, Any]) -> list[Figure]:
    found = []
    for key, r in results.items():
        if "error" in r:
            continue
        database, label = key.split(" ", 1)
        shown = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[database]
        found.append(
            Figure(
                f"allocation, {shown}, 8 clients {label}",
                value=r["allocations_per_second"],
                unit="alloc/s",
                anchor=r["raw_inserts_per_second"],
                anchor_label="raw durable insert+commit, 8 clients",
                goal_ratio_min=0.5,
                note="verified" if r["verified"] else "chain did NOT verify",
            )
        )
        found.append(
            Figure(
                f"allocation p99, {shown}, 8 clients {label}",
                value=r["p99_ms"],
                unit="ms",
                goal_value_max=50,
                note=f"p50 {r['p50_ms']:.1f} ms",
            )
        )
        if label.startswith("(threads, group"):
            found.append(
                Figure(
                    f"allocation, {shown}, 1 client",
                    value=r["single_client_allocations_per_second"],
                    unit="alloc/s",
                    anchor=r["raw_single_client_per_second"],
                    anchor_label="raw durable insert+commit, 1 client",
                    goal_ratio_min=0.5,
                )
            )
    return found


def report(results: dict[str, Any]) -> None:
    print(
        f"Allocation throughput, {CLIENTS} concurrent clients ({ALLOCATIONS} allocations, "
        f"{RAW_INSERTS} raw inserts per database)"
    )
    print(
        f"{'database (clients)':<44} {'alloc/s':>8} {'raw/s 8':>8} {'ratio':>6} {'p99 ms':>7} "
        f"{'alloc/s 1':>9} {'raw/s 1':>8} {'ratio':>6}  verify"
    )
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<44} error: {r['error']}")
            continue
        print(
            f"{name:<44} {r['allocations_per_second']:>8.1f} {r['raw_inserts_per_second']:>8.1f} "
            f"{r['ratio']:>6.2f} {r['p99_ms']:>7.1f} "
            f"{r['single_client_allocations_per_second']:>9.1f} "
            f"{r['raw_single_client_per_second']:>8.1f} {r['single_client_ratio']:>6.2f}"
            f"  {'ok' if r['verified'] else 'FAILED'}"
        )
    print("(aims: ratio >= 0.5 at 1 and 8 clients; p99 <= 50 ms under 8 clients)")


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

    from blend.apps.allocation import group_commit

    group_commit.ENABLED = GROUP_COMMIT
    call_command("migrate", verbosity=0)
    single = ALLOCATIONS // 4
    user, participants = build_cohort(ALLOCATIONS + single)
    raw, _ = raw_insert_rate(CLIENTS)
    raw_single, _ = raw_insert_rate(1)
    alloc_single, _ = allocation_rate(participants[:single], user, 1)
    alloc, latencies = allocation_rate(participants[single:], user, CLIENTS)
    from blend.apps.allocation.verification import verify

    verified = verify(SEED).ok
    print(
        json.dumps(
            {
                "allocations_per_second": alloc,
                "raw_inserts_per_second": raw,
                "ratio": alloc / raw,
                "p50_ms": percentile(latencies, 0.50) * 1000,
                "p99_ms": percentile(latencies, 0.99) * 1000,
                "single_client_allocations_per_second": alloc_single,
                "raw_single_client_per_second": raw_single,
                "single_client_ratio": alloc_single / raw_single,
                "verified": verified,
                "clients": CLIENTS,
                "mode": MODE,
                "group_commit": GROUP_COMMIT,
                "allocations": ALLOCATIONS,
                "raw_inserts": RAW_INSERTS,
            }
        )
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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


def run_clients(work: list[list[Any]], task: Any) -> tuple[float, list[float]]:
    """Run ``task(item)`` for every item, one client per work list, all at once; return the
    wall time and each call's latency. MODE "threads": threads of this process (one
    gunicorn worker with threads); "processes": forked processes (gunicorn's default:
    separate worker processes)."""
    if MODE == "processes" and len(work) > 1:
        return _run_processes(work, task)
    from django.db import connections

    barrier = threading.Barrier(len(work) + 1)
    errors: list[BaseException] = []
    latencies: list[float] = []

    def client(items: list[Any]) -> None:
        try:
            barrier.wait()
            latencies.extend(_timed(task, items))
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
    return elapsed, latencies


def _timed(task: Any, items: list[Any]) -> list[float]:
    found = []
    for item in items:
        started = time.perf_counter()
        task(item)
        found.append(time.perf_counter() - started)
    return found


def _run_processes(work: list[list[Any]], task: Any) -> tuple[float, list[float]]:
    import multiprocessing

    from django.db import connections

    connections.close_all()  # never share a connection across fork
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(work) + 1)
    measured = context.SimpleQueue()

    def client(items: list[Any]) -> None:
        barrier.wait()
        measured.put(_timed(task, items))
        connections.close_all()

    processes = [context.Process(target=client, args=(items,)) for items in work]
    for process in processes:
        process.start()
    barrier.wait()
    start = time.perf_counter()
    latencies: list[float] = []
    for _ in processes:  # drain before joining: a full pipe would block a child's exit
        latencies.extend(measured.get())
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - start
    failed = [p.exitcode for p in processes if p.exitcode]
    if failed:
        raise RuntimeError(f"{len(failed)} client processes failed (exit codes {failed})")
    return elapsed, latencies


def raw_insert_rate(clients: int) -> tuple[float, list[float]]:
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
    elapsed, latencies = run_clients(work, insert)
    return n / elapsed, latencies


def allocation_rate(participants: list[Any], user: Any, clients: int) -> tuple[float, list[float]]:
    from blend.apps.allocation.services import randomize

    work = [participants[c::clients] for c in range(clients)]
    elapsed, latencies = run_clients(work, lambda p: randomize(p, user=user))
    return len(participants) / elapsed, latencies


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(main())
