from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.allocation import blinding
from blend.apps.audit.services import ReasonRequired
from blend.apps.followup import services
from blend.apps.followup.domain import AssessmentStatus
from blend.apps.followup.engagement import (
    LOST_AFTER_DAYS,
    lost_to_follow_up,
    rates_by_quarter,
    rates_by_site,
)
from blend.apps.followup.forms import CLINICAL_FORMS, VitalStatusForm
from blend.apps.followup.models import Assessment, VitalStatus
from blend.apps.registry.models import Participant
from blend.apps.trials.http import current_trial
from blend.protocol.schedule import load_schedule
from blend.stats.engagement import engagement_png

PAGE_SIZE = 50
STATUS_ORDER = [s.value for s in AssessmentStatus]


@require(Cap.PARTICIPANT_VIEW)
def calendar(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Due, overdue, completed and missed per participant and timepoint."""
    wanted = request.GET.get("status", "")
    participants = (
        Participant.objects.filter(assessments__isnull=False).distinct().order_by("study_id")
    )
    if wanted in {AssessmentStatus.DUE, AssessmentStatus.OVERDUE}:
        today = timezone.localdate()
        participants = participants.filter(
            assessments__completed_at__isnull=True,
            assessments__opens_on__lte=today,
            assessments__closes_on__gte=today,
        )
    page = Paginator(participants, PAGE_SIZE).get_page(request.GET.get("page"))
    assessments = list(Assessment.objects.filter(participant__in=page.object_list))
    status_of = services.statuses(assessments)
    cells: dict[int, dict[str, Any]] = {}
    for a in assessments:
        cells.setdefault(a.participant_id, {})[a.timepoint] = {"a": a, "status": status_of[a.pk]}
    codes = load_schedule().codes
    rows = [
        {"p": p, "cells": [cells.get(p.pk, {}).get(code) for code in codes]}
        for p in page.object_list
    ]
    if wanted:
        rows = [r for r in rows if any(c and c["status"] == wanted for c in r["cells"])]
    return render(
        request,
        "followup/calendar.html",
        {
            "rows": rows,
            "codes": codes,
            "page": page,
            "statuses": STATUS_ORDER,
            "wanted": wanted,
            "today": timezone.localdate(),
        },
    )


@require(Cap.PARTICIPANT_VIEW)
def completeness(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Per timepoint; per arm (of the trial worked in) only for those who may see its arms."""
    trial = current_trial(request)
    by_arm = blinding.sees_arm(request.user, trial)
    table = services.completeness(by_arm=by_arm, trial=trial)
    groups = ["intervention", "control", "cohort"] if by_arm else ["all"]
    rows = []
    for code in load_schedule().codes:
        for group in groups:
            counts = table.get(code, {}).get(group, {})
            expected = sum(v for k, v in counts.items() if k != AssessmentStatus.STOPPED)
            done = counts.get(AssessmentStatus.COMPLETED, 0)
            closed = done + counts.get(AssessmentStatus.MISSED, 0)
            rows.append(
                {
                    "code": code,
                    "group": group,
                    "counts": [counts.get(s, 0) for s in STATUS_ORDER],
                    "expected": expected,
                    "rate": round(100 * done / closed) if closed else None,
                }
            )
    return render(
        request,
        "followup/completeness.html",
        {"rows": rows, "statuses": STATUS_ORDER, "by_arm": by_arm},
    )


@require(Cap.PARTICIPANT_VIEW, Cap.CLINICAL_WRITE)
def clinical_new(request: AuthenticatedHttpRequest, study_id: str, kind: str) -> HttpResponse:
    if kind not in CLINICAL_FORMS:
        raise Http404("unknown form")
    participant = get_object_or_404(Participant, study_id=study_id)
    form_class, title = CLINICAL_FORMS[kind]
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        instance = form.save(commit=False)
        instance.participant = participant
        if kind == "opioids":
            instance.medications, instance.omed_mg_day = (
                form.cleaned_data["medications"],
                form.cleaned_data["omed_mg_day"],
            )
        try:
            services.save_clinical(instance, user=request.user)
        except (
            ValidationError
        ) as error:  # model constraints (e.g. discharge before admission) → form errors
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Saved: %(what)s.") % {"what": title})
            return redirect("participant-detail", study_id=study_id)
    return render(
        request,
        "followup/clinical_form.html",
        {"form": form, "participant": participant, "title": title},
        status=400 if form.errors else 200,
    )


@require(Cap.PARTICIPANT_VIEW, Cap.CLINICAL_WRITE)
def vital_status(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    current = VitalStatus.objects.filter(participant=participant).first()
    initial = (
        {
            "last_contact_on": current.last_contact_on,
            "died_on": current.died_on,
            "cause_of_death": current.cause_of_death,
        }
        if current
        else {}
    )
    form = VitalStatusForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_vital_status(
                participant,
                last_contact_on=data["last_contact_on"] or data["died_on"],
                died_on=data["died_on"],
                cause_of_death=data["cause_of_death"],
                user=request.user,
                reason=data["reason"],
            )
        except (services.FollowupError, ReasonRequired) as error:
            field = str(error).split(":")[0]
            form.add_error(field if field in form.fields else "reason", str(error))
        else:
            if data["died_on"]:
                messages.success(
                    request, _("Death recorded; all questionnaire invitations are stopped.")
                )
            else:
                messages.success(request, _("Vital status saved."))
            return redirect("participant-detail", study_id=study_id)
    return render(
        request,
        "followup/clinical_form.html",
        {"form": form, "participant": participant, "title": _("Vital status")},
        status=400 if form.errors else 200,
    )


@require(Cap.PARTICIPANT_VIEW)
def engagement(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Questionnaire return per timepoint and site, and members lost to follow-up."""
    by_site = rates_by_site()
    sites = sorted({site for _, site in by_site})
    codes = [code for code in load_schedule().codes if any((code, s) in by_site for s in sites)]
    rows = [
        {"code": code, "cells": [by_site.get((code, site)) for site in sites]} for code in codes
    ]
    lost_count, lost = lost_to_follow_up()
    return render(
        request,
        "followup/engagement.html",
        {
            "sites": sites,
            "rows": rows,
            "lost_count": lost_count,
            "lost": lost,
            "lost_days": LOST_AFTER_DAYS,
        },
    )


@require(Cap.PARTICIPANT_VIEW)
def engagement_figure(request: AuthenticatedHttpRequest) -> HttpResponse:
    rates = rates_by_quarter()
    png = engagement_png(rates, list(load_schedule().codes), "Questionnaire return per quarter")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response
