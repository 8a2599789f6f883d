"""The screening-form facts of an eligible patient per trial, shared by the tests that
walk members through screening and those that assess them in bulk."""

from __future__ import annotations

from typing import Any

# The form-entered facts of an eligible patient (age and consent (c) come from the records).
ELIGIBLE_FORM_FACTS: dict[str, Any] = {
    "index_levels": ["T7", "T8"],
    "symptoms": ["mechanical_pain"],
    "sins_total": 9,
    "bilsky_grade": "1b",
    "radiotherapy_indicated": True,
    "surgery_indicated": True,
    "malignancy_proof": "histology",
    "radiographic_evidence": True,
    "levels_to_bridge": 4,
    "radiotherapy_locations": 1,
    "prior_surgery_index": False,
    "prior_radiotherapy_index": False,
    "multiple_myeloma": False,
    "asia_grade": "E",
    "long_halflife_drugs": False,
    "life_expectancy_months": 12,
    "can_lie_on_table": True,
    "fit_for_radiosurgery": True,
}

# The form-entered facts of a VERTICAL-eligible patient (consents come from the records).
VERTICAL_ELIGIBLE_FACTS: dict[str, Any] = {
    "malignancy_proof": "histology",
    "bone_metastases_imaging": True,
    "index_levels": ["T9"],
    "max_segments_per_lesion": 1,
    "unaffected_vertebra_adjacent": True,
    "painful_lesions": 1,
    "spinal_cord_compression": False,
    "neurological_signs": "none",
    "neurological_deficit_worsening": False,
    "kps": 80,
    "pain_score": 6,
    "mri_contraindicated": False,
    "radiosensitive_histology": False,
    "sbrt_feasible": True,
    "life_expectancy_months": 12,
    "systemic_therapy_within_24h": False,
    "prior_radiotherapy_index": False,
    "unstable_spine_needs_stabilization": False,
}
