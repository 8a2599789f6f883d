"""`blend prescreen-refresh [--trial CODE]`: assess every member with recorded cohort
facts again and replace the stored pre-screening verdicts of one trial (or of all).

The worklist keeps its verdicts current by itself (``prescreening.services.sync_verdicts``);
run this after a bulk load that wrote cohort facts, registrations or consent records
without the services (and so without history rows), or to do a criteria change's
whole-trial recomputation at a quiet moment instead of on the first worklist request.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from blend.apps.audit.services import record_event
from blend.apps.prescreening.services import refresh_trials
from blend.apps.trials.lookup import trials_by_code

BAR = 30


class Command(BaseCommand):
    help = "Recompute the stored pre-screening verdicts of one trial (--trial CODE) or of all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--trial", help="the trial's code (default: every trial)")

    def handle(self, *args: Any, **options: Any) -> None:
        known = sorted(trials_by_code())
        trials = known
        if options.get("trial"):
            if options["trial"] not in known:
                raise CommandError(
                    f"--trial: expected one of {', '.join(known)}, got {options['trial']!r}"
                )
            trials = [options["trial"]]
        label = ", ".join(trials)
        stored = refresh_trials(trials, progress=lambda done, total: self._bar(label, done, total))
        self.stdout.write(f"\n{label}: {stored} verdict(s) stored.")
        record_event(
            "prescreen.refresh", actor=None, details={"trials": trials, "verdicts": stored}
        )

    def _bar(self, trial: str, done: int, total: int) -> None:
        filled = BAR * done // total if total else BAR
        self.stdout.write(
            f"\r{trial} [{'#' * filled}{'.' * (BAR - filled)}] {done}/{total}", ending=""
        )
        self.stdout.flush()
