"""REST endpoints of safety: adverse events (an SAE notifies the PI and the trial office)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.allocation import blinding
from blend.apps.api.core import Mapped, Pages, need, responses
from blend.apps.api.errors import ERRORS, FORBID_EXTRA
from blend.apps.api.permissions import writes
from blend.apps.registry.api import participant_or_404
from blend.apps.safety import services as safety
from blend.apps.safety.domain import strongest_relatedness
from blend.apps.safety.models import AdverseEvent

router = Router(tags=["trial"])

Causality = Literal["not_related", "unlikely", "possible", "probable", "definite"]


class AdverseEventOut(Schema):
    id: int
    study_id: str
    follow_up_of: int | None
    term: str
    term_label: str
    grade: int
    onset_date: date
    resolved_on: date | None
    serious: bool
    seriousness: list[str]
    # Null for a reader without allocation.view in the event's trial: SBRT is given in
    # one arm only, so they read related_treatment, the strongest of the two.
    related_sbrt: str | None
    related_surgery: str | None
    related_treatment: str
    related: bool
    action_taken: str
    outcome: str
    aware_at: datetime
    report_due_at: datetime | None
    reported_at: datetime | None
    overdue: bool


class AdverseEventIn(Schema):
    model_config = FORBID_EXTRA  # an unknown field (a "bsn") is refused, not dropped

    # A CTCAE v5.0 term: its MedDRA code, one of BLEND's keys or "other" (800-odd in all,
    # checked by the safety service, whose refusal names the field).
    term: str = Field(max_length=40, examples=["wound_infection", "10002272"])
    other_term: str = Field("", max_length=120)
    grade: int = Field(ge=1, le=5)
    onset_date: date
    resolved_on: date | None = None
    serious: bool = False
    seriousness: list[
        Literal[
            "death",
            "life_threatening",
            "hospitalisation",
            "disability",
            "congenital_anomaly",
            "medically_important",
        ]
    ] = []
    related_sbrt: Causality
    related_surgery: Causality
    action_taken: Literal[
        "none", "medication", "local_care", "reoperation", "rt_interrupted", "hospitalised", "other"
    ]
    outcome: Literal["recovered", "recovering", "not_recovered", "sequelae", "fatal", "unknown"]
    description: str = Field("", max_length=4000)
    aware_at: datetime | None = None
    follow_up_of: int | None = None


def ae_out(ae: AdverseEvent, user: Any = None) -> dict[str, Any]:
    """One event for ``user``; without the arm (``allocation.blinding``), its
    relatedness to trial treatment only. No user: every field (the server itself)."""
    hours = safety.report_hours()
    fields = [
        "id",
        "term",
        "grade",
        "onset_date",
        "resolved_on",
        "serious",
        "seriousness",
        "related_sbrt",
        "related_surgery",
        "action_taken",
        "outcome",
        "aware_at",
        "reported_at",
    ]
    sees_arm = user is None or blinding.shows_arm_specific_fields(user, ae)
    return {
        **{f: getattr(ae, f) for f in fields},
        **({} if sees_arm else {f: None for f in blinding.arm_specific_fields(AdverseEvent)}),
        "related_treatment": strongest_relatedness(ae.related_sbrt, ae.related_surgery),
        "study_id": ae.participant.study_id,
        "follow_up_of": ae.follow_up_of_id,
        "term_label": ae.term_label,
        "related": ae.related,
        "report_due_at": ae.report_due_at(hours),
        "overdue": ae.is_overdue(hours),
    }


@router.get("/adverse-events", response=responses(list[AdverseEventOut]), summary="Adverse events")
@paginate(Pages)
def adverse_events(
    request: AuthenticatedHttpRequest, study_id: str = "", serious: bool | None = None
) -> Any:
    need(request, Cap.PARTICIPANT_VIEW)
    qs = AdverseEvent.objects.select_related("participant").order_by("id")
    if study_id:
        qs = qs.filter(participant__study_id=study_id)
    if serious is not None:
        qs = qs.filter(serious=serious)
    return Mapped(qs, lambda ae: ae_out(ae, request.user))


@router.get("/adverse-events/{ae_id}", response=responses(AdverseEventOut))
def adverse_event(request: AuthenticatedHttpRequest, ae_id: int) -> dict[str, Any]:
    need(request, Cap.PARTICIPANT_VIEW)
    ae = get_object_or_404(AdverseEvent.objects.select_related("participant"), pk=ae_id)
    return ae_out(ae, request.user)


@router.post(
    "/participants/{study_id}/adverse-events",
    response={201: AdverseEventOut, **ERRORS},
    summary="Report an adverse event (an SAE notifies the PI and the trial office)",
    auth=writes(Cap.PARTICIPANT_VIEW, Cap.AE_WRITE),
)
def report_adverse_event(request: HttpRequest, study_id: str, data: AdverseEventIn) -> Status:
    need(request, Cap.PARTICIPANT_VIEW, Cap.AE_WRITE)
    p = participant_or_404(study_id)
    fields = data.dict()
    initial_id = fields.pop("follow_up_of")
    initial = get_object_or_404(AdverseEvent, pk=initial_id, participant=p) if initial_id else None
    fields["aware_at"] = fields["aware_at"] or timezone.now()
    ae = safety.report_adverse_event(p, fields, user=request.user, follow_up_of=initial)
    return Status(201, ae_out(ae, request.user))
