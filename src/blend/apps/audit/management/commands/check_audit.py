"""`blend check-audit`: prove the audit trail complete (see blend.apps.audit.integrity)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from blend.apps.audit.integrity import check_audit


class Command(BaseCommand):
    help = (
        "Prove the audit trail complete: every live row equals its last history row, every "
        "append-only table's hash chain holds, and no row is missing (all trials)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--database", default="default", help="the database alias to check (default: default)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(steps: Iterable[Any]) -> Iterable[Any]:
            # On a terminal only (disable=None): a log or a test sees the report alone.
            return tqdm(steps, desc="check-audit", unit="table", disable=None, file=sys.stderr)

        report = check_audit(options["database"], progress=progress)
        width = max(len(t.table) for t in report.tables) if report.tables else 10
        self.stdout.write(
            f"{'table':<{width}}  {'check':<5}  {'rows':>7}  {'mismatch':>8}  {'missing':>7}  "
            f"{'breaks':>6}"
        )
        for t in report.tables:
            self.stdout.write(
                f"{t.table:<{width}}  {t.kind:<5}  {t.rows:>7}  {t.mismatches:>8}  "
                f"{t.missing:>7}  {t.chain_breaks:>6}"
            )
        checked = sum(t.rows for t in report.tables)
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(f"  FAIL {problem}")
            raise CommandError(
                f"audit trail check failed: {len(report.problems)} problem(s) in "
                f"{len({t.table for t in report.tables if t.problems})} table(s)"
            )
        self.stdout.write(
            f"OK: {len(report.tables)} checks over {checked} rows; every live row equals its "
            "last history row and every chain holds"
        )
