"""Form helpers every app's forms share: the mixin that runs a form's edit checks live.

The checks themselves are declared beside each form (``<app>/editchecks.py``, built
from :mod:`blend.editchecks`). This module imports no app: the lowest apps' forms
use it. Cross-form dates (the participant's timeline) come from whichever app
registers a :data:`TimelineSource` at start-up (data management, in its
``AppConfig.ready``): the apps that own those dates sit above the forms that check them.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import Any

from django import forms

from blend.editchecks import EditCheck, Finding, run_checks, timeline_names
from blend.web.findings import describe, show_choice, show_value, timeline_label, verbose_label

#: ``source(participant, names)``: that participant's timeline dates of ``names``,
#: keyed ``timeline.<name>`` (``{}`` for a participant not yet saved).
TimelineSource = Callable[[Any, Set[str]], dict[str, Any]]

_timeline_source: TimelineSource | None = None


def register_timeline_source(source: TimelineSource) -> None:
    """Say where forms read the participant's timeline from (called once, at start-up)."""
    global _timeline_source
    _timeline_source = source


def timeline_values(participant: Any, checks: tuple[EditCheck, ...]) -> dict[str, Any]:
    """The timeline dates ``checks`` read, for ``participant``; none when no source is registered,
    so the checks that need them stay silent."""
    names = timeline_names(checks)
    if participant is None or not names or _timeline_source is None:
        return {}
    return _timeline_source(participant, names)


class EditCheckMixin:
    """Runs the form's declared ``edit_checks`` live, when the form is validated.

    Put it before ``forms.Form`` in the bases. Cross-form date checks need the
    participant: pass ``participant=`` to the form or set ``form.participant``.
    A finding lands on its field (or the form when the field is not on it), and
    never on a field that already has an error, so nothing is reported twice. It is
    said in words (``blend.web.findings.describe``) with the form's labels; the check
    code is the error's ``code``, shown only to the roles that manage data.
    """

    edit_checks: tuple[EditCheck, ...] = ()

    def __init__(self, *args: Any, participant: Any = None, **kwargs: Any) -> None:
        self.participant = participant
        super().__init__(*args, **kwargs)

    def edit_check_values(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        instance = getattr(
            self, "instance", None
        )  # a ModelForm: checks may read fields not on the form
        saved = (
            {f.name: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
            if instance
            else {}
        )
        return {**timeline_values(self.participant, self.edit_checks), **saved, **cleaned}

    def edit_check_findings(self) -> list[Finding]:
        return run_checks(self.edit_checks, self.edit_check_values(dict(self.cleaned_data)))  # type: ignore[attr-defined]

    def edit_check_label(self, name: str) -> str:
        """The label the reader sees for ``name``: the form's, the model's, or the timeline's."""
        field = self.fields.get(name)  # type: ignore[attr-defined]
        if field is not None and field.label:
            return str(field.label)
        words = timeline_label(name)
        if words is not None:
            return words
        instance = getattr(self, "instance", None)
        known = verbose_label(type(instance), name) if instance is not None else None
        return known or name.replace("_", " ")

    def edit_check_display(self, name: str, value: Any) -> str:
        """``value`` of ``name`` in words: a choice by its label, a date written out."""
        field = self.fields.get(name)  # type: ignore[attr-defined]
        if isinstance(field, forms.ChoiceField):
            choices: Any = field.choices  # normalised (value, label) pairs, possibly grouped
            return show_choice(choices, value)
        return show_value(value)

    def edit_check_error(self, finding: Finding) -> forms.ValidationError:
        text = describe(finding, self.edit_check_label, self.edit_check_display)
        return forms.ValidationError(text, code=finding.check)

    def _post_clean(self) -> None:
        # After the form's own clean(): its messages come first, and a field it already
        # rejected is not reported again by a check.
        super()._post_clean()  # type: ignore[misc]
        for finding in self.edit_check_findings():
            field = finding.field if finding.field in self.fields else None  # type: ignore[attr-defined]
            if field is not None and self.has_error(field):  # type: ignore[attr-defined]
                continue
            self.add_error(field, self.edit_check_error(finding))  # type: ignore[attr-defined]
