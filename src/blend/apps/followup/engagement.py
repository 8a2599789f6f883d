"""The cohort's attrition and engagement monitor (issue 16 item 5): questionnaire return
per timepoint and site and over time, and the members lost to follow-up.

Cohort-wide and arm-free: everyone with ``participant.view`` sees it. The counting is
done by the database, in a fixed number of queries whatever the cohort's size.

A closed window (it closed before today) is *completed* when the questionnaire came
back, *stopped* when the member died before it closed, and *missed* otherwise: the same
rule as ``domain.assessment_status`` (consent only matters for windows still open).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import (
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Greatest, TruncQuarter
from django.utils import timezone

from blend.apps.followup.models import Assessment
from blend.apps.registry.models import Participant
from blend.stats.engagement import Rate, quarter

LOST_AFTER_DAYS = 182  # no contact for half a year, with a questionnaire missed since
LOST_SHOWN = 200  # rows the page lists (the count covers all)


def _closed(today: date) -> QuerySet[Assessment]:
    """Closed windows that were expected: returned, or missed while alive."""
    stopped = Q(completed_at__isnull=True) & Q(
        participant__vital_status__died_on__lte=F("closes_on")
    )
    return Assessment.objects.filter(closes_on__lt=today).exclude(stopped)


COUNTS = {"closed": Count("id"), "completed": Count("id", filter=Q(completed_at__isnull=False))}


def rates_by_site(today: date | None = None) -> dict[tuple[str, str], Rate]:
    """Return rate per (timepoint, site code): one grouped query."""
    rows = (
        _closed(today or timezone.localdate())
        .annotate(key=F("participant__site__code"))
        .values("timepoint", "key")
        .order_by()
        .annotate(**COUNTS)
    )
    return {(r["timepoint"], r["key"]): Rate(r["completed"], r["closed"]) for r in rows}


def rates_by_quarter(today: date | None = None) -> dict[tuple[str, str], Rate]:
    """Return rate per (timepoint, quarter in which the window closed): one grouped query."""
    rows = (
        _closed(today or timezone.localdate())
        .annotate(q=TruncQuarter("closes_on"))
        .values("timepoint", "q")
        .order_by()
        .annotate(**COUNTS)
    )
    found: dict[tuple[str, str], Rate] = {}
    for row in rows:
        key = (row["timepoint"], quarter(row["q"]))
        found[key] = Rate(row["completed"], row["closed"])
    return found


@dataclass(frozen=True)
class Lost:
    study_id: str
    site: str
    last_contact: date
    missed_since: int


def _heard_from() -> Greatest:
    """The last day the member was heard from: a recorded contact, a returned
    questionnaire, or else their cohort entry (Coalesce: SQLite's MAX() is NULL if any is)."""
    entry = F("registered_on")
    contact = Coalesce(F("vital_status__last_contact_on"), entry, output_field=DateField())
    latest = (
        Assessment.objects.filter(participant=OuterRef("pk"), completed_on__isnull=False)
        .order_by("-completed_on")
        .values("completed_on")[:1]
    )
    returned = Coalesce(Subquery(latest), entry, output_field=DateField())
    return Greatest(contact, returned, entry, output_field=DateField())


def lost_to_follow_up(
    today: date | None = None, days: int = LOST_AFTER_DAYS
) -> tuple[int, list[Lost]]:
    """Alive members last heard from more than ``days`` ago who missed a questionnaire
    since: how many, and the ``LOST_SHOWN`` heard from longest ago. Two queries."""
    today = today or timezone.localdate()
    heard = (
        Participant.objects.filter(vital_status__died_on__isnull=True)
        .annotate(heard=_heard_from())
        .filter(heard__lte=today - timedelta(days=days))
    )
    missed_after = Assessment.objects.filter(
        participant=OuterRef("pk"),
        completed_at__isnull=True,
        closes_on__lt=today,
        closes_on__gt=OuterRef("heard"),
    )
    lost = heard.filter(Exists(missed_after))
    count = lost.count()
    missed_count = Subquery(
        missed_after.order_by().values("participant").annotate(n=Count("id")).values("n")[:1]
    )
    rows = (
        lost.annotate(missed=missed_count, site_code=F("site__code"))
        .order_by("heard", "study_id")
        .values_list("study_id", "site_code", "heard", "missed")[:LOST_SHOWN]
    )
    return count, [Lost(*row) for row in rows]


__all__ = ["LOST_AFTER_DAYS", "Lost", "lost_to_follow_up", "rates_by_quarter", "rates_by_site"]
