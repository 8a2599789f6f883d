"""Pre-screening the cohort: many members' facts against several trials' criteria at once,
with the same three-valued verdict as ``assess``."""

from __future__ import annotations

from typing import Any

import pytest

from blend.eligibility import ELIGIBLE, INELIGIBLE, PENDING, FactError, assess
from blend.eligibility.cohort import assess_cohort, potentially_eligible
from blend.protocol import load_cohort, load_trial
from tests.eligible_facts import ELIGIBLE_FORM_FACTS

BLEND_FACTS: dict[str, Any] = {
    "screening_date": "2026-03-10",
    "age": 64,
    **ELIGIBLE_FORM_FACTS,
    "consent_randomization": True,
}
VERTICAL_FACTS: dict[str, Any] = {
    "consent_questionnaires": True,
    "bone_metastases_imaging": True,
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
    "systemic_therapy_within_24h": False,
    "unstable_spine_needs_stabilization": False,
}


@pytest.fixture(scope="module")
def trials() -> dict[str, Any]:
    return {code: load_trial(code).criteria for code in ("BLEND", "VERTICAL")}


def test_each_member_gets_each_trials_verdict(trials: dict[str, Any]) -> None:
    catalogue = load_cohort().facts
    members = {
        # BLEND needs surgery, VERTICAL excludes it: eligible for one, ineligible for the other.
        "blend-only": {**BLEND_FACTS, **VERTICAL_FACTS, "unstable_spine_needs_stabilization": True},
        "vertical-only": {**BLEND_FACTS, **VERTICAL_FACTS, "surgery_indicated": False},
        # Nothing fails, but VERTICAL's pain score is not known yet.
        "pending": {
            k: v for k, v in {**BLEND_FACTS, **VERTICAL_FACTS}.items() if k != "pain_score"
        },
        "excluded": {**BLEND_FACTS, **VERTICAL_FACTS, "life_expectancy_months": 2},
    }
    verdicts = assess_cohort(members, trials, catalogue)
    status = {code: {m: r.status for m, r in found.items()} for code, found in verdicts.items()}
    assert status["BLEND"] == {
        "blend-only": ELIGIBLE,
        "vertical-only": INELIGIBLE,
        "pending": ELIGIBLE,
        "excluded": INELIGIBLE,
    }
    assert status["VERTICAL"] == {
        "blend-only": INELIGIBLE,
        "vertical-only": ELIGIBLE,
        "pending": PENDING,
        "excluded": INELIGIBLE,
    }
    pending = verdicts["VERTICAL"]["pending"]
    assert pending.missing_facts == ["pain_score"] and list(pending.undecided) == ["I10_PAIN"]
    assert potentially_eligible(pending) and not potentially_eligible(
        verdicts["VERTICAL"]["excluded"]
    )
    assert set(verdicts["VERTICAL"]["excluded"].reasons) == {"E5_LIFE_EXPECTANCY"}


def test_it_agrees_with_assess_on_each_trials_own_facts(trials: dict[str, Any]) -> None:
    facts = {**BLEND_FACTS, **VERTICAL_FACTS, "asia_grade": "D", "kps": 40}
    verdicts = assess_cohort({1: facts}, trials, load_cohort().facts)
    for code, criteria in trials.items():
        own = {k: v for k, v in facts.items() if k in criteria.facts}
        alone = assess(own, criteria)
        assert verdicts[code][1].status == alone.status
        assert verdicts[code][1].reasons == alone.reasons
        assert verdicts[code][1].missing_facts == alone.missing_facts


def test_a_member_without_facts_is_pending_not_excluded(trials: dict[str, Any]) -> None:
    verdicts = assess_cohort({7: {}}, trials, load_cohort().facts)
    assert {code: found[7].status for code, found in verdicts.items()} == {
        "BLEND": PENDING,
        "VERTICAL": PENDING,
    }


def test_bad_facts_name_the_member_the_fact_and_what_was_expected(trials: dict[str, Any]) -> None:
    with pytest.raises(FactError) as caught:
        assess_cohort(
            {"A1": {"kps": "eighty"}, "A2": {"sleep_hours": 8}}, trials, load_cohort().facts
        )
    errors = caught.value.errors
    assert errors["A1: kps"] == "expected a number, got 'eighty'"
    assert errors["A2: sleep_hours"].startswith("unknown fact; expected one of")


def test_given_an_errors_dict_bad_members_are_left_out_not_raised(trials: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    found = assess_cohort({"A1": {"kps": "eighty"}, "A2": {}}, trials, load_cohort().facts, errors)
    assert list(found["VERTICAL"]) == ["A2"] and list(errors) == ["A1: kps"]
