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
from blend.apps.api.permissions import writes
from blend.apps.registry.api import participant_or_404
from blend.apps.registry.models import Participant
from blend.apps.trials.lookup import UnknownTrial, trial_code_or_default

router = Router(tags=["trial"])
add_error(AllocationError, 409)  # e.g. already randomized, no consent: a conflict with the record
add_error(UnknownTrial, 422)  # ?trial= names no trial of the cohort


class RandomizationOut(Schema):
    study_id: str
    trial: str
    randomized: bool
    arm: str | None
    randomized_at: datetime | None


def randomization_out(p: Participant, trial: str) -> dict[str, Any]:
    allocation = Allocation.objects.filter(participant=p, trial=trial).first()
    return {
        "study_id": p.study_id,
        "trial": trial,
        "randomized": allocation is not None,
        "arm": allocation.arm if allocation else None,
        "randomized_at": allocation.allocated_at if allocation else None,
    }


@router.get(
    "/participants/{study_id}/randomization",
    response=responses(RandomizationOut),
    summary="Allocated arm",
)
def randomization_of(
    request: AuthenticatedHttpRequest, study_id: str, trial: str | None = None
) -> dict[str, Any]:
    need(request, Cap.PARTICIPANT_VIEW, Cap.ALLOCATION_VIEW)
    return randomization_out(participant_or_404(study_id), trial_code_or_default(trial))


@router.post(
    "/participants/{study_id}/randomization",
    response=responses(RandomizationOut),
    summary="Randomize",
    auth=writes(Cap.RANDOMIZE),
)
def randomize(
    request: AuthenticatedHttpRequest, study_id: str, trial: str | None = None
) -> dict[str, Any]:
    need(request, Cap.RANDOMIZE)
    p = participant_or_404(study_id)
    code = trial_code_or_default(trial)
    allocate(p, user=request.user, trial=code)
    return randomization_out(p, code)
