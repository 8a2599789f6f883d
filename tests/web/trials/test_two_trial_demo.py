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
