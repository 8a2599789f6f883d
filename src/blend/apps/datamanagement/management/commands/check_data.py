"""`blend check-data`: run all edit checks over the database and open queries."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from blend.apps.datamanagement.runner import check_data


class Command(BaseCommand):
    help = (
        "Run every edit check over the database; open a query per new finding, close resolved ones."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="report findings, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = check_data(dry_run=options["dry_run"])
        for issue in run.issues:
            self.stdout.write(
                f"[{issue.finding.check}] {issue.form} #{issue.object_id}: {issue.finding.message}"
            )
        verb = "would open" if options["dry_run"] else "opened"
        self.stdout.write(
            f"{len(run.issues)} findings; {verb} {run.opened} queries, {run.already_open} already "
            f"open, closed {run.closed} resolved"
        )
