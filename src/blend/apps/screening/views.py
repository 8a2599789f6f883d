"""Screening views: parse the form, call the service, render. No rules live here."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from blend.apps import discover
from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.registry.models import Participant
from blend.apps.screening.forms import ConfirmEligibilityForm, ScreeningForm
from blend.apps.screening.models import Status
from blend.apps.screening.services import (
    ScreeningError,
    confirm_eligibility,
    criteria_for_signature,
    evaluate,
    latest_screening,
    prefill_facts,
    save_screening,
    screening_log,
    screening_log_counts,
    why_not_confirmable,
)
from blend.apps.trials.http import current_trial
from blend.apps.trials.lookup import get_trial


def _apply_errors(form: ScreeningForm | ConfirmEligibilityForm, error: ScreeningError) -> None:
    for field, message in error.errors.items():
        if field in form.fields:
            form.add_error(field, message)
        else:
            form.add_error(None, message if field == "__all__" else f"{field}: {message}")


@require(Cap.SCREENING_WRITE)
def screen(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    trial = get_trial(current_trial(request))
    current = latest_screening(participant, trial.code)
    first_visit = current is None and request.method != "POST"
    prefilled = prefill_facts(participant, trial.code) if first_visit else {}
    initial = (
        ScreeningForm.initial_from(current.facts, current.screened_on)
        if current
        else ScreeningForm.initial_from(prefilled, timezone.localdate())
        if prefilled
        else None
    )
    form = ScreeningForm(
        request.POST or None,
        initial=initial,
        editing=current is not None,
        criteria=trial.criteria,
    )
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            screening = save_screening(
                participant,
                form.facts(),
                on=form.cleaned_data["screened_on"],
                user=request.user,
                reason=form.cleaned_data.get("reason", ""),
                trial=trial.code,
            )
        except ScreeningError as error:
            _apply_errors(form, error)
        else:
            messages.success(
                request,
                _("Screening saved: %(status)s.") % {"status": screening.get_status_display()},
            )
            return redirect("participant-detail", study_id=study_id)
    elif current is not None:
        result = evaluate(participant, current.facts, current.screened_on, trial.code)
    return render(
        request,
        "screening/form.html",
        {
            "form": form,
            "participant": participant,
            "screening": current,
            "result": result,
            "trial": trial,
            "criteria": trial.criteria.active,
            "prefilled": bool(prefilled),
        },
        status=400 if form.errors else 200,
    )


@require(Cap.SCREENING_WRITE)
def preview(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    """The live summary (htmx): assess what is on the form now, write nothing."""
    participant = get_object_or_404(Participant, study_id=study_id)
    trial = get_trial(current_trial(request))
    form = ScreeningForm(request.POST or None, criteria=trial.criteria)
    result, problems = None, []
    if form.is_valid():
        try:
            result = evaluate(
                participant, form.facts(), form.cleaned_data["screened_on"], trial.code
            )
        except ScreeningError as error:
            problems = list(error.errors.values())
    else:
        problems = [
            f"{form.fields[f].label if f in form.fields else f}: {' '.join(map(str, e))}"
            for f, e in form.errors.items()
        ]
    return render(request, "screening/_summary.html", {"result": result, "problems": problems})


@require(Cap.ELIGIBILITY_CONFIRM)
def confirm(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    trial = current_trial(request)
    screening = latest_screening(participant, trial)
    form = ConfirmEligibilityForm(request.POST or None, trial=trial)
    if request.method == "POST" and form.is_valid():
        try:
            confirm_eligibility(
                participant,
                user=request.user,
                password=form.cleaned_data["password"],
                request=request,
                trial=trial,
            )
        except ScreeningError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Eligibility confirmed."))
            return redirect("participant-detail", study_id=study_id)
    result = (
        evaluate(participant, screening.facts, screening.screened_on, trial) if screening else None
    )
    return render(
        request,
        "screening/confirm.html",
        {
            "form": form,
            "participant": participant,
            "trial": trial,
            "screening": screening,
            "result": result,
            "criteria": criteria_for_signature(screening, result) if screening and result else [],
            "held": why_not_confirmable(participant, trial) if screening else None,
        },
        status=400 if form.errors else 200,
    )


@require(Cap.PARTICIPANT_VIEW)
def log(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every screened cohort member with the status and every reason (feeds CONSORT)."""
    status = request.GET.get("status") or None
    if status not in {None, *Status.values}:
        status = None
    trial = current_trial(request)
    page = Paginator(screening_log(status, trial), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "screening/log.html",
        {
            "trial": trial,
            "page": page,
            "status": status,
            "statuses": Status.choices,
            "counts": screening_log_counts(trial),
            # Higher apps add their part (prescreening: the cohort denominator).
            "panels": [
                panel
                for module in discover("panels")
                if hasattr(module, "screening_log_panel")
                for panel in [module.screening_log_panel(request, trial)]
                if panel
            ],
            "today": timezone.localdate(),
        },
    )
