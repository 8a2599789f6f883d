"""The cohort and each trial are separate configuration: the shipped PRESENT cohort and
its two real trials, BLEND (recruiting) and VERTICAL (completed), load and validate, and a
test-only third trial is added as a folder with no code change."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from blend.eligibility import ELIGIBLE, INELIGIBLE, PENDING, assess
from blend.protocol import (
    TRIALS_DIRS_ENV,
    Cohort,
    Trial,
    clear_caches,
    load_cohort,
    load_trial,
    load_trials,
    trial_codes,
    trial_folders,
    validate_trial_folder,
)
from blend.protocol.schedule import TIMEPOINT_CODES, load_schedule

THIRD = Path(__file__).parent / "trials" / "PALLIATE"


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRIALS_DIRS_ENV, raising=False)
    monkeypatch.delenv("BLEND_PROTOCOL_DIR", raising=False)
    clear_caches()


@pytest.fixture
def cohort() -> Cohort:
    return load_cohort()


def test_the_cohort_has_its_own_consent_schedule_sites_and_identifiers(cohort: Cohort) -> None:
    assert (cohort.code, cohort.name, cohort.registration) == ("PRESENT", "PRESENT", "NCT02356497")
    assert cohort.site_codes == ("umcu", "diak", "antonius")
    assert (cohort.study_id_prefix, cohort.study_id_digits) == ("PRS", 5)
    assert cohort.consent_codes == ("a", "b", "c", "d", "e")
    assert cohort.randomization_consent_items == ("a", "c", "d")
    assert cohort.randomization_question == "c"
    assert cohort.schedule.codes == TIMEPOINT_CODES
    assert cohort.schedule.primary is None  # the primary timepoint is each trial's
    assert cohort.schedule.timepoints == load_schedule().timepoints
    assert cohort.start_of_treatment == "radiotherapy"


def test_the_fact_catalogue_holds_blends_facts_and_the_ones_vertical_added(cohort: Cohort) -> None:
    blend, vertical = load_trial("BLEND"), load_trial("VERTICAL")
    assert set(blend.criteria.facts) | set(vertical.criteria.facts) == set(cohort.facts)
    shared = set(blend.criteria.facts) & set(vertical.criteria.facts)
    assert shared == {
        "screening_date",
        "consent_randomization",
        "malignancy_proof",
        "index_levels",
        "life_expectancy_months",
        "prior_radiotherapy_index",
    }
    for key in shared:  # one definition per fact, whichever trial reads it
        assert blend.criteria.facts[key] == vertical.criteria.facts[key] == cohort.facts[key]


def test_both_shipped_trials_load_and_validate() -> None:
    assert trial_codes() == ("BLEND", "VERTICAL")
    trials = load_trials()
    assert list(trials) == ["BLEND", "VERTICAL"]
    assert all(isinstance(trial, Trial) for trial in trials.values())
    assert [t.status for t in trials.values()] == ["recruiting", "completed"]
    assert [t.recruiting for t in trials.values()] == [True, False]
    cohort = load_cohort()
    for trial in trials.values():
        again = validate_trial_folder(trial.folder, cohort, [c for c in trials if c != trial.code])
        assert again == trial


def test_blend_is_as_before_with_its_primary_outcome_and_arms_as_configuration(
    cohort: Cohort,
) -> None:
    blend = load_trial("BLEND")
    assert (blend.registration, blend.target_sample_size, blend.arms) == (
        "NCT05575323",
        100,
        ("intervention", "control"),
    )
    primary = blend.primary_outcome
    assert (primary.measure, primary.timepoint, primary.analysis, primary.estimands) == (
        "pf",
        "w4",
        "ancova",
        ("itt", "cace"),
    )
    assert blend.outcomes.outcome("pf").score == "qlq-c15-pal.PF"
    assert blend.assessment_schedule(cohort) == load_schedule()
    assert blend.design.design == "bsd" and blend.design.mti == 3
    intervention, control = blend.treatment.arm("intervention"), blend.treatment.arm("control")
    sbrt = intervention.procedure("sbrt")
    assert (sbrt.dose_gy, sbrt.fractions, sbrt.prescription) == (18.0, 1, "default")
    assert sbrt.constraints == {"surgical_site_dose_gy": 5.0}
    assert [r.describe() for r in intervention.timing] == ["surgery within 24 hours of sbrt"]
    assert [r.describe() for r in control.timing] == ["radiotherapy at least 7 days after surgery"]
    assert "10x3 Gy" in control.procedure("radiotherapy").schedules


def test_vertical_is_the_completed_sbrt_trial_of_the_reference(cohort: Cohort) -> None:
    vertical = load_trial("VERTICAL")
    assert (vertical.registration, vertical.status, vertical.target_sample_size) == (
        "NCT02364115",
        "completed",
        110,
    )
    primary = vertical.primary_outcome
    assert (primary.measure, primary.timepoint, primary.analysis, primary.estimands) == (
        "pain_response",
        "w12",
        "risk_difference",
        ("itt", "iv"),
    )
    assert cohort.timepoint("w12").day == 84  # "3 months after treatment"
    assert str(vertical.design.ratio) == "1:1"
    sbrt = vertical.treatment.arm("intervention").procedure("sbrt")
    conventional = vertical.treatment.arm("control").procedure("conventional_rt")
    assert (sbrt.dose_gy, sbrt.fractions) == (18.0, 1) and (
        conventional.dose_gy,
        conventional.fractions,
    ) == (8.0, 1)
    assert sbrt.dose_deviation(8.0, 1) and not sbrt.dose_deviation(18, 1)
    assert vertical.treatment.start_of_treatment == "radiotherapy"


def _vertical_eligible() -> dict[str, object]:
    return {
        "screening_date": "2016-05-02",
        "consent_questionnaires": True,
        "consent_randomization": True,
        "malignancy_proof": "histology",
        "bone_metastases_imaging": True,
        "index_levels": ["T8"],
        "max_segments_per_lesion": 1,
        "unaffected_vertebra_adjacent": True,
        "painful_lesions": 1,
        "spinal_cord_compression": False,
        "neurological_signs": "mild",
        "neurological_deficit_worsening": False,
        "kps": 70,
        "pain_score": 6,
        "mri_contraindicated": False,
        "radiosensitive_histology": False,
        "sbrt_feasible": True,
        "life_expectancy_months": 12,
        "systemic_therapy_within_24h": False,
        "prior_radiotherapy_index": False,
        "unstable_spine_needs_stabilization": False,
    }


def test_verticals_criteria_are_data_the_engine_assesses() -> None:
    criteria = load_trial("VERTICAL").criteria
    assert assess(_vertical_eligible(), criteria).status == ELIGIBLE
    c2 = assess({**_vertical_eligible(), "index_levels": ["C2", "C3"]}, criteria)
    assert (c2.status, list(c2.reasons)) == (INELIGIBLE, ["E1_C1_C2"])
    unstable = assess(
        {**_vertical_eligible(), "unstable_spine_needs_stabilization": True}, criteria
    )
    assert list(unstable.reasons) == ["E8_UNSTABLE_SPINE"]  # BLEND requires what VERTICAL excludes
    kps = assess({**_vertical_eligible(), "kps": 50}, criteria)
    assert kps.reasons == {"I9_KPS": "KPS 50 is not above 50"}
    unknown = dict(_vertical_eligible())
    del unknown["pain_score"]
    assert assess(unknown, criteria).missing_facts == ["pain_score"]
    assert assess(unknown, criteria).status == PENDING


def test_a_third_trial_folder_validates_with_other_arms_criteria_design_and_schedule(
    cohort: Cohort,
) -> None:
    third = validate_trial_folder(THIRD, cohort, ["BLEND", "VERTICAL"])
    assert (third.code, third.protocol_version, third.status) == ("PALLIATE", "0.3", "recruiting")
    assert (third.design.design, str(third.design.ratio)) == ("minimisation", "2:1")
    assert third.design.factors == (("site", ("umcu", "diak", "antonius")),)
    assert [c.code for c in third.criteria.active] == [
        "I1_CONSENT",
        "I2_AGE",
        "I3_KPS",
        "E1_LIFE_EXPECTANCY",
    ]
    assert third.treatment.arm("control").label == "Usual care"
    assert third.treatment.arm("intervention").deviations(
        {"consultation": date(2026, 1, 5), "follow_up_call": date(2026, 1, 30)}
    ) == ["follow_up_call at most 14 days after consultation"]
    (extra,) = third.outcomes.extra
    assert (extra.code, extra.audience, extra.extra, extra.day) == (
        "after_consultation",
        "acceptors",
        True,
        3,
    )
    assert third.primary_window(cohort) == (25, 31)
    assert third.section("allocation") == {"overview_delay_days": 14}


def test_a_trial_folder_is_registered_by_the_environment_or_an_argument(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert trial_codes([THIRD]) == ("BLEND", "PALLIATE", "VERTICAL")
    assert trial_codes([THIRD.parent]) == (
        "BLEND",
        "PALLIATE",
        "VERTICAL",
    )  # a folder of trial folders
    assert trial_folders([THIRD])["PALLIATE"] == THIRD
    monkeypatch.setenv(TRIALS_DIRS_ENV, str(THIRD))
    assert trial_codes() == ("BLEND", "PALLIATE", "VERTICAL")
    assert load_trials()["PALLIATE"].overlap_rules[0].trials == ("VERTICAL",)
    assert load_trial("PALLIATE").title.startswith("Early palliative-care consultation")


def test_timing_rules_are_checked_on_recorded_times() -> None:
    intervention = load_trial("BLEND").treatment.arm("intervention")
    sbrt, surgery = datetime(2026, 3, 2, 8, 0), datetime(2026, 3, 3, 9, 0)
    assert intervention.deviations({"sbrt": sbrt, "surgery": surgery}) == [
        "surgery within 24 hours of sbrt"
    ]
    assert intervention.deviations({"sbrt": sbrt, "surgery": datetime(2026, 3, 2, 15, 0)}) == []
    assert intervention.deviations({"sbrt": sbrt}) == []  # not yet known: no deviation
    control = load_trial("BLEND").treatment.arm("control")
    assert control.deviations({"surgery": date(2026, 3, 2), "radiotherapy": date(2026, 3, 8)}) == [
        "radiotherapy at least 7 days after surgery"
    ]
    assert control.deviations({"surgery": date(2026, 3, 2), "radiotherapy": date(2026, 3, 9)}) == []


def test_the_start_of_treatment_follows_each_trials_rule() -> None:
    blend, vertical = load_trial("BLEND").treatment, load_trial("VERTICAL").treatment
    days = {"surgery": date(2026, 3, 2), "radiotherapy": date(2026, 3, 10)}
    assert blend.start_day("control", days) == date(2026, 3, 2)  # first treatment day
    assert blend.start_day("control", {"surgery": None, "radiotherapy": None}) is None
    assert vertical.start_day("control", {"conventional_rt": date(2016, 6, 1)}) == date(2016, 6, 1)
