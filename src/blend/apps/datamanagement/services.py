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
from blend.apps.accounts.permissions import check, check_works_in
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
from blend.apps.trials.lookup import default_trial_code, get_trial, known_trial_codes

#: The casebook forms of a trial (``trials.lookup.form_name``: "Screening" for the default
#: trial, "Screening (VERTICAL)" for another); every other form is the cohort's.
TRIAL_FORMS = ("Screening", "Randomization", "Offer", "Treatment")

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


def form_trial(form: str) -> str:
    """The trial a casebook form belongs to ("" for a cohort-level form)."""
    for base in TRIAL_FORMS:
        if form == base:
            return default_trial_code()
        if form.startswith(f"{base} (") and form.endswith(")"):
            code = form[len(base) + 2 : -1]
            if code in known_trial_codes():
                return code
    return ""


def _locked_trials(participant: Participant) -> set[str]:
    """The scopes ("" for the cohort, or trial codes) of the active locks covering the
    participant, their own and the database's."""
    active = Lock.objects.filter(unlocked_at__isnull=True)
    return set(active.filter(participant=participant).values_list("trial", flat=True)) | set(
        active.filter(scope=Lock.Scope.DATABASE).values_list("trial", flat=True)
    )


def casebook_status(participant: Participant, user: Any = None) -> list[dict[str, Any]]:
    """Each entered form with its status: entered unless verified or locked (``FormStatus``,
    or an active lock of the cohort or of the form's trial).

    For a reader (``user``), without the forms that exist for one arm only of a trial
    whose arms they may not see (``allocation.blinding.hidden_forms``)."""
    stored = {
        (s.form, s.visit): s.status for s in FormStatus.objects.filter(participant=participant)
    }
    locked = _locked_trials(participant)
    rows = []
    forms = entered_forms(participant)
    for form, visit in forms if user is None else blinding.visible_forms(user, forms):
        trial = form_trial(form)
        frozen = "" in locked or (trial and trial in locked)
        status = FormState.LOCKED if frozen else stored.get((form, visit), FormState.ENTERED)
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


def lock_scope(trial: str | None, user: Any = None) -> str:
    """The checked scope of a lock or sign-off: "" (or None) for the cohort, else a known
    trial in which ``user`` (when given) works."""
    if not trial:
        return ""
    known = known_trial_codes()
    if trial not in known:
        raise DataManagementError(
            f"trial: expected the cohort (empty) or one of {', '.join(known)}, got {trial!r}"
        )
    if user is not None:
        check_works_in(user, trial)
    return trial


def active_lock(participant: Participant | None, trial: str = "") -> Lock | None:
    """The active lock of the participant (None: the database) in ``trial`` ("": the
    cohort's own lock)."""
    locks = Lock.objects.filter(unlocked_at__isnull=True, trial=trial)
    if participant is None:
        return locks.filter(scope=Lock.Scope.DATABASE).first()
    return locks.filter(participant=participant).first()


def _where(trial: str) -> str:
    return f" in {trial}" if trial else ""


def _trial_forms(participant: Participant, trial: str) -> list[tuple[str, str]]:
    """The entered forms a lock in ``trial`` freezes: every form for the cohort's lock."""
    forms = entered_forms(participant)
    return forms if not trial else [(f, v) for f, v in forms if form_trial(f) == trial]


@transaction.atomic
def lock_participant(
    participant: Participant, *, user: Any, reason: str = "", trial: str = ""
) -> Lock:
    """Lock the participant's data: all of it (``trial`` empty, the cohort's lock) or
    the records of one trial."""
    check(user, Cap.LOCK)
    trial = lock_scope(trial, user)
    Participant.objects.select_for_update().filter(pk=participant.pk).first()
    if active_lock(participant, trial) is not None:
        raise DataManagementError(
            f"participant: {participant.study_id} is already locked{_where(trial)}"
        )
    lock = Lock(
        scope=Lock.Scope.PARTICIPANT,
        participant=participant,
        trial=trial,
        locked_by=user,
        reason=reason,
    )
    audited_save(lock, user=user)
    for form, visit in _trial_forms(participant, trial):
        FormStatus.objects.update_or_create(
            participant=participant,
            form=form,
            visit=visit,
            defaults={"status": FormState.LOCKED, "changed_by": user},
        )
    record_event(
        "lock.participant",
        actor=user,
        participant=participant,
        obj=lock,
        reason=reason,
        details={"trial": trial},
    )
    return lock


@transaction.atomic
def unlock_participant(
    participant: Participant, *, user: Any, reason: str, trial: str = ""
) -> Lock:
    check(user, Cap.LOCK)
    trial = lock_scope(trial, user)
    lock = active_lock(participant, trial)
    if lock is None:
        raise DataManagementError(
            f"participant: {participant.study_id} is not locked{_where(trial)}"
        )
    _unlock(lock, user, reason)
    forms = [form for form, _visit in _trial_forms(participant, trial)]
    FormStatus.objects.filter(
        participant=participant, status=FormState.LOCKED, form__in=forms
    ).update(status=FormState.SOURCE_VERIFIED, changed_by=user)
    record_event(
        "unlock.participant",
        actor=user,
        participant=participant,
        obj=lock,
        reason=reason,
        details={"trial": trial},
    )
    return lock


def _unlock(lock: Lock, user: Any, reason: str) -> None:
    lock.unlock_reason = _need_text("reason", reason)
    lock.unlocked_at, lock.unlocked_by = timezone.now(), user
    audited_save(lock, user=user, reason=reason)


@transaction.atomic
def lock_database(*, user: Any, reason: str = "", trial: str = "") -> Lock:
    """Lock everyone's data (``trial`` empty) or every record of one trial: locking
    VERTICAL does not lock BLEND, nor the cohort's routine data."""
    check(user, Cap.LOCK)
    trial = lock_scope(trial, user)
    if active_lock(None, trial) is not None:
        raise DataManagementError(f"database: it is already locked{_where(trial)}")
    lock = Lock(scope=Lock.Scope.DATABASE, trial=trial, locked_by=user, reason=reason)
    audited_save(lock, user=user)
    record_event("lock.database", actor=user, obj=lock, reason=reason, details={"trial": trial})
    return lock


@transaction.atomic
def unlock_database(*, user: Any, reason: str, trial: str = "") -> Lock:
    check(user, Cap.LOCK)
    trial = lock_scope(trial, user)
    lock = active_lock(None, trial)
    if lock is None:
        raise DataManagementError(f"database: it is not locked{_where(trial)}")
    _unlock(lock, user, reason)
    record_event("unlock.database", actor=user, obj=lock, reason=reason, details={"trial": trial})
    return lock


# --- sign-off ---------------------------------------------------------------------------------------


def signature_meaning(trial: str = "") -> str:
    """What the signer declares: the trial's ``datamanagement.toml`` (the default trial's
    for the cohort's sign-off)."""
    config = get_trial(trial or default_trial_code())
    return " ".join(str(config.section("datamanagement")["signature_meaning"]).split())


def _trial_scoped_models() -> list[type[Any]]:
    """Participant-data models whose records belong to a trial (a ``trial`` field)."""
    return [
        model
        for model in apps.get_models()
        if any(f.name == "trial" for f in model._meta.fields)
        and any(f.name == "participant" for f in model._meta.fields)
        and hasattr(model, "history")
    ]


def _foreign_records(participant: Participant, trial: str) -> set[tuple[str, Any]]:
    """(model name, record id) of the participant's records that belong to a trial other
    than ``trial`` (every trial's, for the cohort's sign-off): not what it signs. Read
    from the history tables, so a deleted record is placed too."""
    foreign: set[tuple[str, Any]] = set()
    for model in _trial_scoped_models():
        rows = model.history.model.objects.filter(participant=participant).exclude(trial="")
        if trial:
            rows = rows.exclude(trial=trial)
        name = str(model._meta.verbose_name)
        foreign.update((name, pk) for pk in rows.values_list("id", flat=True).distinct())
    return foreign


def data_fingerprint(participant: Participant, trial: str = "") -> str:
    """SHA-256 of the participant's audit trail in the scope of a sign-off: the cohort-level
    data and, for a trial's sign-off, that trial's records. Any later change to them
    changes it; a change in another trial does not."""
    foreign = _foreign_records(participant, trial)
    rows = [
        r
        for r in participant_history(
            participant, include_identifiers=False, include_allocation=True, include_events=False
        )
        if r["model"] not in _lock_exempt_names()
        and (str(r["model"]), r["object_id"]) not in foreign
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
    participant: Participant,
    *,
    user: Any,
    password: str,
    request: Any = None,
    trial: str = "",
) -> Signature:
    """The investigator signs the participant's CRFs after re-entering the password: the
    cohort's (``trial`` empty) or one trial's (the cohort-level data and that trial's)."""
    check(user, Cap.SIGN_OFF)
    trial = lock_scope(trial, user)
    reauthenticate(request, user, password)  # raises ReauthenticationFailed
    signature = Signature(
        participant=participant,
        trial=trial,
        signed_by=user,
        signer_name=user.get_full_name() or user.get_username(),
        meaning=signature_meaning(trial),
        data_fingerprint=data_fingerprint(participant, trial),
    )
    audited_save(signature, user=user)
    record_event(
        "sign_off",
        actor=user,
        participant=participant,
        obj=signature,
        details={
            "meaning": signature.meaning,
            "fingerprint": signature.data_fingerprint,
            "trial": trial,
        },
    )
    return signature


def latest_signature(participant: Participant, trial: str = "") -> Signature | None:
    return participant.signatures.filter(trial=trial).first()


def signature_is_current(signature: Signature) -> bool:
    """False once the data it covers changed after signing (the sign-off must then be
    repeated)."""
    return signature.data_fingerprint == data_fingerprint(signature.participant, signature.trial)
