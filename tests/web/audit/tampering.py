"""What a person with the database's owner rights could do to the audit trail, for the
tests that check `blend check-audit` catches it. (The application's own role cannot do
any of this on PostgreSQL: tests/web/audit/test_database_roles.py.)"""

from __future__ import annotations

from django.db import connection


def settle() -> None:
    """Write the chain links of this test's rows now: on PostgreSQL they are written at
    commit (deferred triggers), and a test never commits."""
    if connection.vendor == "postgresql":
        connection.check_constraints()


def behind_the_triggers(table: str, sql: str, params: list[object] | None = None) -> None:
    """Run ``sql`` with the append-only and chain triggers of ``table`` out of the way."""
    settle()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # the owner/superuser switches triggers off
            cursor.execute("SET session_replication_role = replica")
            try:
                cursor.execute(sql, params or [])
            finally:
                cursor.execute("SET session_replication_role = DEFAULT")
            return
        for suffix in ("no_update", "no_delete", "chain"):
            cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_{suffix}"')
        cursor.execute(sql, params or [])
