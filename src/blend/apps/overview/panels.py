"""Extension points of the staff pages, found in each app's ``panels`` module.

- Participant page: any app may define ``panels.participant_panel(request, participant)``
  returning ``{"template": ..., "context": {...}}`` or None.
- Dashboard: any app may define ``panels.dashboard_cards(request)`` returning a list of
  ``{"label": ..., "value": ..., "url": optional, "tone": optional ok/warn/bad}`` (respecting
  the user's capabilities: e.g. counts per arm only with ``allocation.view``).

Both are shown in the order of settings.BLEND_APPS."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from blend.apps import discover
from blend.apps.accounts.http import AuthenticatedHttpRequest


def _panel_modules(hook: str) -> list[ModuleType]:
    return [module for module in discover("panels") if hasattr(module, hook)]


def collect_panels(request: AuthenticatedHttpRequest, participant: Any) -> list[dict[str, Any]]:
    panels = [
        module.participant_panel(request, participant)
        for module in _panel_modules("participant_panel")
    ]
    return [panel for panel in panels if panel]


def collect_dashboard_cards(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    return [
        card
        for module in _panel_modules("dashboard_cards")
        for card in module.dashboard_cards(request)
    ]
