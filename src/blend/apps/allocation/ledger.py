"""The statements an allocation runs under its locks, in raw SQL.

Why raw SQL: while these run, the trial's sequence row is locked, so every other
allocation of the trial waits for them, and on SQLite every other writer too. The ORM
spent most of that time in Python (about 6,200 function calls and 11 statements per
allocation); here a group of allocations (``group_commit``) costs a fixed handful:

1. lock the members (PostgreSQL; on SQLite the IMMEDIATE transaction already holds the
   only writer lock): ``SELECT … ORDER BY id FOR UPDATE`` in one statement, always in
   key order, so two groups never wait on each other's members in a cycle;
2. lock the trial's sequence row and read its head, and in the same statement the
   trials each member already holds an allocation in (this one: refused; another: the
   overlap rules are asked). That read is safe in one
   statement because every allocation locks its member first: whoever allocated one of
   these members committed before statement 1 returned, so statement 2's snapshot,
   taken after it, sees that allocation (PostgreSQL's READ COMMITTED takes a snapshot
   per statement);
3. write the allocations (with keys reserved in statement 2), their chained log records,
   the audit events (the audit app's own INSERT, ``audit.services.events_insert``, so
   this app never names the audit table) and the new head: one statement on PostgreSQL
   (data-modifying CTEs), four on SQLite (which has no such CTEs, and no round trips).

The
member lock before the sequence row is what the overlap rules between trials rely on
(docs/trials.md). Values are adapted by the models' own fields, so the rows are exactly
what the ORM would write.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models

from blend.apps.allocation.models import Allocation, AllocationLog, AllocationSequence
from blend.apps.registry.models import Participant

_ALLOCATION_COLUMNS = (
    "id",
    "participant_id",
    "trial",
    "arm",
    "sequence_number",
    "stratum",
    "stratum_index",
    "profile",
    "allocated_at",
    "allocated_by_id",
)
_LOG_COLUMNS = (
    "trial",
    "sequence_number",
    "participant_id",
    "study_id",
    "arm",
    "stratum",
    "stratum_index",
    "profile",
    "allocated_at",
    "allocated_by",
    "previous_hash",
    "hash",
    "chain_version",
    "mac",
)
_HEAD_COLUMNS = ("last_number", "last_hash", "commitment", "arms_by_stratum")


@dataclass
class Head:
    """The locked sequence row of a trial, which members of the group already hold an
    allocation in it, and which hold one in another trial (the overlap rules' concern)."""

    row: AllocationSequence
    allocated: frozenset[int]
    elsewhere: frozenset[int]
    #: keys for the group's new allocations, reserved under the lock (one per member)
    keys: list[int]


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def lock_and_read(trial: str, member_ids: Sequence[int]) -> Head | None:
    """Statements 1 and 2: the members locked, then the trial's head locked and read;
    None when the trial has no sequence row yet (its first allocation)."""
    members = sorted(set(member_ids))
    allocations = Allocation._meta.db_table
    sequences = AllocationSequence._meta.db_table
    with connection.cursor() as cursor:
        if _postgres():
            cursor.execute(
                f'SELECT id FROM "{Participant._meta.db_table}" WHERE id IN ({_marks(len(members))}) '
                "ORDER BY id FOR UPDATE",
                members,
            )
        # Each member's allocations in every trial, as "member:TRIAL" (trial codes hold no ':').
        pair = (
            "participant_id::text || ':' || trial"
            if _postgres()
            else "participant_id || ':' || trial"
        )
        aggregate = f"string_agg({pair}, ',')" if _postgres() else f"group_concat({pair})"
        lock = " FOR UPDATE" if _postgres() else ""
        cursor.execute(
            "SELECT id, last_number, last_hash, commitment, arms_by_stratum, legacy_seal, "
            f'(SELECT {aggregate} FROM "{allocations}" '
            f"WHERE participant_id IN ({_marks(len(members))})), "
            f"{_reserved_keys(allocations)} "
            f'FROM "{sequences}" WHERE trial_code = %s{lock}',
            [*members, *_reserve_params(len(members)), trial],
        )
        found = cursor.fetchone()
    if found is None:
        return None
    pk, number, last_hash, commitment, arms, seal, allocated, reserved = found
    row = AllocationSequence(
        id=pk,
        trial_code=trial,
        last_number=number,
        last_hash=last_hash,
        commitment=commitment,
        arms_by_stratum=json.loads(arms) if isinstance(arms, str) else dict(arms or {}),
        legacy_seal=seal,
    )
    row._state.adding = False
    pairs = [item.split(":", 1) for item in str(allocated).split(",")] if allocated else []
    return Head(
        row,
        allocated=frozenset(int(member) for member, code in pairs if code == trial),
        elsewhere=frozenset(int(member) for member, code in pairs if code != trial),
        keys=_keys(reserved, len(members)),
    )


def _reserved_keys(table: str) -> str:
    """SQL reserving the keys of the group's allocations in the head's statement, so that
    the audit events can name them and everything is written in one statement.

    PostgreSQL: ``nextval`` of the table's identity sequence, once per member (a key
    left unused by a refused member is a gap in the keys, never in the sequence numbers).
    SQLite: the highest key given so far (``AUTOINCREMENT`` never hands out a key twice),
    safe because this transaction holds the only writer lock until it commits."""
    if _postgres():
        return (
            f"(SELECT string_agg(nextval(pg_get_serial_sequence('\"{table}\"', 'id'))::text, ',') "
            "FROM generate_series(1, %s))"
        )
    return (
        f"max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0), "
        f'coalesce((SELECT max(id) FROM "{table}"), 0))'
    )


def _reserve_params(count: int) -> list[Any]:
    return [count] if _postgres() else []


def _keys(reserved: Any, count: int) -> list[int]:
    if _postgres():
        return [int(key) for key in str(reserved).split(",")]
    return [int(reserved) + 1 + i for i in range(count)]


@functools.cache
def _fields(model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
    return {f.attname: f for f in model._meta.concrete_fields}


def _adapted(model: type[models.Model], columns: Sequence[str], values: Sequence[Any]) -> list[Any]:
    by_column = _fields(model)
    return [
        by_column[name].get_db_prep_save(value, connection)
        for name, value in zip(columns, values, strict=True)
    ]


def _rows(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> tuple[str, list[Any]]:
    """``(col, …) VALUES (…), (…)`` and its parameters."""
    params: list[Any] = []
    for row in rows:
        params += _adapted(model, columns, [row[name] for name in columns])
    names = ", ".join(f'"{name}"' for name in columns)
    values = ", ".join([f"({_marks(len(columns))})"] * len(rows))
    return f'"{model._meta.db_table}" ({names}) VALUES {values}', params


def write(
    head: AllocationSequence,
    allocations: Sequence[dict[str, Any]],
    logs: Sequence[dict[str, Any]],
    events: tuple[str, list[Any]],
) -> None:
    """Statement 3: the allocations (with their reserved keys), their log records, the
    audit events (``events``: the audit app's INSERT, ``audit.services.events_insert``)
    and the moved head (``head``, already advanced in memory)."""
    into_allocations, allocation_params = _rows(Allocation, _ALLOCATION_COLUMNS, allocations)
    into_log, log_params = _rows(AllocationLog, _LOG_COLUMNS, logs)
    events_sql, event_params = events
    assignments = ", ".join(f'"{name}" = %s' for name in _HEAD_COLUMNS)
    head_params = _adapted(
        AllocationSequence, _HEAD_COLUMNS, [getattr(head, name) for name in _HEAD_COLUMNS]
    )
    update = f'UPDATE "{AllocationSequence._meta.db_table}" SET {assignments} WHERE id = %s'
    with connection.cursor() as cursor:
        if _postgres():
            # One round trip: every data-modifying CTE runs, referenced or not.
            cursor.execute(
                f"WITH allocated AS (INSERT INTO {into_allocations}), "
                f"logged AS (INSERT INTO {into_log}), "
                f"recorded AS ({events_sql}) "
                f"{update}",
                [*allocation_params, *log_params, *event_params, *head_params, head.pk],
            )
            return
        # SQLite has no data-modifying CTEs; its statements cost no round trip.
        cursor.execute(f"INSERT INTO {into_allocations}", allocation_params)
        cursor.execute(f"INSERT INTO {into_log}", log_params)
        cursor.execute(events_sql, event_params)
        cursor.execute(update, [*head_params, head.pk])
