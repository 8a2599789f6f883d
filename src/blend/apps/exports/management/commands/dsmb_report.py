"""`blend dsmb-report --trial CODE OUT [--user USERNAME]`: the DSMB reports of one trial,
straight from the database.

Writes that trial's analysis dataset to ``OUT/dataset`` (``blend export analysis --trial
CODE``, logged like any export; a named user needs ``allocation.view`` in the trial) and
from it the closed report ``OUT/dsmb_report.html`` (by arm), the open report
``OUT/dsmb_open.html`` (arms pooled) and ``OUT/dsmb.json`` (``blend.stats.dsmb``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.accounts.models import User
from blend.apps.exports.services import ExportError, export_analysis
from blend.apps.trials.lookup import UnknownTrial
from blend.stats.dataset import load_dataset
from blend.stats.dsmb import write_dsmb_report
from blend.stats.errors import ContractError


class Command(BaseCommand):
    help = "Write one trial's DSMB reports (closed, by arm; open, pooled) from the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="output folder")
        parser.add_argument("--trial", help="the trial (default: the default trial, BLEND)")
        parser.add_argument(
            "--user", help="username to log the export under (needs allocation.view there)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(
                    f"--user: expected an existing username, got {options['user']!r}"
                )
        out: Path = options["out"]
        try:
            export_analysis(out / "dataset", user=user, trial=options["trial"])
            dataset = load_dataset(out / "dataset")
        except (ExportError, UnknownTrial, ContractError) as error:
            raise CommandError(str(error)) from error
        except PermissionDenied as error:
            raise CommandError(f"--user: {error}") from error
        closed = write_dsmb_report(dataset, out)
        self.stdout.write(
            f"{dataset.trial}: wrote {closed} (closed, by arm), {out / 'dsmb_open.html'} "
            f"(open, arms pooled) and {out / 'dsmb.json'}"
        )
