"""Declarative edit checks (pure; no Django): the engine and how apps declare their checks.

- :mod:`.engine`: the four kinds of check (``Range``, ``RequiredIf``, ``CrossField``,
  ``DateOrder``), running them, and the questionnaire-order check.
- :mod:`.declarations`: :class:`CheckSet`, one form's checks as its app declares them
  in ``<app>/editchecks.py``.

Documented in ``docs/data-management.md``.
"""

from __future__ import annotations

from .declarations import CheckSet
from .engine import (
    TIMELINE_PREFIX,
    CrossField,
    DateOrder,
    EditCheck,
    Finding,
    Range,
    Relation,
    RequiredIf,
    Rule,
    blank,
    out_of_order,
    run_checks,
    timeline_names,
)

__all__ = [
    "TIMELINE_PREFIX",
    "CheckSet",
    "CrossField",
    "DateOrder",
    "EditCheck",
    "Finding",
    "Range",
    "Relation",
    "RequiredIf",
    "Rule",
    "blank",
    "out_of_order",
    "run_checks",
    "timeline_names",
]
