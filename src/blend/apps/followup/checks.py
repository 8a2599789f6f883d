"""System check followup.E001: the schedule of assessments is consistent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import Error, register

from blend.protocol import ProtocolError, load_protocol
from blend.protocol.schedule import parse_schedule


@register()
def check_schedule(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[Error]:
    from blend.instruments import instrument_codes

    try:
        parse_schedule(load_protocol().section("schedule"), instrument_codes())
    except ProtocolError as error:
        return [
            Error(
                str(error),
                hint="Fix schedule.toml (docs/follow-up.md lists the rules).",
                id="followup.E001",
            )
        ]
    return []
