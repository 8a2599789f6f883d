"""`blend design reestimate --trial CODE --user NAME [--record --reason TEXT]`.

The counts come from the trial's offer records; `blend design reestimate` with
--accepted/--refused is the pure form (blend.design.cli) for counts given by hand.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.accounts.models import User
from blend.apps.offers.acceptance import offer_counts, record_reestimation
from blend.apps.trials.lookup import UnknownTrial, get_trial
from blend.design.cli import reestimate_options, run_reestimate, trial_reestimation
from blend.design.samplesize import DesignInputError


class Command(BaseCommand):
    help = "Re-estimate a trial's sample size from the refusal rate of its offers so far."

    def add_arguments(self, parser: CommandParser) -> None:
        reestimate_options(parser)
        parser.add_argument(
            "--user", required=True, help="who asks (must hold allocation.view in the trial)"
        )
        parser.add_argument(
            "--record",
            action="store_true",
            help="record that this re-estimation is used for a decision (who, when, why)",
        )
        parser.add_argument("--reason", default="", help="with --record: why, e.g. DSMB minute")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"--user: expected an existing username, got {options['user']!r}")
        try:
            trial = get_trial(options["trial"])
            offers = offer_counts(trial.code, user=user)
            self.stdout.write(
                run_reestimate(trial, offers, options["planned"], options["level"], options["json"])
            )
            if options["record"]:
                result = trial_reestimation(trial, offers, options["planned"], options["level"])
                record_reestimation(trial.code, result, user=user, reason=options["reason"])
                self.stdout.write(
                    f"Recorded for {user.get_username()}: N = {result.decision_total}."
                )
        except (UnknownTrial, PermissionDenied, DesignInputError, ValueError) as error:
            raise CommandError(str(error)) from error
