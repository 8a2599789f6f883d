"""The audit chain under concurrent writers on PostgreSQL: 8 threads edit participants and
record events at once, in transactions that touch the history and event tables in
different orders. Every chain stays linear and complete, and no commit deadlocks."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connections, transaction

from blend.apps.audit.integrity import check_audit
from blend.apps.audit.models import AuditChainLink
from blend.apps.audit.services import record_event
from blend.apps.consent.services import withdraw_consent
from blend.apps.registry.services import update_participant
from tests.databases import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
THREADS = 8
EDITS = 15


def test_concurrent_audited_writes_keep_every_chain_linear_and_complete(
    make_participant, personas
) -> None:
    require_postgres()
    members = [[make_participant() for _ in range(2)] for _ in range(THREADS)]
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(t: int) -> None:
        try:
            start.wait()
            for i in range(EDITS):
                participant = members[t][i % 2]
                with transaction.atomic():
                    if (t + i) % 2:  # event first, then history
                        record_event("test.concurrent", actor=None, participant=participant)
                    update_participant(
                        participant,
                        {"performance_status": i % 4},
                        user=personas["nurse_nina"],
                        reason=f"edit {i}",
                    )
                    if not (t + i) % 2:  # history first, then event
                        record_event("test.concurrent", actor=None, participant=participant)
            withdraw_consent(
                members[t][0],
                "e",
                on=date(2025, 4, 1),
                reason="No linkage",
                user=personas["nurse_nina"],
            )
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
    report = check_audit()
    assert report.ok, report.problems[:10]
    seqs = list(
        AuditChainLink.objects.filter(table_name="audit_auditevent")
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= THREADS * EDITS
