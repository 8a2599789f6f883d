"""The full export: every participant-level table of every installed app, pseudonymous.

Tables are found from the models (no list to keep up to date): the Participant and
every model with a ``participant`` link, except models that hold direct identifiers
(``HOLDS_IDENTIFIERS``), the outbox (it stores contact addresses) and secrets
(tokens). Foreign keys to the participant become ``study_id``; to staff, the username.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, TextField, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

SKIP_APPS = {"accounts", "audit", "outbox", "exports", "api", "demo"}
SKIP_MODELS = {
    "questionnaires.AccessToken",
    "allocation.AllocationSequence",
    "registry.StudyIdCounter",
    "allocation.RandomizationCommitment",
}
# Defence in depth: never export a field with one of these names, whatever model it is on.
IDENTIFIER_FIELDS = {
    "full_name",
    "date_of_birth",
    "hospital_number",
    "email",
    "phone",
    "to_address",
    "token_hash",
    "first_name",
    "last_name",
    "password",
}


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str  # text, int, float, date, datetime, bool, choice, json
    lookup: str  # values_list path
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    label: str
    model: type[models.Model]
    columns: list[Column] = field(default_factory=list)
    #: For a table whose rows reveal arms: only the rows of these trials (None: all).
    trials: frozenset[str] | None = None
    #: The trials whose arm-specific fields (``ARM_SPECIFIC_FIELDS``) are exported (None:
    #: all); in a row of another trial those cells are empty.
    field_trials: frozenset[str] | None = None
    #: Rows about these casebook forms (a ``form`` field) are left out: they exist for one
    #: arm only (``allocation.blinding.hidden_forms``).
    hidden_forms: frozenset[str] = frozenset()

    def queryset(self) -> models.QuerySet[Any]:
        qs = self.model._default_manager.all()
        if self.trials is not None:
            qs = qs.filter(trial__in=sorted(self.trials)) if _has_trial(self.model) else qs.none()
        if self.hidden_forms and _has_field(self.model, "form"):
            qs = qs.exclude(form__in=sorted(self.hidden_forms))
        return qs

    def _masked(self) -> dict[str, Any]:
        """An arm-specific column, empty outside ``field_trials`` (and for no trial: kept)."""
        names = set(getattr(self.model, "ARM_SPECIFIC_FIELDS", ()))
        if self.field_trials is None or not names or not _has_trial(self.model):
            return {}
        seen = Q(trial__in=sorted(self.field_trials)) | Q(trial="")
        return {
            f"_arm_{c.name}": Case(
                When(seen, then=F(c.lookup)),
                default=Value(None),
                output_field=_unbound(self.model, c.lookup),
            )
            for c in self.columns
            if c.lookup in names
        }

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Rows in primary-key order, as stored (converted by ``cell`` for text formats)."""
        # JSON columns come as the stored text: decoding and re-encoding every document is the slow part
        as_text = {
            f"_text_{c.name}": Cast(c.lookup, TextField()) for c in self.columns if c.kind == "json"
        }
        masked = self._masked()
        lookups = [
            f"_text_{c.name}"
            if c.kind == "json"
            else (f"_arm_{c.name}" if f"_arm_{c.name}" in masked else c.lookup)
            for c in self.columns
        ]
        qs = self.queryset().annotate(**as_text, **masked).order_by("pk").values_list(*lookups)
        yield from qs.iterator(chunk_size=5000)


def _unbound(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """A fresh copy of ``model``'s field ``name``, for an expression's output type."""
    field = next(f for f in model._meta.concrete_fields if f.name == name)
    _name, _path, args, kwargs = field.deconstruct()
    return type(field)(*args, **kwargs)


def _has_trial(model: type[models.Model]) -> bool:
    return _has_field(model, "trial")


def _has_field(model: type[models.Model], name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)


def reveals_allocation(table: Table) -> bool:
    return bool(getattr(table.model, "REVEALS_ALLOCATION", False))


def arms_only_of(
    tables: list[Table], trials: frozenset[str] | None, hidden_forms: frozenset[str] = frozenset()
) -> list[Table]:
    """``tables`` with the arm-revealing ones (allocation, log, offer, treatment) cut to
    the rows of ``trials`` (None: every trial; the table itself stays, so the layout of
    an export does not depend on who made it), the arm-specific fields of other trials'
    rows left empty, and the rows about ``hidden_forms`` left out (``allocation.blinding``)."""
    if trials is None:
        return tables
    return [
        replace(
            t,
            trials=trials if reveals_allocation(t) else None,
            field_trials=trials,
            hidden_forms=hidden_forms,
        )
        for t in tables
    ]


def _is_history(model: type[models.Model]) -> bool:
    from simple_history.models import HistoricalChanges

    return issubclass(model, HistoricalChanges)


def exportable(model: type[models.Model]) -> bool:
    meta = model._meta
    if (
        meta.app_label in SKIP_APPS
        or meta.label in SKIP_MODELS
        or _is_history(model)
        or meta.abstract
    ):
        return False
    if getattr(model, "HOLDS_IDENTIFIERS", False):
        return False
    return meta.label == "registry.Participant" or any(
        f.name == "participant" for f in meta.concrete_fields
    )


def _kind(f: models.Field) -> str:
    if f.choices:
        return "choice"
    if isinstance(f, models.BooleanField):
        return "bool"
    if isinstance(f, models.DateTimeField):
        return "datetime"
    if isinstance(f, models.DateField):
        return "date"
    if isinstance(f, models.IntegerField | models.AutoField):
        return "int"
    if isinstance(f, models.FloatField | models.DecimalField):
        return "float"
    if isinstance(f, models.JSONField):
        return "json"
    return "text"


def _column(f: models.Field) -> Column | None:
    if f.name in IDENTIFIER_FIELDS:
        return None
    label = str(f.verbose_name)
    if isinstance(f, models.ForeignKey):
        # The stubs also allow the string "self", but Django resolves every relation to its model
        # class before ``related_model`` may be read (it calls ``apps.check_models_ready()`` first).
        target = f.related_model._meta.label  # type: ignore[union-attr]
        if target == "registry.Participant":
            return Column("study_id", "study ID", "text", f"{f.name}__study_id")
        if target == settings.AUTH_USER_MODEL:
            return Column(f.name, f"{label} (username)", "text", f"{f.name}__username")
        return Column(f"{f.name}_id", label, "int", f.attname)
    choices = tuple((str(v), str(lbl)) for v, lbl in f.flatchoices) if f.choices else ()
    return Column(f.name, label, _kind(f), f.name, choices)


def table_for(model: type[models.Model]) -> Table:
    columns = [c for f in model._meta.concrete_fields if (c := _column(f)) is not None]
    if model._meta.label == "registry.Participant":
        columns = [Column("id", "record ID", "int", "pk"), *[c for c in columns if c.name != "id"]]
        columns.insert(1, Column("study_id", "study ID", "text", "study_id"))
    first: dict[str, Column] = {}
    for (
        column
    ) in columns:  # a later column of the same name (e.g. a log's own study_id copy) is dropped
        first.setdefault(column.name, column)
    columns = list(first.values())
    name = f"{model._meta.app_label}_{model._meta.model_name}"
    return Table(name, str(model._meta.verbose_name), model, columns)


def export_tables() -> list[Table]:
    order = {app.split(".")[-1]: i for i, app in enumerate(settings.BLEND_APPS)}
    models_ = [m for m in apps.get_models() if exportable(m)]
    models_.sort(key=lambda m: (order.get(m._meta.app_label, 99), m._meta.model_name))
    return [table_for(m) for m in models_]


def cell(column: Column, value: Any) -> str:
    """The text form of a value (CSV, ODM): ISO dates, true/false, JSON for structures."""
    return formatter(column)(value)


def formatter(column: Column) -> Callable[[Any], str]:
    """One converter per column, chosen once (exports call it for every cell)."""
    return _FORMATTERS.get(column.kind, _text)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _bool(value: Any) -> str:
    return "" if value is None else ("true" if value else "false")


def _date(value: Any) -> str:
    return "" if value is None else value.isoformat()


def _datetime(value: Any) -> str:
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = value.astimezone(_local_zone())
    return value.isoformat(timespec="seconds")


@cache
def _local_zone() -> tzinfo:
    return timezone.get_default_timezone()


def _json(value: Any) -> str:
    if value is None:
        return ""
    return (
        value
        if isinstance(value, str)
        else json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    )


_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "bool": _bool,
    "date": _date,
    "datetime": _datetime,
    "json": _json,
}
