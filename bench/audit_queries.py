"""SQL queries per audited write (docs/architecture.md, issue 11).

Every service writes clinical data through ``audit.services.audited_save``, so its
cost is paid on every write. Builds a throw-away SQLite database under bench/out/
with one participant, then counts the queries (``CaptureQueriesContext``) of one
first entry and one edit of a participant-linked row, with no lock in force.

Run: ``.venv/bin/python bench/audit_queries.py`` (prints the counts, writes
bench/out/audit_queries.json).
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

OUT = Path(__file__).parent / "out"
OUT.mkdir(exist_ok=True)
DB = OUT / "audit_queries.sqlite3"
os.environ.update(
    {"BLEND_DATABASE_URL": f"sqlite:///{DB}", "DJANGO_SETTINGS_MODULE": "blend.web.test_settings"}
)

import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from blend.apps.accounts.models import User  # noqa: E402
from blend.apps.audit.services import audited_save  # noqa: E402
from blend.apps.consent.models import ConsentFormVersion, ConsentRecord  # noqa: E402
from blend.apps.registry.models import Site  # noqa: E402
from blend.apps.registry.services import Registration, register_participant  # noqa: E402


def remove_database() -> None:
    connection.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)


def main() -> None:
    remove_database()
    call_command("migrate", verbosity=0)
    site = Site.objects.create(code="umcu", name="UMC Utrecht")
    nurse = User.objects.create_user("bench", password="x" * 12, role="nurse", site=site)
    version = ConsentFormVersion.objects.create(version="v3", valid_from=date(2020, 1, 1))
    participant = register_participant(
        Registration(
            site=site,
            registered_on=date(2025, 3, 1),
            sex="female",
            primary_tumour="breast",
            metastases_diagnosed_on=date(2025, 2, 1),
            performance_status=1,
            full_name="Bench Person",
            date_of_birth=date(1960, 5, 17),
            hospital_number="B100001",
            email="",
            phone="",
            preferred_language="nl",
        ),
        user=nurse,
    )
    record = ConsentRecord(
        participant=participant,
        item="a",
        answer="yes",
        effective_on=date(2025, 3, 1),
        form_version=version,
        recorded_by=nurse,
    )
    with CaptureQueriesContext(connection) as first:
        audited_save(record, user=nurse)
    record.answer = "no"
    with CaptureQueriesContext(connection) as edit:
        audited_save(record, user=nurse, reason="bench edit")
    counts = {"first entry": len(first.captured_queries), "edit": len(edit.captured_queries)}
    for name, count in counts.items():
        print(f"audited write, {name:12} {count:3d} queries")
    (OUT / "audit_queries.json").write_text(json.dumps(counts, indent=2) + "\n", encoding="utf-8")
    remove_database()


if __name__ == "__main__":
    main()
