"""The engagement monitor on the database: return per timepoint and site, lost to follow-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from blend.apps.followup.engagement import lost_to_follow_up, rates_by_quarter, rates_by_site
from blend.apps.followup.models import Assessment
from blend.apps.followup.services import record_vital_status, statuses
from blend.stats.engagement import Window, by_quarter, by_timepoint_and_site

pytestmark = pytest.mark.django_db


def _return(participant, timepoint: str) -> None:
    assessment = Assessment.objects.get(participant=participant, timepoint=timepoint)
    Assessment.objects.filter(pk=assessment.pk).update(
        completed_at=timezone.now(), completed_on=assessment.target_on
    )


@pytest.fixture
def cohort(make_participant, treat, personas):
    """Treated 400 days ago: every window up to 12 months has closed."""
    keen, silent, died = (treat(make_participant(), days_ago=400) for _ in range(3))
    for timepoint in ("baseline", "w4", "w12"):
        _return(keen, timepoint)
    today = timezone.localdate()
    record_vital_status(
        died, last_contact_on=today - timedelta(days=300), died_on=today - timedelta(days=300),
        user=personas["nurse_nina"],
    )  # fmt: skip
    return keen, silent, died


def _windows() -> list[Window]:
    """Every assessment with its status from the follow-up's own rule, in Python."""
    assessments = list(Assessment.objects.select_related("participant__site"))
    status_of = statuses(assessments)
    return [
        Window(a.timepoint, a.participant.site.code, a.closes_on, str(status_of[a.pk]))
        for a in assessments
    ]


def test_the_databases_counts_equal_the_follow_up_rule_applied_in_python(cohort) -> None:
    assert rates_by_site() == by_timepoint_and_site(_windows())
    assert rates_by_quarter() == by_quarter(_windows())


def test_return_rates_equal_a_count_of_the_assessments(cohort) -> None:
    keen, silent, died = cohort
    rates = rates_by_site()
    site = keen.site.code
    # w4: keen returned, silent missed; the one who died had the window closed before dying
    # (day 28 of 400), so it counts as missed too.
    assert (rates["w4", site].completed, rates["w4", site].closed) == (1, 3)


def test_lost_to_follow_up_lists_the_silent_not_the_dead(cohort) -> None:
    keen, silent, died = cohort
    count, rows = lost_to_follow_up()
    lost = {m.study_id: m for m in rows}
    assert count == len(rows) == 2
    assert silent.study_id in lost and died.study_id not in lost
    assert lost[silent.study_id].last_contact == silent.registered_on
    assert lost[silent.study_id].missed_since >= 3
    # keen last returned w12 (~day 84): also silent for more than half a year since
    assert (
        keen.study_id in lost
        and lost[keen.study_id].missed_since < lost[silent.study_id].missed_since
    )


def test_the_page_and_figure_for_every_role(cohort, client_for) -> None:
    keen, silent, _ = cohort
    for who in ("nurse_nina", "statistician_stan", "admin_ada"):
        page = client_for(who).get(reverse("followup:engagement"))
        assert page.status_code == 200
        assert silent.study_id in page.content.decode()
    figure = client_for("admin_ada").get(reverse("followup:engagement-figure"))
    assert figure["Content-Type"] == "image/png" and figure.content.startswith(b"\x89PNG")


def test_the_dashboards_open_window_counts_equal_the_full_completeness_count(
    make_participant, treat
) -> None:
    from blend.apps.followup.services import completeness, open_window_counts

    for days_ago in (0, 3, 10, 26, 30, 80, 90):
        treat(make_participant(), days_ago=days_ago)
    totals: dict[str, int] = {}
    for groups in completeness().values():
        for counts in groups.values():
            for status, n in counts.items():
                totals[status] = totals.get(status, 0) + n
    found = open_window_counts()
    assert found["due"] == totals.get("due", 0) and found["overdue"] == totals.get("overdue", 0)
    assert found["due"] + found["overdue"] > 0
