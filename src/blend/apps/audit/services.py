"""The audit trail: business events plus field-level history.

``audited_save`` is how service functions write clinical data: it stamps the
history row with the user and the reason, and insists on a reason for any edit
after first entry.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import connection, models
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from simple_history.models import HistoricalChanges

from blend.apps.audit.guards import run_write_guards
from blend.apps.audit.models import AuditEvent

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # dates in event details are stored as ISO text

#: Whoever acts: a staff user, or None (or an anonymous patient) for the system and patient pages.
Actor = AbstractBaseUser | AnonymousUser | None
#: A django-simple-history model (``HistoricalFoo``); the library ships no types, and its
#: models carry ``instance_type`` (the audited model) and the history fields.
HistoryModel = type[Any]


class ReasonRequired(ValueError):
    """An edit after first entry came without a reason for change."""


def record_event(
    action: str,
    *,
    actor: Any,  # a User or None: audit sits below accounts and registry, so it cannot name their types
    participant: Any = None,
    obj: models.Model | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        participant=participant,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        reason=reason,
        details=details or {},
    )


@dataclass(frozen=True)
class PreparedEvent:
    """A business event prepared before a lock is taken, so that under the lock only its
    row is written (``record_events``): everything but the object's key, the final
    details and the time may be known in advance."""

    action: str
    actor_id: int | None
    participant_id: int | None
    object_type: str
    details: dict[str, Any]
    reason: str = ""


def prepare_event(
    action: str,
    *,
    actor: Any,
    participant: Any = None,
    model: type[models.Model] | None = None,
    details: dict[str, Any] | None = None,
    reason: str = "",
) -> PreparedEvent:
    """The payload of an event about a ``model`` row that does not exist yet."""
    return PreparedEvent(
        action=action,
        actor_id=actor.pk if getattr(actor, "pk", None) else None,
        participant_id=getattr(participant, "pk", None),
        object_type=model._meta.label if model is not None else "",
        details=details or {},
        reason=reason,
    )


#: The columns ``record_events`` writes, in order.
_EVENT_COLUMNS = (
    "at",
    "actor_id",
    "action",
    "participant_id",
    "object_type",
    "object_id",
    "reason",
    "details",
)


#: A prepared event completed: its object's key, the details known only now (merged into
#: the prepared ones) and its time.
CompletedEvent = tuple[PreparedEvent, str, dict[str, Any], datetime]


def events_insert(events: Sequence[CompletedEvent]) -> tuple[str, list[Any]]:
    """The one INSERT that writes ``events``, as SQL and parameters: what ``record_events``
    runs, for a caller that runs it inside a statement of its own (a data-modifying CTE
    on PostgreSQL, so that the allocation's rows and its event cost one round trip).

    Raw SQL on purpose: this runs under the allocation's lock, where Django's
    ``bulk_create`` costs more Python than the statement costs the database. The values
    are adapted by the model's own fields, so the rows are what ``record_event`` writes."""
    by_column = {f.attname: f for f in AuditEvent._meta.concrete_fields}
    fields = [by_column[name] for name in _EVENT_COLUMNS]
    params: list[Any] = []
    for prepared, object_id, details, at in events:
        values = (
            at,
            prepared.actor_id,
            prepared.action,
            prepared.participant_id,
            prepared.object_type,
            object_id,
            prepared.reason,
            {**prepared.details, **details},
        )
        params += [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, values, strict=True)
        ]
    row = "(" + ", ".join(["%s"] * len(_EVENT_COLUMNS)) + ")"
    columns = ", ".join(f'"{name}"' for name in _EVENT_COLUMNS)
    sql = f'INSERT INTO "{AuditEvent._meta.db_table}" ({columns}) VALUES ' + ", ".join(
        [row] * len(events)
    )
    return sql, params


def record_events(events: Sequence[CompletedEvent]) -> None:
    """Write prepared events in one INSERT (``events_insert``)."""
    if not events:
        return
    sql, params = events_insert(events)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def audited_save(instance: models.Model, *, user: Actor, reason: str = "") -> models.Model:
    """Save with the audit stamp. An update (the row exists) needs a reason for change.
    Every registered write guard runs first (``audit.guards``): locked participant
    data, for one, cannot be saved (``datamanagement.locks.Locked``)."""
    run_write_guards(instance)
    is_update = (
        instance.pk is not None and type(instance)._default_manager.filter(pk=instance.pk).exists()
    )
    if is_update and not reason.strip():
        raise ReasonRequired(
            "reason: expected a reason for change when editing saved data; got nothing"
        )
    instance._history_user = user if getattr(user, "pk", None) else None  # type: ignore[attr-defined]
    instance._change_reason = reason or "first entry"  # type: ignore[attr-defined]
    instance.save()
    return instance


def audited_delete(instance: models.Model, *, user: Actor, reason: str) -> None:
    if not reason.strip():
        raise ReasonRequired("reason: expected a reason for deleting saved data; got nothing")
    run_write_guards(instance)
    instance._history_user = user if getattr(user, "pk", None) else None  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    instance.delete()


def participant_history(
    participant: Any,
    *,
    include_identifiers: bool,
    include_allocation: bool | Collection[str] = False,
    include_events: bool = True,
    hidden_forms: Collection[str] = (),
) -> list[dict[str, Any]]:
    """Every field-level change and business event for one participant, newest first.

    Rows of models that hold direct identifiers (``HOLDS_IDENTIFIERS``) need
    ``include_identifiers``; rows of models whose mere existence reveals an arm
    (``REVEALS_ALLOCATION``: allocation, offer, treatment pathway) need
    ``include_allocation``, because ``audit.view`` does not imply ``allocation.view``.
    ``include_allocation`` is True (every trial), False (none) or the trial codes whose
    arms may be shown (``allocation.view`` is held per trial): such a row, or an event
    about one, is kept only when its record's ``trial`` is among them.
    Where a trial's arms may not be shown, the fields of a record of that trial that
    read differently by arm (``ARM_SPECIFIC_FIELDS``) are left out of its rows and
    events, and a row or event naming one of ``hidden_forms`` (a casebook form that
    exists for one arm only) is left out whole: blinding is decided by
    ``allocation.blinding``, which callers ask for both.
    One query per audited model plus one for the events, however long the trail (and,
    for a set of trials, one per arm-revealing model to learn its records' trials).
    """
    trials = _trial_filter(include_allocation)
    masked = _masked_fields(participant, trials)
    hidden = frozenset(hidden_forms)
    rows: list[dict[str, Any]] = []
    for model in _history_models():
        source = model.instance_type
        if not include_identifiers and getattr(source, "HOLDS_IDENTIFIERS", False):
            continue
        reveals = getattr(source, "REVEALS_ALLOCATION", False)
        if reveals and trials is not None and not (trials and _has_trial(source)):
            continue
        filters = _participant_filter(model, participant)
        if filters is None:
            continue
        if reveals and trials is not None:
            filters["trial__in"] = sorted(trials)
        records = list(
            model.objects.filter(**filters).select_related("history_user").order_by("history_date")
        )
        rows += _describe(
            model, [r for r in records if getattr(r, "form", None) not in hidden], masked
        )
    if include_events:
        events = _events(participant, trials=trials, masked=masked)
        rows += [e for e in events if not _names_form(e, hidden)]
    rows.sort(key=lambda r: r["at"], reverse=True)
    return rows


def _names_form(row: dict[str, Any], forms: frozenset[str]) -> bool:
    """Whether an event is about one of ``forms`` (a ``form`` detail). A history row is
    left out when its record's ``form`` is one of them, whatever it changed."""
    return any(
        c["field"] == "form" and (c["new"] in forms or c["old"] in forms) for c in row["changes"]
    )


#: (model label, record pk) -> the arm-specific fields to leave out of that record's rows.
Masked = dict[tuple[str, str], frozenset[str]]


def _masked_fields(participant: Any, trials: frozenset[str] | None) -> Masked:
    """The ``ARM_SPECIFIC_FIELDS`` of this participant's records whose trial's arms may
    not be shown (a record of no trial, ``trial`` blank, has no arm to hide)."""
    if trials is None:
        return {}
    found: Masked = {}
    for model in apps.get_models():
        names = frozenset(getattr(model, "ARM_SPECIFIC_FIELDS", ()))
        if not names or not _has_trial(model):
            continue
        records = model._default_manager.filter(participant=participant).exclude(trial="")
        for pk in records.exclude(trial__in=sorted(trials)).values_list("pk", flat=True):
            found[(model._meta.label, str(pk))] = names
    return found


def _without(changes: list[dict[str, Any]], names: frozenset[str]) -> list[dict[str, Any]]:
    if not names:
        return changes
    kept = []
    for change in changes:
        if change["field"] in names:
            continue
        if isinstance(change["new"], list):  # an event's list of the fields an update touched
            change = {
                **change,
                "new": [v for v in change["new"] if not (isinstance(v, str) and v in names)],
            }
        kept.append(change)
    return kept


def _trial_filter(include_allocation: bool | Collection[str]) -> frozenset[str] | None:
    """None: every trial's arms may show; else the trials whose may (empty: none)."""
    if include_allocation is True:
        return None
    if include_allocation is False:
        return frozenset()
    return frozenset(include_allocation)


def _has_trial(model: type[models.Model]) -> bool:
    return any(f.name == "trial" for f in model._meta.concrete_fields)


def _record_trials(participant: Any) -> dict[tuple[str, str], str]:
    """(model label, pk) → trial of this participant's arm-revealing records."""
    found: dict[tuple[str, str], str] = {}
    for model in apps.get_models():
        if not (getattr(model, "REVEALS_ALLOCATION", False) and _has_trial(model)):
            continue
        if not any(f.name == "participant" for f in model._meta.concrete_fields):
            continue
        label = model._meta.label
        for pk, trial in model._default_manager.filter(participant=participant).values_list(
            "pk", "trial"
        ):
            found[(label, str(pk))] = trial
    return found


def _reveals_allocation(label: str) -> bool:
    """Whether an event about a row of model ``label`` gives the arm away."""
    return label in _arm_revealing_labels()


@functools.cache
def _arm_revealing_labels() -> frozenset[str]:
    # Read once from the models themselves (``REVEALS_ALLOCATION``), never by looking one up by name.
    return frozenset(
        m._meta.label for m in apps.get_models() if getattr(m, "REVEALS_ALLOCATION", False)
    )


def _events(
    participant: Any, *, trials: frozenset[str] | None, masked: Masked | None = None
) -> list[dict[str, Any]]:
    events = AuditEvent.objects.filter(participant=participant).select_related("actor")
    of_record = _record_trials(participant) if trials else {}

    def shown(e: AuditEvent) -> bool:
        if trials is None or not _reveals_allocation(e.object_type):
            return True
        trial = of_record.get((e.object_type, e.object_id)) or e.details.get("trial")
        return trial in trials

    rows = []
    for e in events:
        if not shown(e):
            continue
        hide = (masked or {}).get((e.object_type, e.object_id), frozenset())
        changes = _without(
            [{"field": key, "old": None, "new": value} for key, value in sorted(e.details.items())],
            hide,
        )
        model = _audited_models().get(e.object_type)
        rows.append(
            {
                "at": e.at,
                "model": e.object_type or "event",
                "object_id": e.object_id,
                "type": e.action,
                "user": e.actor.username if e.actor else "system",
                "reason": e.reason,
                "changes": changes,
                "shown": [_shown_detail(model, c["field"], c["new"]) for c in changes],
            }
        )
    return rows


def _history_models() -> list[HistoryModel]:
    return [m for m in apps.get_models() if issubclass(m, HistoricalChanges)]


def _participant_filter(model: HistoryModel, participant: Any) -> dict[str, Any] | None:
    names = {f.name for f in model._meta.fields}
    if model.instance_type._meta.label == "registry.Participant":
        return {"id": participant.pk}
    if "participant" in names:
        return {"participant_id": participant.pk}
    return None


def _initial_values(model: HistoryModel, record: Any) -> list[dict[str, Any]]:
    """On first entry every tracked field goes from nothing to its value."""
    tracked = [f.attname for f in model.instance_type._meta.concrete_fields if f.name != "id"]
    return [
        {"field": name, "old": None, "new": getattr(record, name)}
        for name in tracked
        if getattr(record, name) not in (None, "")
    ]


def _describe(
    model: HistoryModel, records: list[Any], masked: Masked | None = None
) -> list[dict[str, Any]]:
    rows = []
    previous: dict[Any, Any] = {}
    label = model.instance_type._meta.label
    for record in records:
        before = previous.get(record.id)
        if before is not None:
            delta = record.diff_against(before)
            changes = [{"field": c.field, "old": c.old, "new": c.new} for c in delta.changes]
        else:
            changes = _initial_values(model, record)
        changes = _without(changes, (masked or {}).get((label, str(record.id)), frozenset()))
        previous[record.id] = record
        rows.append(
            {
                "at": record.history_date,
                "model": model.instance_type._meta.verbose_name,
                "object_id": record.id,
                "type": {"+": "created", "~": "changed", "-": "deleted"}[record.history_type],
                "user": record.history_user.username if record.history_user else "system",
                "reason": record.history_change_reason or "",
                "changes": changes,
                "shown": [_shown_change(model.instance_type, c) for c in changes],
            }
        )
    return rows


def _model_field(model: type[models.Model], name: str) -> models.Field | None:
    for field in model._meta.concrete_fields:
        if name in (field.name, field.attname):
            return field
    return None


def _shown_change(model: type[models.Model] | None, change: dict[str, Any]) -> dict[str, str]:
    """A change as the forms show it: the field's label and readable values (choice
    labels, rounded scores, dates in the reader's language), never a Python repr."""
    field = _model_field(model, change["field"]) if model is not None else None
    label = str(field.verbose_name) if field is not None else change["field"].replace("_", " ")
    return {
        "label": label[:1].upper() + label[1:],
        "old": shown_value(change["old"], field),
        "new": shown_value(change["new"], field),
    }


@functools.cache
def _audited_models() -> dict[str, type[models.Model]]:
    # By label, from the history models themselves: an event names its row's model so.
    return {m.instance_type._meta.label: m.instance_type for m in _history_models()}


def _shown_detail(model: type[models.Model] | None, key: str, value: Any) -> dict[str, str]:
    """An event detail; a list of the row's field names (what an update touched) is
    shown by their labels."""
    if model is not None and isinstance(value, list | tuple):
        fields = [_model_field(model, v) if isinstance(v, str) else None for v in value]
        if value and all(fields):
            value = [str(f.verbose_name) for f in fields if f is not None]
    return _shown_change(None, {"field": key, "old": None, "new": value})


def shown_value(value: Any, field: models.Field | None = None) -> str:
    """One stored value for a person to read."""
    if value is None or value == "" or value == [] or value == {}:
        return "–"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, float):
        return formats.number_format(round(value, 1), 1)
    if isinstance(value, Decimal):
        return formats.number_format(value)
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return formats.date_format(date.fromisoformat(value), "DATE_FORMAT")
    if isinstance(value, dict):
        return ", ".join(f"{k}: {shown_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(shown_value(v) for v in value)
    return str(value)
