"""Account services: re-authentication for signatures and confirmations, staff accounts,
their roles per trial under the two-person rule, and passwords only their owner knows.

**The two-person rule** (docs/security.md §2). Every change of a staff member's access
goes through ``change_access`` (``create_staff``, ``change_role``, ``grant_trial_role``,
``revoke_trial_role`` and ``set_active`` are its callers). A change that gives the user a
guarded capability they did not hold (``domain.GUARDED_CAPABILITIES``: ``allocation.view``
in a trial, ``identifiers.view``, ``users.manage``) is not applied: it becomes a pending
``GrantRequest``, which a second person approves (``approve_grant``) with their own
password — someone who holds ``users.manage`` and is neither the requester nor the
grantee. Until then the user lacks the capability. Other changes apply at once. Every
request, approval, refusal and refused attempt is audited (``staff.grant.*``).

The server operator (the command line, the demo loader; ``by=None``) asks like anyone
else, and any administrator may approve. Only while no account could approve (a new
installation: no active administrator with their own password other than the grantee)
does the operator's change apply at once, recorded as a ``bootstrap`` grant that the
dashboard shows.

**Own passwords** (docs/security.md §6). An account an administrator creates has no
usable password (``must_set_password``): it cannot log in and holds no capability until
its owner sets a password through the one-time link sent to their e-mail
(``passwords.set_password_link``, through the outbox) or printed once by
``blend createstaff``. Only the server operator may give a password when creating an
account, for the owner typing it at the server (the first administrator) and the demo.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from blend.apps.accounts import passwords
from blend.apps.accounts.domain import (
    Cap,
    Role,
    describe_holding,
    guarded_holdings,
    role_has,
)
from blend.apps.accounts.models import GrantRequest, GrantStatus, TrialRole, User
from blend.apps.audit.services import record_event
from blend.apps.trials.lookup import known_trial_codes


class ReauthenticationFailed(Exception):
    """The password given to confirm an action was wrong."""


def _offline_request() -> HttpRequest:
    """A bare request for callers outside a web request (the command line): the lockout
    counts failures per username, so it still applies."""
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    return request


def reauthenticate(request: HttpRequest | None, user: User, password: str) -> None:
    """Check the password of the user who is signing, confirming or approving: their own
    password, which only they know (nobody else sets it, docs/security.md §6).

    Goes through ``authenticate`` so that failures count towards the lockout.
    """
    confirmed = authenticate(
        request or _offline_request(), username=user.get_username(), password=password
    )
    if confirmed is None or confirmed.pk != user.pk or user.must_set_password:
        # Shown as it is next to the password field, so it is written for the person typing.
        raise ReauthenticationFailed(_("The password is not correct."))


class StaffError(ValueError):
    """A staff-account change that is not allowed; the message names the field."""


def _checked_role(role: str, where: str = "role") -> str:
    if role not in {r.value for r in Role}:
        raise StaffError(
            f"{where}: expected one of {', '.join(r.value for r in Role)}, got {role!r}"
        )
    return role


def _checked_trial(trial: str) -> str:
    known = known_trial_codes()
    if trial not in known:
        raise StaffError(f"trial: expected one of {', '.join(known)}, got {trial!r}")
    return trial


def _validated_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise StaffError("password: " + " ".join(error.messages)) from None


# --- the two-person rule ------------------------------------------------------------------


@dataclass(frozen=True)
class AccessChange:
    """What ``change_access`` did: applied at once, or held as a pending request."""

    applied: bool
    request: GrantRequest | None = None

    @property
    def pending(self) -> bool:
        return not self.applied


def _after(user: User, changes: Mapping[str, Any]) -> tuple[str, dict[str, str], bool]:
    role = changes.get("role", user.role) or ""
    trial_roles = dict(user.trial_roles)
    for code, trial_role in changes.get("trials", {}).items():
        if trial_role is None:
            trial_roles.pop(code, None)
        else:
            trial_roles[code] = trial_role
    return role, trial_roles, bool(changes.get("active", user.is_active))


def gains_of(user: User, changes: Mapping[str, Any]) -> list[list[str]]:
    """The guarded (capability, trial) pairs ``changes`` would give ``user``."""
    trials = known_trial_codes()
    before = guarded_holdings(user.role, user.trial_roles, trials, user.is_active)
    after = guarded_holdings(*_after(user, changes)[:2], trials, _after(user, changes)[2])
    return [list(gain) for gain in sorted(after - before)]


def possible_approvers(grantee: User, requester: User | None) -> list[User]:
    """The accounts that could approve a grant for ``grantee`` asked by ``requester``:
    active, with their own password set, holding ``users.manage``, neither of the two."""
    managing = [r.value for r in Role if role_has(r.value, Cap.USERS_MANAGE)]
    found = User.objects.filter(is_active=True, must_set_password=False, role__in=managing)
    found = found.exclude(pk=grantee.pk)
    if requester is not None:
        found = found.exclude(pk=requester.pk)
    return list(found.order_by("username"))


def _apply(user: User, changes: Mapping[str, Any], *, by: User | None, reason: str) -> None:
    """Make ``changes`` true (the caller holds the transaction), each part audited as
    before the two-person rule (``staff.role.change``, ``staff.trial_role.grant`` ...)."""
    if "role" in changes and changes["role"] != user.role:
        previous = user.role
        user.role = changes["role"]
        user.save(update_fields=["role"])
        record_event(
            "staff.role.change",
            actor=by,
            reason=reason,
            details={"username": user.username, "role": user.role, "previous_role": previous},
        )
    for code, role in changes.get("trials", {}).items():
        existing = TrialRole.objects.select_for_update().filter(user=user, trial=code).first()
        if role is None:
            if existing is None:
                continue
            record_event(
                "staff.trial_role.revoke",
                actor=by,
                details={"username": user.username, "trial": code, "role": existing.role},
            )
            existing.delete()
            continue
        grant, _created = TrialRole.objects.update_or_create(
            user=user, trial=code, defaults={"role": role}
        )
        record_event(
            "staff.trial_role.grant",
            actor=by,
            obj=grant,
            details={
                "username": user.username,
                "trial": code,
                "role": role,
                "previous_role": existing.role if existing else None,
            },
        )
    if "active" in changes and bool(changes["active"]) != user.is_active:
        user.is_active = bool(changes["active"])
        user.save(update_fields=["is_active"])
        record_event(
            "staff.activate" if user.is_active else "staff.deactivate",
            actor=by,
            reason=reason,
            details={"username": user.username},
        )
    user.__dict__.pop("trial_roles", None)  # User.trial_roles is read again


def change_access(
    user: User,
    *,
    by: User | None,
    role: str | None = None,
    trials: Mapping[str, str | None] | None = None,
    active: bool | None = None,
    reason: str = "",
) -> AccessChange:
    """Change ``user``'s own role, roles per trial (a None role revokes the trial) and
    whether the account is active, all together or nothing. Applied at once unless it
    gives a guarded capability: then a pending ``GrantRequest`` for a second person."""
    changes: dict[str, Any] = {}
    if role is not None:
        changes["role"] = _checked_role(role)
    if trials:
        changes["trials"] = {}
        for code, trial_role in trials.items():
            _checked_trial(code)
            if trial_role is not None:
                _checked_role(trial_role, f"role in {code}")
            changes["trials"][code] = trial_role
    if active is not None:
        changes["active"] = active
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one change at a time
        user.__dict__.pop("trial_roles", None)
        for code, trial_role in changes.get("trials", {}).items():
            if trial_role is None and code not in user.trial_roles:
                raise StaffError(f"trial: {user.username!r} has no role in {code}")
        gains = gains_of(user, changes)
        if not gains:
            _apply(user, changes, by=by, reason=reason)
            return AccessChange(applied=True)
        details = {
            "username": user.username,
            "changes": changes,
            "gains": [describe_holding(g) for g in gains],
        }
        if by is None and not possible_approvers(user, None):
            grant = GrantRequest.objects.create(
                user=user,
                changes=changes,
                gains=gains,
                status=GrantStatus.BOOTSTRAP,
                decided_at=timezone.now(),
                reason=reason,
            )
            record_event("staff.grant.bootstrap", actor=None, obj=grant, details=details)
            _apply(user, changes, by=None, reason=reason)
            return AccessChange(applied=True, request=grant)
        grant = GrantRequest.objects.create(
            user=user, changes=changes, gains=gains, requested_by=by, reason=reason
        )
        record_event("staff.grant.request", actor=by, obj=grant, reason=reason, details=details)
    return AccessChange(applied=False, request=grant)


def _decision_refused(grant: GrantRequest, by: Any, message: str) -> StaffError:
    """Audit a refused attempt to decide ``grant`` (outside the caller's transaction, so
    the record stays) and return the error to raise."""
    record_event(
        "staff.grant.decision_refused",
        actor=by if isinstance(by, User) else None,
        obj=grant,
        details={"username": grant.user.username, "why": message},
    )
    return StaffError(message)


def _check_decider(grant: GrantRequest, by: Any) -> None:
    if not (isinstance(by, User) and by.can(Cap.USERS_MANAGE)):
        raise _decision_refused(
            grant, by, "approver: deciding a grant needs the capability 'users.manage'"
        )
    if grant.status != GrantStatus.PENDING:
        raise StaffError(f"request: #{grant.pk} is {grant.get_status_display()} already")
    if by.pk == grant.user_id:
        raise _decision_refused(
            grant,
            by,
            "approver: the person a grant is for cannot decide it; a second person with "
            "'users.manage' must (two-person rule)",
        )


def approve_grant(
    grant: GrantRequest, *, by: Any, password: str, request: HttpRequest | None = None
) -> GrantRequest:
    """The second person approves ``grant`` with their own password; its changes apply.

    Refused (and the attempt audited) for the grantee, for the person who asked, and for
    anyone without ``users.manage``."""
    _check_decider(grant, by)
    if grant.requested_by_id is not None and by.pk == grant.requested_by_id:
        raise _decision_refused(
            grant,
            by,
            "approver: the person who asked for a grant cannot approve it; a second person "
            "with 'users.manage' must (two-person rule)",
        )
    try:
        reauthenticate(request, by, password)
    except ReauthenticationFailed as error:
        raise StaffError(f"password: {error}") from None
    with transaction.atomic():
        locked = GrantRequest.objects.select_for_update().select_related("user").get(pk=grant.pk)
        if locked.status != GrantStatus.PENDING:
            raise StaffError(f"request: #{grant.pk} is {locked.get_status_display()} already")
        locked.status, locked.decided_by, locked.decided_at = (
            GrantStatus.APPROVED,
            by,
            timezone.now(),
        )
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        record_event(
            "staff.grant.approve",
            actor=by,
            obj=locked,
            details={
                "username": locked.user.username,
                "changes": locked.changes,
                "gains": [describe_holding(g) for g in locked.gains],
                "requested_by": locked.requested_by.username if locked.requested_by else None,
            },
        )
        _apply(locked.user, locked.changes, by=by, reason=locked.reason)
    grant.refresh_from_db()
    return grant


def refuse_grant(grant: GrantRequest, *, by: Any, reason: str) -> GrantRequest:
    """Refuse ``grant`` (a reason is needed); the person who asked may withdraw their own
    this way, the grantee may not decide it."""
    _check_decider(grant, by)
    if not reason.strip():
        raise StaffError("reason: expected a reason, got nothing")
    with transaction.atomic():
        locked = GrantRequest.objects.select_for_update().select_related("user").get(pk=grant.pk)
        if locked.status != GrantStatus.PENDING:
            raise StaffError(f"request: #{grant.pk} is {locked.get_status_display()} already")
        locked.status, locked.decided_by, locked.decided_at = (
            GrantStatus.REFUSED,
            by,
            timezone.now(),
        )
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        record_event(
            "staff.grant.refuse",
            actor=by,
            obj=locked,
            reason=reason,
            details={"username": locked.user.username, "changes": locked.changes},
        )
    grant.refresh_from_db()
    return grant


def apply_as_operator(grant: GrantRequest, *, why: str) -> GrantRequest:
    """The server operator applies a grant it asked for itself, without a second person.

    Only the demo loader calls it (no page or command does), for the demo's synthetic
    accounts when another administrator exists in the database (the demo cannot know
    their password); it is recorded as a ``bootstrap`` grant, audited
    (``staff.grant.bootstrap``) and shown on the dashboard like any grant."""
    if grant.requested_by_id is not None:
        raise StaffError("request: only a grant the server operator asked for is applied this way")
    if not why.strip():
        raise StaffError("why: expected a reason, got nothing")
    with transaction.atomic():
        locked = GrantRequest.objects.select_for_update().select_related("user").get(pk=grant.pk)
        if locked.status != GrantStatus.PENDING:
            raise StaffError(f"request: #{grant.pk} is {locked.get_status_display()} already")
        locked.status, locked.decided_at, locked.reason = (
            GrantStatus.BOOTSTRAP,
            timezone.now(),
            why,
        )
        locked.save(update_fields=["status", "decided_at", "reason"])
        record_event(
            "staff.grant.bootstrap",
            actor=None,
            obj=locked,
            reason=why,
            details={"username": locked.user.username, "changes": locked.changes},
        )
        _apply(locked.user, locked.changes, by=None, reason=why)
    grant.refresh_from_db()
    return grant


def pending_grants() -> list[GrantRequest]:
    return list(
        GrantRequest.objects.filter(status=GrantStatus.PENDING).select_related(
            "user", "requested_by"
        )
    )


RECENT = timedelta(days=30)


def recent_grants(now: Any = None) -> list[GrantRequest]:
    """Grants decided in the last 30 days (approved, refused, bootstrap), newest first."""
    since = (now or timezone.now()) - RECENT
    return list(
        GrantRequest.objects.exclude(status=GrantStatus.PENDING)
        .filter(decided_at__gte=since)
        .select_related("user", "requested_by", "decided_by")
        .order_by("-decided_at", "-id")
    )


# --- staff accounts -----------------------------------------------------------------------


def create_staff(
    *,
    username: str,
    role: str,
    email: str = "",
    site: object = None,
    first_name: str = "",
    by: User | None,
    trials: Sequence[tuple[str, str]] = (),
    password: str | None = None,
) -> User:
    """Create a staff account (audited) and ask for its role and ``trials`` ((code, role)
    pairs that limit it to those trials) through ``change_access``: a guarded role waits
    for a second person. All or nothing.

    Without ``password`` the account has no usable password: an administrator (``by``)
    must give an e-mail address, to which the one-time set-password link is sent through
    the outbox; the command line prints the link instead. Only the server operator
    (``by=None``) may give a ``password``, typed by the owner (or the demo's)."""
    _checked_role(role)
    if User.objects.filter(username=username).exists():
        raise StaffError(f"username: {username!r} is already taken")
    for code, trial_role in trials:
        _checked_trial(code)
        _checked_role(trial_role, f"role in {code}")
    if password is not None and by is not None:
        raise StaffError(
            "password: an administrator cannot choose another person's password; the owner "
            "sets it with the link sent to their e-mail"
        )
    if password is None and by is not None and not email:
        raise StaffError(
            "email: expected the address to send the set-password link to, got nothing"
        )
    candidate = User(username=username, role=role, email=email, first_name=first_name)
    if password is not None:
        _validated_password(password, candidate)
    with transaction.atomic():
        user = User(
            username=username,
            email=email,
            site=site,  # type: ignore[misc]
            first_name=first_name,
            must_set_password=password is None,
            password_set_at=timezone.now() if password is not None else None,
        )
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
        record_event(
            "staff.create",
            actor=by,
            obj=user,
            details={"username": username, "role": role, "own_password": password is not None},
        )
        change_access(user, by=by, role=role, trials=dict(trials) if trials else None)
        if password is None and email:
            _send_password_link(user, step="invite")
    user.refresh_from_db()
    return user


def change_role(user: User, role: str, *, by: User | None, reason: str = "") -> AccessChange:
    """Change ``user``'s own role (pending when it gives a guarded capability)."""
    return change_access(user, by=by, role=role, reason=reason)


def grant_trial_role(user: User, trial: str, role: str, *, by: User | None) -> AccessChange:
    """Give ``user`` ``role`` in ``trial`` (or change the role they have there).

    From their first trial role on, the user works only in the trials they have one for
    (docs/roles.md, "Roles per trial"). Pending when it gives a guarded capability."""
    return change_access(user, by=by, trials={trial: role})


def revoke_trial_role(user: User, trial: str, *, by: User | None) -> AccessChange:
    """Take ``user``'s role in ``trial`` away. Revoking the last one returns the user to
    working in every trial with their own role, which can give them arms they did not
    see: then it waits for a second person like any grant."""
    return change_access(user, by=by, trials={trial: None})


def set_active(user: User, active: bool, *, by: User, reason: str) -> AccessChange:
    """Deactivate (at once) or reactivate (a grant, when the role holds a guarded
    capability) an account; a reason is needed, and nobody deactivates themselves."""
    if user.pk == by.pk and not active:
        raise StaffError("user: you cannot deactivate your own account")
    if not reason.strip():
        raise StaffError("reason: expected a reason, got nothing")
    return change_access(user, by=by, active=active, reason=reason)


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


def parse_trial_role(text: str, default_role: str) -> tuple[str, str]:
    """``CODE`` or ``CODE:ROLE`` (the command line's ``--trial``) as (code, role)."""
    code, _sep, role = text.partition(":")
    return code.strip(), (role.strip() or default_role)


# --- own passwords ------------------------------------------------------------------------

#: One set-password e-mail per account per window, however often the form is sent.
LINK_WINDOW_MINUTES = 15


def _send_password_link(user: User, *, step: str, language: str | None = None) -> None:
    """Queue the one-time link to ``user``'s e-mail (through the outbox, minted at
    delivery) for ``step`` ``invite`` (a new account) or ``reset`` (a forgotten password)."""
    now = timezone.now()
    window = int(now.timestamp()) // (LINK_WINDOW_MINUTES * 60)
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        if step == "invite":
            subject = _("Your account on the PRESENT/BLEND trial platform")
            intro = _(
                "An account %(username)s has been made for you. Choose your own password "
                "with this link (it works once, for 3 days):"
            ) % {"username": user.username}
        else:
            subject = _("Setting a new password on the PRESENT/BLEND trial platform")
            intro = _(
                "Someone asked to set a new password for the account %(username)s. If it "
                "was you, choose it with this link (it works once, for 3 days):"
            ) % {"username": user.username}
        outro = _("If you did not expect this e-mail, tell the trial office.")
    passwords.send_link_mail(
        passwords.LinkMail(
            to_address=user.email,
            subject=subject,
            body=f"{intro}\n\n{passwords.LINK}\n\n{outro}\n",
            language=language[:2],
            dedup_key=f"staff-password:{user.pk}:{step}:{window}",
            link_args={"user": user.pk},
        )
    )


def send_invitation(user: User, *, by: User) -> None:
    """Send a new one-time link to an account whose owner has not set a password yet."""
    if not user.must_set_password:
        raise StaffError(f"user: {user.username!r} has set their own password already")
    if not user.email:
        raise StaffError("email: the account has no e-mail address to send the link to")
    with transaction.atomic():
        record_event(
            "staff.password.invite", actor=by, obj=user, details={"username": user.username}
        )
        _send_password_link(user, step="invite")


def request_password_reset(email: str, *, language: str | None = None) -> None:
    """The reset form: send a one-time link to each active account with ``email``.

    Says nothing back: the form answers the same whether an account exists or not."""
    users = list(User.objects.filter(email__iexact=email.strip(), is_active=True))
    with transaction.atomic():
        for user in users:
            record_event(
                "staff.password.reset_request",
                actor=None,
                obj=user,
                details={"username": user.username},
            )
            step = "invite" if user.must_set_password else "reset"
            _send_password_link(user, step=step, language=language)


def set_own_password(user: User, password: str, *, how: str) -> User:
    """The owner sets their password: ``how`` is ``first`` (the invitation link),
    ``reset`` (the reset link) or ``change`` (signed in, with the current password)."""
    _validated_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.must_set_password = False
        user.password_set_at = timezone.now()
        user.save(update_fields=["password", "must_set_password", "password_set_at"])
        record_event(
            f"staff.password.{how}", actor=user, obj=user, details={"username": user.username}
        )
    return user
