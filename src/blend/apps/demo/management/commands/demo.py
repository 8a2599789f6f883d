"""`blend demo`: load the synthetic demo cohort (idempotent) and print the logins."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from blend.apps.demo.services import DEMO_PASSWORD, demo_users, load_demo


class Command(BaseCommand):
    help = "Load the synthetic demo cohort (every stage of the trial) and one user per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--participants", type=int, default=320, help="cohort size (default 320)"
        )
        parser.add_argument(
            "--seed", type=int, default=20221015, help="random seed (default 20221015)"
        )
        parser.add_argument(
            "--force", action="store_true", help="load again even if demo data exist"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        created = load_demo(
            participants=options["participants"],
            seed=options["seed"],
            force=options["force"],
            progress=self.stdout,
        )
        self.stdout.write(
            "Demo data loaded." if created else "Demo data already present: nothing changed."
        )
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        for username, role_label in demo_users():
            self.stdout.write(f"  {username:<14} {role_label}")
        self.stdout.write(f"\nOpen {settings.PUBLIC_BASE_URL} and log in.")
