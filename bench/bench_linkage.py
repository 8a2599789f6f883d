"""BRP vital-status import: a 1,000-member file applied (goal: ≤ 10 s, issue 17).

Builds a throw-away SQLite database under bench/out/ with 1,000 registered members, each
with a recorded last contact, then applies one BRP file keyed by the pseudonymised
linkage key (every member computed, as in production): 100 deaths (each recorded through
``followup.services.record_vital_status``, stopping invitations and waiting for SAE
review), 880 "alive at" dates that move the last contact, and 20 deaths that disagree
with a recorded death (queued as conflicts). The anchor, measured in the same run, is the
same 1,000 changes made by calling ``record_vital_status`` directly (the staff entry),
so the ratio is what the file's reading, matching and judging add.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

OUT = Path(__file__).parent / "out"
OUT.mkdir(exist_ok=True)
DB = OUT / "bench_linkage.sqlite3"
MEMBERS = 1_000
GOAL_SECONDS = 10.0
os.environ.update(
    {
        "BLEND_DATABASE_URL": f"sqlite:///{DB}",
        "BLEND_DEBUG": "1",
        "BLEND_SECURE": "0",
        "BLEND_LOCAL_SETTINGS": "",
        "BLEND_LINKAGE_KEY": "be7c" * 16,
        "DJANGO_SETTINGS_MODULE": "blend.web.settings",
    }
)
sys.path.insert(0, str(Path(__file__).parent))

import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from blend.apps.accounts.models import User  # noqa: E402
from blend.apps.followup.models import VitalStatus  # noqa: E402
from blend.apps.followup.services import record_vital_status  # noqa: E402
from blend.apps.linkage.domain import linkage_key  # noqa: E402
from blend.apps.linkage.services import import_brp, linkage_secret  # noqa: E402
from blend.apps.registry.domain import format_study_id  # noqa: E402
from blend.apps.registry.models import Identity, Participant, Site  # noqa: E402
from figures import Figure, record  # noqa: E402

ENTRY = date(2024, 1, 1)
CONTACT = date(2025, 1, 1)


class Rollback(Exception):
    pass


def build_database() -> tuple[User, list[Participant]]:
    DB.unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    user = User.objects.create(username="bench", role="data_manager")
    site = Site.objects.create(code="umcu", name="UMC Utrecht")
    people = Participant.objects.bulk_create(
        Participant(
            study_id=format_study_id(n),
            site=site,
            registered_on=ENTRY,
            sex="female",
            birth_year=1960,
            primary_tumour="breast",
            metastases_diagnosed_on=ENTRY,
            performance_status=1,
            created_by=user,
        )
        for n in range(1, MEMBERS + 1)
    )
    Identity.objects.bulk_create(
        Identity(
            participant=p,
            full_name=f"M {n}",
            date_of_birth=date(1960, 1, 1),
            hospital_number=f"R{n:07d}",
        )
        for n, p in enumerate(people, start=1)
    )
    VitalStatus.objects.bulk_create(
        VitalStatus(
            participant=p,
            last_contact_on=CONTACT,
            died_on=CONTACT if n > MEMBERS - 20 else None,
            recorded_by=user,
        )
        for n, p in enumerate(people, start=1)
    )
    return user, people


def brp_file(people: list[Participant]) -> bytes:
    secret = linkage_secret()
    lines = ["linkage_key,died_on,alive_on"]
    for n in range(1, len(people) + 1):
        key = linkage_key(secret, ["umcu", f"R{n:07d}", "1960-01-01"])
        if n <= 100:
            lines.append(f"{key},{CONTACT + timedelta(days=n)},")
        elif n > MEMBERS - 20:
            lines.append(f"{key},{CONTACT + timedelta(days=3)},")  # differs: a conflict
        else:
            lines.append(f"{key},,{CONTACT + timedelta(days=30)}")
    return ("\n".join(lines) + "\n").encode()


def anchor(user: User, people: list[Participant]) -> float:
    """The same 980 changes entered one by one through the service (rolled back)."""
    start = time.perf_counter()
    try:
        with transaction.atomic():
            for n, p in enumerate(people[: MEMBERS - 20], start=1):
                if n <= 100:
                    day = CONTACT + timedelta(days=n)
                    record_vital_status(p, last_contact_on=day, died_on=day, user=user, reason="b")
                else:
                    record_vital_status(
                        p, last_contact_on=CONTACT + timedelta(days=30), user=user, reason="b"
                    )
            raise Rollback
    except Rollback:
        pass
    return time.perf_counter() - start


def main() -> None:
    user, people = build_database()
    data = brp_file(people)
    staff = anchor(user, people)
    start, cpu_start = time.perf_counter(), time.process_time()
    run = import_brp(data, file_name="brp.csv", user=user, via="cli").run
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert (run.rows, run.matched, run.applied, run.conflicts) == (1000, 1000, 980, 20), run
    print(
        f"BRP file of {run.rows} members: {seconds:.2f} s ({run.applied} recorded, {run.conflicts} conflicts)"
    )
    print(
        f"  of which CPU time of this process: {cpu:.2f} s (the rest: waiting on a shared machine)"
    )
    print(f"anchor, the same changes through record_vital_status one by one: {staff:.2f} s")
    record(
        "bench_linkage",
        [
            Figure(
                "BRP vital-status file, 1,000 members, SQLite",
                value=round(seconds, 2),
                unit="s",
                anchor=round(staff, 2),
                anchor_label="the same 980 changes through record_vital_status directly",
                goal_value_max=GOAL_SECONDS,
            ),
            Figure(
                "BRP vital-status file, 1,000 members, CPU time of the process",
                value=round(cpu, 2),
                unit="s CPU",
                goal_value_max=GOAL_SECONDS,
                note="less sensitive than wall-clock time to other work on the machine",
            ),
        ],
    )


if __name__ == "__main__":
    main()
