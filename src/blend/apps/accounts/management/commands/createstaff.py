"""`blend createstaff`: create a staff account (e.g. the first trial administrator)."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.accounts.domain import Role
from blend.apps.accounts.services import StaffError, create_staff, parse_trial_role


class Command(BaseCommand):
    help = "Create a staff account with one role; the password is asked for twice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--trial",
            action="append",
            default=[],
            metavar="CODE[:ROLE]",
            help="work only in this trial (repeat for several), with ROLE there "
            "(default: --role); without --trial the account works in every trial",
        )
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["password_stdin"]:
            password = input().strip()
        else:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("password: the two entries differ")
        try:
            create_staff(
                username=options["username"],
                role=options["role"],
                password=password,
                email=options["email"],
                by=None,
                trials=[parse_trial_role(t, options["role"]) for t in options["trial"]],
            )
        except StaffError as error:
            raise CommandError(str(error)) from None
        where = ", ".join(options["trial"]) or "every trial"
        self.stdout.write(f"Created {options['username']} ({options['role']}; {where}).")
