"""`blend trial add DIR`, `blend trial validate DIR` and `blend trial list`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.trials.models import TrialRegistration
from blend.apps.trials.services import TrialRegistrationError, add_trial, all_trials, validate
from blend.protocol import ProtocolError


class Command(BaseCommand):
    help = "Add a trial to the cohort from a folder of configuration, check a folder, or list the trials."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{add,validate,list}")
        add = actions.add_parser("add", help="validate a trial folder and register it (audited)")
        add.add_argument("folder", help="the trial folder (trial.toml, eligibility.toml, ...)")
        add.add_argument("--user", help="username to record as the one who added it")
        check = actions.add_parser("validate", help="check a trial folder without registering it")
        check.add_argument("folder", help="the trial folder")
        actions.add_parser("list", help="the cohort's trials, shipped and registered")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "list":
                self._list()
            elif options["action"] == "validate":
                trial = validate(Path(options["folder"]))
                self.stdout.write(
                    f"{trial.code}: the folder is valid ({trial.title}); nothing was registered."
                )
            else:
                registration = add_trial(Path(options["folder"]), user=self._user(options["user"]))
                self.stdout.write(f"{registration.code} registered: {registration.folder}")
        except (ProtocolError, TrialRegistrationError, OSError) as error:
            raise CommandError(str(error)) from None

    def _user(self, username: str | None) -> Any:
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"--user: expected an existing username, got {username!r}")
        return user

    def _list(self) -> None:
        added = {r.code: r for r in TrialRegistration.objects.all()}
        for code, trial in sorted(all_trials().items()):
            source = f"added {added[code].registered_at:%Y-%m-%d}" if code in added else "shipped"
            self.stdout.write(f"{code:<12} {trial.status:<10} {source:<18} {trial.title}")
