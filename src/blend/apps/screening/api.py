"""REST endpoints of eligibility screening."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Router, Schema
from ninja.errors import HttpError

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.api.core import add_error, need, responses
from blend.apps.api.errors import FORBID_EXTRA
from blend.apps.api.permissions import writes
from blend.apps.registry.api import participant_or_404
from blend.apps.registry.models import Participant
from blend.apps.screening.services import latest_screening
from blend.apps.screening.services import save_screening as save
from blend.apps.trials.lookup import UnknownTrial, trial_code_or_default

router = Router(tags=["trial"])
add_error(UnknownTrial, 422)  # ?trial= names no trial of the cohort


class ScreeningOut(Schema):
    study_id: str
    trial: str
    screened_on: date
    status: str
    reasons: dict[str, str]
    criteria_version: str
    confirmed: bool
    confirmed_at: datetime | None


class ScreeningIn(Schema):
    model_config = FORBID_EXTRA  # an unknown field (a "bsn") is refused, not dropped

    screened_on: date
    facts: dict[str, Any]
    reason: str = ""


def screening_out(p: Participant, trial: str) -> dict[str, Any]:
    s = latest_screening(p, trial)
    if s is None:
        raise HttpError(404, f"screening: participant {p.study_id} is not screened for {trial}")
    return {
        "study_id": p.study_id,
        "trial": trial,
        "screened_on": s.screened_on,
        "status": s.status,
        "reasons": {k: str(v) for k, v in (s.reasons or {}).items()},
        "criteria_version": s.criteria_version,
        "confirmed": s.confirmed_at is not None,
        "confirmed_at": s.confirmed_at,
    }


@router.get(
    "/participants/{study_id}/screening",
    response=responses(ScreeningOut),
    summary="Eligibility screening",
)
def screening_of(
    request: AuthenticatedHttpRequest, study_id: str, trial: str | None = None
) -> dict[str, Any]:
    need(request, Cap.PARTICIPANT_VIEW)
    return screening_out(participant_or_404(study_id), trial_code_or_default(trial))


@router.post(
    "/participants/{study_id}/screening",
    response=responses(ScreeningOut),
    summary="Save screening facts",
    auth=writes(Cap.SCREENING_WRITE),
)
def save_screening(
    request: AuthenticatedHttpRequest, study_id: str, data: ScreeningIn, trial: str | None = None
) -> dict[str, Any]:
    need(request, Cap.SCREENING_WRITE)
    p = participant_or_404(study_id)
    code = trial_code_or_default(trial)
    save(p, data.facts, on=data.screened_on, user=request.user, reason=data.reason, trial=code)
    return screening_out(p, code)
