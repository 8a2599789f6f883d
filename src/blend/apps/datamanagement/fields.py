"""The forms and fields a data query is about, and their labels.

A query is raised on a field of a form the apps declare: each app lists its own in
``<app>/casebook.py`` as ``QUERY_FIELDS`` (form name → model and field names, or a function
returning that mapping when the forms depend on the trials), found
with ``blend.apps.discover("casebook")``. A query raised by hand must name one of
these (``resolve``); the label the reader sees is the field's ``verbose_name``, never
the column name. The forms ``blend check-data`` opens queries on (the participant
timeline, the questionnaire schedule) are labelled here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext

from blend.apps import discover
from blend.apps.followup.models import Assessment
from blend.apps.registry.models import Participant
from blend.web.findings import timeline_label, verbose_label

SCHEDULE_FORM = "Questionnaire schedule"


class UnknownField(ValueError):
    """A query names a form, field or record the casebook does not have; the message says which."""


@dataclass(frozen=True)
class QueryForm:
    name: str
    model: type[models.Model]
    fields: tuple[str, ...]

    def label(self, field: str) -> str:
        return verbose_label(self.model, field) or field

    def labels(self) -> dict[str, str]:
        return {name: self.label(name) for name in self.fields}


def query_forms() -> dict[str, QueryForm]:
    """Every form a query can be raised on, in casebook order."""
    forms = {}
    for module in discover("casebook"):
        declared = getattr(module, "QUERY_FIELDS", {})
        # A callable names forms that depend on the trials (one treatment form per trial).
        for name, (model, fields) in (declared() if callable(declared) else declared).items():
            forms[name] = QueryForm(name, model, tuple(fields))
    return forms


def field_label(form: str, field: str) -> str:
    """What the reader sees for a query's field: its label, or the raw name if unknown."""
    if not field:
        return ""
    known = query_forms().get(form)
    if known is not None and field in known.fields:
        return known.label(field)
    words = timeline_label(field)
    if words is not None:
        return str(capfirst(words))
    if form == SCHEDULE_FORM and field == "completed_on":
        return verbose_label(Assessment, field) or field
    return field


@dataclass(frozen=True)
class Resolved:
    form: QueryForm
    field: str
    object_type: str
    object_id: str

    @property
    def label(self) -> str:
        return self.form.label(self.field) if self.field else ""


def resolve(participant: Participant, form: str, field: str = "", object_id: str = "") -> Resolved:
    """Check that ``form``/``field`` (and the record, when given) exist for this participant.

    Raises :class:`UnknownField` with a message in the reader's language otherwise."""
    forms = query_forms()
    known = forms.get(form)
    if known is None:
        raise UnknownField(
            gettext(
                "“%(form)s” is not a form a query can be raised on; expected one of: %(forms)s."
            )
            % {"form": form, "forms": ", ".join(forms)}
        )
    if field and field not in known.fields:
        raise UnknownField(
            gettext(
                "“%(field)s” is not a field of the form “%(form)s”; a query can be raised on: "
                "%(fields)s."
            )
            % {"field": field, "form": form, "fields": ", ".join(known.labels().values())}
        )
    model = known.model
    if object_id and not _belongs(model, object_id, participant):
        raise UnknownField(
            gettext("Record %(id)s of the form “%(form)s” is not one of %(participant)s's records.")
            % {"id": object_id, "form": form, "participant": participant.study_id}
        )
    if model is Participant:
        object_id = str(participant.pk)
    return Resolved(known, field, model._meta.label if object_id else "", object_id)


def _belongs(model: Any, object_id: str, participant: Participant) -> bool:
    if not object_id.isdigit():
        return False
    if model is Participant:
        return int(object_id) == participant.pk
    return bool(model.objects.filter(pk=int(object_id), participant=participant).exists())
