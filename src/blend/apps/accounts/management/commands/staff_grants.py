"""`blend staff-grants`: list grant requests (two-person rule), approve or refuse one.

The second person is identified by ``--user`` and proves it with their own password
(asked for, or read from standard input with ``--password-stdin``), as on the web page;
the person who asked and the person the grant is for cannot approve it."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.accounts.models import GrantRequest, User
from blend.apps.accounts.services import (
    StaffError,
    approve_grant,
    pending_grants,
    recent_grants,
    refuse_grant,
)


def _line(grant: GrantRequest) -> str:
    asked = grant.requested_by.username if grant.requested_by else "server operator"
    decided = f", by {grant.decided_by.username}" if grant.decided_by else ""
    return (
        f"#{grant.pk} {grant.user.username}: {grant.gains_text} "
        f"(asked by {asked}; {grant.get_status_display()}{decided})"
    )


class Command(BaseCommand):
    help = "List grant requests waiting for a second person; approve or refuse one."
    stealth_options = ("stdin",)  # as Django's createsuperuser: tests pass a stream

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--approve", type=int, metavar="REQUEST")
        action.add_argument("--refuse", type=int, metavar="REQUEST")
        parser.add_argument("--user", help="the second person deciding (holds users.manage)")
        parser.add_argument("--reason", default="", help="why a request is refused")
        parser.add_argument(
            "--password-stdin", action="store_true", help="read --user's password from stdin"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        number = options["approve"] or options["refuse"]
        if number is None:
            for grant in pending_grants():
                self.stdout.write(_line(grant))
            for grant in recent_grants():
                self.stdout.write(_line(grant))
            return
        found = GrantRequest.objects.select_related("user").filter(pk=number).first()
        if found is None:
            raise CommandError(f"request: no grant request #{number}")
        grant = found
        if not options["user"]:
            raise CommandError("user: expected --user, the second person deciding, got nothing")
        by = User.objects.filter(username=options["user"]).first()
        if by is None:
            raise CommandError(f"user: no staff account {options['user']!r}")
        try:
            if options["approve"]:
                password = (
                    (options.get("stdin") or sys.stdin).readline().rstrip("\n")
                    if options["password_stdin"]
                    else getpass.getpass(f"Password of {by.username}: ")
                )
                approve_grant(grant, by=by, password=password)
            else:
                refuse_grant(grant, by=by, reason=options["reason"])
        except StaffError as error:
            raise CommandError(str(error)) from None
        grant.refresh_from_db()
        self.stdout.write(_line(grant))
