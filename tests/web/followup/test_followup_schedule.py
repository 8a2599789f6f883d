"""The schedule per participant: generated from the start of treatment in both arms,
re-planned when the treatment date moves, statuses at the window edges."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from blend.apps.followup.domain import AssessmentStatus, Slot, assessment_status
from blend.apps.followup.models import Assessment
from blend.apps.followup.services import record_vital_status, statuses
from blend.apps.treatment.services import record_treatment, treatment_start
from tests.web.followup.factories import aware

pytestmark = pytest.mark.django_db


def _plan(participant):  # type: ignore[no-untyped-def]
    return {a.timepoint: a for a in Assessment.objects.filter(participant=participant)}


def test_same_schedule_for_both_arms_from_the_first_treatment_day(
    make_participant, treat, allocate
) -> None:  # type: ignore[no-untyped-def]
    intervention, control = make_participant(), make_participant()
    allocate(intervention, "intervention")
    allocate(control, "control")
    treat(intervention, days_ago=10, pathway="same_day")
    treat(control, days_ago=10, pathway="standard")
    a, b = _plan(intervention), _plan(control)
    start = timezone.localdate() - timedelta(days=10)
    assert treatment_start(intervention) == treatment_start(control) == start
    assert list(a) == list(b) == ["baseline", "w1", "w2", "w4", "w6", "w8", "w12", "m6", "m12"]
    for code in a:
        assert (a[code].opens_on, a[code].target_on, a[code].closes_on, a[code].instruments) == (
            b[code].opens_on,
            b[code].target_on,
            b[code].closes_on,
            b[code].instruments,
        )
    assert a["w4"].target_on == start + timedelta(days=28)
    assert (a["w4"].opens_on, a["w4"].closes_on) == (
        start + timedelta(days=25),
        start + timedelta(days=31),
    )


def test_control_arm_anchor_is_surgery_when_it_comes_first(make_participant, personas) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    surgery = date(2025, 4, 1)
    record_treatment(
        p,
        {
            "pathway": "standard",
            "planned_on": surgery,
            "surgery_on": surgery,
            "radiotherapy_on": surgery + timedelta(days=9),
            "radiotherapy_type": "1x8 Gy",
        },
        user=personas["nurse_nina"],
    )
    assert _plan(p)["w4"].target_on == date(2025, 4, 29)


def test_planned_date_anchors_until_treatment_happens_then_the_schedule_moves(
    make_participant, personas
) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    nurse = personas["nurse_nina"]
    record_treatment(
        p,
        {
            "pathway": "same_day",
            "planned_on": date(2025, 5, 5),
            "sbrt_dose_gy": 18,
            "sbrt_fractions": 1,
        },
        user=nurse,
    )
    assert treatment_start(p) is None
    assert _plan(p)["baseline"].target_on == date(2025, 5, 5)
    record_treatment(
        p,
        {
            "sbrt_started_at": aware(date(2025, 5, 7), 8),
            "surgery_started_at": aware(date(2025, 5, 7), 13),
        },
        user=nurse,
        reason="treatment postponed two days",
    )
    assert treatment_start(p) == date(2025, 5, 7)
    assert _plan(p)["w4"].target_on == date(2025, 6, 4)


def test_completed_assessments_keep_their_dates_when_the_anchor_moves(
    make_participant, personas
) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    nurse = personas["nurse_nina"]
    record_treatment(p, {"pathway": "standard", "planned_on": date(2025, 5, 5)}, user=nurse)
    baseline = _plan(p)["baseline"]
    baseline.completed_at, baseline.completed_on = timezone.now(), date(2025, 5, 1)
    baseline.save()
    record_treatment(
        p, {"surgery_on": date(2025, 5, 12)}, user=nurse, reason="surgery later than planned"
    )
    plan = _plan(p)
    assert plan["baseline"].target_on == date(2025, 5, 5)
    assert plan["w1"].target_on == date(2025, 5, 19)


@pytest.mark.parametrize(
    "today_offset, expected",
    [
        (-4, AssessmentStatus.UPCOMING),
        (-3, AssessmentStatus.DUE),
        (0, AssessmentStatus.DUE),
        (1, AssessmentStatus.OVERDUE),
        (3, AssessmentStatus.OVERDUE),
        (4, AssessmentStatus.MISSED),
    ],
)
def test_window_edges_are_inclusive(today_offset: int, expected: AssessmentStatus) -> None:
    target = date(2026, 3, 30)
    slot = Slot(target - timedelta(days=3), target, target + timedelta(days=3), completed=False)
    assert assessment_status(slot, target + timedelta(days=today_offset)) == expected


def test_death_and_withdrawal_stop_open_timepoints_but_keep_history(
    make_participant, treat, personas
) -> None:  # type: ignore[no-untyped-def]
    p = treat(make_participant(), days_ago=28)
    today = timezone.localdate()
    record_vital_status(
        p,
        last_contact_on=today,
        died_on=today - timedelta(days=1),
        cause_of_death="progression",
        user=personas["nurse_nina"],
    )
    plan = _plan(p)
    status = statuses(list(plan.values()))
    assert status[plan["w4"].pk] == AssessmentStatus.STOPPED
    assert status[plan["m12"].pk] == AssessmentStatus.STOPPED
    assert status[plan["w2"].pk] == AssessmentStatus.MISSED
