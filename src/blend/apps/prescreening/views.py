"""The pre-screening worklist of the trial chosen in the top bar's switcher."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.prescreening.services import missing_summary, worklist
from blend.apps.trials.http import current_trial


@require(Cap.SCREENING_WRITE)
def worklist_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Potentially eligible members not yet screened for the trial, each with a Screen
    link to the screening form (prefilled from the cohort's facts)."""
    found = worklist(current_trial(request))
    to_screen = found.to_screen
    page = Paginator(to_screen, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "prescreening/worklist.html",
        {
            "worklist": found,
            "trial": found.trial,
            "page": page,
            "refused": found.refused,
            "eligible": sum(1 for row in to_screen if row.status == "eligible"),
            "pending": sum(1 for row in to_screen if row.status == "pending"),
            "missing": missing_summary(to_screen),
        },
    )
