"""`blend linkage export-ncr FILE --user NAME` and `blend linkage import-brp FILE --user NAME`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.accounts.models import User
from blend.apps.linkage.services import LinkageError, export_ncr, import_brp


class Command(BaseCommand):
    help = "Registry linkage: write the NCR linkage file, or apply a BRP vital-status file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action",
            choices=["export-ncr", "import-brp"],
            help="export-ncr: write the NCR file; import-brp: read a BRP vital-status file",
        )
        parser.add_argument("file", help="the file to write (export-ncr) or read (import-brp)")
        parser.add_argument(
            "--user", required=True, help="username the run is logged under (needs `linkage`)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"--user: expected an existing username, got {options['user']!r}")
        path = Path(options["file"])
        try:
            if options["action"] == "export-ncr":
                self._export(path, user)
            else:
                self._import(path, user)
        except (LinkageError, PermissionDenied) as error:
            raise CommandError(str(error)) from error
        except ValueError as error:  # the BRP file refused whole: every problem named
            raise CommandError(f"{path}: refused, nothing was recorded: {error}") from error

    def _export(self, path: Path, user: User) -> None:
        run = export_ncr(path, user=user, via="cli")
        self.stdout.write(
            f"Wrote {run.rows} members with a current linkage consent (of {run.eligible} in "
            f"the cohort) to {path} (linkage run #{run.pk}, logged in the export log)."
        )

    def _import(self, path: Path, user: User) -> None:
        if not path.is_file():
            raise CommandError(f"file: expected a readable file, got {str(path)!r}")
        result = import_brp(path.read_bytes(), file_name=path.name, user=user, via="cli")
        run = result.run
        self.stdout.write(
            f"Read {run.rows} rows: {run.matched} matched a member, {run.applied} recorded, "
            f"{run.unchanged} unchanged, {run.conflicts} queued as conflicts "
            f"(linkage run #{run.pk})."
        )
        if result.unmatched_rows:
            shown = ", ".join(str(r) for r in result.unmatched_rows[:20])
            self.stdout.write(f"Rows that matched no member: {shown}")
