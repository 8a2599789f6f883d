"""Fixtures shared by the outbox, treatment, follow-up and questionnaire tests: a
participant whose treatment started N days ago (so the schedule is relative to today),
an allocation, and the SMS outbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from blend.apps.allocation.models import Allocation
from blend.apps.outbox.backends import LocmemSMSBackend
from blend.apps.registry.models import Participant
from blend.apps.treatment.services import record_treatment


def aware(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def treat(personas: dict[str, Any]) -> Callable[..., Participant]:
    """Record a treatment that started ``days_ago`` days before today (standard care by default)."""

    def make(
        participant: Participant, days_ago: int = 28, pathway: str = "standard"
    ) -> Participant:
        start = timezone.localdate() - timedelta(days=days_ago)
        data: dict[str, Any] = {"pathway": pathway, "planned_on": start}
        if pathway == "same_day":
            data.update(
                sbrt_dose_gy=18,
                sbrt_fractions=1,
                surgical_site_dose_gy=4,
                sbrt_started_at=aware(start, 8),
                surgery_started_at=aware(start, 14),
            )
        else:
            data.update(
                surgery_on=start,
                radiotherapy_on=start + timedelta(days=10),
                radiotherapy_type="5x4 Gy",
            )
        record_treatment(participant, data, user=personas["nurse_nina"])
        return participant

    return make


@pytest.fixture
def allocate(personas: dict[str, Any]) -> Callable[[Participant, str], Allocation]:
    counter = {"n": 0}

    def make(participant: Participant, arm: str) -> Allocation:
        counter["n"] += 1
        return Allocation.objects.create(
            trial="BLEND",
            participant=participant,
            arm=arm,
            sequence_number=counter["n"],
            stratum="",
            stratum_index=counter["n"],
            allocated_at=timezone.now(),
            allocated_by=personas["investigator_ivo"],
        )

    return make


@pytest.fixture
def sms_outbox(settings: Any) -> Iterator[list[Any]]:
    settings.SMS_BACKEND = "blend.apps.outbox.backends.LocmemSMSBackend"
    LocmemSMSBackend.sent = []
    yield LocmemSMSBackend.sent
    LocmemSMSBackend.sent = []
