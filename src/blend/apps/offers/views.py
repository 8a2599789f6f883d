"""The offer, accept, refuse and not-offered forms, and the offer worklist.

Every view needs ``allocation.view`` (an offer reveals the arm); the forms and the
worklist ``offer.write`` too. The acceptance monitor is for everyone who may see arms."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.offers import services
from blend.apps.offers.acceptance import acceptance_summary
from blend.apps.offers.forms import (
    AcceptForm,
    NotOfferedForm,
    OfferForm,
    RefuseForm,
    TrialOfferForm,
)
from blend.apps.registry.models import Participant
from blend.apps.trials.http import current_trial
from blend.apps.trials.lookup import get_trial
from blend.design.reestimate import Offers, reestimate


def _run(
    request: HttpRequest,
    study_id: str,
    name: str,
    form_class: type[TrialOfferForm],
    title: str,
    action: Callable[[Participant, dict[str, Any], str], Any],
) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    trial = current_trial(request)
    if name not in services.applicable_actions(participant, trial):
        # Refused before the form is shown: a typed or stale URL must not invite data entry.
        return render(
            request,
            "offers/not_applicable.html",
            {
                "participant": participant,
                "title": title,
                "message": services.why_not_applicable(participant, name, trial),
            },
            status=400,
        )
    form = form_class(request.POST or None, trial=trial)
    if request.method == "POST" and form.is_valid():
        try:
            action(participant, form.cleaned_data, trial)
        except services.OfferError as error:
            for field, message in error.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Saved."))
            return redirect("participant-detail", study_id=study_id)
    return render(
        request,
        "offers/form.html",
        {"form": form, "participant": participant, "title": title, "trial": trial},
        status=400 if form.errors else 200,
    )


@require(Cap.OFFER_WRITE, Cap.ALLOCATION_VIEW)
def offer(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    return _run(
        request,
        study_id,
        "offer",
        OfferForm,
        _("Offer the intervention"),
        lambda p, d, t: services.make_offer(p, on=d["offered_on"], user=request.user, trial=t),
    )


@require(Cap.OFFER_WRITE, Cap.ALLOCATION_VIEW)
def accept(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    return _run(
        request,
        study_id,
        "accept",
        AcceptForm,
        _("Offer accepted: trial consent signed"),
        lambda p, d, t: services.record_acceptance(
            p,
            on=d["decided_on"],
            consent_version=d["trial_consent_version"],
            user=request.user,
            trial=t,
        ),
    )


@require(Cap.OFFER_WRITE, Cap.ALLOCATION_VIEW)
def refuse(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    return _run(
        request,
        study_id,
        "refuse",
        RefuseForm,
        _("Offer refused"),
        lambda p, d, t: services.record_refusal(
            p, on=d["decided_on"], reason=d["reason"], user=request.user, trial=t
        ),
    )


@require(Cap.OFFER_WRITE, Cap.ALLOCATION_VIEW)
def not_offered(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    return _run(
        request,
        study_id,
        "not-offered",
        NotOfferedForm,
        _("Offer not made"),
        lambda p, d, t: services.record_not_offered(
            p, on=d["decided_on"], reason=d["reason"], user=request.user, trial=t
        ),
    )


@require(Cap.OFFER_WRITE, Cap.ALLOCATION_VIEW)
def worklist(request: AuthenticatedHttpRequest) -> HttpResponse:
    trial = current_trial(request)
    return render(
        request,
        "offers/worklist.html",
        {"allocations": services.offer_worklist(trial), "trial": trial},
    )


@require(Cap.ALLOCATION_VIEW)
def acceptance(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The acceptance monitor (offers exist only in the intervention arm: allocation.view)."""
    trial = current_trial(request)
    summary = acceptance_summary(trial, user=request.user)
    config = get_trial(trial)
    reestimation = None
    if config.sample_size is not None and summary.decided:
        offers = Offers(summary.accepted, summary.refused, summary.pending)
        reestimation = reestimate(config.sample_size, offers, config.target_sample_size)
    return render(
        request,
        "offers/acceptance.html",
        {
            "trial": trial,
            "summary": summary,
            "reestimation": reestimation,
            "plan": config.sample_size,
            "assumed_acceptance": _assumed_acceptance(config),
            "decided_short": reestimation is not None
            and summary.decided < reestimation.plan.interim_decisions,
        },
    )


@require(Cap.ALLOCATION_VIEW)
def acceptance_figure(request: AuthenticatedHttpRequest) -> HttpResponse:
    from blend.stats.acceptance_plot import acceptance_png  # matplotlib only when drawn

    trial = current_trial(request)
    summary = acceptance_summary(trial, user=request.user)
    assumed = _assumed_acceptance(get_trial(trial))
    # Drawing takes a few hundred milliseconds; the same numbers give the same figure, so
    # it is kept under a digest of exactly what is drawn.
    digest = hashlib.sha256(repr((trial, assumed, summary)).encode()).hexdigest()[:32]
    png = cache.get_or_set(
        f"blend.offers.acceptance-figure:{digest}",
        lambda: acceptance_png(summary, trial=trial, assumed_acceptance=assumed),
        FIGURE_SECONDS,
    )
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "no-store"  # it shows arm-level data; never from a cache
    return response


FIGURE_SECONDS = 3600


def _assumed_acceptance(config: Any) -> float | None:
    return None if config.sample_size is None else config.sample_size.assumed_acceptance
