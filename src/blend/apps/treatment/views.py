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
from blend.apps.treatment.models import TreatmentRecord
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
    record = treatment_of(participant, trial)
    form = _form(request, participant, trial, record)
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
            return redirect("participant-detail", study_id=study_id)
    template = "edit.html" if isinstance(form, TreatmentForm) else "edit_configured.html"
    return render(
        request,
        f"treatment/{template}",
        {"form": form, "participant": participant, "record": record, "trial": trial},
        status=400 if form.errors else 200,
    )


def _form(
    request: AuthenticatedHttpRequest,
    participant: Participant,
    trial: str,
    record: TreatmentRecord | None,
) -> TreatmentForm | ConfiguredTreatmentForm:
    """BLEND's pathway form for the default trial; every other trial's form is built from
    its treatment.toml (the arms' procedures)."""
    data = request.POST or None
    if trial == default_trial_code():
        initial = {} if record else {"pathway": default_pathway(participant, trial)}
        return TreatmentForm(data, instance=record, initial=initial, config=load_treatment_config())
    return ConfiguredTreatmentForm(
        data,
        plan=get_trial(trial).treatment,
        record=record,
        allocated_arm=arm_of(participant, trial),
    )
