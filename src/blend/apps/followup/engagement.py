"""The cohort's attrition and engagement monitor (issue 16 item 5): questionnaire return
per timepoint and site and over time, and the members lost to follow-up.

Cohort-wide and arm-free: everyone with ``participant.view`` sees it. A fixed number of
queries at any cohort size (the assessments, their participants' sites, deaths and
questionnaire consent, and last contacts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max
from django.utils import timezone

from blend.apps.followup.domain import AssessmentStatus
from blend.apps.followup.models import Assessment, VitalStatus
from blend.apps.followup.services import statuses
from blend.stats.engagement import Window

LOST_AFTER_DAYS = 182  # no contact for half a year, with a questionnaire missed since


def windows(today: date | None = None) -> list[Window]:
    today = today or timezone.localdate()
    assessments = list(
        Assessment.objects.select_related("participant__site").only(
            "id",
            "participant_id",
            "participant__site__code",
            "timepoint",
            "opens_on",
            "target_on",
            "closes_on",
            "completed_at",
        )
    )
    status_of = statuses(assessments, today)
    return [
        Window(a.timepoint, a.participant.site.code, a.closes_on, str(status_of[a.pk]))
        for a in assessments
    ]


@dataclass(frozen=True)
class Lost:
    study_id: str
    site: str
    last_contact: date
    missed_since: int


def lost_to_follow_up(today: date | None = None, days: int = LOST_AFTER_DAYS) -> list[Lost]:
    """Alive members last heard from more than ``days`` ago (their latest returned
    questionnaire or recorded contact) who have missed a questionnaire since."""
    today = today or timezone.localdate()
    cutoff = today - timedelta(days=days)
    assessments = list(
        Assessment.objects.select_related("participant__site").only(
            "id",
            "participant_id",
            "participant__study_id",
            "participant__registered_on",
            "participant__site__code",
            "timepoint",
            "opens_on",
            "target_on",
            "closes_on",
            "completed_at",
            "completed_on",
        )
    )
    status_of = statuses(assessments, today)
    contacts = dict(
        VitalStatus.objects.filter(died_on__isnull=True).values_list(
            "participant_id", "last_contact_on"
        )
    )
    dead = set(
        VitalStatus.objects.filter(died_on__isnull=False).values_list("participant_id", flat=True)
    )
    returned = dict(
        Assessment.objects.filter(completed_on__isnull=False)
        .values("participant_id")
        .annotate(last=Max("completed_on"))
        .values_list("participant_id", "last")
    )
    by_member: dict[int, list[Assessment]] = {}
    for a in assessments:
        by_member.setdefault(a.participant_id, []).append(a)
    lost = []
    for pid, mine in by_member.items():
        if pid in dead:
            continue
        member = mine[0].participant
        # Heard from last: a recorded contact or a returned questionnaire; else cohort entry.
        known = [d for d in (contacts.get(pid), returned.get(pid)) if d is not None]
        last = max(known) if known else member.registered_on
        if last > cutoff:
            continue
        missed = sum(
            1 for a in mine if status_of[a.pk] == AssessmentStatus.MISSED and a.closes_on > last
        )
        if missed:
            lost.append(Lost(member.study_id, member.site.code, last, missed))
    return sorted(lost, key=lambda x: (x.last_contact, x.study_id))
