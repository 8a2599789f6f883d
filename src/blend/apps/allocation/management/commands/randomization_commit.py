"""`blend randomization-commit`: record the commitment before the first allocation and
print it for the trial master file."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from blend.apps.allocation.commitment import ensure_commitment
from blend.apps.allocation.errors import AllocationError
from blend.apps.allocation.models import RandomizationCommitment
from blend.apps.allocation.sequence import configured_seed, trial_code
from blend.randomization import load_spec


class Command(BaseCommand):
    help = (
        "Record the SHA-256 commitment to the secret seed and the configured design (once; "
        "later runs check it still holds) and print the digest and design JSON."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                ensure_commitment(configured_seed(), load_spec())
        except AllocationError as error:
            raise CommandError(str(error)) from None
        record = RandomizationCommitment.objects.get(trial_code=trial_code())
        self.stdout.write(f"trial:       {record.trial_code}")
        self.stdout.write(f"recorded at: {record.recorded_at.isoformat()}")
        self.stdout.write(f"digest:      {record.digest}")
        self.stdout.write(f"design:      {record.design_json}")
