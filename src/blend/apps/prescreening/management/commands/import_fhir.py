"""`blend import-fhir FILE --user NAME`: pre-fill a member's screening facts from a FHIR Bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.accounts.models import User
from blend.apps.audit.guards import WriteRefused
from blend.apps.prescreening.fhir_import import import_fhir_bundle, parse_json
from blend.interop.fhir_import import BundleRefused


class Command(BaseCommand):
    help = (
        "Pre-fill a cohort member's screening facts from a FHIR R4 Bundle (JSON): all or "
        "nothing; the facts wait for the nurse's confirmation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the FHIR Bundle, as JSON")
        parser.add_argument(
            "--user",
            required=True,
            help="username the import is recorded under (needs participant.write)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"--user: expected an existing username, got {options['user']!r}")
        path = Path(options["file"])
        try:
            bundle = parse_json(path.read_bytes())
            result = import_fhir_bundle(bundle, user=user, name=path.name)
        except BundleRefused as error:
            for problem in error.problems:
                self.stderr.write(problem.message)
            raise CommandError(
                f"{path}: the bundle was refused ({len(error.problems)} problem(s)); nothing was imported"
            ) from error
        except (PermissionDenied, WriteRefused) as error:
            # before OSError: a write guard's refusal (a lock) is a PermissionError too
            raise CommandError(str(error)) from error
        except OSError as error:
            raise CommandError(f"{path}: expected a readable file ({error.strerror})") from error
        for key, what in result.written.items():
            self.stdout.write(f"  {key:<32} {what}")
        for line in result.found.unused:
            self.stdout.write(f"  not used: {line}")
        self.stdout.write(
            f"Imported {len(result.written)} facts for {result.participant.study_id} from "
            f"{result.bundle}; {len(result.to_confirm)} wait for the nurse's confirmation."
        )
