"""The application's PostgreSQL role: one that does not own the tables.

The owner (who runs ``blend migrate``) creates and alters the tables and their triggers.
The application connects as another role that holds only what it needs:

- live tables: SELECT, INSERT, UPDATE, DELETE;
- append-only tables (audit events, every history table, the export log, the chain,
  the allocation log, ...: ``append_only.audit_models``): SELECT and INSERT only;
- ``django_migrations``: SELECT; sequences: USAGE and SELECT;
- no TRUNCATE, REFERENCES or TRIGGER anywhere; not an owner, so no ALTER TABLE, no
  DROP TRIGGER, no DISABLE TRIGGER; not a superuser, so no
  ``session_replication_role``.

``grant_app_role`` applies exactly that (revoking anything else first), idempotently:
run it after every migrate, so tables a migration added are granted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from psycopg import sql

from blend.apps.audit.append_only import audit_tables

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
LIVE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
APPEND_ONLY_PRIVILEGES = "SELECT, INSERT"
READ_ONLY_TABLES = frozenset({"django_migrations"})


class RoleError(ValueError):
    """The role cannot be set up as asked (the message says why and what to do)."""


@dataclass(frozen=True)
class Grants:
    role: str
    created: bool
    live: list[str]
    append_only: list[str]
    read_only: list[str]


def grant_app_role(
    role: str, *, create: bool = False, password: str | None = None, using: str = "default"
) -> Grants:
    """Give ``role`` the application's privileges on every table of this database."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise RoleError(
            f"database: expected PostgreSQL (roles and grants); got {connection.vendor}. "
            "SQLite has no roles: its audit tables refuse UPDATE and DELETE by triggers"
        )
    if not ROLE_NAME.fullmatch(role):
        raise RoleError(
            "role: expected a PostgreSQL role name of lower-case letters, digits and _ "
            f"(at most 63, not starting with a digit); got {role!r}"
        )
    tables = sorted(connection.introspection.table_names())
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database(), current_schema()")
        me, database, schema = cursor.fetchone()
        if role == me:
            raise RoleError(
                f"role: expected a role other than the one running this ({me}), which owns "
                "the tables; the application must not connect as the owner"
            )
        created = _ensure_role(cursor, role, create=create, password=password)
        _refuse_an_owner(cursor, role, schema)
        live, append_only, read_only = _grant(cursor, role, database, schema, tables)
    return Grants(role, created, live, append_only, read_only)


def _ensure_role(cursor: Any, role: str, *, create: bool, password: str | None) -> bool:
    """Create ``role`` if asked and missing; True if created. Refuses a superuser."""
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
    found = cursor.fetchone()
    if found is not None:
        if found[0]:
            raise RoleError(
                f"role: {role} is a superuser, who can switch off every trigger; expected "
                "an ordinary role"
            )
        return False
    if not create:
        raise RoleError(
            f"role: {role} does not exist; add --create (with --password-file) to "
            "create it, or create it with CREATE ROLE ... LOGIN"
        )
    statement = sql.SQL(
        "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
    ).format(sql.Identifier(role))
    if password:
        statement += sql.SQL(" PASSWORD {}").format(sql.Literal(password))
    cursor.execute(statement.as_string(cursor.connection))
    return True


def _refuse_an_owner(cursor: Any, role: str, schema: str) -> None:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tableowner = %s",
        [schema, role],
    )
    owned = [name for (name,) in cursor.fetchall()]
    if owned:
        raise RoleError(
            f"role: {role} owns {len(owned)} table(s) ({', '.join(owned[:3])}...): an "
            "owner may alter them and drop their triggers; expected a role that owns "
            "none (ALTER TABLE ... OWNER TO the owner role)"
        )


def _grant(
    cursor: Any, role: str, database: str, schema: str, tables: list[str]
) -> tuple[list[str], list[str], list[str]]:
    """Revoke everything, then grant each table its class's privileges."""
    protected = set(audit_tables())

    def run(template: str, *names: str) -> None:
        statement = sql.SQL(template).format(
            *(sql.Identifier(n) for n in names), role=sql.Identifier(role)
        )
        cursor.execute(statement.as_string(cursor.connection))

    run("GRANT CONNECT ON DATABASE {} TO {role}", database)
    run("GRANT USAGE ON SCHEMA {} TO {role}", schema)
    run("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {role}", schema)
    run("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {role}", schema)
    live, append_only, read_only = [], [], []
    for table in tables:
        if table in READ_ONLY_TABLES:
            run("GRANT SELECT ON TABLE {} TO {role}", table)
            read_only.append(table)
        elif table in protected:
            run(f"GRANT {APPEND_ONLY_PRIVILEGES} ON TABLE {{}} TO {{role}}", table)
            append_only.append(table)
        else:
            run(f"GRANT {LIVE_PRIVILEGES} ON TABLE {{}} TO {{role}}", table)
            live.append(table)
    run("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {role}", schema)
    return live, append_only, read_only
