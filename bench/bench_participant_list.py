"""Participant-list and trial-dashboard latency and SQL queries per request at 1,000 and
10,000 cohort members, with two trials (BLEND and VERTICAL).

Builds a throw-away SQLite database under bench/out/, bulk-loads members with five
consent records each, screens a fifth of them for each trial and randomizes a tenth into
each, and requests the list page (plain, filtered on randomization consent, searched,
paged) and the dashboard of each trial through Django's test client.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter

OUT = Path(__file__).parent / "out"
OUT.mkdir(exist_ok=True)
DB = OUT / "bench_participant_list.sqlite3"
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
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from blend.apps.accounts.models import User  # noqa: E402
from blend.apps.allocation.models import Allocation  # noqa: E402
from blend.apps.consent.models import ConsentFormVersion, ConsentRecord  # noqa: E402
from blend.apps.registry.domain import format_study_id  # noqa: E402
from blend.apps.registry.models import Identity, Participant, Site  # noqa: E402
from blend.apps.screening.models import Screening  # noqa: E402

TRIALS = ("BLEND", "VERTICAL")

REQUESTS = 40
URLS = {
    "list": "/participants/",
    "filter": "/participants/?randomization_consent=yes&primary_tumour=lung",
    "search": "/participants/?q=PRS-00",
    "page 20": "/participants/?page=20",
    "dashboard BLEND": "/?trial=BLEND",
    "dashboard VERTICAL": "/?trial=VERTICAL",
}


def remove_database() -> None:
    connection.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)


def build(n: int) -> User:
    remove_database()
    call_command("migrate", verbosity=0)
    site = Site.objects.create(code="umcu", name="UMC Utrecht")
    user = User.objects.create_user("bench", password="x" * 12, role="nurse", site=site)
    version = ConsentFormVersion.objects.create(version="v3", valid_from=date(2020, 1, 1))
    tumours = ["breast", "prostate", "lung", "kidney", "other"]
    people = [
        Participant(
            study_id=format_study_id(i + 1),
            site=site,
            registered_on=date(2023, 1, 1) + timedelta(days=i % 900),
            sex="female",
            birth_year=1950,
            primary_tumour=tumours[i % 5],
            metastases_diagnosed_on=date(2022, 12, 1),
            performance_status=i % 5,
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
                date_of_birth=date(1950, 1, 1),
                hospital_number=f"H{i:07d}",
            )
            for i, p in enumerate(people)
        ],
        batch_size=2000,
    )
    answers = ["yes", "yes", "yes", "no", "postponed"]
    ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                participant=p,
                item=item,
                answer=answers[(i + k) % 5] if item == "c" else "yes",
                effective_on=p.registered_on,
                form_version=version,
                recorded_by=user,
            )
            for i, p in enumerate(people)
            for k, item in enumerate("abcde")
        ],
        batch_size=5000,
    )
    _trial_records(people, user)
    return user


def _trial_records(people: list[Participant], user: User) -> None:
    """A fifth of the members screened for each trial, a tenth randomized into each."""
    for t, trial in enumerate(TRIALS):
        screened = [p for i, p in enumerate(people) if i % 5 == t]
        Screening.objects.bulk_create(
            [
                Screening(
                    participant=p,
                    trial=trial,
                    screened_on=p.registered_on,
                    screened_by=user,
                    facts={},
                    status="eligible" if i % 2 == 0 else "ineligible",
                    criteria_version="bench",
                )
                for i, p in enumerate(screened)
            ],
            batch_size=5000,
        )
        randomized = screened[::2]
        Allocation.objects.bulk_create(
            [
                Allocation(
                    participant=p,
                    trial=trial,
                    arm="intervention" if i % 2 else "control",
                    sequence_number=i + 1,
                    stratum="",
                    stratum_index=i,
                    allocated_at=timezone.make_aware(datetime.combine(p.registered_on, time(9))),
                    allocated_by=user,
                )
                for i, p in enumerate(randomized)
            ],
            batch_size=5000,
        )


def measure(user: User) -> dict[str, dict[str, float]]:
    client = Client()
    client.force_login(user)
    results = {}
    for name, url in URLS.items():
        client.get(url)  # warm caches and the template loader
        timings = []
        for _ in range(REQUESTS):
            with CaptureQueriesContext(connection) as queries:
                started = perf_counter()
                response = client.get(url)
                timings.append((perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        timings.sort()
        results[name] = {
            "median_ms": statistics.median(timings),
            "p95_ms": timings[int(0.95 * len(timings)) - 1],
            "queries": len(queries.captured_queries),
        }
    return results


def main() -> int:
    report = {}
    for n in (1_000, 10_000):
        report[n] = measure(build(n))
    print(f"{'page':<20}{'n':>8}{'median ms':>12}{'p95 ms':>10}{'queries':>9}")
    for n, pages in report.items():
        for name, r in pages.items():
            print(f"{name:<20}{n:>8}{r['median_ms']:>12.1f}{r['p95_ms']:>10.1f}{r['queries']:>9}")
    constant = all(report[1_000][k]["queries"] == report[10_000][k]["queries"] for k in URLS)
    print(f"queries per request independent of cohort size: {'yes' if constant else 'NO'}")
    (OUT / "participant_list.json").write_text(
        json.dumps({"results": report, "queries_constant": constant}, indent=2)
    )
    remove_database()
    return 0 if constant else 1


if __name__ == "__main__":
    sys.exit(main())
