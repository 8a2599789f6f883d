"""Two trials race for the same members from separate processes on PostgreSQL: exactly
one allocation per member is made, and the other trial's request is refused by its
overlap rule (decided under the allocation service's lock on the member).

Skipped on SQLite (one writer at a time, so there is no race to lose), unless
BLEND_REQUIRE_POSTGRES=1 (the PostgreSQL CI pass), where that is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from blend.apps.allocation.models import Allocation
from blend.apps.allocation.verification import verify
from tests.databases import require_postgres
from tests.web.screening.flow import screen_and_confirm
from tests.web.trials.flow import confirm_for_vertical

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
MEMBERS = 12

CHILD = """
import os, sys, time
import django
django.setup()
from blend.apps.accounts.models import User
from blend.apps.allocation.services import AllocationError, randomize
from blend.apps.registry.models import Participant
trial, user_id, go, *ids = sys.argv[1:]
user = User.objects.get(pk=int(user_id))
members = [Participant.objects.get(pk=int(pk)) for pk in ids]
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.002)
for member in members:
    try:
        randomize(member, user=user, trial=trial)
        print("allocated", member.pk, flush=True)
    except AllocationError as error:
        print("refused", member.pk, str(error).replace(chr(10), " "), flush=True)
"""


def _test_database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _start(trial: str, user: Any, go: Path, members: list[Any]) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "BLEND_DATABASE_URL": _test_database_url(),
        "DJANGO_SETTINGS_MODULE": "blend.web.test_settings",
    }
    args = [sys.executable, "-c", CHILD, trial, str(user.pk), str(go)]
    return subprocess.Popen(
        args + [str(m.pk) for m in members],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_trials_randomizing_one_member_at_once_make_exactly_one_allocation(
    make_participant: Any, personas: dict[str, Any], tmp_path: Path
) -> None:
    require_postgres()
    members = []
    for _ in range(MEMBERS):
        member = make_participant()
        screen_and_confirm(member, personas)  # eligible for BLEND
        confirm_for_vertical(member, personas)  # and for VERTICAL
        members.append(member)
    go = tmp_path / "go"
    children = [
        _start("BLEND", personas["nurse_nina"], go, members),
        _start("VERTICAL", personas["investigator_ivo"], go, members),
    ]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr.read()  # type: ignore[union-attr]
    go.touch()
    deadline = time.monotonic() + 120
    lines = []
    for child in children:
        out, err = child.communicate(timeout=max(1.0, deadline - time.monotonic()))
        assert child.returncode == 0, err
        lines += out.split("\n")

    outcomes = Counter(line.split()[0] for line in lines if line)
    assert outcomes == {"allocated": MEMBERS, "refused": MEMBERS}
    refusals = [line for line in lines if line.startswith("refused")]
    assert all("overlap with other trials" in line for line in refusals), refusals
    per_member = Counter(Allocation.objects.values_list("participant_id", flat=True))
    assert set(per_member) == {m.pk for m in members} and set(per_member.values()) == {1}
    assert verify(trial="BLEND").ok and verify(trial="VERTICAL").ok
