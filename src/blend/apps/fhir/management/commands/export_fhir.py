"""`blend export fhir DIR [--user USERNAME]`: the FHIR R4 export as NDJSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.accounts.models import User
from blend.apps.fhir.services import export_fhir


class Command(BaseCommand):
    help = (
        "Export FHIR R4 resources (one NDJSON file per resource type) for the trials the "
        "user works in; run as `blend export fhir DIR`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", help="output folder (created if missing)")
        parser.add_argument(
            "--user",
            help="username to export as and log under (must hold the export capability); "
            "without it, the server operator: every trial and every arm",
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
            entry = export_fhir(folder, user=user)
        except PermissionDenied as error:
            raise CommandError(str(error)) from error
        for kind, n in entry.rows.items():
            self.stdout.write(f"  {kind:<40} {n:>8} resources")
        self.stdout.write(f"Wrote {len(entry.files)} files to {folder} (export log #{entry.pk}).")
