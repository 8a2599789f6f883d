"""Randomize (with a confirmation step), the allocation once made, and the overview."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.allocation import blinding
from blend.apps.allocation.models import Allocation
from blend.apps.allocation.overview import overview
from blend.apps.allocation.services import AllocationError, overlap_refusals, randomize
from blend.apps.consent.services import randomization_consent_missing
from blend.apps.registry.models import Participant
from blend.apps.screening.services import latest_screening
from blend.apps.trials.http import current_trial


def _blockers(participant: Participant, trial: str) -> list[str]:
    """What stands in the way, shown on the confirmation step (the service re-checks)."""
    screening = latest_screening(participant, trial)
    blockers = []
    if screening is None or screening.status != "eligible":
        blockers.append(_("Eligibility: not screened eligible."))
    elif screening.confirmed_at is None:
        blockers.append(_("Eligibility: not confirmed by an investigator."))
    missing = randomization_consent_missing(participant)
    if missing:
        blockers.append(
            _("Consent: no current 'yes' to item(s) %(items)s.") % {"items": ", ".join(missing)}
        )
    for refusal in overlap_refusals(participant, trial, timezone.localdate()):
        until = (
            _("until %(date)s") % {"date": date_format(refusal.lifts_on)}
            if refusal.lifts_on
            else _("no end date yet")
        )
        blockers.append(
            _("Other trial: %(rule)s (%(reason)s), %(until)s.")
            % {"rule": refusal.rule.describe(), "reason": refusal.reason, "until": until}
        )
    return blockers


@require(Cap.RANDOMIZE)
def randomize_view(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    trial = current_trial(request)
    if Allocation.objects.filter(participant=participant, trial=trial).exists():
        messages.info(request, _("Already randomized: an allocation is final."))
        return redirect("participant-detail", study_id=study_id)
    error = None
    if request.method == "POST":
        try:
            randomize(participant, user=request.user, trial=trial)
        except AllocationError as exc:
            error = str(exc)
        else:
            messages.success(request, _("Randomized."))
            if blinding.sees_arm(request.user, trial):
                return redirect("allocation:detail", study_id=study_id)
            return redirect("participant-detail", study_id=study_id)
    return render(
        request,
        "allocation/randomize.html",
        {
            "participant": participant,
            "trial": trial,
            "blockers": _blockers(participant, trial),
            "error": error,
        },
        status=400 if error else 200,
    )


@require(Cap.ALLOCATION_VIEW)
def detail(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    allocation = get_object_or_404(
        Allocation.objects.select_related("allocated_by"),
        participant=participant,
        trial=current_trial(request),
    )
    return render(
        request, "allocation/detail.html", {"participant": participant, "allocation": allocation}
    )


@require(Cap.RANDOMIZATION_OVERVIEW)
def overview_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request, "allocation/overview.html", {"o": overview(trial=current_trial(request))}
    )
