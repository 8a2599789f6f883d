"""Enforce the permission matrix in views (``require``) and anywhere else (``check``).

A capability that acts on one trial's records (``domain.TRIAL_CAPABILITIES``) is checked
in a trial: ``require`` uses the trial the request works in (``trials.http.current_trial``:
the switcher's choice, or ``?trial=``); ``check`` the one it is given (the default trial
for None). A request whose ``?trial=`` names a trial the user has no role in is refused
whatever the capability, so forcing the parameter shows nothing of that trial.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from blend.apps.accounts.domain import Cap, is_trial_scoped
from blend.apps.accounts.models import User
from blend.apps.trials.http import asked_trial, current_trial


def open_trials_of(user: Any) -> Collection[str] | None:
    """The trials ``user`` may work in (None: every trial), for ``trials.http``."""
    return user.open_trials() if isinstance(user, User) else None


def check(user: Any, capability: Cap | str, trial: str | None = None) -> None:
    """Raise PermissionDenied unless ``user`` holds ``capability`` (a per-trial one in
    ``trial``, the default trial for None)."""
    if not (getattr(user, "is_authenticated", False) and user.can(capability, trial=trial)):
        where = f" in trial {trial}" if trial and is_trial_scoped(capability) else ""
        raise PermissionDenied(f"This needs the capability {Cap(capability).value!r}{where}.")


def check_works_in(user: Any, trial: str) -> None:
    """Raise PermissionDenied unless ``user`` may work in ``trial`` (has a role there)."""
    if isinstance(user, User) and not user.works_in(trial):
        raise PermissionDenied(f"You have no role in trial {trial}.")


def check_request(request: HttpRequest, capabilities: Collection[Cap | str], trial: str) -> None:
    """Every capability for ``request.user``; the per-trial ones in ``trial``."""
    asked = asked_trial(request)
    if asked is not None:
        check_works_in(request.user, asked)
    for capability in capabilities:
        check(request.user, capability, trial=trial if is_trial_scoped(capability) else None)


def require(
    *capabilities: Cap | str,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """View decorator: log in first, then every listed capability is needed, a per-trial
    one in the trial the request works in."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            check_request(request, capabilities, current_trial(request))
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorate
