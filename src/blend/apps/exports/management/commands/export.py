"""`blend export analysis DIR` and `blend export full DIR [--format ...]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.accounts.models import User
from blend.apps.exports.services import FULL_FORMATS, ExportError, export_analysis, export_full
from blend.apps.trials.lookup import UnknownTrial


class Command(BaseCommand):
    help = "Export the analysis dataset (docs/contracts/analysis-dataset.md) or the full pseudonymous database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "kind", choices=["analysis", "full"], help="analysis dataset or full export"
        )
        parser.add_argument("folder", help="output folder (created if missing)")
        parser.add_argument(
            "--format",
            action="append",
            choices=FULL_FORMATS,
            help="full export only; repeat to choose several (default: all)",
        )
        parser.add_argument(
            "--trial",
            help="the trial whose analysis dataset to write (default: the default trial, BLEND)",
        )
        parser.add_argument(
            "--user", help="username to log the export under (must hold the export capability)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(
                    f"--user: expected an existing username, got {options['user']!r}"
                )
        folder = Path(options["folder"])
        try:
            if options["kind"] == "analysis":
                entry = export_analysis(folder, user=user, trial=options["trial"])
            else:
                entry = export_full(folder, options["format"], user=user)
        except (ExportError, PermissionDenied, UnknownTrial) as error:
            raise CommandError(str(error)) from error
        for table, n in entry.rows.items():
            self.stdout.write(f"  {table:<40} {n:>8} rows")
        self.stdout.write(f"Wrote {len(entry.files)} files to {folder} (export log #{entry.pk}).")
