"""`blend consent-version add VERSION --valid-from DATE [--reask d,e] --user NAME` and
`blend consent-version list`."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.consent.models import ConsentFormVersion
from blend.apps.consent.over_time import approve_form_version
from blend.apps.consent.services import ConsentError


class Command(BaseCommand):
    help = "Register an approved PRESENT consent-form version, or list the versions."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="register an approved version")
        add.add_argument("version", help="the version as printed on the form, e.g. 'PRESENT v4.0'")
        add.add_argument(
            "--valid-from", required=True, help="first day it may be used (YYYY-MM-DD)"
        )
        add.add_argument(
            "--reask", default="", help="items to ask again under it, comma-separated (e.g. d,e)"
        )
        add.add_argument("--user", required=True, help="who registers it (needs consent.write)")
        sub.add_parser("list", help="every version and its period")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for v in ConsentFormVersion.objects.order_by("valid_from"):
                until = v.valid_until or "open"
                reask = ",".join(v.reask_items) or "-"
                self.stdout.write(f"{v.version:<24} {v.valid_from} to {until}  re-ask: {reask}")
            return
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"--user: expected an existing username, got {options['user']!r}")
        if not user.can(Cap.CONSENT_WRITE):
            raise CommandError(
                f"--user: {user.get_username()} may not record consent (consent.write)"
            )
        try:
            valid_from = date.fromisoformat(options["valid_from"])
        except ValueError:
            raise CommandError(
                f"--valid-from: expected a date as YYYY-MM-DD, got {options['valid_from']!r}"
            ) from None
        items = [item.strip() for item in options["reask"].split(",") if item.strip()]
        try:
            version = approve_form_version(
                options["version"], valid_from=valid_from, reask_items=items, user=user
            )
        except ConsentError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Registered {version.version} from {version.valid_from}; "
            f"items to ask again: {', '.join(version.reask_items) or 'none'}."
        )
