from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.consent.forms import ConsentDecisionForm, WithdrawalForm
from blend.apps.consent.over_time import (
    CHOICES_LINK_DAYS,
    member_choices,
    participant_for_token,
    postponed_count,
    postponed_worklist,
    reconsent_count,
    reconsent_worklist,
    record_refresh_given,
    refresh_count,
    refresh_days,
    refresh_worklist,
)
from blend.apps.consent.services import ConsentError, record_consent_form, withdraw_consent
from blend.apps.registry.models import Participant

SHOWN = 100  # rows per worklist on the page; the count covers everyone


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


@require(Cap.PARTICIPANT_VIEW, Cap.CONSENT_WRITE)
def over_time(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The three consent worklists: postponed, re-consent under a new version, refresh due.
    Each shows how many are waiting and lists the ``SHOWN`` waiting longest."""
    version, reconsent = reconsent_worklist(limit=SHOWN)
    return render(
        request,
        "consent/over_time.html",
        {
            "lists": {
                "postponed": {"count": postponed_count(), "rows": postponed_worklist(SHOWN)},
                "reconsent": {"count": reconsent_count(), "rows": reconsent},
                "refresh": {"count": refresh_count(), "rows": refresh_worklist(limit=SHOWN)},
            },
            "shown": SHOWN,
            "version": version,
            "refresh_days": refresh_days(),
        },
    )


@require(Cap.PARTICIPANT_VIEW, Cap.CONSENT_WRITE)
def choices_link(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    """Staff make the link to the member's own page of choices, to print or send."""
    participant = get_object_or_404(Participant, study_id=study_id)
    if request.method != "POST":
        return redirect("consent:over-time")
    token = record_refresh_given(participant, user=request.user)
    url = request.build_absolute_uri(reverse("consent:my-choices", args=[token]))
    return render(
        request,
        "consent/choices_link.html",
        {"participant": participant, "url": url, "days": CHOICES_LINK_DAYS},
    )


@never_cache
def my_choices(request: HttpRequest, token: str) -> HttpResponse:
    """A member's own consent choices, in plain language; no trial, no arm, no login."""
    participant = participant_for_token(token)
    if participant is None:
        return render(request, "consent/my_choices_invalid.html", status=404)
    language = request.GET.get("lang")
    if language not in {"nl", "en"}:
        identity = getattr(participant, "identity", None)  # the language is an identifier field
        language = identity.preferred_language if identity else "nl"
    with translation.override(language):
        return render(
            request,
            "consent/my_choices.html",
            {"choices": member_choices(participant, language), "language": language},
        )
