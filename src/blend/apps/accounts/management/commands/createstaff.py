"""`blend createstaff`: create a staff account (e.g. the first trial administrator).

The account's owner sets their own password: by default the command prints a one-time
set-password link (and e-mails it through the outbox when ``--email`` is given), so the
person running it never knows the password. ``--own-password`` / ``--password-stdin`` are
for the owner typing their own password at the server (the first administrator).
A role that sees arms, identifiers or staff accounts waits for a second person
(``blend staff-grants``), except on a new installation where nobody could approve yet."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.accounts.domain import Role
from blend.apps.accounts.models import GrantStatus
from blend.apps.accounts.passwords import set_password_link
from blend.apps.accounts.services import StaffError, create_staff, parse_trial_role


class Command(BaseCommand):
    help = (
        "Create a staff account with one role; its owner sets the password with the "
        "one-time link printed (or types it with --own-password)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--email", default="")
        parser.add_argument("--name", default="", help="the person's name")
        parser.add_argument(
            "--trial",
            action="append",
            default=[],
            metavar="CODE[:ROLE]",
            help="work only in this trial (repeat for several), with ROLE there "
            "(default: --role); without --trial the account works in every trial",
        )
        parser.add_argument(
            "--own-password",
            action="store_true",
            help="the owner types their own password now (asked twice) instead of a link",
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="the owner's own password from standard input instead of a link",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password: str | None = None
        if options["password_stdin"]:
            password = input().strip()
        elif options["own_password"]:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("password: the two entries differ")
        try:
            user = create_staff(
                username=options["username"],
                role=options["role"],
                password=password,
                email=options["email"],
                first_name=options["name"],
                by=None,
                trials=[parse_trial_role(t, options["role"]) for t in options["trial"]],
            )
        except StaffError as error:
            raise CommandError(str(error)) from None
        where = ", ".join(options["trial"]) or "every trial"
        self.stdout.write(f"Created {options['username']} ({options['role']}; {where}).")
        pending = user.grant_requests.filter(status=GrantStatus.PENDING).first()
        if pending is not None:
            self.stdout.write(
                f"Grant request #{pending.pk} ({pending.gains_text}) waits for a second person: "
                f"blend staff-grants --approve {pending.pk} --user OTHER"
            )
        if user.must_set_password:
            self.stdout.write(
                "Give this one-time link to its owner only; it sets their password "
                f"(valid once, for 3 days):\n{set_password_link(user)}"
            )
