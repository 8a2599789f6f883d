"""The audit tables refuse DELETE on both databases (the test runner's flush excepted)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from blend.apps.audit.models import AuditChainLink, AuditEvent
from blend.apps.exports.models import ExportLog
from blend.apps.registry.models import Participant
from tests.web.audit.tampering import settle

TABLES = [
    "audit_auditevent",
    "registry_historicalparticipant",
    "registry_historicalidentity",
    "audit_auditchainlink",
]


@pytest.mark.django_db
def test_application_code_cannot_delete_audit_events(make_participant) -> None:
    make_participant()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.exists()


@pytest.mark.django_db
def test_application_code_cannot_delete_history_rows(make_participant) -> None:
    participant = make_participant()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        participant.history.all().delete()
    assert Participant.history.filter(id=participant.pk).exists()


@pytest.mark.django_db
def test_export_log_rows_cannot_be_deleted() -> None:
    ExportLog.objects.create(via="cli", kind="analysis")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ExportLog.objects.all().delete()
    assert ExportLog.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("table", TABLES)
def test_a_raw_delete_is_refused(make_participant, table) -> None:
    make_participant()
    settle()  # PostgreSQL writes the chain links at commit; write them now
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table}")


@pytest.mark.django_db
def test_the_flag_that_lets_the_test_flush_delete_is_off_for_everyone_else(
    make_participant,
) -> None:
    make_participant()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT blend_audit_delete_allowed()")
            assert cursor.fetchone() == (0,)


@pytest.mark.django_db(transaction=True)
def test_the_test_runners_flush_empties_the_audit_tables(make_participant) -> None:
    """The runner flushes after every transactional test (this one too); it must work."""
    make_participant()
    assert AuditEvent.objects.exists() and AuditChainLink.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists() and not AuditChainLink.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_outside_the_test_runner_flush_is_refused_and_keeps_the_trail(
    make_participant, monkeypatch
) -> None:
    from blend.apps.audit.management.commands import flush

    make_participant()
    monkeypatch.setattr(flush, "_under_test_runner", lambda: False)
    with pytest.raises(CommandError, match="couldn't be flushed") as refused:
        call_command("flush", interactive=False, verbosity=0)
    assert "append-only" in str(refused.value.__cause__)
    assert AuditEvent.objects.exists() and Participant.objects.exists()  # rolled back whole
    monkeypatch.undo()  # the runner's own flush after this test
