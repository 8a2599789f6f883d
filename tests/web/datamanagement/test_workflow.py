"""Queries, locks, sign-off and `blend check-data`."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import RequestFactory

from blend.apps.accounts.services import ReauthenticationFailed
from blend.apps.audit.models import AuditEvent
from blend.apps.consent.services import record_consent
from blend.apps.datamanagement import services
from blend.apps.datamanagement.locks import Locked
from blend.apps.datamanagement.models import FormStatus, Query, Signature
from blend.apps.registry.services import update_participant
from tests.personas import PASSWORD


def _query(participant, personas) -> Query:  # type: ignore[no-untyped-def]
    return services.open_query(
        services.QueryTarget(participant, "Cohort registration", "performance_status"),
        "PS 3 in the letter?",
        assigned_role="nurse",
        user=personas["datamanager_dirk"],
    )


def test_query_workflow_open_answered_closed(make_participant, personas) -> None:
    p = make_participant()
    query = _query(p, personas)
    assert query.status == "open"
    query = services.answer_query(
        query, "Corrected to 3 after checking the letter.", user=personas["nurse_nina"]
    )
    assert query.status == "answered"
    query = services.reopen_query(query, "Letter says 2.", user=personas["datamanager_dirk"])
    query = services.answer_query(query, "Right, 2.", user=personas["nurse_nina"])
    query = services.close_query(query, "Thanks.", user=personas["datamanager_dirk"])
    assert query.status == "closed" and query.closed_at is not None
    assert [m.kind for m in query.messages.all()] == [
        "question",
        "answer",
        "reopen",
        "answer",
        "close",
    ]
    assert AuditEvent.objects.filter(action__startswith="query.", participant=p).count() == 5
    with pytest.raises(services.DataManagementError, match="expected the query to be open"):
        services.answer_query(query, "late", user=personas["nurse_nina"])


def test_query_roles(make_participant, personas) -> None:
    p = make_participant()
    with pytest.raises(PermissionDenied):
        _query(p, {"datamanager_dirk": personas["nurse_nina"]})
    query = _query(p, personas)
    with pytest.raises(PermissionDenied):
        services.answer_query(query, "x", user=personas["monitor_mo"])
    with pytest.raises(PermissionDenied):
        services.close_query(query, "x", user=personas["nurse_nina"])
    with pytest.raises(services.DataManagementError, match="text"):
        services.answer_query(query, "  ", user=personas["nurse_nina"])


def test_query_pages(make_participant, personas, client_for) -> None:
    p = make_participant()
    query = _query(p, personas)
    nurse = client_for("nurse_nina")
    assert (
        "PS 3 in the letter?" in nurse.get(f"/datamanagement/queries/{query.pk}/").content.decode()
    )
    assert (
        nurse.post(
            f"/datamanagement/queries/{query.pk}/", {"text": "done", "action": "answer"}
        ).status_code
        == 302
    )
    assert (
        nurse.post(
            f"/datamanagement/queries/{query.pk}/", {"text": "bye", "action": "close"}
        ).status_code
        == 403
    )
    query.refresh_from_db()
    assert query.status == "answered"
    assert client_for("monitor_mo").get(f"/datamanagement/{p.study_id}/query/").status_code == 403


def test_a_participant_lock_blocks_every_change_until_a_data_manager_unlocks(
    make_participant, personas, consent_version
) -> None:
    p, other = make_participant(), make_participant()
    FormStatus.objects.create(participant=p, form="Cohort registration")
    services.lock_participant(p, user=personas["datamanager_dirk"], reason="casebook complete")
    assert set(FormStatus.objects.filter(participant=p).values_list("status", flat=True)) == {
        "locked"
    }
    with pytest.raises(Locked, match="is locked"):
        update_participant(p, {"performance_status": 2}, user=personas["nurse_nina"], reason="typo")
    with pytest.raises(Locked):
        record_consent(
            p,
            "e",
            "no",
            on=date(2025, 3, 2),
            form_version=consent_version,
            user=personas["nurse_nina"],
        )
    update_participant(
        other, {"performance_status": 2}, user=personas["nurse_nina"], reason="typo"
    )  # others open
    with pytest.raises(PermissionDenied):
        services.unlock_participant(p, user=personas["investigator_ivo"], reason="x")
    with pytest.raises(services.DataManagementError, match="reason"):
        services.unlock_participant(p, user=personas["datamanager_dirk"], reason="")
    services.unlock_participant(p, user=personas["datamanager_dirk"], reason="query on PS")
    update_participant(
        p, {"performance_status": 2}, user=personas["nurse_nina"], reason="query on PS"
    )
    p.refresh_from_db()
    assert p.performance_status == 2
    assert AuditEvent.objects.get(action="unlock.participant").reason == "query on PS"


def test_the_database_lock_blocks_everyone(make_participant, personas, client_for) -> None:
    p = make_participant()
    services.lock_database(user=personas["datamanager_dirk"], reason="final analysis")
    with pytest.raises(Locked, match="database is locked"):
        update_participant(p, {"performance_status": 2}, user=personas["nurse_nina"], reason="typo")
    from blend.apps.safety.services import report_adverse_event

    def ae_data() -> dict:
        return {
            "term": "seroma",
            "grade": 1,
            "onset_date": date(2025, 4, 1),
            "related_sbrt": "unlikely",
            "related_surgery": "possible",
            "action_taken": "none",
            "outcome": "recovering",
        }

    with pytest.raises(Locked):
        report_adverse_event(p, ae_data(), user=personas["nurse_nina"])
    response = client_for("datamanager_dirk").post(
        "/datamanagement/database/unlock/", {"reason": "late AE"}
    )
    assert response.status_code == 302
    assert services.active_lock(None) is None
    report_adverse_event(p, ae_data(), user=personas["nurse_nina"])


def test_sign_off_needs_the_password_and_shows_the_meaning(
    make_participant, personas, client_for
) -> None:
    p = make_participant()
    ivo = personas["investigator_ivo"]
    request = RequestFactory().post("/")
    with pytest.raises(ReauthenticationFailed):
        services.sign_off(p, user=ivo, password="wrong", request=request)
    assert not Signature.objects.exists()
    with pytest.raises(PermissionDenied):
        services.sign_off(p, user=personas["nurse_nina"], password=PASSWORD, request=request)
    client = client_for("investigator_ivo")
    page = client.get(f"/datamanagement/{p.study_id}/sign-off/").content.decode()
    assert "legally binding equivalent of my handwritten signature" in page
    bad = client.post(
        f"/datamanagement/{p.study_id}/sign-off/", {"password": "nope", "understood": "on"}
    )
    assert bad.status_code == 400 and not Signature.objects.exists()
    good = client.post(
        f"/datamanagement/{p.study_id}/sign-off/", {"password": PASSWORD, "understood": "on"}
    )
    assert good.status_code == 302
    signature = Signature.objects.get()
    assert signature.signed_by == ivo and "reviewed the case report forms" in signature.meaning
    assert services.signature_is_current(signature)
    update_participant(p, {"performance_status": 3}, user=personas["nurse_nina"], reason="letter")
    assert not services.signature_is_current(signature)  # a change after signing voids the sign-off


def test_source_verification(make_participant, personas) -> None:
    p = make_participant()
    status = services.source_verify(p, "Cohort registration", user=personas["datamanager_dirk"])
    assert status.status == "source_verified"
    with pytest.raises(PermissionDenied):
        services.source_verify(p, "Consent", user=personas["nurse_nina"])


def test_check_data_opens_queries_once_and_closes_resolved_ones(make_participant, personas) -> None:
    good, bad = make_participant(), make_participant()
    from blend.apps.registry.models import Participant

    Participant.objects.filter(pk=bad.pk).update(
        metastases_diagnosed_on=date(2025, 3, 5)
    )  # after entry
    out = StringIO()
    call_command("check_data", stdout=out)
    assert "[P02]" in out.getvalue() and "opened 1 queries" in out.getvalue()
    query = Query.objects.get()
    assert (query.participant, query.check_code, query.field, query.status) == (
        bad,
        "P02",
        "metastases_diagnosed_on",
        "open",
    )
    call_command("check_data", stdout=StringIO())
    assert Query.objects.count() == 1
    update_participant(
        bad,
        {"metastases_diagnosed_on": date(2025, 2, 1)},
        user=personas["nurse_nina"],
        reason="query P02",
    )
    out = StringIO()
    call_command("check_data", stdout=out)
    query.refresh_from_db()
    assert query.status == "closed" and "closed 1 resolved" in out.getvalue()
    assert good.queries.count() == 0


def test_casebook_status_per_form_and_visit(make_participant, personas, client_for) -> None:
    p = make_participant()
    assert services.casebook_status(p) == [
        {"form": "Cohort registration", "visit": "", "status": "entered", "label": "entered"},
        {"form": "Consent", "visit": "", "status": "entered", "label": "entered"},
    ]
    response = client_for("datamanager_dirk").post(
        f"/datamanagement/{p.study_id}/verify/", {"form": "Consent"}
    )
    assert response.status_code == 302
    assert [r["status"] for r in services.casebook_status(p)] == ["entered", "source_verified"]
    page = client_for("datamanager_dirk").get(f"/participants/{p.study_id}/").content.decode()
    assert "source-verified" in page and "Mark source-verified" in page
    services.lock_participant(p, user=personas["datamanager_dirk"])
    assert {r["status"] for r in services.casebook_status(p)} == {"locked"}
    assert set(FormStatus.objects.filter(participant=p).values_list("form", "status")) == {
        ("Cohort registration", "locked"),
        ("Consent", "locked"),
    }
