"""System check linkage.E001: ``cohort/linkage.toml`` is valid (blend.protocol.linkage)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import Error, register

from blend.protocol import ProtocolError
from blend.protocol.linkage import load_linkage


@register()
def check_linkage_config(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[Error]:
    try:
        load_linkage()
    except ProtocolError as error:
        return [
            Error(
                str(error),
                hint="Fix linkage.toml (docs/interoperability.md §3 lists the keys).",
                id="linkage.E001",
            )
        ]
    return []
