"""`blend db-grant-app-role ROLE`: the application's PostgreSQL role (blend.apps.audit.roles)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.audit.roles import RoleError, grant_app_role


class Command(BaseCommand):
    help = (
        "Give the application's PostgreSQL role exactly its privileges (run as the owner, "
        "after every migrate): read-write on live tables, SELECT and INSERT only on the audit "
        "tables, no TRUNCATE, no ALTER, no trigger control."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the role the application connects as, e.g. blend_app")
        parser.add_argument(
            "--create", action="store_true", help="create the role (LOGIN) if it does not exist"
        )
        parser.add_argument(
            "--password-file", help="with --create: the new role's password, read from this file"
        )
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        password = None
        if options["password_file"]:
            path = Path(options["password_file"])
            try:
                password = path.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise CommandError(f"--password-file: cannot read {path}: {error}") from None
        try:
            grants = grant_app_role(
                options["role"],
                create=options["create"],
                password=password,
                using=options["database"],
            )
        except RoleError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{'created' if grants.created else 'updated'} role {grants.role}: "
            f"{len(grants.live)} live tables read-write, {len(grants.append_only)} append-only "
            f"tables SELECT and INSERT only, {len(grants.read_only)} read-only; "
            "no TRUNCATE, ALTER or trigger control"
        )
