"""`blend randomization-commit`: record the commitment before the first allocation and
print it for the trial master file."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from blend.apps.allocation.commitment import ensure_commitment, seal_legacy_chain
from blend.apps.allocation.errors import AllocationError
from blend.apps.allocation.models import RandomizationCommitment
from blend.apps.allocation.sequence import configured_chain_key, configured_seed
from blend.apps.trials.lookup import UnknownTrial, get_trial


class Command(BaseCommand):
    help = (
        "Record the SHA-256 commitment to the secret seed and the configured design (once; "
        "later runs check it still holds) and print the digest and design JSON; check the "
        "chain key, and seal with it a chain written before chains were keyed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--trial", help="the trial's code (default: the default trial)")
        parser.add_argument(
            "--seal-legacy",
            action="store_true",
            help="seal with the chain key a chain of records written before chains were "
            "keyed (once, after the upgrade; refused when the anchor file shows keyed ones)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            trial = get_trial(options["trial"])
            key = configured_chain_key(trial.code)
            with transaction.atomic():
                ensure_commitment(configured_seed(trial.code), trial.design, trial=trial.code)
                sealed = seal_legacy_chain(trial.code, key) if options["seal_legacy"] else ""
        except (AllocationError, UnknownTrial) as error:
            raise CommandError(str(error)) from None
        record = RandomizationCommitment.objects.get(trial_code=trial.code)
        self.stdout.write(f"trial:       {record.trial_code}")
        self.stdout.write(f"recorded at: {record.recorded_at.isoformat()}")
        self.stdout.write(f"digest:      {record.digest}")
        self.stdout.write(f"design:      {record.design_json}")
        if sealed in {"sealed", "already sealed"}:
            self.stdout.write(f"chain:       the unkeyed records are {sealed} with the chain key")
