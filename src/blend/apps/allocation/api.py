"""REST endpoints of randomization. Reading the arm needs ``allocation.view``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Router, Schema

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.allocation.models import Allocation
from blend.apps.allocation.services import AllocationError
from blend.apps.allocation.services import randomize as allocate
from blend.apps.api.core import add_error, need, responses
from blend.apps.registry.api import participant_or_404
from blend.apps.registry.models import Participant

router = Router(tags=["trial"])
add_error(AllocationError, 409)  # e.g. already randomized, no consent: a conflict with the record


class RandomizationOut(Schema):
    study_id: str
    randomized: bool
    arm: str | None
    randomized_at: datetime | None


def randomization_out(p: Participant) -> dict[str, Any]:
    allocation = Allocation.objects.filter(participant=p).first()
    return {
        "study_id": p.study_id,
        "randomized": allocation is not None,
        "arm": allocation.arm if allocation else None,
        "randomized_at": allocation.allocated_at if allocation else None,
    }


@router.get(
    "/participants/{study_id}/randomization",
    response=responses(RandomizationOut),
    summary="Allocated arm",
)
def randomization_of(request: AuthenticatedHttpRequest, study_id: str) -> dict[str, Any]:
    need(request, Cap.PARTICIPANT_VIEW, Cap.ALLOCATION_VIEW)
    return randomization_out(participant_or_404(study_id))


@router.post(
    "/participants/{study_id}/randomization",
    response=responses(RandomizationOut),
    summary="Randomize",
)
def randomize(request: AuthenticatedHttpRequest, study_id: str) -> dict[str, Any]:
    need(request, Cap.RANDOMIZE)
    p = participant_or_404(study_id)
    allocate(p, user=request.user)
    return randomization_out(p)
