"""`blend randomization-commit`: record the commitment before the first allocation and
print it for the trial master file."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from blend.apps.allocation.commitment import ensure_commitment
from blend.apps.allocation.errors import AllocationError
from blend.apps.allocation.models import RandomizationCommitment
from blend.apps.allocation.sequence import configured_seed
from blend.apps.trials.lookup import UnknownTrial, get_trial


class Command(BaseCommand):
    help = (
        "Record the SHA-256 commitment to the secret seed and the configured design (once; "
        "later runs check it still holds) and print the digest and design JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--trial", help="the trial's code (default: the default trial)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            trial = get_trial(options["trial"])
            with transaction.atomic():
                ensure_commitment(configured_seed(trial.code), trial.design, trial=trial.code)
        except (AllocationError, UnknownTrial) as error:
            raise CommandError(str(error)) from None
        record = RandomizationCommitment.objects.get(trial_code=trial.code)
        self.stdout.write(f"trial:       {record.trial_code}")
        self.stdout.write(f"recorded at: {record.recorded_at.isoformat()}")
        self.stdout.write(f"digest:      {record.digest}")
        self.stdout.write(f"design:      {record.design_json}")
