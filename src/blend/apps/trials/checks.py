"""System check trials.E001: every trial folder, shipped and registered, is valid.

Runs at start-up (``runserver``, ``migrate``, ``check``), so a trial folder edited by
hand after ``blend trial add`` stops the platform with the file, key, expected and found
instead of failing later on a form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import Error, register

from blend.apps.trials.services import all_trials
from blend.protocol import ProtocolError


@register()
def check_trial_folders(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[Error]:
    try:
        all_trials()
    except ProtocolError as error:
        return [
            Error(
                str(error),
                hint="Fix the trial folder (docs/trials.md lists the rules).",
                id="trials.E001",
            )
        ]
    return []
