"""Pre-screening the cohort: assessment speed and the worklist page.

1. ``assess_cohort`` (pure): 10,000 members' cohort facts against 3 trials' criteria
   (BLEND, VERTICAL and the test-only PALLIATE of tests/core/protocol/trials); the issue
   asks for at most 10 s.
2. The worklist page (``/prescreening/``) of each of two trials (BLEND and VERTICAL) at
   1,000 and 10,000 members with recorded cohort facts, a fifth of them screened for each
   trial and a tenth randomized into each, in a throw-away SQLite database under
   bench/out/: median and p95 latency, and the SQL queries per request, which must not
   grow with the cohort (the issue asks p95 < 200 ms). The stored verdicts are built
   first by ``blend prescreen-refresh`` (timed), as after any bulk load.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
OUT = Path(__file__).parent / "out"
OUT.mkdir(exist_ok=True)
DB = OUT / "bench_prescreening.sqlite3"
os.environ.update(
    {
        "BLEND_DATABASE_URL": f"sqlite:///{DB}",
        "BLEND_DEBUG": "1",
        "BLEND_SECURE": "0",
        "DJANGO_SETTINGS_MODULE": "blend.web.settings",
    }
)

from blend.eligibility.cohort import assess_cohort  # noqa: E402
from blend.protocol import load_cohort, load_trial  # noqa: E402

MEMBERS = 10_000
LIMIT_S = 10.0
REQUESTS = 40
TRIALS = ("BLEND", "VERTICAL")
LIMIT_MS = 200.0
LEVELS = [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)]


def member_facts(rng: random.Random) -> dict[str, Any]:
    """A member's cohort facts: some missing, some excluding, as in the demo."""
    facts: dict[str, Any] = {
        "age": rng.randint(35, 90),
        "consent_randomization": rng.random() < 0.8,
        "consent_questionnaires": rng.random() < 0.9,
        "index_levels": rng.sample(LEVELS, rng.randint(1, 3)),
        "symptoms": ["mechanical_pain"],
        "sins_total": rng.randint(3, 14),
        "radiotherapy_indicated": True,
        "surgery_indicated": rng.random() < 0.5,
        "malignancy_proof": rng.choice(["histology", "radiology_clinical", "none"]),
        "radiographic_evidence": True,
        "bone_metastases_imaging": True,
        "painful_lesions": rng.randint(1, 3),
        "spinal_cord_compression": rng.random() < 0.1,
        "neurological_signs": rng.choice(["none", "mild", "severe"]),
        "kps": rng.choice([40, 60, 70, 80, 90]),
        "pain_score": rng.randint(0, 10),
        "life_expectancy_months": rng.choice([2, 4, 6, 12, 24]),
        "prior_radiotherapy_index": rng.random() < 0.1,
        "multiple_myeloma": rng.random() < 0.05,
    }
    for key in rng.sample(sorted(facts), rng.randint(0, 6)):
        facts.pop(key)
    return facts


def bench_assessment() -> dict[str, Any]:
    rng = random.Random(12)
    members = {i: member_facts(rng) for i in range(MEMBERS)}
    trials = {
        "BLEND": load_trial("BLEND").criteria,
        "VERTICAL": load_trial("VERTICAL").criteria,
        "PALLIATE": load_trial(
            "PALLIATE", trial_dirs=(str(ROOT / "tests/core/protocol/trials"),)
        ).criteria,
    }
    catalogue = load_cohort().facts
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        verdicts = assess_cohort(members, trials, catalogue)
        timings.append(time.perf_counter() - started)
    statuses = {
        code: {s: sum(1 for r in found.values() if r.status == s) for s in ("eligible", "pending")}
        for code, found in verdicts.items()
    }
    return {"members": MEMBERS, "trials": len(trials), "seconds": min(timings), "found": statuses}


def remove_database() -> None:
    from django.db import connection

    connection.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)


def build(n: int) -> Any:
    from django.core.management import call_command

    from blend.apps.accounts.models import User
    from blend.apps.consent.models import ConsentFormVersion, ConsentRecord
    from blend.apps.prescreening.models import CohortFact
    from blend.apps.registry.domain import format_study_id
    from blend.apps.registry.models import Identity, Participant, Site

    remove_database()
    call_command("migrate", verbosity=0)
    site = Site.objects.create(code="umcu", name="UMC Utrecht")
    user = User.objects.create_user("bench", password="x" * 12, role="nurse", site=site)
    version = ConsentFormVersion.objects.create(version="v3", valid_from=date(2020, 1, 1))
    Participant.objects.bulk_create(
        [
            Participant(
                study_id=format_study_id(i + 1),
                site=site,
                registered_on=date(2023, 1, 1) + timedelta(days=i % 900),
                sex="female",
                birth_year=1950,
                primary_tumour="breast",
                metastases_diagnosed_on=date(2022, 12, 1),
                performance_status=i % 5,
                created_by=user,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
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
    rng = random.Random(7)
    skip = {"age", "consent_randomization", "consent_questionnaires"}
    CohortFact.objects.bulk_create(
        [
            CohortFact(
                participant=p,
                key=key,
                value=value,
                recorded_on=p.registered_on,
                source="bench",
                recorded_by=user,
            )
            for p in people
            for key, value in member_facts(rng).items()
            if key not in skip
        ],
        batch_size=5000,
    )
    _trial_records(people, user)
    return user


def _trial_records(people: list[Any], user: Any) -> None:
    """A fifth of the members screened for each trial, a tenth randomized into each."""
    from datetime import datetime
    from datetime import time as clock

    from django.utils import timezone

    from blend.apps.allocation.models import Allocation
    from blend.apps.screening.models import Screening

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
                    status="eligible",
                    criteria_version="bench",
                )
                for p in screened
            ],
            batch_size=5000,
        )
        Allocation.objects.bulk_create(
            [
                Allocation(
                    participant=p,
                    trial=trial,
                    arm="intervention" if i % 2 else "control",
                    sequence_number=i + 1,
                    stratum="",
                    stratum_index=i,
                    allocated_at=timezone.make_aware(datetime.combine(p.registered_on, clock(9))),
                    allocated_by=user,
                )
                for i, p in enumerate(screened[::2])
            ],
            batch_size=5000,
        )


def refresh() -> float:
    """``blend prescreen-refresh`` over every trial: the stored verdicts from scratch."""
    from io import StringIO

    from django.core.management import call_command

    started = time.perf_counter()
    call_command("prescreen_refresh", stdout=StringIO())
    return time.perf_counter() - started


def bench_page(user: Any, url: str) -> dict[str, float]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    client.get(url)  # warm caches and the template loader
    timings = []
    for _ in range(REQUESTS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    timings.sort()
    return {
        "median_ms": statistics.median(timings),
        "p95_ms": timings[max(int(0.95 * len(timings)) - 1, 0)],
        "queries": len(queries.captured_queries),
    }


URLS = {
    "BLEND": "/prescreening/?trial=BLEND",
    "VERTICAL": "/prescreening/?trial=VERTICAL",
    "BLEND p.5": "/prescreening/?trial=BLEND&page=5",
    # The members randomized in the other trial, with its overlap rules asked for each of
    # a page of 20: bounded by the page, not the cohort.
    "BLEND others": "/prescreening/?trial=BLEND&others=1",
}
CONSTANT = ("BLEND", "VERTICAL", "BLEND p.5")  # the worklist itself


def main() -> int:
    assessed = bench_assessment()
    print(
        f"assess_cohort: {assessed['members']:,} members x {assessed['trials']} trials in "
        f"{assessed['seconds']:.2f} s (limit {LIMIT_S:.0f} s); potentially eligible: "
        f"{assessed['found']}"
    )
    import django

    django.setup()
    pages: dict[int, dict[str, Any]] = {}
    refreshed: dict[int, float] = {}
    for n in (1_000, 10_000):
        user = build(n)
        refreshed[n] = refresh()
        pages[n] = {name: bench_page(user, url) for name, url in URLS.items()}
    for n, seconds in refreshed.items():
        print(f"prescreen-refresh, {n:,} members x {len(TRIALS)} trials: {seconds:.2f} s")
    print(f"{'worklist':<12}{'n':>8}{'median ms':>12}{'p95 ms':>10}{'queries':>9}")
    for n, found in pages.items():
        for name, r in found.items():
            print(f"{name:<12}{n:>8}{r['median_ms']:>12.1f}{r['p95_ms']:>10.1f}{r['queries']:>9}")
    constant = all(pages[1_000][k]["queries"] == pages[10_000][k]["queries"] for k in CONSTANT)
    fast = all(found[k]["p95_ms"] < LIMIT_MS for found in pages.values() for k in CONSTANT)
    print(f"worklist queries independent of cohort size: {'yes' if constant else 'NO'}")
    print(f"worklist p95 under {LIMIT_MS:.0f} ms: {'yes' if fast else 'NO'}")
    (OUT / "prescreening.json").write_text(
        json.dumps(
            {
                "assessment": assessed,
                "refresh_seconds": refreshed,
                "worklist": pages,
                "queries_constant": constant,
                "p95_under_limit": fast,
            },
            indent=2,
        )
    )
    remove_database()
    return 0 if constant and fast and assessed["seconds"] <= LIMIT_S else 1


if __name__ == "__main__":
    sys.exit(main())
