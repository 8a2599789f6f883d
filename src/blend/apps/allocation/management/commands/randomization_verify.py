"""`blend randomization verify` (also `blend randomization-verify`): check the allocation log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.allocation.verification import verify
from blend.apps.trials.lookup import UnknownTrial, trial_code_or_default
from blend.randomization import SeedError


class Command(BaseCommand):
    help = (
        "Check the hash chain of the allocation log and every allocation against it; with "
        "--seed (the revealed seed), also the commitment and every arm."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", help="the revealed seed, 64 hex characters: regenerate every arm"
        )
        parser.add_argument("--seed-file", help="read the revealed seed from this file")
        parser.add_argument(
            "--trial", help="the trial whose log to check (default: the default trial)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seed = options["seed"]
        if options["seed_file"]:
            seed = Path(options["seed_file"]).read_text(encoding="utf-8").strip()
        try:
            trial = trial_code_or_default(options["trial"])
            report = verify(seed, trial=trial)
        except (SeedError, UnknownTrial) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{trial}: {report.allocations} allocations; chain checked"
            + ("; every arm regenerated from the seed" if report.regenerated else "")
        )
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(f"  FAIL {problem}")
            raise CommandError(
                f"allocation log verification failed: {len(report.problems)} problem(s)"
            )
        self.stdout.write(f"OK: the allocation log of {trial} verifies")
