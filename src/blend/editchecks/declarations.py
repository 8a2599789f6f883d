"""How an app declares its forms' edit checks, for ``blend check-data`` to find.

Each app that has checks lists them in ``<app>/editchecks.py`` as ``CHECK_SETS``, a
list of :class:`CheckSet`; the data-management runner collects every app's list
(``blend.apps.discover("editchecks")``), so no app lists another app's forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .engine import EditCheck, timeline_names


@dataclass(frozen=True)
class CheckSet:
    """The edit checks of one form.

    ``form`` is the form's name on data queries. Forms run ``checks`` live on entry.
    When ``model`` is given (a Django model class; untyped here, the core has no
    Django), ``blend check-data`` runs them over every saved row too: a row's values
    are its fields by name (a foreign key by its id) and, when the checks read any,
    the participant's timeline dates; ``participant_field`` names the value that holds
    the participant's id. Without ``model`` the checks run on the form only (values
    that are not stored as the form has them). ``choices`` gives the (value, label)
    choices of stored fields whose model field has none (a list kept as JSON), so a
    finding shows them by label.
    """

    form: str
    checks: tuple[EditCheck, ...]
    model: Any = None
    participant_field: str = "participant"
    choices: Mapping[str, Any] = field(default_factory=dict)

    @property
    def uses_timeline(self) -> bool:
        return bool(timeline_names(self.checks))
