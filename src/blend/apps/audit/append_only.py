"""Database triggers that make the audit tables append-only and chain every row.

Installed after every migrate for AuditEvent, for every django-simple-history table and
for every model marked ``APPEND_ONLY``, so models added by later apps are covered without
extra code:

- UPDATE and DELETE are refused on both databases. On PostgreSQL the application runs
  as a role that does not own the tables (``blend db-grant-app-role``), so it can
  neither drop nor disable these triggers, nor TRUNCATE.
- On SQLite the DELETE trigger asks ``blend_audit_delete_allowed()``, a function this
  app registers on every connection (``register_sqlite_functions``). It answers 1 only
  inside the test runner's flush (``audit/management/commands/flush.py``), which empties
  every table between transactional tests; everywhere else a DELETE is refused, and a
  connection that never registered the function (the ``sqlite3`` shell) fails with "no
  such function" — refused too.
- Every INSERT is chained (``blend.apps.audit.chain``), the proof ``blend check-audit``
  checks.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from simple_history.models import HistoricalChanges

from blend.apps.audit import chain
from blend.apps.audit.models import AuditChainLink, AuditEvent

AUDIT_ERROR = "audit trail is append-only"
#: Set (per session) only by the test runner's flush on PostgreSQL. The application's role
#: holds no TRUNCATE privilege, so for it this setting opens nothing; it spares the test
#: database, where the tests connect as the owner.
FLUSH_SETTING = "blend.flushing"

_flushing: contextvars.ContextVar[bool] = contextvars.ContextVar("blend_flushing", default=False)


def audit_models() -> list[type[models.Model]]:
    """Every append-only model, the chain itself included, by table name."""
    found: dict[str, type[models.Model]] = {AuditEvent._meta.db_table: AuditEvent}
    for model in apps.get_models():
        if issubclass(model, HistoricalChanges) or getattr(model, "APPEND_ONLY", False):
            found.setdefault(model._meta.db_table, model)
    return [found[table] for table in sorted(found)]


def audit_tables() -> list[str]:
    return [model._meta.db_table for model in audit_models()]


def chained_models() -> list[type[models.Model]]:
    """The append-only models whose rows are chained: all but the chain."""
    return [model for model in audit_models() if model is not AuditChainLink]


def _sqlite_statements(table: str) -> list[str]:
    return [
        f'CREATE TRIGGER IF NOT EXISTS "{table}_no_update" BEFORE UPDATE ON "{table}" '
        f"BEGIN SELECT RAISE(ABORT, '{AUDIT_ERROR}'); END;",
        f'CREATE TRIGGER IF NOT EXISTS "{table}_no_delete" BEFORE DELETE ON "{table}" '
        f"WHEN blend_audit_delete_allowed() = 0 "
        f"BEGIN SELECT RAISE(ABORT, '{AUDIT_ERROR}'); END;",
    ]


def _postgres_statements(table: str) -> list[str]:
    return [
        f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}";',
        f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
        f"FOR EACH ROW EXECUTE FUNCTION blend_append_only();",
        # TRUNCATE fires no row trigger: refused by a statement trigger (and by the grants).
        f'DROP TRIGGER IF EXISTS "{table}_no_truncate" ON "{table}";',
        f'CREATE TRIGGER "{table}_no_truncate" BEFORE TRUNCATE ON "{table}" '
        f"FOR EACH STATEMENT EXECUTE FUNCTION blend_no_truncate();",
    ]


POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION blend_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION '{AUDIT_ERROR}: % on %', TG_OP, TG_TABLE_NAME; END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION blend_no_truncate() RETURNS trigger AS $$
BEGIN
  IF coalesce(current_setting('{FLUSH_SETTING}', true), '') = 'on' THEN RETURN NULL; END IF;
  RAISE EXCEPTION '{AUDIT_ERROR}: % on %', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


#: alias → chained table → its highest key when the running migrate began.
_heads_before_migrate: dict[str, dict[str, int]] = {}


def suspend_chain(using: str = "default", plan: Any = None, **_: Any) -> None:
    """Before migrations run (pre_migrate): drop the chain triggers, which name every
    column of their table, so that a migration may add or drop a column; and remember
    each table's highest key, so that ``install_triggers`` chains the rows the migrations
    write. Nothing happens when there is nothing to migrate."""
    if plan is not None and not plan:
        return
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    if chain.LINK_TABLE not in existing:
        return  # a new database: its chains start after its first migrate
    heads = _heads_before_migrate.setdefault(using, {})
    with connection.cursor() as cursor:
        for model in chained_models():
            table, pk = model._meta.db_table, model._meta.pk.column
            if table not in existing:
                continue
            heads.setdefault(table, chain.highest_key(connection, table, pk))
            for statement in chain.drop_statements(connection.vendor, table):
                cursor.execute(statement)


def install_triggers(using: str = "default", **_: Any) -> None:
    """After migrate (post_migrate, and the test runner's flush): the append-only triggers
    of every audit table, then each chained table's rows written meanwhile and its chain
    trigger, over the columns the table has now."""
    connection = connections[using]
    vendor = connection.vendor
    existing = set(connection.introspection.table_names())
    heads = _heads_before_migrate.pop(using, {})
    if chain.LINK_TABLE not in existing:
        return  # migrating towards the audit app's tables: the next post_migrate installs
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute(POSTGRES_FUNCTION)
        for table in audit_tables():
            if table not in existing:
                continue
            statements = (
                _postgres_statements(table) if vendor == "postgresql" else _sqlite_statements(table)
            )
            for statement in statements:
                cursor.execute(statement)
        for model in chained_models():
            table, pk = model._meta.db_table, model._meta.pk.column
            if table not in existing:
                continue
            columns = columns_in_database(connection, table)
            chain.extend_chain(connection, table, pk, columns, heads.get(table))
            for statement in chain.install_statements(vendor, table, pk, columns):
                cursor.execute(statement)


@contextlib.contextmanager
def migrating(using: str = "default") -> Iterator[None]:
    """For code that runs migrations without the ``migrate`` command (a test that drives
    ``MigrationExecutor``), which sends neither pre_migrate nor post_migrate."""
    suspend_chain(using)
    try:
        yield
    finally:
        install_triggers(using)


def columns_in_database(connection: BaseDatabaseWrapper, table: str) -> list[str]:
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
    return sorted(column.name for column in description)


def register_sqlite_functions(sender: Any, connection: BaseDatabaseWrapper, **_: Any) -> None:
    """On every new SQLite connection: the functions the audit triggers call."""
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("blend_audit_delete_allowed", 0, lambda: int(_flushing.get()))
    raw.create_function("blend_sha256", 1, chain.sha256_text, deterministic=True)


@contextlib.contextmanager
def deletes_allowed_for_flush(using: str) -> Iterator[None]:
    """Let the audit tables be emptied: only for the test runner's flush, which removes
    every row of every table between transactional tests (``flush`` command)."""
    connection = connections[using]
    token = _flushing.set(True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', false)", [FLUSH_SETTING])
    try:
        yield
    finally:
        _flushing.reset(token)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, '', false)", [FLUSH_SETTING])
