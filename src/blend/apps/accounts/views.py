from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import translation
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
from blend.apps.accounts.forms import (
    ApproveForm,
    OwnPasswordChangeForm,
    OwnPasswordForm,
    PasswordResetRequestForm,
    ReasonForm,
    RoleForm,
    StaffForm,
    TrialRoleForm,
)
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.models import GrantRequest, GrantStatus, User
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


def _report(request: HttpRequest, change: services.AccessChange) -> None:
    if change.pending and change.request is not None:
        messages.warning(
            request,
            _(
                "Grant request #%(id)s waits for a second person with staff management "
                "to approve it (two-person rule): %(gains)s."
            )
            % {"id": change.request.pk, "gains": change.request.gains_text},
        )
    else:
        messages.success(request, _("Done."))


@require(Cap.USERS_MANAGE)
def staff_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.create_staff(
                **form.cleaned_data, site=request.user.site, by=request.user
            )
        except services.StaffError as error:
            field = str(error).split(":")[0]
            form.add_error(field if field in form.fields else None, str(error))
        else:
            messages.success(
                request,
                _("Account created; its owner sets their password with the link sent to %(email)s.")
                % {"email": user.email},
            )
            pending = user.grant_requests.filter(status=GrantStatus.PENDING).first()
            if pending is not None:
                _report(request, services.AccessChange(applied=False, request=pending))
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
            "pending_users": set(
                GrantRequest.objects.filter(status=GrantStatus.PENDING).values_list(
                    "user_id", flat=True
                )
            ),
        },
        status=400 if form.errors else 200,
    )


@require(Cap.USERS_MANAGE)
def staff_detail(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    target = get_object_or_404(User, pk=user_id)
    role_form = RoleForm(initial={"role": target.role})
    trial_form = TrialRoleForm(initial={"role": target.role})
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "role":
                role_form = RoleForm(request.POST)
                if not role_form.is_valid():
                    raise services.StaffError("role: " + role_form.errors.as_text())
                _report(
                    request,
                    services.change_role(
                        target,
                        role_form.cleaned_data["role"],
                        by=request.user,
                        reason=role_form.cleaned_data["reason"],
                    ),
                )
            elif action == "grant":
                trial_form = TrialRoleForm(request.POST)
                if not trial_form.is_valid():
                    raise services.StaffError("trial: " + trial_form.errors.as_text())
                _report(
                    request,
                    services.grant_trial_role(
                        target,
                        trial_form.cleaned_data["trial"],
                        trial_form.cleaned_data["role"],
                        by=request.user,
                    ),
                )
            elif action == "revoke":
                _report(
                    request,
                    services.revoke_trial_role(
                        target, request.POST.get("trial", ""), by=request.user
                    ),
                )
            elif action == "invite":
                services.send_invitation(target, by=request.user)
                messages.success(request, _("A new set-password link is on its way."))
            else:
                return HttpResponse(status=404)
        except services.StaffError as error:
            messages.error(request, str(error))
            status = 400
        else:
            return redirect("accounts:staff-detail", user_id=target.pk)
    return render(
        request,
        "accounts/staff_detail.html",
        {
            "target": target,
            "role_form": role_form,
            "trial_form": trial_form,
            "trial_roles": target.trial_role_set.all(),
            "grants": target.grant_requests.select_related("requested_by", "decided_by")[:20],
        },
        status=status,
    )


@require_POST
@require(Cap.USERS_MANAGE)
def staff_action(request: AuthenticatedHttpRequest, user_id: int, action: str) -> HttpResponse:
    target = get_object_or_404(User, pk=user_id)
    form = ReasonForm(request.POST)
    try:
        if action == "unlock":
            services.unlock(target, by=request.user)
            messages.success(request, _("Done."))
        elif action in {"activate", "deactivate"}:
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            _report(
                request,
                services.set_active(target, action == "activate", by=request.user, reason=reason),
            )
        else:
            return HttpResponse(status=404)
    except services.StaffError as error:
        messages.error(request, str(error))
    return redirect("accounts:staff")


@require(Cap.USERS_MANAGE)
def grants(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Grant requests waiting for a second person, and those decided in the last 30 days."""
    return render(
        request,
        "accounts/grants.html",
        {
            "pending": services.pending_grants(),
            "recent": services.recent_grants(),
            "approve_form": ApproveForm(),
            "reason_form": ReasonForm(),
        },
    )


@require_POST
@require(Cap.USERS_MANAGE)
def grant_decide(request: AuthenticatedHttpRequest, grant_id: int, action: str) -> HttpResponseBase:
    grant = get_object_or_404(GrantRequest.objects.select_related("user"), pk=grant_id)
    try:
        if action == "approve":
            form = ApproveForm(request.POST)
            password = form.cleaned_data["password"] if form.is_valid() else ""
            services.approve_grant(grant, by=request.user, password=password, request=request)
            messages.success(request, _("Grant #%(id)s approved.") % {"id": grant.pk})
        elif action == "refuse":
            reason_form = ReasonForm(request.POST)
            reason = reason_form.cleaned_data["reason"] if reason_form.is_valid() else ""
            services.refuse_grant(grant, by=request.user, reason=reason)
            messages.success(request, _("Grant #%(id)s refused.") % {"id": grant.pk})
        else:
            return HttpResponse(status=404)
    except services.StaffError as error:
        messages.error(request, str(error))
        response = grants(request)
        response.status_code = 400
        return response
    return redirect("accounts:grants")


# --- own passwords ------------------------------------------------------------------------


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The one-time link (invitation or reset): the owner chooses their password and is
    signed in. Django's view keeps the token out of the address bar after the first
    request, and the link dies once a password is set."""

    form_class = OwnPasswordForm
    template_name = "accounts/password_set.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("dashboard")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password is set."))
        user = form.user
        if not user.can(Cap.PARTICIPANT_VIEW):  # the role still waits for a second person
            messages.info(
                self.request,
                _("Your role waits for the approval of a second administrator."),
            )
            return redirect("accounts:roles")
        return response


class ChangePasswordView(auth_views.PasswordChangeView):
    form_class = OwnPasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("dashboard")

    def get_form(self, form_class: Any = None) -> Any:
        form = super().get_form(form_class)
        form.request = self.request
        return form

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password is changed."))
        return response


def password_reset(request: HttpRequest) -> HttpResponse:
    """Ask for a one-time link by e-mail. The answer is the same page whether or not an
    account has the address, so the form tells nobody who has an account."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.request_password_reset(
            form.cleaned_data["email"], language=translation.get_language()
        )
        return redirect("accounts:password-reset-sent")
    return render(
        request, "accounts/password_reset.html", {"form": form}, status=400 if form.errors else 200
    )


def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_reset_sent.html")
