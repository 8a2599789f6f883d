"""The pre-screening worklist of the trial chosen in the top bar's switcher."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.prescreening.fhir_import import confirm_imported_facts, unconfirmed_imports
from blend.apps.prescreening.forms import CohortFactsForm
from blend.apps.prescreening.services import (
    PrescreeningError,
    catalogue,
    record_cohort_facts,
    recorded_facts,
    worklist,
)
from blend.apps.registry.models import Participant
from blend.apps.trials.http import current_trial


@require(Cap.SCREENING_WRITE)
def worklist_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Potentially eligible members not yet screened for the trial, each with a Screen
    link to the screening form (prefilled from the cohort's facts)."""
    found = worklist(
        current_trial(request),
        page=_number(request.GET.get("page")),
        others_page=_number(request.GET["others"]) if "others" in request.GET else None,
    )
    return render(
        request,
        "prescreening/worklist.html",
        {
            "worklist": found,
            "trial": found.trial,
            "eligible": found.eligible,
            "pending": found.pending,
            "missing": found.missing,
        },
    )


def _number(value: str | None) -> int:
    """A page number from the query string; anything else is the first page."""
    return int(value) if value and value.isdigit() else 1


@require(Cap.PARTICIPANT_WRITE)
def record_facts(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    """Record what the cohort knows about a member (every trial's pre-screening reads it)."""
    participant = get_object_or_404(Participant, study_id=study_id)
    recorded = recorded_facts(participant)
    form = CohortFactsForm(
        request.POST or None,
        initial=CohortFactsForm.initial_from(recorded, timezone.localdate()) if recorded else None,
        editing=bool(recorded),
    )
    if request.method == "POST" and form.is_valid():
        try:
            record_cohort_facts(
                participant,
                form.facts(),
                on=form.cleaned_data["screened_on"],
                user=request.user,
                source=form.cleaned_data["source"],
                reason=form.cleaned_data.get("reason", ""),
            )
        except PrescreeningError as error:
            for field, message in error.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Cohort facts saved."))
            return redirect("participant-detail", study_id=study_id)
    return render(
        request,
        "prescreening/facts.html",
        {"form": form, "participant": participant, "imported": _imported_rows(participant)},
        status=400 if form.errors else 200,
    )


def _shown(value: Any) -> str:
    """A fact value as the nurse reads it."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _imported_rows(participant: Participant) -> list[dict[str, Any]]:
    specs = catalogue()
    return [
        {
            "key": row.key,
            "label": specs[row.key].label if row.key in specs else row.key,
            "value": _shown(row.value),
            "replaced": None if row.replaced_value is None else _shown(row.replaced_value),
            "source": row.source,
            "imported_on": row.recorded_on,
        }
        for row in unconfirmed_imports(participant)
    ]


@require(Cap.PARTICIPANT_WRITE)
def confirm_imports(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    """The nurse confirms the ticked imported facts (POST only; the facts page shows them)."""
    participant = get_object_or_404(Participant, study_id=study_id)
    if request.method != "POST":
        return redirect("prescreening:facts", study_id=study_id)
    try:
        confirmed = confirm_imported_facts(
            participant, request.POST.getlist("key"), user=request.user
        )
    except PrescreeningError as error:
        for message in error.errors.values():
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Imported facts confirmed: %(n)d.") % {"n": len(confirmed)},
        )
    return redirect("prescreening:facts", study_id=study_id)
