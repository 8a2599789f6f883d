"""Deploy checks of the settings themselves (``blend check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register(deploy=True)
def check_no_local_settings_file(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """web.E001: production takes its settings from its environment and secret store,
    never from the development file that ``make demo`` writes."""
    applied = getattr(settings, "LOCAL_SETTINGS_APPLIED", [])
    if not applied:
        return []
    return [
        Error(
            f"settings were read from the development file {settings.LOCAL_SETTINGS_FILE} "
            f"({', '.join(applied)})",
            hint="That file is written by `make demo`. Delete it on a server, and set the "
            "variables of docs/deployment.md in the environment instead.",
            id="web.E001",
        )
    ]
