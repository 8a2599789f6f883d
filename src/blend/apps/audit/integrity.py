"""`blend check-audit`: proof that the audit trail is complete and unaltered.

Three checks, over the whole database (every trial):

1. **Live rows against their history.** Every row of an audited model equals its last
   history row field by field; a row without history, a deletion without a history row,
   and a history that records a deletion of a row that still exists are reported.
2. **The chain of every append-only table** (``blend.apps.audit.chain``): each link
   follows the one before it (``seq`` without a gap, ``previous_digest`` equal to the
   previous ``digest``, ``digest`` recomputed), and each row's digest recomputed from the
   row as it is now equals the one chained when it was inserted.
3. **Nothing missing:** every chained row still exists, and every row is chained.

Problems name the table, the row's key and, for a live row, the fields that differ; they
never quote a value (a history table may hold identifiers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

from blend.apps.audit import chain
from blend.apps.audit.append_only import chained_models
from blend.apps.audit.models import AuditChainLink
from blend.apps.audit.services import HistoryModel, _history_models

CHUNK = 5000


@dataclass
class TableCheck:
    """What was checked in one table, and what was wrong."""

    table: str
    kind: str  # "live" (rows against history) or "chain"
    rows: int = 0
    mismatches: int = 0
    missing: int = 0
    chain_breaks: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, counter: str, problem: str) -> None:
        setattr(self, counter, getattr(self, counter) + 1)
        self.problems.append(self.table + (problem if problem.startswith(":") else f" {problem}"))


@dataclass
class AuditCheck:
    tables: list[TableCheck] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [problem for table in self.tables for problem in table.problems]

    @property
    def ok(self) -> bool:
        return not self.problems


Progress = Callable[[Iterable[Any]], Iterable[Any]]


def check_audit(using: str = "default", progress: Progress | None = None) -> AuditCheck:
    """Run every check; ``progress`` wraps the list of steps (a progress bar)."""
    connection = connections[using]
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        # Links are written at commit (deferred triggers): inside an open transaction
        # (a test, a shell), fire them now so the check sees them.
        connection.check_constraints()
    steps: list[Callable[[], TableCheck]] = [
        *(lambda m=m: check_live_rows(m, using) for m in _history_models()),
        *(lambda m=m: check_chain(m, using) for m in chained_models()),
    ]
    report = AuditCheck()
    for step in progress(steps) if progress else steps:
        report.tables.append(step())
    return report


def check_live_rows(history: HistoryModel, using: str = "default") -> TableCheck:
    """Every live row of ``history``'s model equals its last history row."""
    source: type[models.Model] = history.instance_type
    table = source._meta.db_table
    history_table = history._meta.db_table
    history_names = {f.attname for f in history._meta.concrete_fields}
    names = [f.attname for f in source._meta.concrete_fields if f.attname in history_names]
    pk = source._meta.pk.attname
    result = TableCheck(table=table, kind="live")
    last: dict[Any, tuple[Any, ...]] = {}
    for row in (
        history.objects.using(using)
        .order_by("history_id")
        .values_list(pk, "history_id", "history_type", *names)
        .iterator(chunk_size=CHUNK)
    ):
        last[row[0]] = row[1:]
    live_keys = set()
    for row in (
        source._base_manager.using(using)  # every row, whatever a default manager hides
        .order_by(pk)
        .values_list(*names)
        .iterator(chunk_size=CHUNK)
    ):
        result.rows += 1
        values = dict(zip(names, row, strict=True))
        key = values[pk]
        live_keys.add(key)
        recorded = last.get(key)
        if recorded is None:
            result.add("missing", f"row {key}: has no history row (written without history)")
            continue
        history_id, history_type, *then = recorded
        if history_type == "-":
            result.add(
                "mismatches",
                f"row {key}: exists, but its last history row ({history_table} "
                f"{history_id}) records its deletion",
            )
            continue
        differ = [name for name, old in zip(names, then, strict=True) if values[name] != old]
        if differ:
            result.add(
                "mismatches",
                f"row {key}: {', '.join(differ)} differ{'s' if len(differ) == 1 else ''} "
                f"from its last history row ({history_table} {history_id}): "
                "changed without history",
            )
    for key, (history_id, history_type, *_) in last.items():
        if key not in live_keys and history_type != "-":
            result.add(
                "missing",
                f"row {key}: is gone, but its last history row ({history_table} "
                f"{history_id}) records no deletion: deleted without history",
            )
    return result


def check_chain(model: type[models.Model], using: str = "default") -> TableCheck:
    """The chain of one append-only table, and its rows against it."""
    connection = connections[using]
    table, pk = model._meta.db_table, model._meta.pk.column
    result = TableCheck(table=table, kind="chain")
    links = list(
        AuditChainLink._default_manager.using(using)
        .filter(table_name=table)
        .order_by("seq")
        .values_list("seq", "row_id", "columns", "row_digest", "previous_digest", "digest")
    )
    rendered = _rendered_as_chained(connection, table, pk, links, result)
    all_keys = set(chain.rendered_rows(connection, table, pk, [pk]))
    result.rows = len(all_keys)
    previous_seq, previous_digest = 0, chain.GENESIS
    for seq, row_id, columns, row_digest, link_previous, digest in links:
        where = f"link {seq} (row {row_id})"
        _check_link_order(result, where, seq, previous_seq, link_previous, previous_digest)
        if chain.link_digest(link_previous, row_digest) != digest:
            result.add("chain_breaks", f": {where} has a digest that does not match its contents")
        text = rendered.get((row_id, columns))
        if text is None:
            if row_id not in all_keys:
                result.add("missing", f"row {row_id}: chained as {where}, is gone (deleted)")
        elif chain.sha256_text(text) != row_digest:
            result.add(
                "mismatches",
                f"row {row_id}: differs from what {where} chained (edited after it was written)",
            )
        previous_seq, previous_digest = seq, digest
    chained = {row_id for _, row_id, *_rest in links}
    for key in sorted(all_keys - chained, key=_numeric):
        result.add("missing", f"row {key}: is not in the chain (written behind the trigger)")
    return result


def _rendered_as_chained(
    connection: BaseDatabaseWrapper,
    table: str,
    pk: str,
    links: list[tuple[Any, ...]],
    result: TableCheck,
) -> dict[tuple[str, str], str]:
    """(row key, column list) → the row's text over the columns its link hashed: one
    query per column list (a migration that adds a column starts a new one)."""
    description = connection.introspection.get_table_description(connection.cursor(), table)
    present = {column.name for column in description}
    counts: dict[str, int] = defaultdict(int)
    for _, _row_id, columns, *_rest in links:
        counts[columns] += 1
    rendered: dict[tuple[str, str], str] = {}
    for columns, count in counts.items():
        wanted = columns.split(",")
        gone = [c for c in wanted if c not in present]
        if gone:
            result.add(
                "chain_breaks",
                f": {count} chained rows cannot be recomputed: column "
                f"{', '.join(gone)} no longer exists",
            )
            continue
        for key, text in chain.rendered_rows(connection, table, pk, wanted).items():
            rendered[(key, columns)] = text
    return rendered


def _check_link_order(
    result: TableCheck,
    where: str,
    seq: int,
    previous_seq: int,
    link_previous: str,
    previous_digest: str,
) -> None:
    if seq != previous_seq + 1:
        gap = (
            f"link {seq - 1} is"
            if seq - 1 == previous_seq + 1
            else f"links {previous_seq + 1}–{seq - 1} are"
        )
        result.add("chain_breaks", f": {gap} missing before {where}")
    if link_previous != previous_digest:
        result.add(
            "chain_breaks",
            f": {where} does not follow link {previous_seq}: a link before it was "
            "removed or rewritten",
        )


def _numeric(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (0, key)
