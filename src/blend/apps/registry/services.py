"""Registry state changes: register and edit participants. Each runs in one
transaction and writes the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Upper

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.permissions import check
from blend.apps.audit.services import audited_save, record_event
from blend.apps.registry.domain import format_study_id
from blend.apps.registry.models import Identity, Participant, Site, StudyIdCounter
from blend.apps.registry.validation import (
    Problem,
    RegistrationInvalid,
    duplicate_problem,
    hospital_key,
    registration_problems,
)
from blend.protocol import load_cohort


@dataclass(frozen=True)
class Registration:
    site: Site
    registered_on: date
    sex: str
    primary_tumour: str
    metastases_diagnosed_on: date
    performance_status: int
    full_name: str
    date_of_birth: date
    hospital_number: str
    email: str = ""
    phone: str = ""
    preferred_language: str = "nl"


def next_study_id(prefix: str | None = None) -> str:
    """Take the next number under a row lock; numbers are never handed out twice. The
    prefix and the number of digits are the cohort's (cohort.toml ``[identifiers]``)."""
    cohort = load_cohort()
    prefix = prefix or cohort.study_id_prefix
    counter, _ = StudyIdCounter.objects.select_for_update().get_or_create(prefix=prefix)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return format_study_id(counter.last_number, prefix, cohort.study_id_digits)


@transaction.atomic
def ensure_site(code: str, name: str, *, user: Any) -> Site:
    """The recruiting site ``code``, added (audited) when it is new."""
    site = Site.objects.filter(code=code).first()
    if site is None:
        site = Site.objects.create(code=code, name=name)
        record_event(
            "registry.site_add", actor=user, obj=site, details={"code": code, "name": name}
        )
    return site


def _full_clean(obj: Any) -> None:
    """The model's own validation, refused as a ``RegistrationInvalid`` naming each field."""
    try:
        obj.full_clean()
    except ValidationError as error:
        raise RegistrationInvalid(
            [
                Problem(field, message, "a valid value", str(getattr(obj, field, "")))
                for field, messages in error.message_dict.items()
                for message in messages
            ]
        ) from None


def register_participant(data: Registration, *, user: Any) -> Participant:
    """Register a cohort member. Every rule of the registration form is checked here
    (``registry.validation``), so the API and the import refuse what the form refuses."""
    problems = registration_problems(data)
    if problems:
        raise RegistrationInvalid(problems)
    try:
        return _register(data, user=user)
    except IntegrityError:
        # Another request registered the same hospital number between the check and the write.
        raise RegistrationInvalid([duplicate_problem(data.hospital_number)]) from None


@transaction.atomic
def _register(data: Registration, *, user: Any) -> Participant:
    participant = Participant(
        study_id=next_study_id(),
        site=data.site,
        registered_on=data.registered_on,
        sex=data.sex,
        birth_year=data.date_of_birth.year,
        primary_tumour=data.primary_tumour,
        metastases_diagnosed_on=data.metastases_diagnosed_on,
        performance_status=data.performance_status,
        created_by=user,
    )
    _full_clean(participant)
    audited_save(participant, user=user)
    identity = Identity(
        participant=participant,
        full_name=data.full_name,
        date_of_birth=data.date_of_birth,
        hospital_number=data.hospital_number,
        email=data.email,
        phone=data.phone,
        preferred_language=data.preferred_language,
    )
    _full_clean(identity)
    audited_save(identity, user=user)
    record_event("enrol", actor=user, participant=participant, obj=participant)
    return participant


@transaction.atomic
def update_participant(
    participant: Participant, changes: dict[str, Any], *, user: Any, reason: str
) -> Participant:
    for field, value in changes.items():
        setattr(participant, field, value)
    participant.full_clean()
    audited_save(participant, user=user, reason=reason)
    record_event(
        "participant.update",
        actor=user,
        participant=participant,
        obj=participant,
        reason=reason,
        details={"fields": sorted(changes)},
    )
    return participant


def participant_by_hospital_number(number: str, *, user: Any) -> Participant | None:
    """The cohort member registered with this hospital number (compared as registration
    compares them, without regard to case), or None. Needs ``identifiers.view``: the
    answer links a direct identifier to a study ID. Callers keep the number to themselves
    (an import matches a record with it and stores only the study ID's member)."""
    check(user, Cap.IDENTIFIERS_VIEW)
    identity = (
        Identity.objects.annotate(key=Upper("hospital_number"))
        .filter(key=hospital_key(number))
        .select_related("participant")
        .first()
    )
    return identity.participant if identity is not None else None
