"""`make demo` loads PRESENT with both trials: VERTICAL completed, with every follow-up
window closed, and BLEND recruiting; members screened for both; overlap refusals shown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from blend.apps.allocation.models import Allocation
from blend.apps.allocation.services import overlap_refusals
from blend.apps.allocation.verification import verify
from blend.apps.demo.services import load_demo
from blend.apps.followup.models import Assessment
from blend.apps.screening.models import Screening
from blend.apps.treatment.models import TreatmentRecord

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


# The demo is laid out around "today"; a fixed today makes what it holds fixed too.
TODAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def demo(db: Any) -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        load_demo(participants=200, seed=20221015, force=True)
        yield


def test_the_demo_holds_a_completed_vertical_beside_a_recruiting_blend(demo: None) -> None:
    today = timezone.localdate()
    vertical = Allocation.objects.filter(trial="VERTICAL")
    assert vertical.count() >= 16 and vertical.filter(arm="intervention").exists()
    assert all(a.allocated_at.year <= 2019 for a in vertical)
    members = set(vertical.values_list("participant_id", flat=True))
    treated = TreatmentRecord.objects.filter(trial="VERTICAL")
    assert set(treated.values_list("participant_id", flat=True)) == members
    assert all(record.arm_given and record.procedures for record in treated)
    windows = Assessment.objects.filter(participant_id__in=members)
    assert windows.exists() and not windows.filter(closes_on__gte=today).exists()
    assert Allocation.objects.filter(trial="BLEND", allocated_at__year=today.year).exists()

    both = set(Screening.objects.filter(trial="BLEND").values_list("participant_id", flat=True))
    assert both & set(
        Screening.objects.filter(trial="VERTICAL").values_list("participant_id", flat=True)
    )
    assert verify(trial="VERTICAL").ok and verify(trial="BLEND").ok

    in_blend = Allocation.objects.filter(trial="BLEND").select_related("participant")
    refused = [a for a in in_blend if overlap_refusals(a.participant, "VERTICAL", today)]
    assert refused  # members in BLEND's primary-outcome window, kept out of VERTICAL


@pytest.mark.parametrize("trial", ["BLEND", "VERTICAL"])
def test_each_trials_dataset_from_the_demo_passes_the_contract(
    demo: None, trial: str, tmp_path: Any
) -> None:
    """What `blend analyze` and `blend dsmb-report` read: no questionnaire after a death,
    no date out of order (the demo once dated a late answer after the member died)."""
    from blend.apps.exports.services import export_analysis
    from blend.stats.dataset import load_dataset

    export_analysis(tmp_path, user=None, trial=trial)
    assert load_dataset(tmp_path).trial == trial


class _Late:
    """A random source that takes the demo's "answered late" path every time."""

    def random(self) -> float:
        return 0.0

    def randint(self, low: int, high: int) -> int:
        return high

    def choice(self, options: Any) -> Any:
        return options[0]


def test_the_demo_never_dates_an_answer_after_the_members_death(
    make_participant: Any, personas: Any
) -> None:
    from datetime import timedelta
    from types import SimpleNamespace

    from blend.apps.questionnaires.demo import _one
    from blend.apps.questionnaires.models import Response

    member = make_participant()
    a = Assessment.objects.create(
        participant=member,
        timepoint="w4",
        instruments=["qlq-c15-pal"],
        anchor_on=member.registered_on,
        target_on=member.registered_on + timedelta(days=28),
        opens_on=member.registered_on + timedelta(days=21),
        closes_on=member.registered_on + timedelta(days=35),
    )
    ctx = SimpleNamespace(
        today=a.closes_on + timedelta(days=60), users={"nurse": personas["nurse_nina"]}
    )
    died = a.closes_on + timedelta(days=2)  # after the window closed, before a late answer
    assert _one(_Late(), a, "missed", 1.0, None, ctx, died) == "missed"
    assert not Response.objects.filter(assessment=a).exists()
