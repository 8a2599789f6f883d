"""Follow-up's forms in a participant's casebook (found by data management's form status):
the vital status, then one questionnaire per completed timepoint, in schedule order."""

from __future__ import annotations

from blend.apps.followup.models import (
    Assessment,
    HospitalAdmission,
    NeuroAssessment,
    OpioidUse,
    ReIntervention,
    SystemicTherapy,
    VitalStatus,
)
from blend.apps.registry.models import Participant

#: The fields a data query can be raised on; the clinical forms by their English titles
#: (``forms.CLINICAL_FORMS``), which the follow-up panel names beside each event.
QUERY_FIELDS = {
    "Vital status": (VitalStatus, ("last_contact_on", "died_on", "cause_of_death")),
    "Hospital admission": (
        HospitalAdmission,
        ("admitted_on", "discharged_on", "index_treatment", "reason"),
    ),
    "Return to systemic therapy": (SystemicTherapy, ("started_on", "therapy_type")),
    "Neurological status (ASIA)": (NeuroAssessment, ("assessed_on", "asia_grade", "timepoint")),
    "Opioid use": (OpioidUse, ("used_on", "medications", "omed_mg_day")),
    "Re-intervention": (ReIntervention, ("performed_on", "kind", "description")),
}
#: Per clinical form (its key in ``forms.CLINICAL_FORMS``): its query form, the event's
#: date field and the field the panel shows as its value.
EVENT_FIELDS = {
    "admission": ("Hospital admission", "admitted_on", "discharged_on"),
    "systemic": ("Return to systemic therapy", "started_on", "therapy_type"),
    "asia": ("Neurological status (ASIA)", "assessed_on", "asia_grade"),
    "opioids": ("Opioid use", "used_on", "omed_mg_day"),
    "reintervention": ("Re-intervention", "performed_on", "kind"),
}


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each form with data."""
    forms = (
        [("Vital status", "")]
        if VitalStatus.objects.filter(participant=participant).exists()
        else []
    )
    done = Assessment.objects.filter(participant=participant, completed_on__isnull=False).order_by(
        "target_on"
    )
    return forms + [
        ("Questionnaire", timepoint) for timepoint in done.values_list("timepoint", flat=True)
    ]
