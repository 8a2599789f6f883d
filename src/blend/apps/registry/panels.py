"""Participant-page panels. Any app may define ``panels.participant_panel(request,
participant)`` returning ``{"template": ..., "context": {...}}`` or None; the
participant page shows them in the order of settings.BLEND_APPS."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def collect_panels(request: HttpRequest, participant: Any) -> list[dict[str, Any]]:
    panels = []
    for app in settings.BLEND_APPS:
        if app.endswith(".registry") or importlib.util.find_spec(f"{app}.panels") is None:
            continue
        module = importlib.import_module(f"{app}.panels")
        panel = module.participant_panel(request, participant)
        if panel:
            panels.append(panel)
    return panels
