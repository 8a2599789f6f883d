"""Each participant's key dates across forms, for cross-form date-order checks.

Read in bulk where the owning app offers a model, and through the owning app's
read service otherwise. Apps that are not installed (yet) simply contribute no
dates, so the checks that need them stay silent.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.db import connection

from blend.apps.consent.services import bulk_randomization_consent_dates
from blend.apps.registry.models import Participant

TIMELINE_KEYS = ("registered_on", "consent_on", "screened_on", "randomized_on", "treatment_start", "death_date")


def app_ready(app_label: str) -> bool:
    """The app is installed and its tables exist (an app still being built may have none yet)."""
    try:
        models = list(apps.get_app_config(app_label).get_models())
    except LookupError:
        return False
    tables = set(connection.introspection.table_names())
    return bool(models) and all(m._meta.db_table in tables for m in models)


def optional_model(label: str) -> Any:
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    return model if app_ready(model._meta.app_label) else None


def optional_service(module: str, name: str) -> Callable[..., Any] | None:
    """``module.name`` when its app (blend.apps.<label>.…) is ready, else None."""
    label = module.split(".")[2] if module.startswith("blend.apps.") else ""
    if label and not app_ready(label):
        return None
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def randomization_consent_dates(ids: Iterable[int]) -> dict[int, date]:
    """The date the last of the randomization-consent items became a current 'yes'."""
    return bulk_randomization_consent_dates(list(ids))


def _model_dates(label: str, field: str, ids: list[int], *, latest: bool = True) -> dict[int, date]:
    model = optional_model(label)
    if model is None or field not in {f.name for f in model._meta.fields}:
        return {}
    out: dict[int, date] = {}
    for pid, value in model.objects.filter(participant_id__in=ids).order_by(field).values_list("participant_id", field):
        if value is not None and (latest or pid not in out):
            out[pid] = _day(value)
    return out


def _service_dates(module: str, name: str, participants: list[Participant]) -> dict[int, date]:
    service = optional_service(module, name)
    if service is None:
        return {}
    out = {}
    for participant in participants:
        value = service(participant)
        if value is not None:
            out[participant.pk] = _day(value)
    return out


def timelines(participants: list[Participant]) -> dict[int, dict[str, date | None]]:
    ids = [p.pk for p in participants]
    consent = randomization_consent_dates(ids)
    screened = _model_dates("screening.Screening", "screened_on", ids)
    randomized = _model_dates("allocation.Allocation", "allocated_at", ids)
    treated = _service_dates("blend.apps.treatment.services", "treatment_start", [p for p in participants if p.pk in randomized])
    died = _service_dates("blend.apps.followup.services", "death_date", participants)
    return {
        p.pk: {"registered_on": p.registered_on, "consent_on": consent.get(p.pk), "screened_on": screened.get(p.pk),
               "randomized_on": randomized.get(p.pk), "treatment_start": treated.get(p.pk),
               "death_date": died.get(p.pk)}
        for p in participants
    }


def timeline_values(participant: Participant | None) -> dict[str, Any]:
    """One participant's timeline keyed ``timeline.<name>``, ready to merge into form values."""
    if participant is None or participant.pk is None:
        return {}
    return {f"timeline.{k}": v for k, v in timelines([participant])[participant.pk].items()}
