from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.allocation.queries import arm_of
from blend.apps.audit.services import ReasonRequired
from blend.apps.registry.models import Participant
from blend.apps.treatment.domain import load_treatment_config
from blend.apps.treatment.forms import ConfiguredTreatmentForm, TreatmentForm
from blend.apps.treatment.services import (
    default_pathway,
    record_treatment,
    treatment_flags,
    treatment_of,
)
from blend.apps.trials.http import current_trial
from blend.apps.trials.lookup import default_trial_code, get_trial


@require(Cap.PARTICIPANT_VIEW, Cap.CLINICAL_WRITE, Cap.ALLOCATION_VIEW)
def edit(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    trial = current_trial(request)
    if trial != default_trial_code():
        return _edit_configured(request, participant, trial)
    record = treatment_of(participant, trial)
    config = load_treatment_config()
    initial = {} if record else {"pathway": default_pathway(participant, trial)}
    form = TreatmentForm(request.POST or None, instance=record, initial=initial, config=config)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "reason"}
        try:
            saved = record_treatment(
                participant,
                data,
                user=request.user,
                reason=form.cleaned_data["reason"],
                trial=trial,
            )
        except ReasonRequired as error:
            form.add_error("reason", str(error))
        else:
            for flag in treatment_flags(saved):
                messages.warning(request, _("Check: %(flag)s.") % {"flag": flag})
            messages.success(request, _("Treatment saved; the follow-up schedule was updated."))
            return redirect("participant-detail", study_id=study_id)
    return render(
        request,
        "treatment/edit.html",
        {"form": form, "participant": participant, "record": record, "trial": trial},
        status=400 if form.errors else 200,
    )


def _edit_configured(
    request: AuthenticatedHttpRequest, participant: Participant, trial: str
) -> HttpResponse:
    """A trial whose treatment.toml lists its arms' procedures (every trial but BLEND)."""
    record = treatment_of(participant, trial)
    plan = get_trial(trial).treatment
    form = ConfiguredTreatmentForm(
        request.POST or None,
        plan=plan,
        record=record,
        allocated_arm=arm_of(participant, trial),
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = record_treatment(
                participant,
                form.record_data(),
                user=request.user,
                reason=form.cleaned_data["reason"],
                trial=trial,
            )
        except ReasonRequired as error:
            form.add_error("reason", str(error))
        else:
            for flag in treatment_flags(saved):
                messages.warning(request, _("Check: %(flag)s.") % {"flag": flag})
            messages.success(request, _("Treatment saved; the follow-up schedule was updated."))
            return redirect("participant-detail", study_id=participant.study_id)
    return render(
        request,
        "treatment/edit_configured.html",
        {"form": form, "participant": participant, "record": record, "trial": trial},
        status=400 if form.errors else 200,
    )
