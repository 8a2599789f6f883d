"""`blend sae-reminders`: remind the PI and trial office of every overdue SAE report (once a day each)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from blend.apps.safety.services import remind_overdue


class Command(BaseCommand):
    help = "Queue a staff reminder for every SAE whose report is overdue (at most one per SAE per day)."

    def handle(self, *args: Any, **options: Any) -> None:
        messages = remind_overdue()
        self.stdout.write(f"{len(messages)} reminder(s) queued or already queued today.")
