"""`blend replan-schedules`: move every open timepoint to the current schedule.toml.

Run it after the trial team changes the schedule (e.g. once the windows are confirmed
against the approved protocol). Completed timepoints keep their dates; every moved
timepoint gets a history row with the reason. Safe to repeat. It lives in the treatment
app because the schedule counts from the treatment (``schedule_anchor``).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from blend.apps.followup.models import Assessment
from blend.apps.followup.services import plan_schedule
from blend.apps.treatment.models import TreatmentRecord
from blend.apps.treatment.services import schedule_anchor


class Command(BaseCommand):
    help = "Re-plan every participant's open timepoints from the current schedule (after a schedule change)."

    def handle(self, *args: Any, **options: Any) -> None:
        before = {
            row[0]: row[1:] for row in Assessment.objects.values_list("id", "opens_on", "closes_on")
        }
        participants = 0
        for record in TreatmentRecord.objects.select_related("participant").order_by(
            "participant_id"
        ):
            plan_schedule(record.participant, anchor=schedule_anchor(record), user=None)
            participants += 1
        after = {
            row[0]: row[1:] for row in Assessment.objects.values_list("id", "opens_on", "closes_on")
        }
        moved = sum(1 for pk, dates in after.items() if pk in before and before[pk] != dates)
        added = len(set(after) - set(before))
        self.stdout.write(
            f"Re-planned {participants} participant(s): {moved} timepoint(s) moved, {added} added."
        )
