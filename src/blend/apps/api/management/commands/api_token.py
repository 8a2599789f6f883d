"""`blend api-token USERNAME [--revoke]`: issue (or revoke) a user's API token."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.accounts.models import User
from blend.apps.api.tokens import issue_token, revoke_tokens


class Command(BaseCommand):
    help = (
        "Issue a new API token for a user (printed once; the old one stops working), or revoke it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="revoke the user's token instead")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"username: expected an existing user, got {options['username']!r}")
        if options["revoke"]:
            self.stdout.write(f"Revoked {revoke_tokens(user)} token(s) of {user.username}.")
            return
        self.stdout.write(issue_token(user))
        # On stderr, so `TOKEN=$(blend api-token NAME)` still captures the token alone.
        self.stderr.write(
            f"The token of {user.username} works until {settings.API_TOKEN_DAYS} days from now, "
            f"and stops after {settings.API_TOKEN_IDLE_DAYS} days unused."
        )
