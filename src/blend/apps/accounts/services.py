"""Account services: re-authentication for signatures and confirmations."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from blend.apps.accounts.models import User
from blend.apps.audit.services import record_event


class ReauthenticationFailed(Exception):
    """The password given to confirm an action was wrong."""


def reauthenticate(request: HttpRequest | None, user: User, password: str) -> None:
    """Check the password of the user who is signing or confirming.

    Goes through ``authenticate`` so that failures count towards the lockout.
    """
    confirmed = authenticate(request, username=user.get_username(), password=password)
    if confirmed is None or confirmed.pk != user.pk:
        # Shown as it is next to the password field, so it is written for the person typing.
        raise ReauthenticationFailed(_("The password is not correct."))


class StaffError(ValueError):
    """A staff-account change that is not allowed; the message names the field."""


def create_staff(
    *,
    username: str,
    role: str,
    password: str,
    email: str = "",
    site: object = None,
    first_name: str = "",
    by: User | None,
) -> User:
    """Create a staff account with one role (audited)."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from blend.apps.accounts.domain import Role

    if role not in {r.value for r in Role}:
        raise StaffError(f"role: expected one of {', '.join(r.value for r in Role)}, got {role!r}")
    if User.objects.filter(username=username).exists():
        raise StaffError(f"username: {username!r} is already taken")
    candidate = User(username=username, role=role, email=email)
    try:
        validate_password(password, candidate)
    except ValidationError as error:
        raise StaffError("password: " + " ".join(error.messages)) from None
    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            password=password,
            role=role,
            email=email,
            site=site,
            first_name=first_name,
        )
        record_event("staff.create", actor=by, details={"username": username, "role": role})
    return user


def set_active(user: User, active: bool, *, by: User, reason: str) -> None:
    from django.db import transaction

    if user.pk == by.pk and not active:
        raise StaffError("user: you cannot deactivate your own account")
    if not reason.strip():
        raise StaffError("reason: expected a reason, got nothing")
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        record_event(
            "staff.activate" if active else "staff.deactivate",
            actor=by,
            reason=reason,
            details={"username": user.username},
        )


def locked_usernames() -> frozenset[str]:
    """The accounts django-axes is refusing now: the failure limit reached within the
    cool-off time (an older lockout has lapsed by itself and needs no unlock)."""
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return frozenset(
        AccessAttempt.objects.filter(
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
        ).values_list("username", flat=True)
    )


def unlock(user: User, *, by: User) -> None:
    """Lift a login lockout (django-axes) for one account."""
    from axes.utils import reset

    reset(username=user.username)
    record_event("staff.unlock", actor=by, details={"username": user.username})
