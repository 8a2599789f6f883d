"""The trial switcher."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from blend.apps.trials.http import TrialNotOpen, choose_trial
from blend.apps.trials.lookup import UnknownTrial


@login_required
def switch(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    try:
        code = choose_trial(request, request.POST.get("trial", ""))
    except UnknownTrial as error:
        messages.error(request, str(error))
    except TrialNotOpen:
        messages.error(
            request,
            _(
                "You have no role in %(trial)s, so you cannot work in it. Ask the trial "
                "administrator for one."
            )
            % {"trial": request.POST.get("trial", "")},
        )
    else:
        messages.info(request, _("Now working in %(trial)s.") % {"trial": code})
    return redirect(target)
