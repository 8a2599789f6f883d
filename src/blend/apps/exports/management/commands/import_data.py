"""`blend import-data participants|questionnaires FILE.csv --user NAME [--dry-run] [--report OUT.csv]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.accounts.models import User
from blend.apps.exports.imports import import_participants, import_questionnaires


class Command(BaseCommand):
    help = "Import cohort participants or historical questionnaires from CSV: all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["participants", "questionnaires"])
        parser.add_argument("file")
        parser.add_argument(
            "--user", required=True, help="username the import is recorded under (needs `import`)"
        )
        parser.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
        parser.add_argument(
            "--report", help="write the rejected rows with their reasons to this CSV"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"--user: expected an existing username, got {options['user']!r}")
        run = import_participants if options["kind"] == "participants" else import_questionnaires
        try:
            report = run(Path(options["file"]), user=user, dry_run=options["dry_run"])
        except (ValueError, PermissionDenied, FileNotFoundError) as error:
            raise CommandError(str(error)) from error
        for row, reasons in report.rejected:
            self.stderr.write(f"row {row}, {reasons}")  # "row 12, column sex: expected …"
        if options["report"]:
            report.write(Path(options["report"]))
        if report.rejected_count > len(report.rejected):
            self.stderr.write(
                f"… and {report.rejected_count - len(report.rejected)} more rejected rows"
            )
        self.stdout.write(report.summary())
        if not report.ok:
            raise CommandError("the file was rejected; nothing was imported")
