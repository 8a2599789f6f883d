"""REST endpoints of follow-up: the schedule of assessments with questionnaire scores."""

from __future__ import annotations

from datetime import date
from typing import Any

from ninja import Router, Schema

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.api.core import need, responses
from blend.apps.followup.models import Assessment
from blend.apps.registry.api import participant_or_404

router = Router(tags=["trial"])


class AssessmentOut(Schema):
    timepoint: str
    target_on: date
    window: list[date]
    completed_on: date | None
    scores: dict[str, dict[str, Any]]


@router.get(
    "/participants/{study_id}/assessments",
    response=responses(list[AssessmentOut]),
    summary="Follow-up schedule with questionnaire scores",
)
def assessments(request: AuthenticatedHttpRequest, study_id: str) -> list[dict[str, Any]]:
    need(request, Cap.PARTICIPANT_VIEW)
    p = participant_or_404(study_id)
    rows = Assessment.objects.filter(participant=p).select_related("response").order_by("target_on")
    return [
        {
            "timepoint": a.timepoint,
            "target_on": a.target_on,
            "window": [a.opens_on, a.closes_on],
            "completed_on": a.completed_on,
            "scores": _scores(a),
        }
        for a in rows
    ]


def _scores(assessment: Assessment) -> dict[str, dict[str, Any]]:
    response = getattr(assessment, "response", None)
    if response is None or response.status != "submitted":
        return {}
    return {
        code: {
            k: v
            for k, v in (values or {}).items()
            if isinstance(v, int | float | str | bool) or v is None
        }
        for code, values in (response.scores or {}).items()
    }
