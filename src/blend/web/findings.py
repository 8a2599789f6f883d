"""Edit-check findings in words, in the reader's language.

The engine (:mod:`blend.editchecks`) says *what* failed as data; this module says it
the way the form does: the field's label (the form field's label or the model's
``verbose_name``), what was expected and from where ("the registration date"), and
what was entered, with dates written out in the active language ("12 March 2026",
"12 maart 2026") and choices by their labels. The check code is not part of the
text: forms carry it as the error's ``code`` and show it to the roles that manage
data (``blend.web.templatetags.blend_forms.with_check_codes``).

Imports no app. The labels of the participant's timeline dates come from the app
that owns the timeline (``register_timeline_labels``, data management's ``ready``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.text import capfirst
from django.utils.translation import gettext

from blend.editchecks import TIMELINE_PREFIX, Finding, Relation, Rule

#: field name → its label; field name and value → the value in words
Labeller = Callable[[str], str]
Displayer = Callable[[str, Any], str]

_timeline_labels: dict[str, Any] = {}


def register_timeline_labels(labels: Mapping[str, Any]) -> None:
    """Name the timeline dates (``registered_on`` → "the registration date"), lazily translated."""
    _timeline_labels.update(labels)


def timeline_label(name: str) -> str | None:
    """The words for ``timeline.<name>``, or None for a name that is not a timeline date."""
    if not name.startswith(TIMELINE_PREFIX):
        return None
    label = _timeline_labels.get(name.removeprefix(TIMELINE_PREFIX))
    return str(label) if label is not None else name.removeprefix(TIMELINE_PREFIX).replace("_", " ")


def show_value(value: Any) -> str:
    """A value as a reader writes it: dates in words, yes/no, numbers without noise."""
    if value is None or value == "" or value == [] or value == ():
        return gettext("nothing")
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return date_format(value, "j F Y H:i")
    if isinstance(value, date):
        return date_format(value, "j F Y")
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, float):
        return number_format(value, decimal_pos=None if value != int(value) else 0)
    if isinstance(value, list | tuple):
        return ", ".join(show_value(v) for v in value)
    return str(value)


def _flat(choices: Iterable[Any]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for key, label in choices:
        if isinstance(label, list | tuple):  # a group of choices
            labels |= _flat(label)
        else:
            labels[str(key)] = str(label)
    return labels


def show_choice(choices: Iterable[Any], value: Any) -> str:
    """A choice by its label (a list of choices by their labels); other values as they are."""
    labels = _flat(choices)
    if isinstance(value, list | tuple):
        return ", ".join(labels.get(str(v), show_value(v)) for v in value) or show_value(value)
    if value is None or str(value) not in labels:
        return show_value(value)
    return labels[str(value)]


def in_sentence(label: str) -> str:
    """A label inside a sentence: "Onset date" → "onset date"; "WHO/ECOG …" stays."""
    if len(label) > 1 and label[0].isupper() and not label[1].isupper():
        return label[0].lower() + label[1:]
    return label


def verbose_label(model: type[models.Model], name: str) -> str | None:
    """The field's ``verbose_name``, as a label ("Onset date"); None if the model has no such field."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return str(capfirst(getattr(field, "verbose_name", name)))


def model_labeller(model: type[models.Model]) -> Labeller:
    """Labels from the model's ``verbose_name`` (and the timeline's words)."""

    def label(name: str) -> str:
        return timeline_label(name) or verbose_label(model, name) or name.replace("_", " ")

    return label


def model_displayer(
    model: type[models.Model], extra: Mapping[str, Iterable[Any]] | None = None
) -> Displayer:
    """Values by the model field's choices (or ``extra`` ones, for a field that has none)."""

    def display(name: str, value: Any) -> str:
        try:
            choices = getattr(model._meta.get_field(name), "flatchoices", None) or []
        except FieldDoesNotExist:
            choices = []
        choices = choices or list((extra or {}).get(name, ()))
        return show_choice(choices, value) if choices else show_value(value)

    return display


def plain_label(name: str) -> str:
    return timeline_label(name) or name.replace("_", " ")


def describe(
    finding: Finding, label: Labeller = plain_label, display: Displayer | None = None
) -> str:
    """The finding as one sentence in the active language."""
    shown = display or (lambda _name, value: show_value(value))
    words = {
        "field": capfirst(label(finding.field)),
        "found": shown(finding.field, finding.found),
        "condition": gettext(finding.condition) if finding.condition else "",
    }
    if finding.rule is Rule.RANGE:
        low, high = finding.expected
        return gettext(
            "%(field)s: must be between %(low)s and %(high)s; you entered %(found)s."
        ) % {
            **words,
            "low": show_value(low),
            "high": show_value(high),
        }
    if finding.rule is Rule.REQUIRED:
        return gettext("%(field)s: needs an answer when %(condition)s.") % words
    if finding.rule is Rule.CROSS_FIELD:
        entered = ", ".join(
            f"{in_sentence(label(name))}: {shown(name, value)}" for name, value in finding.values
        )
        return gettext("%(field)s: %(condition)s; you entered %(entered)s.") % {
            **words,
            "entered": entered,
        }
    words |= {"expected": show_value(finding.expected)}
    if finding.rule is Rule.SCHEDULE_ORDER:
        return gettext(
            "%(field)s: the %(subject)s questionnaire must be completed on or after the "
            "%(other)s questionnaire (%(expected)s); it was completed on %(found)s."
        ) % {**words, "subject": finding.subject, "other": finding.expected_from}
    words |= {"other": in_sentence(label(finding.expected_from))}
    templates = {
        Relation.ON_OR_AFTER: gettext(
            "%(field)s: must be on or after %(other)s (%(expected)s); you entered %(found)s."
        ),
        Relation.AFTER: gettext(
            "%(field)s: must be after %(other)s (%(expected)s); you entered %(found)s."
        ),
        Relation.ON_OR_BEFORE: gettext(
            "%(field)s: must be on or before %(other)s (%(expected)s); you entered %(found)s."
        ),
        Relation.BEFORE: gettext(
            "%(field)s: must be before %(other)s (%(expected)s); you entered %(found)s."
        ),
    }
    return templates[finding.relation or Relation.ON_OR_AFTER] % words
