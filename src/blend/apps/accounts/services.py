"""Account services: re-authentication for signatures and confirmations, staff accounts
and their roles per trial."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Role
from blend.apps.accounts.models import TrialRole, User
from blend.apps.audit.services import record_event
from blend.apps.trials.lookup import known_trial_codes


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
    trials: Sequence[tuple[str, str]] = (),
) -> User:
    """Create a staff account with one role (audited); ``trials`` (code, role) pairs
    limit it to those trials, each with its role (``grant_trial_role``), all or nothing."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    if role not in {r.value for r in Role}:
        raise StaffError(f"role: expected one of {', '.join(r.value for r in Role)}, got {role!r}")
    if User.objects.filter(username=username).exists():
        raise StaffError(f"username: {username!r} is already taken")
    candidate = User(username=username, role=role, email=email)
    try:
        validate_password(password, candidate)
    except ValidationError as error:
        raise StaffError("password: " + " ".join(error.messages)) from None
    for code, trial_role in trials:
        _checked_trial(code)
        if trial_role not in {r.value for r in Role}:
            raise StaffError(
                f"role in {code}: expected one of {', '.join(r.value for r in Role)}, "
                f"got {trial_role!r}"
            )
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
        for code, trial_role in trials:
            grant_trial_role(user, code, trial_role, by=by)
    return user


def set_active(user: User, active: bool, *, by: User, reason: str) -> None:
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


def _checked_trial(trial: str) -> str:
    known = known_trial_codes()
    if trial not in known:
        raise StaffError(f"trial: expected one of {', '.join(known)}, got {trial!r}")
    return trial


def grant_trial_role(user: User, trial: str, role: str, *, by: User | None) -> TrialRole:
    """Give ``user`` ``role`` in ``trial`` (or change the role they have there), audited.

    From their first trial role on, the user works only in the trials they have one for
    (docs/roles.md, "Roles per trial")."""
    _checked_trial(trial)
    if role not in {r.value for r in Role}:
        raise StaffError(f"role: expected one of {', '.join(r.value for r in Role)}, got {role!r}")
    with transaction.atomic():
        previous = TrialRole.objects.select_for_update().filter(user=user, trial=trial).first()
        grant, _created = TrialRole.objects.update_or_create(
            user=user, trial=trial, defaults={"role": role}
        )
        record_event(
            "staff.trial_role.grant",
            actor=by,
            obj=grant,
            details={
                "username": user.username,
                "trial": trial,
                "role": role,
                "previous_role": previous.role if previous else None,
            },
        )
    user.__dict__.pop("trial_roles", None)  # User.trial_roles is read again
    return grant


def revoke_trial_role(user: User, trial: str, *, by: User | None) -> None:
    """Take ``user``'s role in ``trial`` away, audited. Revoking the last one returns the
    user to working in every trial with their own role."""
    _checked_trial(trial)
    with transaction.atomic():
        grant = TrialRole.objects.select_for_update().filter(user=user, trial=trial).first()
        if grant is None:
            raise StaffError(f"trial: {user.username!r} has no role in {trial}")
        record_event(
            "staff.trial_role.revoke",
            actor=by,
            details={"username": user.username, "trial": trial, "role": grant.role},
        )
        grant.delete()
    user.__dict__.pop("trial_roles", None)


def parse_trial_role(text: str, default_role: str) -> tuple[str, str]:
    """``CODE`` or ``CODE:ROLE`` (the command line's ``--trial``) as (code, role)."""
    code, _sep, role = text.partition(":")
    return code.strip(), (role.strip() or default_role)
