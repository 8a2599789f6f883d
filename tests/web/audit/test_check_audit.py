"""`blend check-audit` proves the trail complete, and catches each way to obscure it."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from blend.apps.audit.integrity import check_audit
from blend.apps.audit.models import AuditChainLink, AuditEvent
from blend.apps.consent.models import ConsentRecord
from blend.apps.consent.services import withdraw_consent
from blend.apps.registry.services import update_participant
from tests.web.audit.tampering import behind_the_triggers, settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(make_participant, personas):
    """Two members with consent, an edit and a withdrawal: a small, clean trail."""
    first, second = make_participant(), make_participant()
    update_participant(
        first, {"performance_status": 2}, user=personas["investigator_ivo"], reason="Re-assessed"
    )
    withdraw_consent(
        second, "e", on=date(2025, 4, 1), reason="No linkage", user=personas["nurse_nina"]
    )
    settle()
    return first, second


def test_a_trail_written_by_the_services_passes_and_every_row_is_chained(trail) -> None:
    report = check_audit()
    assert report.ok, report.problems
    events = next(t for t in report.tables if t.table == "audit_auditevent")
    assert events.rows == AuditEvent.objects.count() > 0
    assert AuditChainLink.objects.filter(table_name="audit_auditevent").count() == events.rows
    live = next(t for t in report.tables if t.table == "consent_consentrecord")
    assert live.kind == "live" and live.rows == ConsentRecord.objects.count() == 11
    out = StringIO()
    call_command("check_audit", stdout=out)
    assert "OK:" in out.getvalue() and "consent_consentrecord" in out.getvalue()


def test_a_consent_record_edited_in_the_database_without_history_is_named(trail) -> None:
    record = ConsentRecord.objects.filter(participant=trail[0], item="a").get()
    with connection.cursor() as cursor:  # a live table: the app's role may UPDATE it
        cursor.execute("UPDATE consent_consentrecord SET answer = 'no' WHERE id = %s", [record.pk])
    report = check_audit()
    assert report.problems == [
        f"consent_consentrecord row {record.pk}: answer differs from its last history row "
        f"(consent_historicalconsentrecord {record.history.latest().history_id}): "
        "changed without history"
    ]
    with pytest.raises(CommandError, match="audit trail check failed: 1 problem"):
        call_command("check_audit", stdout=StringIO(), stderr=StringIO())


def test_a_deleted_history_row_is_reported_as_gone_from_the_chain(trail) -> None:
    latest = trail[0].history.latest()  # the edit's history row
    behind_the_triggers(
        "registry_historicalparticipant",
        "DELETE FROM registry_historicalparticipant WHERE history_id = %s",
        [latest.history_id],
    )
    problems = check_audit().problems
    assert any(
        p.startswith(f"registry_historicalparticipant row {latest.history_id}: chained as link")
        and p.endswith("is gone (deleted)")
        for p in problems
    ), problems
    # ... and the live row no longer equals its (now earlier) last history row.
    assert any(
        p.startswith(f"registry_participant row {trail[0].pk}: performance_status differs")
        for p in problems
    ), problems


def test_a_history_row_deleted_with_its_chain_link_breaks_the_chain(trail) -> None:
    first = AuditEvent.objects.order_by("id").first()
    link = AuditChainLink.objects.get(table_name="audit_auditevent", row_id=str(first.pk))
    behind_the_triggers(
        "audit_auditevent", "DELETE FROM audit_auditevent WHERE id = %s", [first.pk]
    )
    behind_the_triggers(
        "audit_auditchainlink", "DELETE FROM audit_auditchainlink WHERE id = %s", [link.pk]
    )
    problems = check_audit().problems
    assert any(
        p.startswith("audit_auditevent: link 1 is missing before link 2") for p in problems
    ), problems
    assert any("does not follow link 0" in p for p in problems), problems


def test_an_audit_row_rewritten_behind_the_triggers_is_caught_by_its_digest(trail) -> None:
    event = AuditEvent.objects.get(participant=trail[1], action="consent.withdraw")
    behind_the_triggers(
        "audit_auditevent",
        "UPDATE audit_auditevent SET reason = %s WHERE id = %s",
        ["Patient asked", event.pk],
    )
    assert [p for p in check_audit().problems if "audit_auditevent" in p] == [
        f"audit_auditevent row {event.pk}: differs from what link "
        f"{AuditChainLink.objects.get(table_name='audit_auditevent', row_id=str(event.pk)).seq} "
        f"(row {event.pk}) chained (edited after it was written)"
    ]


def test_a_row_inserted_behind_the_chain_trigger_is_not_adopted(trail) -> None:
    behind_the_triggers(
        "audit_auditevent",
        "INSERT INTO audit_auditevent (at, action, object_type, object_id, reason, details) "
        "VALUES (%s, 'enrol', '', '', '', '{}')",
        ["2025-01-01 00:00:00+00:00"],
    )
    forged = AuditEvent.objects.order_by("-id").first()
    call_command("migrate", verbosity=0)  # reinstalling the triggers must not chain it
    assert check_audit().problems == [
        f"audit_auditevent row {forged.pk}: is not in the chain (written behind the trigger)"
    ]


def test_a_live_row_written_without_any_history_is_missing(trail) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO consent_consentformversion (version, valid_from, reask_items) "
            "VALUES ('v9', '2025-01-01', '[]')"
        )
    problems = check_audit().problems
    assert len(problems) == 1 and problems[0].startswith("consent_consentformversion row ")
    assert problems[0].endswith("has no history row (written without history)")


def test_rows_from_before_the_chain_are_chained_by_the_migrate_that_installs_it(trail) -> None:
    """An upgraded database: its history rows predate the chain (here: its links are gone)."""
    behind_the_triggers(
        "audit_auditchainlink",
        "DELETE FROM audit_auditchainlink WHERE table_name = 'registry_historicalparticipant'",
    )
    assert any("is not in the chain" in p for p in check_audit().problems)
    call_command("migrate", verbosity=0)
    settle()
    assert check_audit().ok
    assert AuditChainLink.objects.filter(table_name="registry_historicalparticipant").count() == 3
