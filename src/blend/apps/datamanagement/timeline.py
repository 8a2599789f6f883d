"""Each participant's key dates across forms, for cross-form date-order checks.

Every date is read in bulk (one query per date, whatever the number of
participants) from the app that owns it; all of them sit below data management in
the layer order. Only the dates asked for are read: a form reads just those its
checks name (``blend.editchecks.timeline_names``).

A timeline is a trial's: the registration, consent and death dates are the cohort's,
the screening, randomization and start of treatment are those of the trial asked for
(the default trial when none is named), so a VERTICAL form is checked against
VERTICAL's dates. ``TRIAL_KEYS`` are the dates that differ between trials.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import date, datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from blend.apps.allocation.models import Allocation
from blend.apps.consent.services import bulk_randomization_consent_dates
from blend.apps.followup.models import VitalStatus
from blend.apps.registry.models import Participant
from blend.apps.screening.models import Screening
from blend.apps.treatment.models import TreatmentRecord
from blend.apps.treatment.services import start_from_record
from blend.apps.trials.lookup import default_trial_code
from blend.editchecks import TIMELINE_PREFIX

Dates = dict[int, date]


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _model_dates(
    model: type[models.Model], field: str, participants: list[Participant], **only: Any
) -> Dates:
    ids = [p.pk for p in participants]
    rows = model._default_manager.filter(participant_id__in=ids, **only).order_by(field)
    return {
        pid: _day(value)
        for pid, value in rows.values_list("participant_id", field)
        if value is not None
    }


def randomization_consent_dates(ids: Iterable[int]) -> Dates:
    """The date the last of the randomization-consent items became a current 'yes'."""
    return bulk_randomization_consent_dates(list(ids))


def _registered(participants: list[Participant], trial: str) -> Dates:
    return {p.pk: p.registered_on for p in participants}


def _consented(participants: list[Participant], trial: str) -> Dates:
    return randomization_consent_dates(p.pk for p in participants)


def _screened(participants: list[Participant], trial: str) -> Dates:
    return _model_dates(Screening, "screened_on", participants, trial=trial)


def _randomized(participants: list[Participant], trial: str) -> Dates:
    return _model_dates(Allocation, "allocated_at", participants, trial=trial)


def _treated(participants: list[Participant], trial: str) -> Dates:
    """Treatment start by the treatment app's rule, for those randomized in the trial."""
    randomized = Allocation.objects.filter(trial=trial).values("participant_id")
    records = TreatmentRecord.objects.filter(
        participant_id__in=[p.pk for p in participants], trial=trial
    ).filter(participant_id__in=randomized)
    return {
        record.participant_id: start
        for record in records
        if (start := start_from_record(record)) is not None
    }


def _died(participants: list[Participant], trial: str) -> Dates:
    return _model_dates(VitalStatus, "died_on", participants)


READERS: dict[str, Callable[[list[Participant], str], Dates]] = {
    "registered_on": _registered,
    "consent_on": _consented,
    "screened_on": _screened,
    "randomized_on": _randomized,
    "treatment_start": _treated,
    "death_date": _died,
}
TIMELINE_KEYS = tuple(READERS)
#: The dates each trial has its own of; the others are the cohort's.
TRIAL_KEYS = ("screened_on", "randomized_on", "treatment_start")

#: The timeline dates in words, as a check's message names them ("… on or after the
#: registration date (12 March 2026)"); registered with the forms' renderer at start-up.
LABELS: dict[str, Any] = {
    "registered_on": _("the registration date"),
    "consent_on": _("the randomization consent date"),
    "screened_on": _("the screening date"),
    "randomized_on": _("the randomization date"),
    "treatment_start": _("the start of treatment"),
    "death_date": _("the date of death"),
}


def timelines(
    participants: list[Participant],
    names: Collection[str] = TIMELINE_KEYS,
    trial: str | None = None,
) -> dict[int, dict[str, date | None]]:
    """Per participant, the dates of ``names`` in ``trial`` (the default trial for None;
    None where a form has none yet)."""
    code = trial or default_trial_code()
    read = {name: READERS[name](participants, code) for name in TIMELINE_KEYS if name in names}
    return {p.pk: {name: dates.get(p.pk) for name, dates in read.items()} for p in participants}


def timeline_values(
    participant: Participant | None,
    names: Collection[str] = TIMELINE_KEYS,
    trial: str | None = None,
) -> dict[str, Any]:
    """One participant's timeline in ``trial`` keyed ``timeline.<name>``, ready to merge
    into form values."""
    if participant is None or participant.pk is None:
        return {}
    return {
        f"{TIMELINE_PREFIX}{k}": v
        for k, v in timelines([participant], names, trial)[participant.pk].items()
    }
