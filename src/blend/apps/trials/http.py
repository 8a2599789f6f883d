"""The trial a staff member is working in: chosen with the trial switcher in the top bar
and kept in their session, so every page (screening, randomization, offers, treatment,
exports) shows that trial's records."""

from __future__ import annotations

from django.http import HttpRequest

from blend.apps.trials.lookup import UnknownTrial, default_trial_code, known_trial_codes

SESSION_KEY = "blend.trial"


def current_trial(request: HttpRequest) -> str:
    """The trial code of the request: ``?trial=`` when valid, else the session's, else the
    default trial."""
    known = known_trial_codes()
    asked = request.GET.get("trial")
    if asked in known:
        return str(asked)
    kept = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    return str(kept) if kept in known else default_trial_code()


def choose_trial(request: HttpRequest, code: str) -> str:
    """Keep ``code`` as the session's trial; raises UnknownTrial for a code no trial has."""
    known = known_trial_codes()
    if code not in known:
        raise UnknownTrial(f"trial: expected one of {', '.join(known)}, got {code!r}")
    request.session[SESSION_KEY] = code
    return code
