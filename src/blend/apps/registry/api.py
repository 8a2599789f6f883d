"""REST endpoints of the cohort registry: participants (pseudonymous)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from blend.apps.accounts.domain import Cap
from blend.apps.api.core import Mapped, Pages, need, responses
from blend.apps.api.errors import ERRORS, FORBID_EXTRA
from blend.apps.api.permissions import writes
from blend.apps.registry.models import Participant, Site
from blend.apps.registry.services import Registration, register_participant
from blend.apps.registry.validation import Problem, RegistrationInvalid

router = Router(tags=["trial"])


class ParticipantOut(Schema):
    study_id: str
    site: str
    registered_on: date
    sex: str
    birth_year: int
    primary_tumour: str
    metastases_diagnosed_on: date
    performance_status: int


class ParticipantIn(Schema):
    model_config = FORBID_EXTRA  # an unknown field (a "bsn") is refused, not dropped

    site: str = Field(description="site code", max_length=20)
    registered_on: date
    sex: Literal["female", "male"]
    primary_tumour: Literal["breast", "prostate", "lung", "kidney", "myeloma", "other", "unknown"]
    metastases_diagnosed_on: date
    performance_status: int = Field(ge=0, le=4)
    full_name: str = Field(min_length=1, max_length=200)
    date_of_birth: date
    hospital_number: str = Field(pattern=r"^[A-Za-z0-9-]{4,30}$")
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=30)
    preferred_language: Literal["nl", "en"] = "nl"


def participant_or_404(study_id: str) -> Participant:
    """The participant an endpoint's path names (every app's endpoints use it)."""
    return get_object_or_404(Participant.objects.select_related("site"), study_id=study_id)


def participant_out(p: Participant) -> dict[str, Any]:
    return {
        "study_id": p.study_id,
        "site": p.site.code,
        "registered_on": p.registered_on,
        "sex": p.sex,
        "birth_year": p.birth_year,
        "primary_tumour": p.primary_tumour,
        "metastases_diagnosed_on": p.metastases_diagnosed_on,
        "performance_status": p.performance_status,
    }


@router.get(
    "/participants",
    response=responses(list[ParticipantOut]),
    summary="Cohort participants (pseudonymous)",
)
@paginate(Pages)
def participants(request: HttpRequest, site: str = "", study_id: str = "") -> Any:
    need(request, Cap.PARTICIPANT_VIEW)
    qs = Participant.objects.select_related("site").order_by("registered_on", "id")
    if site:
        qs = qs.filter(site__code=site)
    if study_id:
        qs = qs.filter(study_id__icontains=study_id)
    return Mapped(qs, participant_out)


@router.post(
    "/participants",
    response={201: ParticipantOut, **ERRORS},
    summary="Register a cohort participant",
    auth=writes(Cap.PARTICIPANT_VIEW, Cap.PARTICIPANT_WRITE),
)
def register(request: HttpRequest, data: ParticipantIn) -> Status:
    need(request, Cap.PARTICIPANT_VIEW, Cap.PARTICIPANT_WRITE)
    fields = data.dict()
    site = Site.objects.filter(code=fields["site"]).first()
    if site is None:  # a field of the body, so a 400 that names it (not a 404)
        known = ", ".join(Site.objects.order_by("code").values_list("code", flat=True))
        raise RegistrationInvalid(
            [Problem("site", "unknown site code", f"one of {known}", fields["site"])]
        )
    fields["site"] = site
    participant = register_participant(Registration(**fields), user=request.user)
    return Status(201, participant_out(participant))


@router.get("/participants/{study_id}", response=responses(ParticipantOut))
def participant(request: HttpRequest, study_id: str) -> dict[str, Any]:
    need(request, Cap.PARTICIPANT_VIEW)
    return participant_out(participant_or_404(study_id))
