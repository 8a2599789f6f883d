from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.consent.forms import ConsentDecisionForm, WithdrawalForm
from blend.apps.consent.services import ConsentError, record_consent_form, withdraw_consent
from blend.apps.registry.models import Participant


@require(Cap.CONSENT_WRITE)
def record(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    form = ConsentDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record_consent_form(
                participant,
                form.decisions(),
                on=form.cleaned_data["effective_on"],
                form_version=form.cleaned_data["form_version"],
                user=request.user,
            )
        except ConsentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Consent recorded."))
            return redirect("participant-detail", study_id=study_id)
    return render(
        request,
        "consent/form.html",
        {"form": form, "participant": participant, "title": _("Record consent")},
        status=400 if form.errors else 200,
    )


@require(Cap.CONSENT_WRITE)
def withdraw(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    form = WithdrawalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            withdraw_consent(
                participant,
                form.cleaned_data["item"],
                on=form.cleaned_data["effective_on"],
                reason=form.cleaned_data["reason"],
                user=request.user,
            )
        except ConsentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Withdrawal recorded. Data already collected are kept."))
            return redirect("participant-detail", study_id=study_id)
    return render(
        request,
        "consent/form.html",
        {"form": form, "participant": participant, "title": _("Withdraw a consent item")},
        status=400 if form.errors else 200,
    )
