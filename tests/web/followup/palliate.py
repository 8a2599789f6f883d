"""The test-only trial PALLIATE (tests/core/protocol/trials/PALLIATE), whose schedule has
one extra measurement for acceptors (day 3, window to day 7), and a builder that puts a
member in it with an arm and, for the intervention arm, an offer decision."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from blend.apps.allocation.models import Allocation
from blend.apps.offers.models import Offer, OfferState
from blend.protocol import clear_caches

PALLIATE = Path(__file__).parents[2] / "core" / "protocol" / "trials" / "PALLIATE"


@pytest.fixture
def palliate(tmp_path: Path, monkeypatch: Any) -> Iterator[str]:
    """PALLIATE registered beside the shipped trials, for the length of one test."""
    folder = tmp_path / "trials"
    shutil.copytree(PALLIATE, folder / "PALLIATE")
    monkeypatch.setenv("BLEND_TRIALS_DIRS", str(folder))
    clear_caches()
    yield "PALLIATE"
    clear_caches()


def allocated_in_palliate(member: Any, nurse: Any, arm: str, offer: str | None) -> None:
    """Allocate ``member`` to ``arm`` of PALLIATE and, unless ``offer`` is None, record the
    offer as decided that way (accepted, or refused with a reason)."""
    Allocation.objects.create(
        trial="PALLIATE",
        participant=member,
        arm=arm,
        sequence_number=member.pk,
        stratum="",
        stratum_index=member.pk,
        allocated_at=timezone.make_aware(datetime.combine(date(2025, 3, 20), time(9))),
        allocated_by=nurse,
    )
    if offer is not None:
        Offer.objects.create(
            participant=member,
            trial="PALLIATE",
            state=offer,
            offered_on=date(2025, 3, 21),
            offered_by=nurse,
            decided_on=date(2025, 3, 22),
            decided_by=nurse,
            trial_consent_version="PALLIATE consent v1" if offer == OfferState.ACCEPTED else "",
            reason="" if offer == OfferState.ACCEPTED else "prefers usual care",
        )
