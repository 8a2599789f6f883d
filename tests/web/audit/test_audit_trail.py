from __future__ import annotations

from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction

from blend.apps.audit.models import AuditEvent
from blend.apps.audit.services import ReasonRequired, participant_history
from blend.apps.consent.services import withdraw_consent
from blend.apps.registry.models import Participant
from blend.apps.registry.services import update_participant

pytestmark = pytest.mark.django_db


def test_registration_writes_history_for_participant_and_identity_and_an_enrol_event(
    make_participant,
) -> None:
    participant = make_participant(consent={})
    assert participant.history.count() == 1
    assert participant.history.first().history_change_reason == "first entry"
    assert participant.identity.history.count() == 1
    event = AuditEvent.objects.get(participant=participant, action="enrol")
    assert event.actor.username == "nurse_nina"


def test_an_edit_records_old_and_new_values_who_and_why(make_participant, personas) -> None:
    participant = make_participant(consent={})
    update_participant(
        participant,
        {"performance_status": 3},
        user=personas["investigator_ivo"],
        reason="Re-assessed at clinic",
    )
    latest = participant.history.first()
    assert latest.history_user == personas["investigator_ivo"]
    assert latest.history_change_reason == "Re-assessed at clinic"
    trail = participant_history(participant, include_identifiers=False)
    change = next(row for row in trail if row["type"] == "changed")
    assert change["changes"] == [{"field": "performance_status", "old": 1, "new": 3}]


def test_an_edit_without_a_reason_is_refused_and_writes_nothing(make_participant, personas) -> None:
    participant = make_participant(consent={})
    with pytest.raises(ReasonRequired, match="reason: expected a reason for change"):
        update_participant(
            participant, {"performance_status": 2}, user=personas["nurse_nina"], reason=""
        )
    assert Participant.objects.get(pk=participant.pk).performance_status == 1
    assert participant.history.count() == 1


def test_consent_decisions_and_withdrawals_each_leave_an_audit_row(
    make_participant, personas
) -> None:
    participant = make_participant()
    assert AuditEvent.objects.filter(participant=participant, action="consent.record").count() == 5
    withdraw_consent(
        participant, "e", on=date(2025, 4, 1), reason="No linkage", user=personas["nurse_nina"]
    )
    event = AuditEvent.objects.get(participant=participant, action="consent.withdraw")
    assert event.reason == "No linkage" and event.details == {"item": "e"}


def test_identifier_history_is_hidden_from_roles_without_identifier_access(
    make_participant,
) -> None:
    participant = make_participant(consent={})
    models_seen = {
        row["model"] for row in participant_history(participant, include_identifiers=False)
    }
    assert "identity" not in models_seen
    assert "identity" in {
        row["model"] for row in participant_history(participant, include_identifiers=True)
    }


@pytest.mark.parametrize("table", ["audit_auditevent", "registry_historicalparticipant"])
def test_audit_rows_cannot_be_updated_in_the_database(make_participant, table) -> None:
    make_participant()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET id = id")


def test_first_entry_shows_every_value_going_from_nothing_to_its_value(make_participant) -> None:
    participant = make_participant(consent={})
    created = next(
        row
        for row in participant_history(participant, include_identifiers=False)
        if row["model"] == "participant" and row["type"] == "created"
    )
    assert {"field": "performance_status", "old": None, "new": 1} in created["changes"]
    assert created["reason"] == "first entry"


def test_the_trail_hides_arm_revealing_rows_from_roles_without_allocation_access(
    make_participant,
) -> None:
    """The administrator holds audit.view but not allocation.view: an offer row in the
    trail would reveal the intervention arm, so it is left out for them."""
    from django.utils import timezone

    participant = make_participant()
    AuditEvent.objects.create(
        at=timezone.now(),
        action="offer.offered",
        participant=participant,
        object_type="offers.Offer",
        object_id="1",
        details={"state": "offered"},
    )
    blind = {row["type"] for row in participant_history(participant, include_identifiers=False)}
    sighted = {
        row["type"]
        for row in participant_history(
            participant, include_identifiers=False, include_allocation=True
        )
    }
    assert "enrol" in blind and "offer.offered" not in blind
    assert {"enrol", "offer.offered"} <= sighted
