"""The trial a staff member is working in: chosen with the trial switcher in the top bar
and kept in their session, so every page (screening, randomization, offers, treatment,
exports) shows that trial's records.

Which trials a user may work in is decided by the accounts app (roles per trial), which
sits above this one: it registers its answer with ``register_trial_access`` when it
starts, so this app never imports it."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from django.http import HttpRequest

from blend.apps.trials.lookup import UnknownTrial, default_trial_code, known_trial_codes

SESSION_KEY = "blend.trial"

#: user → the trial codes they may work in, or None for every trial.
TrialAccess = Callable[[Any], Collection[str] | None]
_access: list[TrialAccess] = []


class TrialNotOpen(PermissionError):
    """The user has no role in the trial they asked for."""


def register_trial_access(access: TrialAccess) -> None:
    """Let ``access`` narrow the trials a user may work in (accounts registers one)."""
    if access not in _access:
        _access.append(access)


def trials_open_to(user: Any) -> tuple[str, ...]:
    """The known trials ``user`` may work in, in the order of ``known_trial_codes``."""
    codes = known_trial_codes()
    for access in _access:
        allowed = access(user)
        if allowed is not None:
            codes = tuple(c for c in codes if c in allowed)
    return codes


def may_work_in(user: Any, code: str) -> bool:
    return code in trials_open_to(user)


def current_trial(request: HttpRequest) -> str:
    """The trial code of the request: ``?trial=`` when it names a known trial (the views
    then refuse it if the user has no role there), else the session's, else the default
    trial, else the first trial the user may work in."""
    known = known_trial_codes()
    asked = request.GET.get("trial")
    if asked in known:
        return str(asked)
    user = getattr(request, "user", None)
    open_ = trials_open_to(user)
    kept = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if kept in open_:
        return str(kept)
    default = default_trial_code()
    return default if default in open_ or not open_ else open_[0]


def asked_trial(request: HttpRequest) -> str | None:
    """The ``?trial=`` of the request when it names a known trial, else None."""
    asked = request.GET.get("trial")
    return str(asked) if asked in known_trial_codes() else None


def choose_trial(request: HttpRequest, code: str) -> str:
    """Keep ``code`` as the session's trial; raises UnknownTrial for a code no trial has,
    TrialNotOpen for a trial the user has no role in."""
    known = known_trial_codes()
    if code not in known:
        raise UnknownTrial(f"trial: expected one of {', '.join(known)}, got {code!r}")
    open_ = trials_open_to(getattr(request, "user", None))
    if code not in open_:
        raise TrialNotOpen(
            f"trial: you have no role in {code}; you may work in {', '.join(open_) or 'no trial'}"
        )
    request.session[SESSION_KEY] = code
    return code
