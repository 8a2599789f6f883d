"""The hash chain of every append-only table, kept by the database.

Each INSERT into an audit table (``append_only.audit_tables``) makes the database add one
``AuditChainLink``: the table's next ``seq``, the row's key, the columns hashed, the
row's digest and the chained digest ``sha256(previous ‖ row)``. A trigger writes it, not
Python: no code path can forget it, a raw INSERT by anyone is chained too, and the link
is in the same transaction as its row.

Why triggers, and why deferred on PostgreSQL: the chain of a table is linear only if
links are appended one at a time. A lock taken at the first audited write would be held
to the end of the transaction, serialising every service call and deadlocking two that
write tables in opposite orders. PostgreSQL runs the link trigger as a deferred
constraint trigger, at commit, under one transaction-level advisory lock, so the lock is
held only for the commit itself. SQLite has one writer at a time (``BEGIN IMMEDIATE``),
so a plain AFTER INSERT trigger appends in order.

A row's digest is SHA-256 over a text rendering of its columns: ``name=<quoted value>``
joined by ``;`` with the columns sorted, each value quoted by the database
(``quote`` on SQLite, ``quote_nullable`` on PostgreSQL, rendered with UTC time and ISO
dates, fixed by the trigger function and by ``check-audit``). The link stores the
column list, so a column added later (by a migration) does not change the digests of
older rows; ``blend check-audit`` recomputes each row's rendering with the same SQL.
Because the triggers name every column, ``migrate`` drops them while its migrations run
(``append_only.suspend_chain``) and chains the rows written meanwhile afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from blend.apps.audit.models import AuditChainLink

GENESIS = "0" * 64
LINK_TABLE = AuditChainLink._meta.db_table
#: One advisory lock for every chain: appended at commit only, so it is held briefly and,
#: being the only lock the link triggers take, it cannot deadlock with another one of them.
ADVISORY_LOCK_KEY = 0x626C656E64  # "blend"
#: How PostgreSQL renders values for the digest, whatever the session says.
POSTGRES_RENDERING = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, MDY",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def link_digest(previous: str, row_digest: str) -> str:
    return sha256_text(previous + row_digest)


def row_rendering(vendor: str, columns: Sequence[str], prefix: str) -> str:
    """SQL giving a row's text for its digest; ``prefix`` is ``NEW`` or a table alias."""
    quote = "quote" if vendor == "sqlite" else "quote_nullable"
    parts = [
        f"'{';' if i else ''}{column}=' || coalesce({quote}({prefix}.\"{column}\"), 'NULL')"
        for i, column in enumerate(sorted(columns))
    ]
    return " || ".join(parts)


def _function_name(table: str) -> str:
    name = f"blend_chain_{table}"
    return name if len(name) <= 63 else f"blend_chain_{sha256_text(table)[:40]}"


def trigger_name(table: str) -> str:
    return f"{table}_chain"


def install_statements(vendor: str, table: str, pk: str, columns: Sequence[str]) -> list[str]:
    """Statements that (re)create the chain trigger of ``table``."""
    column_list = ",".join(sorted(columns))
    rendering = row_rendering(vendor, columns, "NEW")
    if vendor == "sqlite":
        return [
            f'DROP TRIGGER IF EXISTS "{trigger_name(table)}"',
            f'CREATE TRIGGER "{trigger_name(table)}" AFTER INSERT ON "{table}" BEGIN '
            f'INSERT INTO "{LINK_TABLE}" '
            "(table_name, seq, row_id, columns, row_digest, previous_digest, digest) "
            f"SELECT '{table}', h.seq + 1, CAST(NEW.\"{pk}\" AS TEXT), '{column_list}', "
            "r.digest, h.digest, blend_sha256(h.digest || r.digest) "
            f"FROM (SELECT blend_sha256({rendering}) AS digest) AS r, "
            f'(SELECT coalesce(max(seq), 0) AS seq, coalesce((SELECT digest FROM "{LINK_TABLE}" '
            f"WHERE table_name = '{table}' ORDER BY seq DESC LIMIT 1), '{GENESIS}') AS digest "
            f"FROM \"{LINK_TABLE}\" WHERE table_name = '{table}') AS h; END",
        ]
    settings = " ".join(f"SET {name} = '{value}'" for name, value in POSTGRES_RENDERING.items())
    function = _function_name(table)
    return [
        f"""CREATE OR REPLACE FUNCTION "{function}"() RETURNS trigger {settings} AS $$
DECLARE
  row_digest text := encode(sha256(convert_to({rendering}, 'UTF8')), 'hex');
  head_seq bigint;
  head_digest text;
BEGIN
  PERFORM pg_advisory_xact_lock({ADVISORY_LOCK_KEY});
  SELECT seq, digest INTO head_seq, head_digest FROM "{LINK_TABLE}"
    WHERE table_name = '{table}' ORDER BY seq DESC LIMIT 1;
  head_seq := coalesce(head_seq, 0);
  head_digest := coalesce(head_digest, '{GENESIS}');
  INSERT INTO "{LINK_TABLE}"
    (table_name, seq, row_id, columns, row_digest, previous_digest, digest)
    VALUES ('{table}', head_seq + 1, NEW."{pk}"::text, '{column_list}', row_digest,
            head_digest, encode(sha256(convert_to(head_digest || row_digest, 'UTF8')), 'hex'));
  RETURN NULL;
END;
$$ LANGUAGE plpgsql""",
        f'DROP TRIGGER IF EXISTS "{trigger_name(table)}" ON "{table}"',
        f'CREATE CONSTRAINT TRIGGER "{trigger_name(table)}" AFTER INSERT ON "{table}" '
        f'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "{function}"()',
    ]


def drop_statements(vendor: str, table: str) -> list[str]:
    """Statements that remove the chain trigger of ``table`` (for a migration)."""
    on = "" if vendor == "sqlite" else f' ON "{table}"'
    return [f'DROP TRIGGER IF EXISTS "{trigger_name(table)}"{on}']


def highest_key(connection: BaseDatabaseWrapper, table: str, pk: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT coalesce(max("{pk}"), 0) FROM "{table}"')
        return int(cursor.fetchone()[0])


def extend_chain(
    connection: BaseDatabaseWrapper,
    table: str,
    pk: str,
    columns: Sequence[str],
    after: int | None,
) -> int:
    """Chain rows that were written while the table had no chain trigger, in key order.

    - A table without any link yet (its chain starts now: the rows its migrations wrote,
      or a database from a version without chains): every row.
    - ``after`` given (the table's highest key when this migrate began, whose chain
      trigger was dropped while the migrations ran): the rows with a higher key, which
      the migrations wrote.
    - Otherwise nothing: a row slipped in behind the trigger is never adopted, and
      ``check-audit`` reports it. Returns the number of rows linked.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT seq, digest FROM "{LINK_TABLE}" WHERE table_name = %s '
            "ORDER BY seq DESC LIMIT 1",
            [table],
        )
        head = cursor.fetchone()
        if head is not None and after is None:
            return 0
        seq, previous = (0, GENESIS) if head is None else (int(head[0]), str(head[1]))
        rows = rendered_rows(connection, table, pk, columns)
        if head is not None:
            rows = {key: text for key, text in rows.items() if int(key) > (after or 0)}
        links = []
        for row_id, text in sorted(rows.items(), key=_key_order):
            seq += 1
            row_digest = sha256_text(text)
            digest = link_digest(previous, row_digest)
            links.append(
                (table, seq, row_id, ",".join(sorted(columns)), row_digest, previous, digest)
            )
            previous = digest
        cursor.executemany(
            f'INSERT INTO "{LINK_TABLE}" '
            "(table_name, seq, row_id, columns, row_digest, previous_digest, digest) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            links,
        )
    return len(links)


def _key_order(item: tuple[str, str]) -> tuple[int, str]:
    key = item[0]
    return (int(key), "") if key.isdigit() else (0, key)


def rendered_rows(
    connection: BaseDatabaseWrapper, table: str, pk: str, columns: Sequence[str]
) -> dict[str, str]:
    """row key → the text its digest is computed over, rendered by the database."""
    rendering = row_rendering(connection.vendor, columns, "t")
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name, value in POSTGRES_RENDERING.items():
                cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        cursor.execute(f'SELECT CAST(t."{pk}" AS TEXT), {rendering} FROM "{table}" AS t')
        return {str(key): text for key, text in cursor.fetchall()}
