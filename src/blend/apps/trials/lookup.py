"""Which trials there are, and the one a caller means.

Every per-trial record (screening, allocation, offer, treatment) names its trial by
code. A caller that names none means the deployment's first trial, the one the
platform ran before it hosted several (``load_protocol().trial_code``: BLEND), so code
and data from that time keep their meaning.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from blend.apps.trials.services import all_trials, registered_trial_dirs
from blend.protocol import Trial, load_protocol, load_trial, trial_codes


class UnknownTrial(ValueError):
    """A trial code that names no shipped or registered trial."""


def default_trial_code() -> str:
    return load_protocol().trial_code


def known_trial_codes() -> tuple[str, ...]:
    return tuple(trial_codes(trial_dirs=registered_trial_dirs()))


def trial_code_or_default(code: str | None) -> str:
    """``code`` checked against the known trials, or the default trial's code for None."""
    if code is None:
        return default_trial_code()
    known = known_trial_codes()
    if code not in known:
        raise UnknownTrial(f"trial: expected one of {', '.join(known)}, got {code!r}")
    return code


def get_trial(code: str | None = None) -> Trial:
    """The validated configuration of trial ``code`` (the default trial for None)."""
    return load_trial(trial_code_or_default(code), trial_dirs=registered_trial_dirs())


def trials_by_code() -> dict[str, Trial]:
    return all_trials()


STATUS_LABELS = {
    "planned": gettext_lazy("planned"),
    "recruiting": gettext_lazy("recruiting"),
    "follow-up": gettext_lazy("in follow-up"),
    "completed": gettext_lazy("completed"),
}


def status_label(status: str) -> str:
    """A trial's status (trial.toml) in the reader's language."""
    return str(STATUS_LABELS.get(status, status))


def form_name(form: str, trial: str) -> str:
    """A per-trial form's name in the casebook: the default trial's keeps its plain name
    (as before trials had codes, so locks and sign-offs keep theirs), another trial's
    carries its code."""
    return form if trial == default_trial_code() else f"{form} ({trial})"
