"""A process killed between the chain computation and the commit loses nothing it
acknowledged and leaves nothing half-written.

A child process allocates three members one by one (each acknowledged: ``randomize``
returned), then three more at once from threads, so that they form one group commit; the
group's rows, hashes and MACs are written inside its transaction, and the process then
ends with ``os._exit`` before the commit. Afterwards the database holds exactly the three
acknowledged allocations with their log records and audit events,
`blend randomization verify` (with the seed) and `blend check-audit` pass, and the next
allocation continues the chain at number 4.

The child works on a database of its own (migrated by it): a SQLite file, or on
PostgreSQL (the PostgreSQL pass) a database beside the test database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.web.test_deploy_check import BLEND

pytestmark = pytest.mark.slow
CRASH_EXIT = 70

CHILD = r"""
import json, os, sys, threading
from datetime import date
import django
django.setup()
from django.core.management import call_command
from django.utils import timezone

phase = sys.argv[1]
if phase == "setup":
    call_command("migrate", verbosity=0)
    from blend.apps.accounts.models import User
    from blend.apps.consent.models import ConsentFormVersion, ConsentRecord
    from blend.apps.registry.domain import format_study_id
    from blend.apps.registry.models import Participant, Site
    from blend.apps.screening.models import Screening
    site = Site.objects.create(code="umcu", name="UMC Utrecht")
    user = User.objects.create_user("nurse_nina", password="x" * 12, role="nurse", site=site)
    version = ConsentFormVersion.objects.create(version="v3", valid_from=date(2020, 1, 1))
    for i in range(8):
        p = Participant.objects.create(
            study_id=format_study_id(i + 1), site=site, registered_on=date(2025, 1, 1),
            sex="female", birth_year=1960, primary_tumour="breast",
            metastases_diagnosed_on=date(2024, 12, 1), performance_status=1, created_by=user,
        )
        for item in "abcde":
            ConsentRecord.objects.create(
                participant=p, item=item, answer="yes", effective_on=p.registered_on,
                form_version=version, recorded_by=user,
            )
        Screening.objects.create(
            trial="BLEND", participant=p, screened_on=date(2025, 1, 2), screened_by=user,
            facts={}, status="eligible", criteria_version="crash-test",
            confirmed_at=timezone.now(), confirmed_by=user,
        )
    print("ready", flush=True)

elif phase in ("crash", "resume"):
    from blend.apps.accounts.models import User
    from blend.apps.allocation import ledger
    from blend.apps.allocation.services import randomize
    from blend.apps.registry.models import Participant
    user = User.objects.get(username="nurse_nina")
    people = list(Participant.objects.order_by("id"))

    def allocate(p):
        allocation = randomize(p, user=user)
        # printed only once randomize has returned: the caller has been answered
        print("acked", p.study_id, allocation.sequence_number, flush=True)

    if phase == "resume":
        allocate(people[6])
        sys.exit(0)
    for p in people[:3]:
        allocate(p)
    real_write = ledger.write
    def write_then_die(*args, **kwargs):
        real_write(*args, **kwargs)  # arms, hashes and MACs computed, rows written
        os._exit(%(exit)d)  # ... and the process dies before the commit
    ledger.write = write_then_die
    start = threading.Barrier(3)
    def client(p):
        start.wait()
        allocate(p)
    threads = [threading.Thread(target=client, args=(p,)) for p in people[3:6]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("not reached", flush=True)

elif phase == "inspect":
    from blend.apps.allocation.models import Allocation, AllocationLog, AllocationSequence
    from blend.apps.audit.models import AuditEvent
    sequence = AllocationSequence.objects.get(trial_code="BLEND")
    print(json.dumps({
        "allocations": sorted(Allocation.objects.values_list("participant__study_id", "sequence_number")),
        "log": sorted(AllocationLog.objects.values_list("study_id", "sequence_number")),
        "events": AuditEvent.objects.filter(action="allocation.randomize").count(),
        "head": [sequence.last_number, sequence.last_hash == AllocationLog.objects.order_by("sequence_number").last().hash],
        "arms_recorded": sum(len(v) for v in sequence.arms_by_stratum.values()),
    }), flush=True)
""".replace("%(exit)d", str(CRASH_EXIT))


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A database for the child processes: a SQLite file, or one beside the PostgreSQL
    test database (dropped afterwards)."""
    default = settings.DATABASES["default"]
    if "sqlite" in default["ENGINE"]:
        yield f"sqlite:///{tmp_path / 'crash.sqlite3'}"
        return
    auth = default["USER"] + (f":{default['PASSWORD']}" if default.get("PASSWORD") else "")
    server = f"postgres://{auth}@{default['HOST'] or '127.0.0.1'}:{default['PORT'] or 5432}"
    name = f"{default['NAME']}_crash"[:63]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BLEND_DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "blend.web.test_settings",
        "BLEND_CHAIN_ANCHOR_DIR": str(tmp_path / "anchors"),
        # this checkout's code in the children, whatever the installed package points at
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[3] / "src"), *sys.path]),
    }


def _child(phase: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, phase],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _acked(output: str) -> list[tuple[str, int]]:
    return [
        (parts[1], int(parts[2]))
        for parts in (line.split() for line in output.splitlines())
        if parts and parts[0] == "acked"
    ]


def test_a_crash_before_the_commit_loses_nothing_acknowledged_and_leaves_nothing_half_written(
    database: str, tmp_path: Path
) -> None:
    env = _env(database, tmp_path)
    setup = _child("setup", env)
    assert setup.returncode == 0, setup.stderr[-3000:]

    crashed = _child("crash", env)
    assert crashed.returncode == CRASH_EXIT, crashed.stderr[-3000:]
    acked = _acked(crashed.stdout)
    assert [number for _, number in acked] == [1, 2, 3]  # the group of three: never answered
    assert "not reached" not in crashed.stdout

    found = json.loads(_child("inspect", env).stdout.strip().splitlines()[-1])
    assert [tuple(row) for row in found["allocations"]] == acked
    assert [tuple(row) for row in found["log"]] == acked
    assert found["events"] == 3 and found["head"] == [3, True] and found["arms_recorded"] == 3

    seed = ["--seed", "5eed" * 16]  # blend.web.test_settings
    verified = subprocess.run(
        [str(BLEND), "randomization", "verify", *seed, "--anchor", "default"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    audit = subprocess.run(
        [str(BLEND), "check-audit"], env=env, capture_output=True, text=True, timeout=120
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr

    resumed = _child("resume", env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert [number for _, number in _acked(resumed.stdout)] == [4]
    verified = subprocess.run(
        [str(BLEND), "randomization", "verify", *seed, "--anchor", "default"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
