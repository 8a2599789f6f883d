"""Record treatment, and answer "when did treatment start?" for the follow-up schedule,
the exports and the analysis. Recording or changing a treatment re-plans the schedule."""

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
)


def treatment_of(participant: Participant) -> TreatmentRecord | None:
    return TreatmentRecord.objects.filter(participant=participant).first()


def treatment_start(participant: Participant) -> date | None:
    """The start of treatment (day 0) by the protocol's rule; None until treated."""
    record = treatment_of(participant)
    return start_from_record(record) if record else None


def start_from_record(record: TreatmentRecord) -> date | None:
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


def default_pathway(participant: Participant) -> str:
    """Same-day only for an intervention-arm participant who accepted the offer."""
    if arm_of(participant) == "intervention" and offer_state(participant) == "accepted":
        return Pathway.SAME_DAY
    return Pathway.STANDARD


@transaction.atomic
def record_treatment(
    participant: Participant, data: dict[str, Any], *, user: Any, reason: str = ""
) -> TreatmentRecord:
    record = treatment_of(participant) or TreatmentRecord(participant=participant, recorded_by=user)
    is_new = record.pk is None
    for field in FIELDS:
        if field in data:
            setattr(record, field, data[field])
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
        details={"flags": record.flags(domain.load_treatment_config())},
    )
    plan_schedule(participant, anchor=schedule_anchor(record), user=user)
    return record
