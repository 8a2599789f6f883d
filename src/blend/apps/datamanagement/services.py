"""Data management state changes: queries, form status, locks and sign-off. Each
runs in one transaction and writes the audit trail."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from blend.apps import discover
from blend.apps.accounts.domain import Cap, Role
from blend.apps.accounts.permissions import check
from blend.apps.accounts.services import reauthenticate
from blend.apps.allocation import blinding
from blend.apps.audit.services import audited_save, participant_history, record_event
from blend.apps.datamanagement import fields
from blend.apps.datamanagement.models import (
    FormState,
    FormStatus,
    Lock,
    Query,
    QueryMessage,
    QueryStatus,
    Signature,
)
from blend.apps.registry.models import Participant
from blend.protocol import load_protocol

ASSIGNABLE_ROLES = (Role.NURSE.value, Role.INVESTIGATOR.value, Role.DATA_MANAGER.value)


class DataManagementError(ValueError):
    """A data-management action that is not allowed now; the message names the field."""


def _need_text(name: str, text: str) -> str:
    if not text or not text.strip():
        raise DataManagementError(f"{name}: expected some text, got nothing")
    return text.strip()


# --- queries -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryTarget:
    participant: Participant
    form: str
    field: str = ""
    object_type: str = ""
    object_id: str = ""
    check_code: str = ""


def query_target(
    participant: Participant, form: str, field: str = "", object_id: str = ""
) -> QueryTarget:
    """The target of a query raised by hand, on a known form and field (``fields.resolve``);
    raises :class:`DataManagementError` naming what is unknown."""
    try:
        known = fields.resolve(participant, form, field, object_id)
    except fields.UnknownField as error:
        raise DataManagementError(str(error)) from error
    return QueryTarget(participant, form, field, known.object_type, known.object_id)


@transaction.atomic
def open_query(target: QueryTarget, text: str, *, assigned_role: str, user: Any) -> Query:
    """Open a query. One raised by hand (no check code) must be on a form and field the
    casebook declares; ``blend check-data`` names its own (the check's field)."""
    if user is not None:
        check(user, Cap.QUERY_RAISE)
    if not target.check_code:
        target = query_target(target.participant, target.form, target.field, target.object_id)
    if assigned_role not in ASSIGNABLE_ROLES:
        raise DataManagementError(
            f"assigned_role: expected one of {', '.join(ASSIGNABLE_ROLES)}, got {assigned_role!r}"
        )
    query = Query(
        participant=target.participant,
        form=target.form,
        field=target.field,
        object_type=target.object_type,
        object_id=target.object_id,
        check_code=target.check_code,
        assigned_role=assigned_role,
        opened_by=user,
    )
    audited_save(query, user=user)
    QueryMessage.objects.create(
        query=query, kind=QueryMessage.Kind.QUESTION, text=_need_text("text", text), author=user
    )
    record_event(
        "query.open",
        actor=user,
        participant=target.participant,
        obj=query,
        details={"form": target.form, "field": target.field, "check": target.check_code},
    )
    return query


def _move(
    query: Query, to: str, *, allowed_from: Iterable[str], kind: str, text: str, user: Any
) -> Query:
    query = Query.objects.select_for_update().get(pk=query.pk)
    if query.status not in set(allowed_from):
        raise DataManagementError(
            f"status: expected the query to be {' or '.join(allowed_from)} to mark it {to}, it is {query.status}"
        )
    query.status = to
    query.closed_at = timezone.now() if to == QueryStatus.CLOSED else None
    audited_save(query, user=user, reason=f"query {to}")
    QueryMessage.objects.create(query=query, kind=kind, text=_need_text("text", text), author=user)
    record_event(f"query.{to}", actor=user, participant=query.participant, obj=query)
    return query


@transaction.atomic
def answer_query(query: Query, text: str, *, user: Any) -> Query:
    check(user, Cap.QUERY_ANSWER)
    return _move(
        query,
        QueryStatus.ANSWERED,
        allowed_from=[QueryStatus.OPEN],
        kind=QueryMessage.Kind.ANSWER,
        text=text,
        user=user,
    )


@transaction.atomic
def close_query(query: Query, text: str, *, user: Any) -> Query:
    """Close an answered query (or an open one the data manager resolves, e.g. raised in error)."""
    if user is not None:
        check(user, Cap.QUERY_MANAGE)
    return _move(
        query,
        QueryStatus.CLOSED,
        allowed_from=[QueryStatus.ANSWERED, QueryStatus.OPEN],
        kind=QueryMessage.Kind.CLOSE,
        text=text,
        user=user,
    )


@transaction.atomic
def reopen_query(query: Query, text: str, *, user: Any) -> Query:
    """The answer did not resolve the question: back to open, with a new message."""
    check(user, Cap.QUERY_MANAGE)
    return _move(
        query,
        QueryStatus.OPEN,
        allowed_from=[QueryStatus.ANSWERED],
        kind=QueryMessage.Kind.REOPEN,
        text=text,
        user=user,
    )


# --- form status ------------------------------------------------------------------------------------


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of every CRF with data for this participant, in casebook order.

    Each app names its own forms (``<app>/casebook.py``, ``entered_forms``); they are
    collected in ``settings.BLEND_APPS`` order, which is the casebook's order."""
    return [form for module in discover("casebook") for form in module.entered_forms(participant)]


def casebook_status(participant: Participant, user: Any = None) -> list[dict[str, Any]]:
    """Each entered form with its status: entered unless verified or locked (``FormStatus``).

    For a reader (``user``), without the forms that exist for one arm only of a trial
    whose arms they may not see (``allocation.blinding.hidden_forms``)."""
    stored = {
        (s.form, s.visit): s.status for s in FormStatus.objects.filter(participant=participant)
    }
    locked = Lock.objects.filter(unlocked_at__isnull=True, participant=participant).exists()
    rows = []
    forms = entered_forms(participant)
    for form, visit in forms if user is None else blinding.visible_forms(user, forms):
        status = FormState.LOCKED if locked else stored.get((form, visit), FormState.ENTERED)
        rows.append(
            {"form": form, "visit": visit, "status": status, "label": FormState(status).label}
        )
    return rows


@transaction.atomic
def mark_entered(participant: Participant, form: str, *, visit: str = "", user: Any) -> FormStatus:
    status, _ = FormStatus.objects.get_or_create(
        participant=participant, form=form, visit=visit, defaults={"changed_by": user}
    )
    return status


@transaction.atomic
def source_verify(participant: Participant, form: str, *, visit: str = "", user: Any) -> FormStatus:
    """Mark an entered form source-verified. Only a form of the reader's casebook can be:
    one that exists for one arm only of a trial whose arms ``user`` may not see is refused
    as unknown, in the same words for both arms (``allocation.blinding``)."""
    check(user, Cap.SOURCE_VERIFY)
    known = casebook_status(participant, user)
    if not any(row["form"] == form and row["visit"] == visit for row in known):
        listed = ", ".join(f"{r['form']} {r['visit']}".strip() for r in known)
        raise DataManagementError(
            f"form: expected one of this participant's entered forms ({listed}), "
            f"got {f'{form} {visit}'.strip()!r}"
        )
    status, _ = FormStatus.objects.select_for_update().get_or_create(
        participant=participant, form=form, visit=visit
    )
    if status.status == FormState.LOCKED:
        raise DataManagementError(
            f"status: form {form} {visit} is locked; unlock before verifying again"
        )
    status.status, status.changed_by = FormState.SOURCE_VERIFIED, user
    audited_save(status, user=user, reason="source-verified")
    record_event(
        "form.source_verified",
        actor=user,
        participant=participant,
        obj=status,
        details={"form": form, "visit": visit},
    )
    return status


# --- locks ------------------------------------------------------------------------------------------


def active_lock(participant: Participant | None) -> Lock | None:
    locks = Lock.objects.filter(unlocked_at__isnull=True)
    if participant is None:
        return locks.filter(scope=Lock.Scope.DATABASE).first()
    return locks.filter(participant=participant).first()


@transaction.atomic
def lock_participant(participant: Participant, *, user: Any, reason: str = "") -> Lock:
    check(user, Cap.LOCK)
    Participant.objects.select_for_update().filter(pk=participant.pk).first()
    if active_lock(participant) is not None:
        raise DataManagementError(f"participant: {participant.study_id} is already locked")
    lock = Lock(
        scope=Lock.Scope.PARTICIPANT, participant=participant, locked_by=user, reason=reason
    )
    audited_save(lock, user=user)
    for form, visit in entered_forms(participant):
        FormStatus.objects.update_or_create(
            participant=participant,
            form=form,
            visit=visit,
            defaults={"status": FormState.LOCKED, "changed_by": user},
        )
    record_event("lock.participant", actor=user, participant=participant, obj=lock, reason=reason)
    return lock


@transaction.atomic
def unlock_participant(participant: Participant, *, user: Any, reason: str) -> Lock:
    check(user, Cap.LOCK)
    lock = active_lock(participant)
    if lock is None:
        raise DataManagementError(f"participant: {participant.study_id} is not locked")
    _unlock(lock, user, reason)
    FormStatus.objects.filter(participant=participant, status=FormState.LOCKED).update(
        status=FormState.SOURCE_VERIFIED, changed_by=user
    )
    record_event("unlock.participant", actor=user, participant=participant, obj=lock, reason=reason)
    return lock


def _unlock(lock: Lock, user: Any, reason: str) -> None:
    lock.unlock_reason = _need_text("reason", reason)
    lock.unlocked_at, lock.unlocked_by = timezone.now(), user
    audited_save(lock, user=user, reason=reason)


@transaction.atomic
def lock_database(*, user: Any, reason: str = "") -> Lock:
    check(user, Cap.LOCK)
    if active_lock(None) is not None:
        raise DataManagementError("database: it is already locked")
    lock = Lock(scope=Lock.Scope.DATABASE, locked_by=user, reason=reason)
    audited_save(lock, user=user)
    record_event("lock.database", actor=user, obj=lock, reason=reason)
    return lock


@transaction.atomic
def unlock_database(*, user: Any, reason: str) -> Lock:
    check(user, Cap.LOCK)
    lock = active_lock(None)
    if lock is None:
        raise DataManagementError("database: it is not locked")
    _unlock(lock, user, reason)
    record_event("unlock.database", actor=user, obj=lock, reason=reason)
    return lock


# --- sign-off ---------------------------------------------------------------------------------------


def signature_meaning() -> str:
    return " ".join(str(load_protocol().section("datamanagement")["signature_meaning"]).split())


def data_fingerprint(participant: Participant) -> str:
    """SHA-256 of the participant's audit trail: any later change to the data changes it."""
    rows = [
        r
        for r in participant_history(
            participant, include_identifiers=False, include_allocation=True, include_events=False
        )
        if r["model"] not in _lock_exempt_names()
    ]
    text = json.dumps(
        [[str(r["at"]), r["model"], r["object_id"], r["type"], r["changes"]] for r in rows],
        default=str,
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _lock_exempt_names() -> set[str]:
    """Data-management bookkeeping (queries, locks, signatures) is not the data being signed."""
    return {
        str(m._meta.verbose_name) for m in apps.get_models() if getattr(m, "LOCK_EXEMPT", False)
    }


@transaction.atomic
def sign_off(
    participant: Participant, *, user: Any, password: str, request: Any = None
) -> Signature:
    """The investigator signs the participant's CRFs after re-entering the password."""
    check(user, Cap.SIGN_OFF)
    reauthenticate(request, user, password)  # raises ReauthenticationFailed
    signature = Signature(
        participant=participant,
        signed_by=user,
        signer_name=user.get_full_name() or user.get_username(),
        meaning=signature_meaning(),
        data_fingerprint=data_fingerprint(participant),
    )
    audited_save(signature, user=user)
    record_event(
        "sign_off",
        actor=user,
        participant=participant,
        obj=signature,
        details={"meaning": signature.meaning, "fingerprint": signature.data_fingerprint},
    )
    return signature


def signature_is_current(signature: Signature) -> bool:
    """False once the data changed after signing (the sign-off must then be repeated)."""
    return signature.data_fingerprint == data_fingerprint(signature.participant)
