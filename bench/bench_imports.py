"""Import validation: rows per second and peak memory (aim: ≥ 20,000 rows/s, and the same
peak memory at two file sizes), for the participant file and the historical-questionnaire
file.

Builds a throw-away SQLite database under bench/out/ with one site, one consent-form
version and 1,000 registered participants (so the check against the cohort has rows to
find), writes generated CSV files of 20,000 and 100,000 rows (every row valid, a
consent on each), and times ``validate_participants`` (the whole check, nothing
written) on each. The questionnaire file (1,000 participants × 6 scheduled timepoints ×
16 answers = 96,000 rows, and a 16,000-row one) is timed through a dry-run
``import_questionnaires``: every row checked, every questionnaire scored, nothing written. Peak memory is tracemalloc's peak of Python allocations during the
validation (numpy and pandas allocate through it), so it measures what the import
holds, not the interpreter. Rows per CPU second (process time) is printed beside the
wall-clock rate, since a shared machine's load changes the latter.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

OUT = Path(__file__).parent / "out"
OUT.mkdir(exist_ok=True)
DB = OUT / "bench_imports.sqlite3"
SIZES = [int(n) for n in os.environ.get("BENCH_IMPORT_ROWS", "20000,100000").split(",")]
AIM_ROWS_PER_SECOND = 20_000
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

from blend.apps.accounts.models import User  # noqa: E402
from blend.apps.consent.models import ConsentFormVersion  # noqa: E402
from blend.apps.exports.imports import (  # noqa: E402
    PARTICIPANT_COLUMNS,
    QUESTIONNAIRE_COLUMNS,
    consent_columns,
    import_questionnaires,
    validate_participants,
)
from blend.apps.followup.models import Assessment  # noqa: E402
from blend.apps.registry.domain import format_study_id  # noqa: E402
from blend.apps.registry.models import (  # noqa: E402
    Identity,
    Participant,
    Site,
    StudyIdCounter,
)

REGISTERED = 1_000
TIMEPOINTS = ["baseline", "w1", "w2", "w4", "w8", "w12"]
sys.path.insert(0, str(Path(__file__).parent))
from figures import Figure, record  # noqa: E402


def build_database() -> None:
    DB.unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    user = User.objects.create(username="bench", role="nurse")
    site = Site.objects.create(code="umcu", name="UMC Utrecht")
    ConsentFormVersion.objects.create(version="PRESENT v3.0", valid_from=date(2020, 1, 1))
    people = Participant.objects.bulk_create(
        Participant(
            study_id=format_study_id(n),
            site=site,
            registered_on=date(2024, 1, 1),
            sex="female",
            birth_year=1960,
            primary_tumour="breast",
            metastases_diagnosed_on=date(2023, 12, 1),
            performance_status=1,
            created_by=user,
        )
        for n in range(1, REGISTERED + 1)
    )
    Identity.objects.bulk_create(
        Identity(
            participant=p,
            full_name=f"Registered {n}",
            date_of_birth=date(1960, 1, 1),
            hospital_number=f"R{n:07d}",
        )
        for n, p in enumerate(people, start=1)
    )
    StudyIdCounter.objects.create(prefix="PRS", last_number=REGISTERED)
    day = date(2024, 2, 1)
    Assessment.objects.bulk_create(
        Assessment(
            participant=p,
            timepoint=timepoint,
            instruments=["qlq-c15-pal", "pain-nrs", "omed"],
            anchor_on=day,
            target_on=day,
            opens_on=day,
            closes_on=day,
        )
        for p in people
        for timepoint in TIMEPOINTS
    )
    User.objects.create(username="bench-dm", role="data_manager")


def write_questionnaire_file(path: Path, timepoints: list[str]) -> int:
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(QUESTIONNAIRE_COLUMNS)
        for n in range(1, REGISTERED + 1):
            sid = format_study_id(n)
            for timepoint in timepoints:
                for item in range(1, 16):
                    answer = str(1 + (n + item) % 4) if item < 15 else str(1 + n % 7)
                    writer.writerow(
                        [sid, timepoint, "2024-02-01", "paper", "qlq-c15-pal", f"q{item}", answer]
                    )
                writer.writerow(
                    [sid, timepoint, "2024-02-01", "paper", "pain-nrs", "worst_pain", str(n % 11)]
                )
                rows += 16
    return rows


def measure_questionnaires(timepoints: list[str]) -> dict[str, float]:
    path = OUT / f"bench_imports_questionnaires_{len(timepoints)}.csv"
    rows = write_questionnaire_file(path, timepoints)
    user = User.objects.get(username="bench-dm")
    tracemalloc.start()
    report = import_questionnaires(path, user=user, dry_run=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started, cpu = time.perf_counter(), time.process_time()
    import_questionnaires(path, user=user, dry_run=True)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert report.ok and report.rows == rows, report.rejected[:3]
    path.unlink()
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "rows_per_cpu_second": round(rows / cpu),
        "peak_memory_mb": round(peak / 1e6, 1),
    }


def write_file(path: Path, rows: int) -> None:
    header = PARTICIPANT_COLUMNS + consent_columns()
    start = date(2024, 1, 1)
    codes = [c.removeprefix("consent_") for c in consent_columns()[:-2]]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(rows):
            entered = start + timedelta(days=n % 600)
            values = {
                "hospital_number": f"H{n:08d}",
                "full_name": f"Deelnemer {n}",
                "date_of_birth": str(date(1940 + n % 40, 1 + n % 12, 1 + n % 28)),
                "sex": "female" if n % 2 else "male",
                "site": "umcu",
                "registered_on": str(entered),
                "primary_tumour": ["breast", "prostate", "lung", "kidney"][n % 4],
                "metastases_diagnosed_on": str(entered - timedelta(days=20)),
                "performance_status": str(n % 5),
                "email": f"p{n}@example.org" if n % 3 else "",
                "phone": "+31 612345678" if n % 2 else "",
                "preferred_language": "nl" if n % 4 else "en",
                "consent_on": str(entered),
                "consent_version": "PRESENT v3.0",
            }
            for code in codes:
                values[f"consent_{code}"] = "yes" if code in {"a", "b"} else ""
            writer.writerow([values.get(c, "") for c in header])


def measure(rows: int) -> dict[str, float]:
    path = OUT / f"bench_imports_{rows}.csv"
    write_file(path, rows)
    tracemalloc.start()
    started = time.perf_counter()
    result = validate_participants(path)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # tracemalloc slows Python allocations; time once more without it
    started, cpu = time.perf_counter(), time.process_time()
    validate_participants(path)
    untraced, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert result.report.ok and result.report.rows == rows, result.report.summary()
    size = path.stat().st_size
    path.unlink()
    return {
        "rows": rows,
        "file_mb": round(size / 1e6, 1),
        "seconds": round(untraced, 2),
        "seconds_traced": round(seconds, 2),
        "rows_per_second": round(rows / untraced),
        "cpu_seconds": round(cpu, 2),
        "rows_per_cpu_second": round(rows / cpu),
        "peak_memory_mb": round(peak / 1e6, 1),
    }


def main() -> int:
    build_database()
    results = [measure(rows) for rows in SIZES]
    for r in results:
        print(
            f"  {r['rows']:>7} rows ({r['file_mb']} MB): {r['seconds']:.2f} s, "
            f"{r['rows_per_second']:,} rows/s ({r['rows_per_cpu_second']:,} per CPU second), "
            f"peak memory {r['peak_memory_mb']} MB"
        )
    fastest_needed = min(r["rows_per_second"] for r in results)
    print(
        f"  aim ≥ {AIM_ROWS_PER_SECOND:,} rows/s: "
        f"{'met' if fastest_needed >= AIM_ROWS_PER_SECOND else 'NOT met'}; "
        f"peak memory {results[0]['peak_memory_mb']} → {results[-1]['peak_memory_mb']} MB "
        f"from {results[0]['rows']:,} to {results[-1]['rows']:,} rows"
    )
    questionnaires = [measure_questionnaires(TIMEPOINTS[:1]), measure_questionnaires(TIMEPOINTS)]
    for r in questionnaires:
        print(
            f"  questionnaires {r['rows']:>7} rows: {r['seconds']:.2f} s, "
            f"{r['rows_per_second']:,} rows/s ({r['rows_per_cpu_second']:,} per CPU second), "
            f"peak memory {r['peak_memory_mb']} MB"
        )
    (OUT / "imports.json").write_text(
        json.dumps(
            {
                "aim_rows_per_second": AIM_ROWS_PER_SECOND,
                "results": results,
                "questionnaires": questionnaires,
            },
            indent=2,
        )
        + "\n"
    )
    small, large = results[0], results[-1]
    record(
        "imports",
        [
            *(
                Figure(
                    f"participant validation, {r['rows']:,} rows",
                    r["rows_per_second"],
                    "rows/s",
                    goal_value_min=AIM_ROWS_PER_SECOND,
                )
                for r in results
            ),
            Figure(
                f"participant validation peak memory, {large['rows']:,} vs {small['rows']:,} rows",
                large["peak_memory_mb"],
                "MB",
                anchor=small["peak_memory_mb"],
                anchor_label=f"at {small['rows']:,} rows",
                note="the in-file duplicate check holds 8 bytes a row",
            ),
            *(
                Figure(
                    f"questionnaire validation, {r['rows']:,} rows",
                    r["rows_per_second"],
                    "rows/s",
                    goal_value_min=AIM_ROWS_PER_SECOND,
                )
                for r in questionnaires
            ),
        ],
    )
    DB.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
