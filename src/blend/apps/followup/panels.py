"""The follow-up panel: the schedule with each timepoint's status, the clinical
follow-up forms and vital status."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.followup import services
from blend.apps.followup.casebook import EVENT_FIELDS
from blend.apps.followup.domain import AssessmentStatus
from blend.apps.followup.forms import CLINICAL_FORMS
from blend.apps.followup.models import (
    Assessment,
    HospitalAdmission,
    NeuroAssessment,
    OpioidUse,
    ReIntervention,
    SystemicTherapy,
    VitalStatus,
)
from blend.apps.outbox.models import Message
from blend.apps.registry.models import Participant
from blend.protocol.schedule import load_schedule


def participant_panel(
    request: AuthenticatedHttpRequest, participant: Participant
) -> dict[str, Any] | None:
    assessments = list(Assessment.objects.filter(participant=participant).order_by("target_on"))
    status_of = services.statuses(assessments)
    schedule = load_schedule()
    language = getattr(request, "LANGUAGE_CODE", "en")
    events = [
        *[("admission", e) for e in HospitalAdmission.objects.filter(participant=participant)],
        *[("systemic", e) for e in SystemicTherapy.objects.filter(participant=participant)],
        *[("asia", e) for e in NeuroAssessment.objects.filter(participant=participant)],
        *[("opioids", e) for e in OpioidUse.objects.filter(participant=participant)],
        *[("reintervention", e) for e in ReIntervention.objects.filter(participant=participant)],
    ]
    events.sort(key=lambda pair: pair[1].on)
    return {
        "template": "followup/_panel.html",
        "context": {
            "participant": participant,
            "rows": [
                {
                    "a": a,
                    "status": status_of[a.pk],
                    "label": schedule.timepoint(a.timepoint).label(language),
                }
                for a in assessments
            ],
            # Each trial's extra measurements, only where the viewer may see its arms.
            "extras": services.visible_extras(participant, request.user),
            "events": [
                {
                    "kind": CLINICAL_FORMS[k][1],
                    "e": e,
                    "form": EVENT_FIELDS[k][0],
                    "date_field": EVENT_FIELDS[k][1],
                    "value_field": EVENT_FIELDS[k][2],
                }
                for k, e in events
            ],
            "forms": [(k, title) for k, (_form, title) in CLINICAL_FORMS.items()],
            "vital": VitalStatus.objects.filter(participant=participant).first(),
            "messages": Message.objects.filter(
                participant=participant, audience="participant"
            ).only("template_code", "channel", "status", "created_at", "sent_at")[:10],
            "may_write": request.user.can(Cap.CLINICAL_WRITE),
            "may_enter": request.user.can(Cap.QUESTIONNAIRE_ENTER),
            "today": timezone.localdate(),
        },
    }


def dashboard_cards(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    """Questionnaires that need attention now (due or overdue), across the cohort."""
    if not request.user.can(Cap.PARTICIPANT_VIEW):
        return []
    totals = services.open_window_counts()
    overdue = totals.get(AssessmentStatus.OVERDUE, 0)
    url = reverse("followup:calendar")
    return [
        {
            "label": "questionnaires due now",
            "value": totals.get(AssessmentStatus.DUE, 0),
            "url": url,
        },
        {
            "label": "questionnaires overdue",
            "value": overdue,
            "url": url,
            "tone": "warn" if overdue else "ok",
        },
    ]
