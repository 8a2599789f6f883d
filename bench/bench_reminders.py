"""`blend send-reminders` over 100,000 participants with 1,000,000 scheduled assessments.

Builds a temporary SQLite database with bulk_create (participants, identities with
e-mail or phone, questionnaire consent with some withdrawals, deaths, and 10 timepoints
each: the default 9 plus a long-term "m24", through a BLEND_PROTOCOL_DIR override),
treatment starts spread over 400 days so that a realistic share of windows is open.
Then it runs the command's two steps (plan the due messages, deliver the outbox) and
reports:

- the wall time of a full run (aim: 10 s or less) and of an immediate second run
  (idempotent: nothing new to send);
- SQL queries per batch for planning and for delivery, for the full cohort and for a
  cohort four times smaller: the numbers must be equal (constant per batch).

E-mail and SMS go to in-memory backends. Environment: BENCH_PARTICIPANTS (100000); the
small cohort is a quarter of it. The figures go to bench/out/reminders.figures.json.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PARTICIPANTS = int(os.environ.get("BENCH_PARTICIPANTS", "100000"))
SEED = 20240501
EXTRA_TIMEPOINT = """
[[timepoints]]
code = "m24"
label_en = "Month 24"
label_nl = "Maand 24"
day = 730
before = 30
after = 30
instruments = ["qlq-c15-pal", "pain-nrs", "omed", "eq5d5l-nl"]
"""


def setup(workdir: Path) -> None:
    protocol = workdir / "protocol"
    protocol.mkdir()
    schedule = (ROOT / "src/blend/protocol/defaults/schedule.toml").read_text(encoding="utf-8")
    head, tail = schedule.split("# Invitations and reminders", 1)
    (protocol / "schedule.toml").write_text(
        head + EXTRA_TIMEPOINT + "\n# Invitations and reminders" + tail, encoding="utf-8"
    )
    os.environ.update(
        BLEND_DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        BLEND_DEBUG="1",
        BLEND_PROTOCOL_DIR=str(protocol),
        DJANGO_SETTINGS_MODULE="blend.web.settings",
    )
    sys.path.insert(0, str(ROOT / "src"))
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # no query log except where the bench counts queries
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "blend.apps.outbox.backends.LocmemSMSBackend"
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(n: int, today: date) -> dict[str, int]:
    """The cohort, with bulk_create only (no per-row service calls)."""
    from django.utils import timezone

    from blend.apps.accounts.models import User
    from blend.apps.consent.models import ConsentFormVersion, ConsentRecord
    from blend.apps.followup.models import Assessment, VitalStatus
    from blend.apps.registry.models import Identity, Participant, Site
    from blend.protocol.schedule import load_schedule

    rng = random.Random(SEED)
    site = Site.objects.create(code="umcu", name="UMC Utrecht")
    user = User.objects.create(username="bench", role="nurse")
    version = ConsentFormVersion.objects.create(version="bench", valid_from=date(2020, 1, 1))
    people = Participant.objects.bulk_create(
        [
            Participant(
                study_id=f"B{i:06d}",
                site=site,
                registered_on=today - timedelta(days=rng.randint(1, 800)),
                sex="female",
                birth_year=1955,
                primary_tumour="lung",
                metastases_diagnosed_on=date(2022, 1, 1),
                performance_status=1,
                created_by=user,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    identities, consents, deaths, assessments = [], [], [], []
    schedule = load_schedule()
    now = timezone.now()
    for i, p in enumerate(people):
        kind = rng.random()
        identities.append(
            Identity(
                participant=p,
                full_name=f"Bench {i}",
                date_of_birth=date(1955, 1, 1),
                hospital_number=f"H{i:08d}",
                email=f"p{i}@example.org" if kind < 0.8 else "",
                phone="+31 612345678" if kind < 0.95 else "",
                preferred_language="nl" if rng.random() < 0.9 else "en",
            )
        )
        for item in "ab":
            consents.append(
                ConsentRecord(
                    participant=p,
                    item=item,
                    answer="yes",
                    effective_on=p.registered_on,
                    form_version=version,
                    recorded_by=user,
                )
            )
        if rng.random() < 0.03:
            consents.append(
                ConsentRecord(
                    participant=p,
                    item="b",
                    answer="withdrawn",
                    reason="bench",
                    effective_on=p.registered_on + timedelta(days=1),
                    recorded_by=user,
                )
            )
        if rng.random() < 0.05:
            deaths.append(
                VitalStatus(participant=p, last_contact_on=today, died_on=today, recorded_by=user)
            )
        anchor = today - timedelta(days=rng.randint(0, 400))
        for window in schedule.plan(anchor):
            done = (
                window.closes < today
                and rng.random() < 0.8
                or window.opens <= today
                and rng.random() < 0.3
            )
            assessments.append(
                Assessment(
                    participant=p,
                    timepoint=window.code,
                    instruments=list(schedule.timepoint(window.code).instruments),
                    anchor_on=anchor,
                    target_on=window.target,
                    opens_on=window.opens,
                    closes_on=window.closes,
                    completed_at=now if done else None,
                    completed_on=today if done else None,
                )
            )
    Identity.objects.bulk_create(identities, batch_size=2000)
    ConsentRecord.objects.bulk_create(consents, batch_size=2000)
    VitalStatus.objects.bulk_create(deaths, batch_size=2000)
    Assessment.objects.bulk_create(assessments, batch_size=5000)
    return {"participants": n, "assessments": len(assessments), "deaths": len(deaths)}


def run_once(count_queries: bool) -> dict[str, Any]:
    """The two steps of `blend send-reminders`, optionally counting queries per batch."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from blend.apps.outbox.services import deliver_due
    from blend.apps.questionnaires.reminders import plan_messages

    marks: dict[str, list[list[int]]] = {"plan": [], "deliver": []}
    capture = CaptureQueriesContext(connection)

    def mark(step: str) -> Any:
        last = {"n": 0}

        def on_batch(*_args: Any) -> None:
            batch = capture.captured_queries[last["n"] :]
            reads = sum(1 for q in batch if q["sql"].lstrip().upper().startswith("SELECT"))
            marks[step].append([reads, len(batch) - reads])
            last["n"] = len(capture.captured_queries)

        return on_batch, last

    started, cpu = time.perf_counter(), time.process_time()
    if count_queries:
        reset_queries()
        with capture:
            plan_batch, _ = mark("plan")
            plan = plan_messages(on_batch=plan_batch)
            deliver_batch, last = mark("deliver")
            last["n"] = len(capture.captured_queries)
            delivery = deliver_due(timezone.now(), on_batch=deliver_batch)
    else:
        plan = plan_messages()
        delivery = deliver_due(timezone.now())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),  # apart from waiting for a shared machine's CPUs
        "queued": plan.queued,
        "already": plan.already,
        "not_allowed": plan.not_allowed,
        "no_address": plan.no_address,
        "sent": delivery.sent,
        "cancelled": delivery.cancelled,
        "plan_batches": plan.batches,
        "deliver_batches": delivery.batches,
        "plan_queries_per_batch": marks["plan"],
        "deliver_queries_per_batch": marks["deliver"],
    }


def measure(n: int, workdir: Path, today: date) -> dict[str, Any]:
    from django.db import connection

    from blend.apps.followup.models import Assessment, VitalStatus
    from blend.apps.outbox.models import Message
    from blend.apps.questionnaires.models import AccessToken
    from blend.apps.registry.models import Identity, Participant

    for model in (AccessToken, Message, Assessment, VitalStatus, Identity):
        model.objects.all().delete()
    from blend.apps.consent.models import ConsentFormVersion, ConsentRecord

    ConsentRecord.objects.all().delete()
    ConsentFormVersion.objects.all().delete()
    Participant.objects.all().delete()
    from blend.apps.accounts.models import User
    from blend.apps.registry.models import Site

    User.objects.all().delete()
    Site.objects.all().delete()
    started = time.perf_counter()
    data = build(n, today)
    data["build_seconds"] = round(time.perf_counter() - started, 1)
    connection.close()
    db = workdir / "bench.sqlite3"
    shutil.copy(db, workdir / "snapshot.sqlite3")
    first = run_once(count_queries=False)
    second = run_once(count_queries=False)
    connection.close()
    shutil.copy(workdir / "snapshot.sqlite3", db)
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    counted = run_once(count_queries=True)
    connection.close()
    return {**data, "first_run": first, "second_run": second, "queries": counted}


def report(results: dict[str, Any]) -> None:
    for label, r in results.items():
        first, second, q = r["first_run"], r["second_run"], r["queries"]
        print(
            f"\n{label}: {r['participants']:,} participants, {r['assessments']:,} scheduled assessments "
            f"(built in {r['build_seconds']} s)"
        )
        print(
            f"  send-reminders, first run : {first['seconds']:6.2f} s (CPU {first['cpu_seconds']:.2f} s)  queued {first['queued']:,}, sent "
            f"{first['sent']:,}, skipped {first['not_allowed']:,} (died / no consent), "
            f"{first['no_address']:,} without address"
        )
        print(
            f"  send-reminders, second run: {second['seconds']:6.2f} s  queued {second['queued']}, sent "
            f"{second['sent']} (idempotent)"
        )
        print(f"  SQL per planning batch [reads, writes]: {q['plan_queries_per_batch']}")
        print(f"  SQL per delivery batch [reads, writes]: {q['deliver_queries_per_batch']}")


def _reads_constant(results: dict[str, Any]) -> bool:
    reads = {
        r[0]
        for label in ("small", "full")
        for step in ("plan_queries_per_batch", "deliver_queries_per_batch")
        for r in results[label]["queries"][step]
    }
    per_step = [
        {r[0] for label in ("small", "full") for r in results[label]["queries"][step]}
        for step in ("plan_queries_per_batch", "deliver_queries_per_batch")
    ]
    return bool(reads) and all(len(s) == 1 for s in per_step)


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="blend-bench-reminders-") as tmp:
        workdir = Path(tmp)
        setup(workdir)
        from django.utils import timezone

        today = timezone.localdate()  # the day send-reminders plans for (Amsterdam time)
        results = {
            "small": measure(PARTICIPANTS // 4, workdir, today),
            "full": measure(PARTICIPANTS, workdir, today),
        }
    report(results)
    constant = _reads_constant(results)
    print(
        "\n  reads per batch do not depend on the cohort size: "
        f"{'yes' if constant else 'NO'}; writes are multi-row statements whose number follows the "
        "messages in the batch (SQLite allows 999 parameters per statement)"
    )
    print(f"  aim <= 10 s: {'met' if results['full']['first_run']['seconds'] <= 10 else 'NOT met'}")
    results["meta"] = {
        "date": str(today),
        "at": datetime.now().isoformat(timespec="seconds"),
        "queries_constant_per_batch": constant,
    }
    (OUT / "reminders.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    _record(results)
    return 0


def _record(results: dict[str, Any]) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from figures import Figure, record

    full, small = results["full"], results["small"]
    record(
        "reminders",
        [
            Figure(
                f"reminders at {full['participants']:,} members / "
                f"{full['assessments']:,} assessments (first run)",
                value=full["first_run"]["seconds"],
                unit="s",
                anchor=small["first_run"]["seconds"],
                anchor_label=f"the same at {small['participants']:,} members (ratio 4 = linear)",
                goal_value_max=10,
                note=(
                    f"CPU {full['first_run']['cpu_seconds']:.1f} s; queued "
                    f"{full['first_run']['queued']:,}, sent {full['first_run']['sent']:,}"
                ),
            ),
            Figure(
                "reminders, immediate second run (nothing new to send)",
                value=full["second_run"]["seconds"],
                unit="s",
            ),
        ],
    )


if __name__ == "__main__":
    raise SystemExit(main())
