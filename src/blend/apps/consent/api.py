"""REST endpoints of staged consent."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from blend.apps.accounts.domain import Cap
from blend.apps.api.core import need, responses
from blend.apps.api.errors import FORBID_EXTRA
from blend.apps.api.permissions import writes
from blend.apps.consent import services as consent
from blend.apps.consent.models import ConsentFormVersion
from blend.apps.registry.api import participant_or_404
from blend.apps.registry.models import Participant

router = Router(tags=["trial"])


class ConsentRecordOut(Schema):
    item: str
    answer: str
    effective_on: date
    form_version: str | None
    reason: str


class ConsentOut(Schema):
    study_id: str
    states: dict[str, str | None]
    may_randomize: bool
    may_send_questionnaires: bool
    history: list[ConsentRecordOut]


class ConsentIn(Schema):
    model_config = FORBID_EXTRA  # an unknown field (a "bsn") is refused, not dropped

    effective_on: date
    form_version: str = Field(max_length=40)
    decisions: dict[str, Literal["yes", "no", "postponed"]] = Field(min_length=1)


def consent_out(p: Participant) -> dict[str, Any]:
    records = p.consents.select_related("form_version")
    return {
        "study_id": p.study_id,
        "states": {k: (v.value if v else None) for k, v in consent.consent_states(p).items()},
        "may_randomize": consent.may_randomize(p),
        "may_send_questionnaires": consent.may_send_questionnaires(p),
        "history": [
            {
                "item": r.item,
                "answer": r.answer,
                "effective_on": r.effective_on,
                "reason": r.reason,
                "form_version": r.form_version.version if r.form_version else None,
            }
            for r in records
        ],
    }


@router.get(
    "/participants/{study_id}/consent", response=responses(ConsentOut), summary="Staged consent"
)
def consent_of(request: HttpRequest, study_id: str) -> dict[str, Any]:
    need(request, Cap.PARTICIPANT_VIEW)
    return consent_out(participant_or_404(study_id))


@router.post(
    "/participants/{study_id}/consent",
    response=responses(ConsentOut),
    summary="Record consent decisions",
    auth=writes(Cap.CONSENT_WRITE),
)
def record_consent(request: HttpRequest, study_id: str, data: ConsentIn) -> dict[str, Any]:
    need(request, Cap.CONSENT_WRITE)
    p = participant_or_404(study_id)
    version = ConsentFormVersion.objects.filter(version=data.form_version).first()
    if version is None:  # a field of the body, so a 400 that names it (not a 404)
        known = ", ".join(ConsentFormVersion.objects.values_list("version", flat=True))
        raise consent.ConsentError(
            f"form_version: expected a known consent-form version ({known}), "
            f"got {data.form_version!r}"
        )
    consent.record_consent_form(
        p, data.decisions, on=data.effective_on, form_version=version, user=request.user
    )
    return consent_out(p)
