"""Deploy check of the database role the application connects as (``blend check --deploy
--database default``): on PostgreSQL it must not be able to obscure the audit trail."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Tags, register
from django.db import DatabaseError, connections

from blend.apps.audit.append_only import audit_tables

#: Privileges on an append-only table that would let their holder rewrite or empty it.
FORBIDDEN = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")


@register(Tags.database, deploy=True)
def check_app_role(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Error]:
    """audit.E001: the application's PostgreSQL role is a superuser or owns an audit table;
    audit.E002: it holds a privilege on an audit table beyond SELECT and INSERT."""
    errors: list[Error] = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        try:
            errors += _role_errors(alias)
        except DatabaseError as error:
            errors.append(
                Error(
                    f"database {alias}: cannot read the role's privileges: {error}", id="audit.E003"
                )
            )
    return errors


def _role_errors(alias: str) -> list[Error]:
    connection = connections[alias]
    present = set(connection.introspection.table_names())
    tables = [t for t in audit_tables() if t in present]
    hint = (
        "Connect the application as a role set up with `blend db-grant-app-role ROLE` (run as "
        "the owner); docs/deployment.md, PostgreSQL roles."
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, superuser = cursor.fetchone()
        if superuser:
            return [
                Error(
                    f"the application connects as {user}, a superuser, who can switch "
                    "off the audit triggers",
                    hint=hint,
                    id="audit.E001",
                )
            ]
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE tablename = ANY(%s) AND tableowner = current_user",
            [tables],
        )
        owned = sorted(name for (name,) in cursor.fetchall())
        if owned:
            return [
                Error(
                    f"the application's role {user} owns {len(owned)} audit table(s) "
                    f"({', '.join(owned[:3])}, ...) and can drop their triggers",
                    hint=hint,
                    id="audit.E001",
                )
            ]
        cursor.execute(
            "SELECT p, t FROM unnest(%s::text[]) AS t, unnest(%s::text[]) AS p "
            "WHERE has_table_privilege(t, p) ORDER BY t, p",
            [tables, list(FORBIDDEN)],
        )
        found = [f"{privilege} on {table}" for privilege, table in cursor.fetchall()]
    if found:
        return [
            Error(
                f"the application's role {user} holds {len(found)} privilege(s) that "
                f"rewrite or empty the audit trail ({', '.join(found[:3])}, ...)",
                hint=hint,
                id="audit.E002",
            )
        ]
    return []
