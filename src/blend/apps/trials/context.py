"""Template context: the trial switcher of the top bar, listing the trials the user may
work in."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from blend.apps.trials.http import current_trial, trials_open_to
from blend.apps.trials.lookup import status_label, trials_by_code


def trial_switcher(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}
    trials = trials_by_code()
    code = current_trial(request)
    open_ = trials_open_to(user)  # only the trials the user has a role in
    return {
        "current_trial": trials[code],
        "trial_choices": [
            {
                "code": c,
                "title": t.title,
                "status": t.status,
                "status_label": status_label(t.status),
            }
            for c, t in trials.items()
            if c in open_
        ],
    }
