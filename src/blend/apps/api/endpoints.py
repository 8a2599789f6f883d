"""Endpoints. Each one checks the capability the web page checks, then calls the owning
app's service; no rule is re-implemented here."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from blend.apps.accounts.domain import Cap, capabilities_of
from blend.apps.api.core import Pages, api, need
from blend.apps.api.errors import ERRORS
from blend.apps.api.schemas import (
    AdverseEventIn,
    AdverseEventOut,
    AssessmentOut,
    ConsentIn,
    ConsentOut,
    MeOut,
    ParticipantIn,
    ParticipantOut,
    RandomizationOut,
    ScreeningIn,
    ScreeningOut,
)
from blend.apps.consent import services as consent
from blend.apps.consent.models import ConsentFormVersion
from blend.apps.registry.models import Participant, Site
from blend.apps.registry.services import Registration, register_participant
from blend.apps.safety import services as safety
from blend.apps.safety.models import AdverseEvent

router = Router(tags=["trial"])


class Mapped:
    """A queryset whose page is converted only when sliced, so a page costs one page of rows."""

    def __init__(self, queryset: Any, convert: Any) -> None:
        self.queryset, self.convert = queryset, convert

    def __getitem__(self, window: slice) -> list[Any]:
        return [self.convert(row) for row in self.queryset[window]]

    def all(self) -> Any:  # the paginator counts with .all().count()
        return self.queryset.all()


def _ok(schema: Any) -> dict[int, Any]:
    return {200: schema, **ERRORS}


def _participant(study_id: str) -> Participant:
    return get_object_or_404(Participant.objects.select_related("site"), study_id=study_id)


def participant_out(p: Participant) -> dict[str, Any]:
    return {"study_id": p.study_id, "site": p.site.code, "registered_on": p.registered_on, "sex": p.sex,
            "birth_year": p.birth_year, "primary_tumour": p.primary_tumour,
            "metastases_diagnosed_on": p.metastases_diagnosed_on, "performance_status": p.performance_status}


@router.get("/me", response=_ok(MeOut), summary="Who am I, and what may I do")
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {"username": user.get_username(), "role": user.role,
            "capabilities": sorted(c.value for c in capabilities_of(user.role))}


@router.get("/participants", response=_ok(list[ParticipantOut]), summary="Cohort participants (pseudonymous)")
@paginate(Pages)
def participants(request: HttpRequest, site: str = "", study_id: str = "") -> Any:
    need(request, Cap.PARTICIPANT_VIEW)
    qs = Participant.objects.select_related("site").order_by("registered_on", "id")
    if site:
        qs = qs.filter(site__code=site)
    if study_id:
        qs = qs.filter(study_id__icontains=study_id)
    return Mapped(qs, participant_out)


@router.post("/participants", response={201: ParticipantOut, **ERRORS}, summary="Register a cohort participant")
def register(request: HttpRequest, data: ParticipantIn) -> Status:
    need(request, Cap.PARTICIPANT_VIEW, Cap.PARTICIPANT_WRITE)
    fields = data.dict()
    fields["site"] = get_object_or_404(Site, code=fields["site"])
    participant = register_participant(Registration(**fields), user=request.user)
    return Status(201, participant_out(participant))


@router.get("/participants/{study_id}", response=_ok(ParticipantOut))
def participant(request: HttpRequest, study_id: str) -> dict[str, Any]:
    need(request, Cap.PARTICIPANT_VIEW)
    return participant_out(_participant(study_id))


def consent_out(p: Participant) -> dict[str, Any]:
    records = p.consents.select_related("form_version")
    return {"study_id": p.study_id, "states": {k: (v.value if v else None) for k, v in consent.consent_states(p).items()},
            "may_randomize": consent.may_randomize(p), "may_send_questionnaires": consent.may_send_questionnaires(p),
            "history": [{"item": r.item, "answer": r.answer, "effective_on": r.effective_on, "reason": r.reason,
                         "form_version": r.form_version.version if r.form_version else None} for r in records]}


@router.get("/participants/{study_id}/consent", response=_ok(ConsentOut), summary="Staged consent")
def consent_of(request: HttpRequest, study_id: str) -> dict[str, Any]:
    need(request, Cap.PARTICIPANT_VIEW)
    return consent_out(_participant(study_id))


@router.post("/participants/{study_id}/consent", response=_ok(ConsentOut), summary="Record consent decisions")
def record_consent(request: HttpRequest, study_id: str, data: ConsentIn) -> dict[str, Any]:
    need(request, Cap.CONSENT_WRITE)
    p = _participant(study_id)
    version = get_object_or_404(ConsentFormVersion, version=data.form_version)
    with transaction.atomic():  # all decisions of one form, or none
        for item, answer in data.decisions.items():
            consent.record_consent(p, item, answer, on=data.effective_on, form_version=version, user=request.user)
    return consent_out(p)


def screening_out(p: Participant) -> dict[str, Any]:
    from blend.apps.screening.services import latest_screening

    s = latest_screening(p)
    if s is None:
        raise_not_found(f"screening: participant {p.study_id} is not screened")
    return {"study_id": p.study_id, "screened_on": s.screened_on, "status": s.status,
            "reasons": {k: str(v) for k, v in (s.reasons or {}).items()}, "criteria_version": s.criteria_version,
            "confirmed": s.confirmed_at is not None, "confirmed_at": s.confirmed_at}


def raise_not_found(message: str) -> None:
    from ninja.errors import HttpError

    raise HttpError(404, message)


@router.get("/participants/{study_id}/screening", response=_ok(ScreeningOut), summary="Eligibility screening")
def screening_of(request: HttpRequest, study_id: str) -> dict[str, Any]:
    need(request, Cap.PARTICIPANT_VIEW)
    return screening_out(_participant(study_id))


@router.post("/participants/{study_id}/screening", response=_ok(ScreeningOut), summary="Save screening facts")
def save_screening(request: HttpRequest, study_id: str, data: ScreeningIn) -> dict[str, Any]:
    from blend.apps.screening.services import save_screening as save

    need(request, Cap.SCREENING_WRITE)
    p = _participant(study_id)
    save(p, data.facts, on=data.screened_on, user=request.user, reason=data.reason)
    return screening_out(p)


def randomization_out(p: Participant) -> dict[str, Any]:
    from blend.apps.allocation.models import Allocation

    allocation = Allocation.objects.filter(participant=p).first()
    return {"study_id": p.study_id, "randomized": allocation is not None,
            "arm": allocation.arm if allocation else None,
            "randomized_at": allocation.allocated_at if allocation else None}


@router.get("/participants/{study_id}/randomization", response=_ok(RandomizationOut), summary="Allocated arm")
def randomization_of(request: HttpRequest, study_id: str) -> dict[str, Any]:
    need(request, Cap.PARTICIPANT_VIEW, Cap.ALLOCATION_VIEW)
    return randomization_out(_participant(study_id))


@router.post("/participants/{study_id}/randomization", response=_ok(RandomizationOut), summary="Randomize")
def randomize(request: HttpRequest, study_id: str) -> dict[str, Any]:
    from blend.apps.allocation.services import randomize as allocate

    need(request, Cap.RANDOMIZE)
    p = _participant(study_id)
    allocate(p, user=request.user)
    return randomization_out(p)


@router.get("/participants/{study_id}/assessments", response=_ok(list[AssessmentOut]),
            summary="Follow-up schedule with questionnaire scores")
def assessments(request: HttpRequest, study_id: str) -> list[dict[str, Any]]:
    from blend.apps.followup.models import Assessment

    need(request, Cap.PARTICIPANT_VIEW)
    p = _participant(study_id)
    rows = Assessment.objects.filter(participant=p).select_related("response").order_by("target_on")
    return [{"timepoint": a.timepoint, "target_on": a.target_on, "window": [a.opens_on, a.closes_on],
             "completed_on": a.completed_on, "scores": _scores(a)} for a in rows]


def _scores(assessment: Any) -> dict[str, dict[str, Any]]:
    response = getattr(assessment, "response", None)
    if response is None or response.status != "submitted":
        return {}
    return {code: {k: v for k, v in (values or {}).items() if isinstance(v, int | float | str | bool) or v is None}
            for code, values in (response.scores or {}).items()}


def ae_out(ae: AdverseEvent) -> dict[str, Any]:
    hours = safety.report_hours()
    fields = ["id", "term", "grade", "onset_date", "resolved_on", "serious", "seriousness", "related_sbrt",
              "related_surgery", "action_taken", "outcome", "aware_at", "reported_at"]
    return {**{f: getattr(ae, f) for f in fields}, "study_id": ae.participant.study_id,
            "follow_up_of": ae.follow_up_of_id, "term_label": ae.term_label, "related": ae.related,
            "report_due_at": ae.report_due_at(hours), "overdue": ae.is_overdue(hours)}


@router.get("/adverse-events", response=_ok(list[AdverseEventOut]), summary="Adverse events")
@paginate(Pages)
def adverse_events(request: HttpRequest, study_id: str = "", serious: bool | None = None) -> Any:
    need(request, Cap.PARTICIPANT_VIEW)
    qs = AdverseEvent.objects.select_related("participant").order_by("id")
    if study_id:
        qs = qs.filter(participant__study_id=study_id)
    if serious is not None:
        qs = qs.filter(serious=serious)
    return Mapped(qs, ae_out)


@router.get("/adverse-events/{ae_id}", response=_ok(AdverseEventOut))
def adverse_event(request: HttpRequest, ae_id: int) -> dict[str, Any]:
    need(request, Cap.PARTICIPANT_VIEW)
    return ae_out(get_object_or_404(AdverseEvent.objects.select_related("participant"), pk=ae_id))


@router.post("/participants/{study_id}/adverse-events", response={201: AdverseEventOut, **ERRORS},
             summary="Report an adverse event (an SAE notifies the PI and the trial office)")
def report_adverse_event(request: HttpRequest, study_id: str, data: AdverseEventIn) -> Status:
    need(request, Cap.PARTICIPANT_VIEW, Cap.AE_WRITE)
    p = _participant(study_id)
    fields = data.dict()
    initial_id = fields.pop("follow_up_of")
    initial = get_object_or_404(AdverseEvent, pk=initial_id, participant=p) if initial_id else None
    fields["aware_at"] = fields["aware_at"] or timezone.now()
    ae = safety.report_adverse_event(p, fields, user=request.user, follow_up_of=initial)
    return Status(201, ae_out(ae))


api.add_router("", router)
