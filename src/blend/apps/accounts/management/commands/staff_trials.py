"""`blend staff-trials`: show, grant and revoke a staff member's roles per trial."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from blend.apps.accounts.models import User
from blend.apps.accounts.services import (
    StaffError,
    grant_trial_role,
    parse_trial_role,
    revoke_trial_role,
)
from blend.apps.trials.lookup import known_trial_codes


class Command(BaseCommand):
    help = "Show, grant or revoke a staff member's roles per trial (audited)."

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
        try:
            with transaction.atomic():  # all the changes asked for, or none
                for text in options["grant"]:
                    code, role = parse_trial_role(text, user.role)
                    grant_trial_role(user, code, role, by=None)
                for code in options["revoke"]:
                    revoke_trial_role(user, code, by=None)
        except StaffError as error:
            user.__dict__.pop("trial_roles", None)
            raise CommandError(str(error)) from None
        for code in known_trial_codes():
            self.stdout.write(f"{code}: {user.role_in(code) or '-'}")
        if not user.trial_roles:
            self.stdout.write(f"(no roles per trial: works in every trial as {user.role or '-'})")
