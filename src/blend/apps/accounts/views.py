from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from blend.apps.accounts import services
from blend.apps.accounts.domain import (
    CAPABILITY_HELP,
    ROLE_CAPABILITIES,
    ROLE_LABELS,
    Cap,
    Role,
    is_trial_scoped,
)
from blend.apps.accounts.forms import ReasonForm, StaffForm
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import require


def locked(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/locked.html", status=403)


@login_required
def role_matrix(request: HttpRequest) -> HttpResponse:
    rows = [
        {
            "cap": cap.value,
            "help": CAPABILITY_HELP[cap],
            "per_trial": is_trial_scoped(cap),
            "cells": [cap in ROLE_CAPABILITIES[r] for r in Role],
        }
        for cap in Cap
    ]
    return render(
        request, "accounts/roles.html", {"roles": [ROLE_LABELS[r] for r in Role], "rows": rows}
    )


@require(Cap.USERS_MANAGE)
def staff_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_staff(**form.cleaned_data, site=request.user.site, by=request.user)
        except services.StaffError as error:
            field = str(error).split(":")[0]
            form.add_error(field if field in form.fields else None, str(error))
        else:
            messages.success(request, _("Account created."))
            return redirect("accounts:staff")
    users = User.objects.order_by("username").prefetch_related("trial_role_set")
    return render(
        request,
        "accounts/staff.html",
        {
            "form": form,
            "users": users,
            "reason_form": ReasonForm(),
            "locked": services.locked_usernames(),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@require(Cap.USERS_MANAGE)
def staff_action(request: AuthenticatedHttpRequest, user_id: int, action: str) -> HttpResponse:
    target = get_object_or_404(User, pk=user_id)
    form = ReasonForm(request.POST)
    try:
        if action == "unlock":
            services.unlock(target, by=request.user)
        elif action in {"activate", "deactivate"}:
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            services.set_active(target, action == "activate", by=request.user, reason=reason)
        else:
            return HttpResponse(status=404)
    except services.StaffError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Done."))
    return redirect("accounts:staff")
