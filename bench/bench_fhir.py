"""FHIR export of 10,000 randomized participants (`blend export fhir`; goal ≤ 60 s).

Builds the same throw-away cohort as bench_exports.py (its ``build``: 10,000 randomized
members, nine scored questionnaires each), in a database of its own under bench/out/, and
times ``fhir.services.export_fhir``. The anchor, measured in the same run on the same
data, is the full export's CSV (``export_full(["csv"])``).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"
OUT.mkdir(exist_ok=True)
DB = OUT / "bench_fhir.sqlite3"
N = int(os.environ.get("BENCH_FHIR_PARTICIPANTS", "10000"))
GOAL_SECONDS = 60.0
os.environ.update(
    {
        "BLEND_DATABASE_URL": f"sqlite:///{DB}",
        "BLEND_DEBUG": "1",
        "BLEND_SECURE": "0",
        "DJANGO_SETTINGS_MODULE": "blend.web.settings",
    }
)

import django  # noqa: E402

django.setup()  # before bench_exports: Django keeps this database, not that script's

sys.path.insert(0, str(Path(__file__).parent))
import bench_exports  # noqa: E402
from blend.apps.exports.services import export_full  # noqa: E402
from blend.apps.fhir.services import export_fhir  # noqa: E402
from blend.apps.questionnaires.models import Response  # noqa: E402
from figures import Figure, record  # noqa: E402

bench_exports.DB = DB  # its build() starts by removing the database it names
#: Answers as the questionnaire pages store them (bench_exports stores scores only), so
#: every QuestionnaireResponse carries its items.
ANSWERS = {
    "qlq-c15-pal": {f"q{i}": 2 for i in range(1, 15)} | {"q15": 4},
    "pain-nrs": {"worst_pain": 5},
    "omed": {"any": "yes", "drug_1": "morphine|oral", "dose_1": 30},
    "eq5d5l-nl": {
        "mobility": 2,
        "self_care": 1,
        "usual_activities": 2,
        "pain_discomfort": 3,
        "anxiety_depression": 1,
        "vas": 60,
    },
}


def timed(name: str, run) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    folder = OUT / f"bench_fhir_{name}"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    entry = run(folder)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in folder.iterdir())
    shutil.rmtree(folder, ignore_errors=True)
    count = sum(entry.rows.values())
    print(f"  {name:<10} {seconds:7.1f} s   {size / 1e6:8.1f} MB   {count:,} rows/resources")
    return seconds, count


def main() -> int:
    started = time.perf_counter()
    user = bench_exports.build(N)
    Response.objects.update(answers=ANSWERS)
    print(f"built {N:,} randomized participants in {time.perf_counter() - started:.1f} s")
    fhir_seconds, resources = timed("fhir", lambda f: export_fhir(f, user=user))
    csv_seconds, _rows = timed("full_csv", lambda f: export_full(f, ["csv"], user=user))
    record(
        "bench_fhir",
        [
            Figure(
                f"FHIR export (NDJSON), {N:,} participants",
                value=round(fhir_seconds, 2),
                unit="s",
                anchor=round(csv_seconds, 2),
                anchor_label="full CSV export of the same data",
                goal_value_max=GOAL_SECONDS,
                note=f"{resources:,} resources",
            )
        ],
    )
    bench_exports.remove_database()
    return 0


if __name__ == "__main__":
    sys.exit(main())
