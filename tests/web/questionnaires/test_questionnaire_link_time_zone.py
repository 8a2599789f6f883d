"""A link is valid through the last day of the window in Amsterdam time, whatever the
UTC offset (summer time included)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from blend.apps.followup.models import Assessment
from blend.apps.questionnaires.services import issue_link, link_expiry, resolve_token

pytestmark = pytest.mark.django_db
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_the_link_expires_at_local_midnight_after_the_window_closes(
    make_participant, treat
) -> None:  # type: ignore[no-untyped-def]
    w4 = Assessment.objects.get(participant=treat(make_participant(), days_ago=28), timepoint="w4")
    token = issue_link(w4).rstrip("/").rsplit("/", 1)[1]
    last_evening = datetime.combine(w4.closes_on, time(23, 59), tzinfo=AMSTERDAM)
    next_morning = datetime.combine(
        w4.closes_on + timedelta(days=1), time(0, 0, 1), tzinfo=AMSTERDAM
    )
    assert resolve_token(token, now=last_evening) == w4
    assert resolve_token(token, now=next_morning) is None
    opening = datetime.combine(w4.opens_on, time(0, 0, 1), tzinfo=AMSTERDAM)
    assert resolve_token(token, now=opening) == w4
    assert resolve_token(token, now=opening - timedelta(seconds=2)) is None


def test_expiry_is_local_midnight_in_summer_time() -> None:
    summer = Assessment(closes_on=date(2026, 7, 10))
    expiry = link_expiry(summer)
    assert expiry.astimezone(AMSTERDAM) == datetime(2026, 7, 11, 0, 0, tzinfo=AMSTERDAM)
    assert expiry.utcoffset() == timedelta(hours=2)
