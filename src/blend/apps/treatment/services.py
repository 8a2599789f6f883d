"""Record treatment, and answer "when did treatment start?" for the follow-up schedule,
the exports and the analysis. Recording or changing a treatment re-plans the schedule.

Each treatment record is of one trial (``trial``; None is the default trial). The
cohort's routine schedule counts from the treatment being recorded: one member has one
treatment episode at a time (the overlap rules keep it so)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from blend.apps.allocation.queries import arm_of
from blend.apps.audit.services import audited_save, record_event
from blend.apps.followup.services import plan_schedule
from blend.apps.offers.services import offer_state
from blend.apps.registry.models import Participant
from blend.apps.treatment import domain
from blend.apps.treatment.models import Pathway, TreatmentRecord
from blend.apps.trials.lookup import default_trial_code, get_trial, trial_code_or_default

FIELDS = (
    "pathway",
    "planned_on",
    "sbrt_dose_gy",
    "sbrt_fractions",
    "surgical_site_dose_gy",
    "sbrt_started_at",
    "surgery_started_at",
    "levels_stabilized",
    "levels_count",
    "decompression",
    "approach",
    "surgery_on",
    "radiotherapy_on",
    "radiotherapy_type",
    "notes",
    "arm_given",
    "procedures",
)


def treatment_of(participant: Participant, trial: str | None = None) -> TreatmentRecord | None:
    return TreatmentRecord.objects.filter(
        participant=participant, trial=trial_code_or_default(trial)
    ).first()


def treatment_start(participant: Participant, trial: str | None = None) -> date | None:
    """The start of treatment (day 0) by the protocol's rule; None until treated."""
    record = treatment_of(participant, trial)
    return start_from_record(record) if record else None


def is_configured(record: TreatmentRecord) -> bool:
    """Recorded as the trial's treatment.toml says (every trial but the default one)."""
    return not record.pathway


def start_from_record(record: TreatmentRecord) -> date | None:
    if is_configured(record):
        plan = get_trial(record.trial).treatment
        return domain.configured_start(plan, record.arm_given, record.procedures)
    return domain.start_of_treatment(
        domain.load_treatment_config().start_of_treatment,
        radiotherapy_on=record.radiotherapy_day,
        surgery_on=record.surgery_day,
    )


def schedule_anchor(record: TreatmentRecord | None) -> date | None:
    """The day the schedule counts from: the actual start once known, else the planned day
    (so the baseline questionnaire can go out before treatment)."""
    if record is None:
        return None
    return start_from_record(record) or record.planned_on


def treatment_flags(record: TreatmentRecord) -> list[str]:
    """Protocol deviations to review (shown, never blocking: the facts are the facts)."""
    if is_configured(record):
        plan = get_trial(record.trial).treatment
        return domain.configured_deviations(plan, record.arm_given, record.procedures)
    return record.flags(domain.load_treatment_config())


def received_allocated_intervention(record: TreatmentRecord | None) -> bool:
    """A configured trial's intervention given as prescribed (see domain.received_arm)."""
    if record is None or not is_configured(record):
        return False
    plan = get_trial(record.trial).treatment
    return domain.received_arm(plan, "intervention", record.arm_given, record.procedures)


def default_pathway(participant: Participant, trial: str | None = None) -> str:
    """Same-day only for an intervention-arm participant who accepted the offer."""
    if (
        arm_of(participant, trial) == "intervention"
        and offer_state(participant, trial) == "accepted"
    ):
        return Pathway.SAME_DAY
    return Pathway.STANDARD


@transaction.atomic
def record_treatment(
    participant: Participant,
    data: dict[str, Any],
    *,
    user: Any,
    reason: str = "",
    trial: str | None = None,
) -> TreatmentRecord:
    code = trial_code_or_default(trial)
    record = treatment_of(participant, code) or TreatmentRecord(
        participant=participant, trial=code, recorded_by=user
    )
    is_new = record.pk is None
    for field in FIELDS:
        if field in data:
            setattr(record, field, data[field])
    if code != default_trial_code():
        record.pathway = ""  # recorded as the trial's treatment.toml says
    if record.pathway == Pathway.SAME_DAY:
        record.surgery_on = record.surgery_day
        record.radiotherapy_on = record.radiotherapy_day
    record.full_clean()
    audited_save(record, user=user, reason=reason)
    record_event(
        "treatment.record" if is_new else "treatment.update",
        actor=user,
        participant=participant,
        obj=record,
        reason=reason,
        details={"trial": code, "flags": treatment_flags(record)},
    )
    plan_schedule(participant, anchor=schedule_anchor(record), user=user)
    return record
