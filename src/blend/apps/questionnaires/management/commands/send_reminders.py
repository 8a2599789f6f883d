"""`blend send-reminders`: queue due questionnaire invitations and reminders, then
deliver the outbox. Idempotent: run it as often as you like (cron, e.g. hourly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from blend.apps.outbox.services import deliver_due
from blend.apps.questionnaires.reminders import plan_messages


class Command(BaseCommand):
    help = "Queue due questionnaire invitations/reminders and deliver the outbox (safe to repeat)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="plan only: queue nothing, send nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            from django.db import transaction

            with transaction.atomic():
                plan = plan_messages()
                transaction.set_rollback(True)
            self.stdout.write(
                f"Would queue {plan.queued} message(s); {plan.already} already sent or queued."
            )
            return
        plan = plan_messages()
        delivery = deliver_due(timezone.now())
        self.stdout.write(
            f"Queued {plan.queued} new message(s) ({plan.already} already queued or sent, "
            f"{plan.no_address} without an address, {plan.not_allowed} not allowed: died or no consent).\n"
            f"Delivered {delivery.sent}, failed {delivery.failed}, cancelled {delivery.cancelled}."
        )
