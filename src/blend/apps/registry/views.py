from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.registry.forms import ParticipantEditForm, RegistrationForm
from blend.apps.registry.models import Participant
from blend.apps.registry.services import Registration, register_participant, update_participant
from blend.apps.registry.validation import RegistrationInvalid


@require(Cap.PARTICIPANT_VIEW, Cap.PARTICIPANT_WRITE)
def register(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            participant = register_participant(Registration(**form.cleaned_data), user=request.user)
        except RegistrationInvalid as refused:  # e.g. the same number saved meanwhile
            for problem in refused.problems:
                form.add_error(
                    problem.field if problem.field in form.fields else None, problem.message
                )
        else:
            messages.success(request, _("Registered %(id)s.") % {"id": participant.study_id})
            return redirect("participant-detail", study_id=participant.study_id)
    return render(
        request, "registry/register.html", {"form": form}, status=400 if form.errors else 200
    )


@require(Cap.PARTICIPANT_VIEW, Cap.PARTICIPANT_WRITE)
def participant_edit(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    form = ParticipantEditForm(
        request.POST or None, instance=Participant.objects.get(pk=participant.pk)
    )
    if request.method == "POST" and form.is_valid():
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f != "reason"}
        update_participant(
            participant, changes, user=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("Saved."))
        return redirect("participant-detail", study_id=study_id)
    return render(
        request,
        "registry/edit.html",
        {"form": form, "participant": participant},
        status=400 if form.errors else 200,
    )
