"""Write guards: rules that higher apps register with the audit trail.

``audited_save`` and ``audited_delete`` are the only way services write clinical
data, so a rule that must hold for every write (no change to locked data, no
change to a screening once the participant is randomized) is a guard registered
here at start-up, by the app that owns the rule, from its ``AppConfig.ready``.
The audit app stays the lowest app: it never imports the apps whose rules it runs.

A guard takes the instance about to be written and raises to refuse the write;
its exception reaches the caller unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

WriteGuard = Callable[[models.Model], None]

_guards: dict[str, WriteGuard] = {}


def register_write_guard(name: str, guard: WriteGuard) -> None:
    """Add (or replace, so that ``ready`` may run twice) the guard called ``name``."""
    _guards[name] = guard


def run_write_guards(instance: models.Model) -> None:
    for guard in _guards.values():
        guard(instance)


def registered_guards() -> list[str]:
    return list(_guards)
