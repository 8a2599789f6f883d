"""`blend staff-trials`: show, grant and revoke a staff member's roles per trial."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.accounts.models import User
from blend.apps.accounts.services import StaffError, change_access, parse_trial_role
from blend.apps.trials.lookup import known_trial_codes


class Command(BaseCommand):
    help = (
        "Show, grant or revoke a staff member's roles per trial (audited); a change that "
        "gives arms waits for a second person (blend staff-grants)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--grant",
            action="append",
            default=[],
            metavar="CODE[:ROLE]",
            help="give the user ROLE in trial CODE (default: their own role); repeatable",
        )
        parser.add_argument(
            "--revoke",
            action="append",
            default=[],
            metavar="CODE",
            help="take the user's role in trial CODE away; repeatable",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"username: no staff account {options['username']!r}")
        trials: dict[str, str | None] = {}
        for text in options["grant"]:
            code, role = parse_trial_role(text, user.role)
            trials[code] = role
        for code in options["revoke"]:
            trials[code] = None
        if trials:
            try:  # all the changes asked for, or none
                change = change_access(user, by=None, trials=trials)
            except StaffError as error:
                user.__dict__.pop("trial_roles", None)
                raise CommandError(str(error)) from None
            if change.pending and change.request is not None:
                self.stdout.write(
                    f"Grant request #{change.request.pk} ({change.request.gains_text}) waits "
                    f"for a second person: blend staff-grants --approve {change.request.pk} "
                    "--user OTHER"
                )
        for code in known_trial_codes():
            self.stdout.write(f"{code}: {user.role_in(code) or '-'}")
        if not user.trial_roles:
            self.stdout.write(f"(no roles per trial: works in every trial as {user.role or '-'})")
