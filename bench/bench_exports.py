"""Export timings for 10,000 randomized participants: the analysis dataset, the full CSV
export and CDISC ODM-XML (aim: ≤ 30 s each).

Builds a throw-away SQLite database under bench/out/ with bulk_create: participants with
identities and consent, screening, allocation, offers, treatment, vital status, nine
follow-up assessments with scored questionnaires each, and adverse events.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).parent / "out"
OUT.mkdir(exist_ok=True)
DB = OUT / "bench_exports.sqlite3"
N = int(os.environ.get("BENCH_EXPORT_PARTICIPANTS", "10000"))
os.environ.update(
    {
        "BLEND_DATABASE_URL": f"sqlite:///{DB}",
        "BLEND_DEBUG": "1",
        "BLEND_SECURE": "0",
        "DJANGO_SETTINGS_MODULE": "blend.web.settings",
    }
)

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
    Assessment.objects.bulk_create(
        [
            Assessment(
                participant=p,
                timepoint=tp,
                instruments=["qlq-c15-pal", "pain-nrs", "omed", "eq5d5l-nl"],
                anchor_on=start[p.pk],
                target_on=start[p.pk] + timedelta(days=day),
                opens_on=start[p.pk] + timedelta(days=day),
                closes_on=start[p.pk] + timedelta(days=day + 7),
                completed_on=start[p.pk] + timedelta(days=day),
            )
            for p in people
            for tp, day in TIMEPOINTS
        ],
        batch_size=5000,
    )
    scores = {
        "qlq-c15-pal": C15,
        "pain-nrs": {"worst_pain": 5.0},
        "omed": {"omed": 30.0},
        "eq5d5l-nl": {"index": 0.7, "vas": 60.0},
    }
    Response.objects.bulk_create(
        [
            Response(
                participant_id=a.participant_id,
                assessment=a,
                mode="web",
                language="nl",
                scores=scores,
                answers={},
                status="submitted",
                started_at=at(a.completed_on),
                updated_at=at(a.completed_on),
                submitted_at=at(a.completed_on),
                completed_on=a.completed_on,
            )
            for a in Assessment.objects.all()
        ],
        batch_size=5000,
    )


def timed(name: str, run) -> dict[str, float]:  # type: ignore[no-untyped-def]
    folder = OUT / f"bench_exports_{name}"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    entry = run(folder)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in folder.iterdir())
    shutil.rmtree(folder, ignore_errors=True)
    print(
        f"  {name:<10} {seconds:7.1f} s   {size / 1e6:8.1f} MB   rows {sum(entry.rows.values()):,}",
        flush=True,
    )
    return {
        "seconds": round(seconds, 2),
        "megabytes": round(size / 1e6, 1),
        "rows": sum(entry.rows.values()),
    }


def main() -> int:
    started = time.perf_counter()
    user = build(N)
    print(
        f"built {N:,} randomized participants in {time.perf_counter() - started:.1f} s "
        f"({Response.objects.count():,} questionnaires, {AdverseEvent.objects.count():,} AEs)"
    )
    results = {
        "analysis": timed("analysis", lambda f: export_analysis(f, user=user)),
        "full_csv": timed("full_csv", lambda f: export_full(f, ["csv"], user=user)),
        "odm": timed("odm", lambda f: export_full(f, ["odm"], user=user)),
    }
    aim = 30.0
    for name, r in results.items():
        print(f"  {name}: {'within' if r['seconds'] <= aim else 'OVER'} the {aim:.0f} s aim")
    (OUT / "exports.json").write_text(
        json.dumps({"participants": N, "aim_seconds": aim, "results": results}, indent=2) + "\n"
    )
    remove_database()
    return 0


if __name__ == "__main__":
    sys.exit(main())
