"""Database triggers that make the audit tables append-only.

Installed after every migrate for AuditEvent and for every django-simple-history
table, so models added by later apps are covered without extra code. UPDATE is
refused on both databases. DELETE is refused on PostgreSQL; on SQLite a DELETE
trigger would break the test runner's table flush, so there deletion is prevented
by the application (no code path deletes audit rows).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connection
from simple_history.models import HistoricalChanges

from blend.apps.audit.models import AuditEvent

AUDIT_ERROR = "audit trail is append-only"


def audit_tables() -> list[str]:

    tables = [AuditEvent._meta.db_table]
    for model in apps.get_models():
        if issubclass(model, HistoricalChanges) and model._meta.db_table not in tables:
            tables.append(model._meta.db_table)
    extra = [m._meta.db_table for m in apps.get_models() if getattr(m, "APPEND_ONLY", False)]
    return sorted(set(tables) | set(extra))


def _sqlite_statements(table: str) -> list[str]:
    return [
        f'CREATE TRIGGER IF NOT EXISTS "{table}_no_update" BEFORE UPDATE ON "{table}" '
        f"BEGIN SELECT RAISE(ABORT, '{AUDIT_ERROR}'); END;",
    ]


def _postgres_statements(table: str) -> list[str]:
    return [
        f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}";',
        f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
        f"FOR EACH ROW EXECUTE FUNCTION blend_append_only();",
    ]


POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION blend_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION '{AUDIT_ERROR}: % on %', TG_OP, TG_TABLE_NAME; END;
$$ LANGUAGE plpgsql;
"""


def install_triggers(using: str = "default", **_: Any) -> None:
    vendor = connection.vendor
    existing = set(connection.introspection.table_names())
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
