"""Export timings and peak memory: the analysis dataset, the full CSV export and CDISC
ODM-XML at 10,000 and 100,000 randomized participants (aim: ≤ 30 s each at 10^5, time
linear in n, memory flat: peak at 10^5 ≤ 1.5 × peak at 10^4).

Builds a SQLite database per size under bench/out/ with bulk inserts (bulk_create, and
INSERT ... SELECT for the nine assessments and questionnaires of every participant):
participants with identities and consent, screening, allocation, offers, treatment, vital
status, nine follow-up assessments with scored questionnaires each, and adverse events.
The database is kept (bench/out/bench_exports_<n>.sqlite3) and reused while the
migrations and this file are unchanged. Each export runs in its own child process, which
reports its wall time and its peak resident memory (``ru_maxrss``, the interpreter and
Django included; the child's resident memory before the export is reported beside it).

Environment: BENCH_EXPORT_SIZES (``10000,100000``).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).parent / "out"
OUT.mkdir(exist_ok=True)
ROOT = Path(__file__).resolve().parent.parent
SIZES = [int(n) for n in os.environ.get("BENCH_EXPORT_SIZES", "10000,100000").split(",")]
N = int(os.environ.get("BENCH_EXPORT_PARTICIPANTS", str(SIZES[0])))
DB = OUT / f"bench_exports_{N}.sqlite3"
os.environ.update(
    {
        "BLEND_DATABASE_URL": f"sqlite:///{DB}",
        "BLEND_DEBUG": "1",
        "BLEND_SECURE": "0",
        "DJANGO_SETTINGS_MODULE": "blend.web.settings",
    }
)
sys.path.insert(0, str(ROOT / "src"))  # this checkout's code, whatever the virtualenv points at

import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from blend.apps.accounts.models import User  # noqa: E402
from blend.apps.allocation.models import Allocation  # noqa: E402
from blend.apps.consent.models import ConsentFormVersion, ConsentRecord  # noqa: E402
from blend.apps.exports.services import export_analysis, export_full  # noqa: E402
from blend.apps.followup.models import Assessment, VitalStatus  # noqa: E402
from blend.apps.offers.models import Offer  # noqa: E402
from blend.apps.questionnaires.models import Response  # noqa: E402
from blend.apps.registry.domain import format_study_id  # noqa: E402
from blend.apps.registry.models import Identity, Participant, Site  # noqa: E402
from blend.apps.safety.models import AdverseEvent  # noqa: E402
from blend.apps.screening.models import Screening  # noqa: E402
from blend.apps.treatment.models import TreatmentRecord  # noqa: E402

TIMEPOINTS = [
    ("baseline", 0),
    ("w1", 7),
    ("w2", 14),
    ("w4", 28),
    ("w6", 42),
    ("w8", 56),
    ("w12", 84),
    ("m6", 182),
    ("m12", 365),
]
C15 = {s: 50.0 for s in ("PF", "EF", "FA", "NV", "PA", "DY", "SL", "AP", "CO", "QL")}


def remove_database() -> None:
    connection.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def build(n: int) -> User:
    remove_database()
    call_command("migrate", verbosity=0)
    site = Site.objects.create(code="umcu", name="UMC Utrecht")
    user = User.objects.create_user("bench", password="x" * 12, role="data_manager", site=site)
    version = ConsentFormVersion.objects.create(version="v3", valid_from=date(2020, 1, 1))
    people = [
        Participant(
            study_id=format_study_id(i + 1),
            site=site,
            registered_on=date(2022, 1, 1) + timedelta(days=i % 900),
            sex="female" if i % 2 else "male",
            birth_year=1950 + i % 30,
            primary_tumour="lung",
            metastases_diagnosed_on=date(2021, 12, 1),
            performance_status=i % 4,
            created_by=user,
        )
        for i in range(n)
    ]
    Participant.objects.bulk_create(people, batch_size=2000)
    people = list(Participant.objects.order_by("id"))
    Identity.objects.bulk_create(
        [
            Identity(
                participant=p,
                full_name=f"Person {i}",
                date_of_birth=date(1950, 1, 2),
                hospital_number=f"H{i:07d}",
            )
            for i, p in enumerate(people)
        ],
        batch_size=2000,
    )
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
        ],
        batch_size=5000,
    )
    _trial(people, user)
    return user


def _trial(people: list[Participant], user: User) -> None:
    screened = {p.pk: p.registered_on + timedelta(days=3) for p in people}
    Screening.objects.bulk_create(
        [
            Screening(
                trial="BLEND",
                participant=p,
                screened_on=screened[p.pk],
                screened_by=user,
                facts={"sins_total": 9},
                status="eligible",
                reasons={},
                criteria_version="1",
                confirmed_at=at(screened[p.pk]),
                confirmed_by=user,
            )
            for p in people
        ],
        batch_size=2000,
    )
    Allocation.objects.bulk_create(
        [
            Allocation(
                trial="BLEND",
                participant=p,
                arm="intervention" if i % 2 else "control",
                sequence_number=i + 1,
                stratum="",
                stratum_index=i + 1,
                allocated_at=at(screened[p.pk] + timedelta(days=1), 11),
                allocated_by=user,
            )
            for i, p in enumerate(people)
        ],
        batch_size=2000,
    )
    start = {p.pk: screened[p.pk] + timedelta(days=8) for p in people}
    Offer.objects.bulk_create(
        [
            Offer(
                trial="BLEND",
                participant=p,
                state="accepted",
                offered_on=screened[p.pk] + timedelta(days=2),
                decided_on=screened[p.pk] + timedelta(days=3),
                trial_consent_version="v1",
            )
            for i, p in enumerate(people)
            if i % 2
        ],
        batch_size=2000,
    )
    TreatmentRecord.objects.bulk_create(
        [
            TreatmentRecord(
                trial="BLEND",
                participant=p,
                pathway="same_day" if i % 2 else "standard",
                planned_on=start[p.pk],
                recorded_by=user,
                sbrt_started_at=at(start[p.pk], 8) if i % 2 else None,
                surgery_started_at=at(start[p.pk], 14) if i % 2 else None,
                surgery_on=None if i % 2 else start[p.pk],
                radiotherapy_on=None if i % 2 else start[p.pk] + timedelta(days=14),
            )
            for i, p in enumerate(people)
        ],
        batch_size=2000,
    )
    VitalStatus.objects.bulk_create(
        [
            VitalStatus(
                participant=p, last_contact_on=start[p.pk] + timedelta(days=400), recorded_by=user
            )
            for p in people
        ],
        batch_size=2000,
    )
    _questionnaires(people, start)
    AdverseEvent.objects.bulk_create(
        [
            AdverseEvent(
                participant=p,
                term="wound_infection",
                grade=2,
                onset_date=start[p.pk] + timedelta(days=9),
                serious=False,
                related_sbrt="possible",
                related_surgery="probable",
                action_taken="medication",
                outcome="recovered",
                resolved_on=start[p.pk] + timedelta(days=20),
                aware_at=at(start[p.pk] + timedelta(days=9)),
                created_by=user,
            )
            for i, p in enumerate(people)
            if i % 5 == 0
        ],
        batch_size=2000,
    )


def _questionnaires(people: list[Participant], start: dict[int, date]) -> None:
    """Nine assessments per participant and a scored questionnaire for each, in two
    INSERT ... SELECT statements (a million Python objects would take most of the build)."""
    timepoints = ", ".join(f"('{tp}', {day}, {i})" for i, (tp, day) in enumerate(TIMEPOINTS))
    offset = (start[people[0].pk] - people[0].registered_on).days  # the same for everyone
    instruments = json.dumps(["qlq-c15-pal", "pain-nrs", "omed", "eq5d5l-nl"])
    scores = json.dumps(
        {
            "qlq-c15-pal": C15,
            "pain-nrs": {"worst_pain": 5.0},
            "omed": {"omed": 30.0},
            "eq5d5l-nl": {"index": 0.7, "vas": 60.0},
        }
    )
    on = "date(p.registered_on, '+' || ({offset} + t.day + {extra}) || ' days')"
    target, closes = on.format(offset=offset, extra=0), on.format(offset=offset, extra=7)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH t(code, day, ord) AS (VALUES {timepoints})
            INSERT INTO {Assessment._meta.db_table} (participant_id, timepoint, instruments,
                anchor_on, target_on, opens_on, closes_on, completed_at, completed_on)
            SELECT p.id, t.code, %s, date(p.registered_on, '+{offset} days'), {target},
                {target}, {closes}, NULL, {target}
            FROM {Participant._meta.db_table} p CROSS JOIN t ORDER BY p.id, t.ord""",
            [instruments],
        )
        cursor.execute(
            f"""INSERT INTO {Response._meta.db_table} (participant_id, assessment_id, mode,
                language, answers, scores, status, started_at, updated_at, submitted_at,
                completed_on, entered_by_id)
            SELECT a.participant_id, a.id, 'web', 'nl', '{{}}', %s, 'submitted',
                a.completed_on || ' 10:00:00', a.completed_on || ' 10:00:00',
                a.completed_on || ' 10:00:00', a.completed_on, NULL
            FROM {Assessment._meta.db_table} a ORDER BY a.id""",
            [scores],
        )


# --- the runs ------------------------------------------------------------------------------------------

EXPORTS = {
    "analysis": lambda folder, user: export_analysis(folder, user=user),
    "full_csv": lambda folder, user: export_full(folder, ["csv"], user=user),
    "odm": lambda folder, user: export_full(folder, ["odm"], user=user),
}


def _fingerprint() -> str:
    """The build's inputs: the build's code and the migrations (a cached database is
    rebuilt when either changes)."""
    code = "".join(inspect.getsource(f) for f in (build, _trial, _questionnaires))
    digest = hashlib.sha256(code.encode())
    for path in sorted((ROOT / "src/blend/apps").glob("*/migrations/*.py")):
        digest.update(path.name.encode())
    return digest.hexdigest()


def child_build() -> None:
    marker = DB.with_suffix(".built")
    if DB.exists() and marker.exists() and marker.read_text() == _fingerprint():
        print(f"  reusing {DB.name}", flush=True)
        return
    marker.unlink(missing_ok=True)
    started = time.perf_counter()
    build(N)
    print(
        f"built {N:,} randomized participants in {time.perf_counter() - started:.1f} s "
        f"({Response.objects.count():,} questionnaires, {AdverseEvent.objects.count():,} AEs)",
        flush=True,
    )
    connection.close()
    marker.write_text(_fingerprint())


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def child_run(name: str) -> None:
    user = User.objects.get(username="bench")
    folder = OUT / f"bench_exports_{name}_{N}"
    shutil.rmtree(folder, ignore_errors=True)
    before = _rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    entry = EXPORTS[name](folder, user)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    size = sum(p.stat().st_size for p in folder.iterdir())
    shutil.rmtree(folder, ignore_errors=True)
    result = {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),  # apart from waiting for a shared machine's CPUs
        "megabytes": round(size / 1e6, 1),
        "rows": sum(entry.rows.values()),
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(_rss_mb(), 1),
    }
    print(json.dumps(result), flush=True)


def _child(n: int, *args: str) -> str:
    env = {**os.environ, "BENCH_EXPORT_PARTICIPANTS": str(n)}
    done = subprocess.run(
        [sys.executable, __file__, *args], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def main() -> int:
    results: dict[int, dict[str, dict[str, float]]] = {}
    for n in SIZES:
        print(_child(n, "build"), end="", flush=True)
        results[n] = {}
        for name in EXPORTS:
            r = json.loads(_child(n, "run", name).strip().splitlines()[-1])
            results[n][name] = r
            print(
                f"  n={n:>7,} {name:<9} {r['seconds']:7.1f} s (CPU {r['cpu_seconds']:.1f} s) "
                f"{r['megabytes']:8.1f} MB "
                f"rows {r['rows']:>10,}  peak RSS {r['peak_rss_mb']:6.0f} MB "
                f"(before the export {r['rss_before_mb']:.0f} MB)",
                flush=True,
            )
    (OUT / "exports.json").write_text(
        json.dumps({"aim_seconds": 30.0, "results": results}, indent=2) + "\n"
    )
    _record(results)
    return 0


def _record(results: dict[int, dict[str, dict[str, float]]]) -> None:
    from figures import Figure, record

    small, large = min(results), max(results)
    labels = {"analysis": "analysis dataset", "full_csv": "full CSV export", "odm": "ODM-XML"}
    figures = []
    for name, label in labels.items():
        at_small, at_large = results[small][name], results[large][name]
        figures.append(
            Figure(
                f"{label} at {large:,} members",
                value=at_large["seconds"],
                unit="s",
                anchor=at_small["seconds"],
                anchor_label=f"the same at {small:,} (ratio {large // small} = linear)",
                goal_value_max=30,
                note=f"CPU {at_large['cpu_seconds']:.1f} s (at {small:,}: {at_small['cpu_seconds']:.1f} s)",
            )
        )
        figures.append(
            Figure(
                f"{label}: peak memory at {large:,} vs {small:,} members",
                value=at_large["peak_rss_mb"],
                unit="MB RSS",
                anchor=at_small["peak_rss_mb"],
                anchor_label=f"peak RSS at {small:,}",
                goal_ratio_max=1.5,
                note=(
                    "whole-process peak resident memory; before the export "
                    f"{at_small['rss_before_mb']:.0f} / {at_large['rss_before_mb']:.0f} MB"
                ),
            )
        )
    record("exports", figures)


if __name__ == "__main__":
    if sys.argv[1:2] == ["build"]:
        child_build()
    elif sys.argv[1:2] == ["run"]:
        child_run(sys.argv[2])
    else:
        sys.exit(main())
