"""The treatment forms in a participant's casebook, one per trial (found by data
management's form status)."""

from __future__ import annotations

from blend.apps.registry.models import Participant
from blend.apps.treatment.models import TreatmentRecord
from blend.apps.trials.lookup import form_name, known_trial_codes

#: The fields of the treatment form a query can be raised on (BLEND's pathway fields; a
#: trial whose treatment is configuration has its day and the treatment given).
TREATMENT_FIELDS = (
    "planned_on",
    "arm_given",
    "pathway",
    "sbrt_dose_gy",
    "sbrt_fractions",
    "surgical_site_dose_gy",
    "sbrt_started_at",
    "surgery_started_at",
    "surgery_on",
    "radiotherapy_on",
    "radiotherapy_type",
    "levels_stabilized",
    "levels_count",
    "decompression",
    "approach",
)


def QUERY_FIELDS() -> dict[str, tuple[type[TreatmentRecord], tuple[str, ...]]]:  # noqa: N802
    """One treatment form per trial ("Treatment", "Treatment (VERTICAL)")."""
    return {
        form_name("Treatment", code): (TreatmentRecord, TREATMENT_FIELDS)
        for code in known_trial_codes()
    }


def entered_forms(participant: Participant) -> list[tuple[str, str]]:
    """(form, visit) of each form with data."""
    trials = TreatmentRecord.objects.filter(participant=participant).values_list("trial", flat=True)
    return [(form_name("Treatment", trial), "") for trial in trials.order_by("trial")]
