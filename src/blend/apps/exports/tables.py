"""The full export: every participant-level table of every installed app, pseudonymous.

Tables are found from the models (no list to keep up to date): the Participant and
every model with a ``participant`` link, except models that hold direct identifiers
(``HOLDS_IDENTIFIERS``), the outbox (it stores contact addresses) and secrets
(tokens). Foreign keys to the participant become ``study_id``; to staff, the username.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from functools import cache, lru_cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections, models
from django.db.models import Case, F, Q, TextField, Value, When
from django.db.models.functions import Cast, Collate
from django.utils import timezone

from blend.apps.exports.neutralise import neutralise

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
        yield from self._values().iterator(chunk_size=CHUNK)

    def _values(self, *, by_subject: bool = False, raw: bool = False) -> models.QuerySet[Any]:
        # JSON columns come as the stored text: decoding and re-encoding every document is the slow part
        text_kinds = {"json"}
        if raw and connections[self.queryset().db].vendor == "sqlite":
            # SQLite's driver would parse each date and time in Python by its declared
            # type; as text they arrive as stored (ISO) and are formatted per column.
            text_kinds |= {"date", "datetime"}
        masked = self._masked()
        as_text = {
            f"_text_{c.name}": Cast(c.lookup, TextField())
            for c in self.columns
            if c.kind in text_kinds and f"_arm_{c.name}" not in masked
        }
        lookups = [
            f"_text_{c.name}"
            if f"_text_{c.name}" in as_text
            else (f"_arm_{c.name}" if f"_arm_{c.name}" in masked else c.lookup)
            for c in self.columns
        ]
        qs = self.queryset().annotate(**as_text, **masked)
        order: list[Any] = ["pk"]
        if by_subject:  # the subject's rows together, in code-point order as Python sorts them
            order.insert(0, Collate(self.subject_lookup(), binary_collation(qs.db)))
        return qs.order_by(*order).values_list(*lookups)

    def subject_lookup(self) -> str:
        return next(c.lookup for c in self.columns if c.name == "study_id")

    def text_chunks(
        self, *, by_subject: bool = False, size: int = 0
    ) -> Iterator[list[Sequence[Any]]]:
        """The rows as text, a chunk at a time and column by column (``chunk[i]`` holds the
        i-th column's cells): each cell as ``cell`` writes it, neutralised where the column
        holds text (``neutralise``), or a value whose ``str`` is that text (an int, a
        date), or None for a missing value. Streamed from the database cursor, so memory
        does not grow with the table. Django's per-cell converters are skipped where a
        column's raw value can be written directly (dates, booleans and times are
        formatted here per column, from the text SQLite stores or the objects
        PostgreSQL returns); other converted columns (decimals) keep their converter."""
        qs = self._values(by_subject=by_subject, raw=True)
        converters = column_converters(qs)
        connection = connections[qs.db]
        columns = [
            _column_text(column, converters.get(i), connection)
            for i, column in enumerate(self.columns)
        ]
        for chunk in raw_chunks(qs, size):
            yield [
                to_text(cells)
                for to_text, cells in zip(columns, zip(*chunk, strict=True), strict=True)
            ]


def column_converters(qs: models.QuerySet[Any]) -> dict[int, tuple[list[Any], Any]]:
    """Django's converters of each selected column of ``qs`` that has any."""
    compiler = qs.query.get_compiler(using=qs.db)
    compiler.setup_query()
    return compiler.get_converters([col for col, _alias, _ in compiler.select])


def raw_chunks(qs: models.QuerySet[Any], size: int = 0) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``qs`` (a ``values_list``) as the database driver returns them, a chunk
    at a time, from one cursor (a server-side one on PostgreSQL): one query whatever
    the number of rows, and no per-cell converters. The query is the one the ORM
    compiles; only the cursor is driven here, because the converters cost more than the
    query and the writing together."""
    compiler = qs.query.get_compiler(using=qs.db)
    sql, params = compiler.as_sql()
    with connections[qs.db].chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(size or CHUNK):
            yield chunk


CHUNK = 5000
ColumnText = Callable[[Sequence[Any]], Sequence[Any]]


def binary_collation(alias: str) -> str:
    return "C" if connections[alias].vendor == "postgresql" else "BINARY"


def _column_text(
    column: Column, converters: tuple[list[Any], Any] | None, connection: Any
) -> ColumnText:
    """The function that turns one column of a chunk into its text cells (see ``text_chunks``)."""
    if column.kind == "datetime":
        return _datetime_cells
    if column.kind == "bool":
        return _bool_cells
    if column.kind == "date":
        return _date_cells
    if converters is not None:  # e.g. a decimal: Django's converters, then ``cell``'s text
        functions, expression = converters
        convert, write = _converted(functions, expression, connection), formatter(column)
        if column.kind in TEXT_KIND_NAMES:
            return lambda cells: [
                None if v is None else neutralise(write(v)) for v in convert(cells)
            ]
        return lambda cells: [None if v is None else write(v) for v in convert(cells)]
    if column.kind in TEXT_KIND_NAMES:
        return _neutralised_cells
    return _as_is


TEXT_KIND_NAMES = frozenset({"text", "choice", "json"})


def _as_is(cells: Sequence[Any]) -> Sequence[Any]:
    return cells  # an int or float is written by its str(); None as an empty cell


def _converted(functions: list[Any], expression: Any, connection: Any) -> ColumnText:
    def convert(cells: Sequence[Any]) -> Sequence[Any]:
        out = []
        for value in cells:
            for function in functions:
                value = function(value, expression, connection)
            out.append(value)
        return out

    return convert


def _neutralised_cells(cells: Sequence[Any]) -> Sequence[Any]:
    if None not in cells and all(type(v) is str for v in cells):
        return list(map(neutralise, cells))
    return [None if v is None else neutralise(v if type(v) is str else str(v)) for v in cells]


def _date_cells(cells: Sequence[Any]) -> Sequence[Any]:
    # SQLite returns the ISO text it stores; a date object's str() is its ISO text too.
    return cells


def _bool_cells(cells: Sequence[Any]) -> Sequence[Any]:
    return [None if v is None else ("true" if v else "false") for v in cells]


def _datetime_cells(cells: Sequence[Any]) -> Sequence[Any]:
    return [None if v is None else _datetime_text(v) for v in cells]


@lru_cache(maxsize=8192)
def _stored_datetime_text(stored: str) -> str:
    """SQLite's stored text of a datetime (UTC, naive when time zones are on) as ``cell``
    writes it; cached, since timestamps repeat (a form saved in one go)."""
    value = datetime.fromisoformat(stored)
    if settings.USE_TZ and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return _datetime(value)


def _datetime_text(value: Any) -> str:
    return _stored_datetime_text(value) if type(value) is str else _datetime(value)


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
