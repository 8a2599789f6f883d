"""Bad input: an invalid trial folder is refused with the file, the key, what was expected
and what was found; nothing is returned half-way. Each test breaks one thing in a copy
of the test-only trial (trials/PALLIATE)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from blend.protocol import (
    TRIALS_DIRS_ENV,
    ConfigError,
    clear_caches,
    load_cohort,
    load_trials,
    trial_codes,
    validate_trial_folder,
)

THIRD = Path(__file__).parent / "trials" / "PALLIATE"
KNOWN = ("BLEND", "VERTICAL")


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRIALS_DIRS_ENV, raising=False)
    monkeypatch.delenv("BLEND_PROTOCOL_DIR", raising=False)
    clear_caches()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "PALLIATE"
    shutil.copytree(THIRD, copy)
    return copy


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def refusal(folder: Path) -> ConfigError:
    with pytest.raises(ConfigError) as refused:
        validate_trial_folder(folder, load_cohort(), KNOWN)
    return refused.value


def test_the_unbroken_copy_validates(folder: Path) -> None:
    assert validate_trial_folder(folder, load_cohort(), KNOWN).code == "PALLIATE"


def test_an_unknown_fact_key_in_a_rule_is_refused_naming_the_criterion(folder: Path) -> None:
    edit(
        folder,
        "eligibility.toml",
        'rule = { fact = "kps", at_least = 40 }',
        'rule = { any = [{ fact = "kps", at_least = 40 }, { fact = "shoe_size", at_least = 40 }] }',
    )
    error = refusal(folder)
    assert error.file == str(folder / "eligibility.toml")
    assert error.key == "criteria[2] (I3_KPS).rule.fact"
    assert "a fact key of the cohort (cohort/facts.toml)" in error.expected
    assert error.found == "shoe_size"
    assert str(error).endswith(
        "expected a fact key of the cohort (cohort/facts.toml), found 'shoe_size'"
    )


def test_an_unknown_fact_key_in_the_list_of_facts_is_refused(folder: Path) -> None:
    edit(folder, "eligibility.toml", '"kps",', '"kps", "shoe_size",')
    error = refusal(folder)
    assert (error.key, error.found) == ("facts", "shoe_size")
    assert error.expected.startswith("fact keys of the cohort (cohort/facts.toml: screening_date,")


def test_a_rule_reading_a_known_fact_the_trial_does_not_ask_is_refused(folder: Path) -> None:
    edit(
        folder,
        "eligibility.toml",
        'fact = "kps", at_least = 40',
        'fact = "pain_score", at_least = 4',
    )
    error = refusal(folder)
    assert error.key == "criteria[2] (I3_KPS).rule.fact"
    assert str(error.found) == "'pain_score', which is not listed"


def test_a_choice_that_is_not_one_of_the_facts_choices_is_refused(folder: Path) -> None:
    edit(
        folder,
        "eligibility.toml",
        '"life_expectancy_months"]',
        '"life_expectancy_months", "malignancy_proof"]',
    )
    edit(
        folder,
        "eligibility.toml",
        'rule = { fact = "kps", at_least = 40 }',
        'rule = { fact = "malignancy_proof", equals = "histolgy" }',
    )
    error = refusal(folder)
    assert error.file.endswith("eligibility.toml")
    assert (
        "equals on fact 'malignancy_proof' expected one of ['histology', 'radiology_clinical', 'none'], "
        "found 'histolgy'" in error.detail
    )


def test_arm_names_that_are_not_the_designs_are_refused(folder: Path) -> None:
    edit(
        folder,
        "trial.toml",
        'arms = ["intervention", "control"]',
        'arms = ["consultation", "usual_care"]',
    )
    error = refusal(folder)
    assert (error.file, error.key) == (str(folder / "trial.toml"), "arms")
    assert (
        "the arms the randomization design allocates: ['intervention', 'control']" in error.expected
    )
    assert error.found == ["consultation", "usual_care"]


def test_treatment_arms_that_do_not_match_the_trials_arms_are_refused(folder: Path) -> None:
    edit(folder, "treatment.toml", "[arms.control]", "[arms.usual_care]")
    edit(folder, "treatment.toml", "[[arms.control.procedures]]", "[[arms.usual_care.procedures]]")
    error = refusal(folder)
    assert (error.file, error.key) == (str(folder / "treatment.toml"), "arms")
    assert error.expected.endswith("[arms.intervention], [arms.control]")
    assert str(error.found) == "[arms.intervention], [arms.usual_care]"


def test_a_randomization_design_that_is_not_valid_is_refused_naming_the_file(folder: Path) -> None:
    edit(folder, "randomization.toml", 'ratio = "2:1"', 'ratio = "2:1:1"')
    error = refusal(folder)
    assert error.file == str(folder / "randomization.toml")
    assert "ratio: expected 'a:b'" in error.detail


def test_a_site_factor_with_a_site_the_cohort_does_not_have_is_refused(folder: Path) -> None:
    edit(folder, "randomization.toml", '"antonius"]', '"radboud"]')
    error = refusal(folder)
    assert (error.key, error.found) == ("minimisation.factors.site", "radboud")
    assert error.expected == "site codes of the cohort (umcu, diak, antonius)"


def test_an_outcome_at_a_timepoint_the_cohort_does_not_measure_is_refused(folder: Path) -> None:
    edit(
        folder,
        "schedule.toml",
        'timepoints = ["baseline", "w4", "w12"]',
        'timepoints = ["baseline", "w3"]',
    )
    error = refusal(folder)
    assert (error.file, error.key, error.found) == (
        str(folder / "schedule.toml"),
        "outcomes[0].timepoints",
        "w3",
    )
    assert "timepoints of the cohort's schedule (baseline, w1, w2, w4" in error.expected
    assert "another would add a contact for controls" in error.expected


def test_an_outcome_needing_a_questionnaire_the_cohort_does_not_give_then_is_refused(
    folder: Path,
) -> None:
    edit(
        folder,
        "schedule.toml",
        'instruments = ["pain-nrs"]',
        'instruments = ["pain-nrs", "eq5d5l-nl"]',
    )
    error = refusal(folder)
    assert (error.key, error.found) == ("outcomes[1].instruments", "eq5d5l-nl")
    assert "instruments the cohort gives at w1 (qlq-c15-pal, pain-nrs, omed)" in error.expected


def test_an_extra_measurement_for_anyone_but_acceptors_is_refused(folder: Path) -> None:
    edit(folder, "schedule.toml", 'audience = "acceptors"', 'audience = "everyone"')
    error = refusal(folder)
    assert (error.key, error.found) == ("extra[0].audience", "everyone")
    assert "an extra measurement for anyone else would contact controls" in error.expected


def test_a_trial_schedule_may_not_define_routine_timepoints(folder: Path) -> None:
    schedule = folder / "schedule.toml"
    schedule.write_text(
        schedule.read_text(encoding="utf-8")
        + """
[[timepoints]]
code = "w3"
""",
        encoding="utf-8",
    )
    error = refusal(folder)
    assert error.key == "timepoints"
    assert "the routine schedule is the cohort's: cohort/schedule.toml" in error.expected


def test_an_outcome_for_one_arm_only_is_refused(folder: Path) -> None:
    edit(folder, "schedule.toml", 'measure = "pain"', 'measure = "pain"\narm = "intervention"')
    error = refusal(folder)
    assert (error.key, error.found) == ("outcomes[1].arm", "intervention")


def test_a_primary_outcome_the_schedule_does_not_read_there_is_refused(folder: Path) -> None:
    edit(folder, "trial.toml", 'timepoint = "w4"', 'timepoint = "w8"')
    error = refusal(folder)
    assert (error.file, error.key, error.found) == (
        str(folder / "trial.toml"),
        "primary_outcome.timepoint",
        "w8",
    )
    assert error.expected == "a timepoint schedule.toml reads qol at (baseline, w4, w12)"


def test_an_extra_measurement_cannot_be_the_primary_outcome(folder: Path) -> None:
    edit(folder, "trial.toml", 'measure = "qol"', 'measure = "after_consultation"')
    error = refusal(folder)
    assert error.key == "primary_outcome.measure"
    assert "an extra measurement reaches acceptors only" in error.expected


def test_an_overlap_rule_naming_an_unknown_trial_is_refused(folder: Path) -> None:
    edit(folder, "overlap.toml", 'trials = ["VERTICAL"]', 'trials = ["VERTICAL", "NOPE"]')
    error = refusal(folder)
    assert (error.file, error.key) == (str(folder / "overlap.toml"), "rules[0].trials")
    assert error.expected == "a trial of the cohort (BLEND, VERTICAL)"
    assert str(error.found) == "'NOPE', which is no registered trial"


def test_an_overlap_rule_of_an_unknown_kind_is_refused(folder: Path) -> None:
    edit(folder, "overlap.toml", 'kind = "never_after"', 'kind = "never_ever"')
    error = refusal(folder)
    assert (error.key, error.found) == ("rules[0].kind", "never_ever")


def test_a_missing_required_file_is_refused(folder: Path) -> None:
    (folder / "safety.toml").unlink()
    error = refusal(folder)
    assert (error.file, error.key, error.expected) == (str(folder / "safety.toml"), "", "this file")
    assert str(error) == f"{folder / 'safety.toml'}: expected this file, found no such file"


def test_a_misnamed_file_is_refused_rather_than_ignored(folder: Path) -> None:
    (folder / "eligibility.toml").rename(folder / "eligibilty.toml")
    error = refusal(folder)
    assert error.file == str(folder / "eligibility.toml")  # the missing one is named first
    shutil.copy(THIRD / "eligibility.toml", folder / "eligibility.toml")
    error = refusal(folder)
    assert error.file == str(folder / "eligibilty.toml")
    assert str(error.found) == "a file eligibilty.toml"


def test_a_missing_required_key_is_refused(folder: Path) -> None:
    edit(
        folder,
        "trial.toml",
        'title = "Early palliative-care consultation for members with bone metastases '
        '(test only)"\n',
        "",
    )
    error = refusal(folder)
    assert (error.key, error.expected) == ("title", "the key 'title'")


def test_an_unknown_key_is_refused_rather_than_ignored(folder: Path) -> None:
    edit(folder, "allocation.toml", "overview_delay_days", "overview_delay_dayz")
    error = refusal(folder)
    assert (error.file, error.key) == (str(folder / "allocation.toml"), "overview_delay_dayz")
    assert error.expected == "only the keys ['overview_delay_days']"


def test_a_value_of_the_wrong_kind_is_refused(folder: Path) -> None:
    edit(folder, "trial.toml", "target_sample_size = 60", 'target_sample_size = "sixty"')
    error = refusal(folder)
    assert (error.key, error.expected, error.found) == (
        "target_sample_size",
        "a whole number",
        "sixty",
    )


def test_a_trial_in_another_cohort_or_with_a_taken_code_is_refused(folder: Path) -> None:
    edit(folder, "trial.toml", 'cohort = "PRESENT"', 'cohort = "ELSEWHERE"')
    assert (refusal(folder).key, refusal(folder).found) == ("cohort", "ELSEWHERE")
    edit(folder, "trial.toml", 'cohort = "ELSEWHERE"', 'cohort = "PRESENT"')
    edit(folder, "trial.toml", 'code = "PALLIATE"', 'code = "VERTICAL"')
    error = refusal(folder)
    assert (error.key, str(error.found)) == ("code", "'VERTICAL', which is already registered")


def test_a_trial_message_to_every_participant_is_refused(folder: Path) -> None:
    edit(folder, "messages.toml", 'audience = "acceptor"', 'audience = "participant"')
    error = refusal(folder)
    assert (error.key, error.found) == ("consultation_reminder.audience", "participant")
    edit(folder, "messages.toml", "[consultation_reminder]", "[questionnaire_reminder]")
    assert (
        refusal(folder).expected == "a template name the cohort does not use (cohort/messages.toml)"
    )


def test_timing_rules_must_name_procedures_of_their_arm(folder: Path) -> None:
    edit(folder, "treatment.toml", 'then = "follow_up_call"', 'then = "phone_call"')
    error = refusal(folder)
    assert (error.key, error.found) == ("arms.intervention.timing[0].then", "phone_call")


def test_an_invalid_registered_folder_stops_loading_every_trial(folder: Path) -> None:
    edit(folder, "overlap.toml", 'trials = ["VERTICAL"]', 'trials = ["NOPE"]')
    with pytest.raises(ConfigError, match="rules\\[0\\].trials"):
        load_trials([folder])  # start-up refuses it: no partial set of trials
    assert trial_codes() == KNOWN  # nothing was registered by the attempt


def test_two_folders_with_one_code_are_refused(folder: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(folder, twin)
    with pytest.raises(ConfigError) as refused:
        trial_codes([folder, twin])
    assert (refused.value.file, refused.value.key) == (str(twin / "trial.toml"), "code")
    assert str(refused.value.found) == f"'PALLIATE', also the code of {folder}"


def test_a_consent_version_longer_than_an_offer_can_record_is_refused(folder: Path) -> None:
    long = "PALLIATE ICF (DEFAULT: set the approved version)"
    edit(folder, "offers.toml", '"PALLIATE ICF v1 (test)"', f'"{long}"')
    error = refusal(folder)
    assert error.file == str(folder / "offers.toml")
    assert error.key == "trial_consent_versions"
    assert "at most 40 characters" in error.expected and long in str(error)


def test_a_trial_code_longer_than_the_records_store_is_refused(folder: Path) -> None:
    edit(folder, "trial.toml", 'code = "PALLIATE"', 'code = "PALLIATE-EXTENSION-2026"')
    error = refusal(folder)
    assert error.key == "code" and "2 to 20 capitals" in error.expected
