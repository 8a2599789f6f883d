"""Write guards: rules that higher apps register with the audit trail.

``audited_save`` and ``audited_delete`` are the only way services write clinical
data, so a rule that must hold for every write (no change to locked data, no
change to a screening once the participant is randomized) is a guard registered
here at start-up, by the app that owns the rule, from its ``AppConfig.ready``.
The audit app stays the lowest app: it never imports the apps whose rules it runs.

A guard takes the instance about to be written and raises to refuse the write;
its exception reaches the caller unchanged. A guard raises a subclass of
:class:`WriteRefused`, so that the web layer, the commands and the lower apps can turn
any refusal into a clear message without importing the app that owns the rule.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

WriteGuard = Callable[[models.Model], None]


class WriteRefused(PermissionError):
    """A registered write guard refused a write. The message is written for the staff
    member who tried it (translated into the active language); patient pages never show
    it, because it may name the participant."""


_guards: dict[str, WriteGuard] = {}


def register_write_guard(name: str, guard: WriteGuard) -> None:
    """Add (or replace, so that ``ready`` may run twice) the guard called ``name``."""
    _guards[name] = guard


def run_write_guards(instance: models.Model) -> None:
    for guard in _guards.values():
        guard(instance)


def refusal_of(instance: models.Model) -> WriteRefused | None:
    """The refusal that writing ``instance`` would meet now, or None: lets a page say
    "this cannot be saved" before anyone types, instead of after."""
    try:
        run_write_guards(instance)
    except WriteRefused as refused:
        return refused
    return None


def registered_guards() -> list[str]:
    return list(_guards)
