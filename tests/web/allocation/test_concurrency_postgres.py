"""Concurrent randomization on PostgreSQL: 8 threads, 240 participants, every participant
also attempted from other threads. Zero doubles, no gaps, and the chain verifies.

Run with BLEND_DATABASE_URL=postgres://postgres@127.0.0.1:5432/blend_alloc. Skipped on
SQLite, unless BLEND_REQUIRE_POSTGRES=1 (the PostgreSQL CI pass), where that is a failure.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connections

from blend.apps.allocation.models import Allocation, AllocationLog, AllocationSequence
from blend.apps.allocation.services import AlreadyRandomized, randomize
from blend.apps.allocation.verification import verify
from blend.randomization.anchor import parse_anchors
from blend.randomization.chain import parse_chain_key
from tests.databases import require_postgres
from tests.web.screening.flow import screen_and_confirm

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
THREADS = 8
PARTICIPANTS = 240
ATTEMPTS_PER_PARTICIPANT = 3  # each from a different thread


def test_concurrent_randomizations_never_double_allocate_or_leave_gaps(
    make_participant, personas, settings, tmp_path
) -> None:
    require_postgres()
    settings.CHAIN_ANCHOR_DIR = str(tmp_path)  # every thread appends its heads here
    participants = []
    for _ in range(PARTICIPANTS):
        participant = make_participant()
        screen_and_confirm(participant, personas)
        participants.append(participant)
    users = [personas["nurse_nina"], personas["investigator_ivo"]]
    # Thread t attempts participants t, t+8, ... and also those of threads t+1 and t+2.
    work = [
        [
            p
            for i, p in enumerate(participants)
            if i % THREADS in {(t + k) % THREADS for k in range(ATTEMPTS_PER_PARTICIPANT)}
        ]
        for t in range(THREADS)
    ]
    start = threading.Barrier(THREADS)
    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(t: int) -> None:
        try:
            start.wait()
            for participant in work[t]:
                try:
                    randomize(participant, user=users[t % 2])
                    result = "allocated"
                except AlreadyRandomized:
                    result = "refused"
                with lock:
                    outcomes[result] += 1
        except BaseException as error:  # noqa: BLE001 - reported to the main thread below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert outcomes == {
        "allocated": PARTICIPANTS,
        "refused": PARTICIPANTS * (ATTEMPTS_PER_PARTICIPANT - 1),
    }
    per_participant = Counter(Allocation.objects.values_list("participant_id", flat=True))
    assert len(per_participant) == PARTICIPANTS and set(per_participant.values()) == {1}
    numbers = sorted(Allocation.objects.values_list("sequence_number", flat=True))
    assert numbers == list(range(1, PARTICIPANTS + 1))
    assert sorted(AllocationLog.objects.values_list("sequence_number", flat=True)) == numbers
    assert AllocationSequence.objects.get().last_number == PARTICIPANTS
    # Every allocation's head reached the anchor file (appended after each commit, in
    # whatever order the threads committed), and the chain agrees with all of them.
    anchors, bad = parse_anchors(
        (tmp_path / "BLEND.log").read_text(), trial="BLEND", key=parse_chain_key("c4a1" * 16)
    )
    assert bad == [] and sorted(a.number for a in anchors) == numbers
    report = verify("5eed" * 16, anchors=anchors)
    assert report.ok, report.problems
    assert report.regenerated and report.keyed == PARTICIPANTS and report.authenticated
