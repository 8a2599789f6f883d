"""The eligibility rule engine: every criterion alone, missing facts, every reason."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from blend.eligibility import (
    ELIGIBLE,
    INELIGIBLE,
    PENDING,
    FactError,
    RuleError,
    assess,
    criteria_from_section,
    load_criteria,
)
from blend.eligibility import cli as screen_cli
from blend.protocol import load_protocol

ELIGIBLE_FACTS: dict[str, Any] = {
    "screening_date": "2025-03-10",
    "age": 64,
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
    "asia_rapid_progression": False,
    "long_halflife_drugs": False,
    "life_expectancy_months": 12,
    "can_lie_on_table": True,
    "fit_for_radiosurgery": True,
    "consent_randomization": True,
}

# criterion code -> the one change that, alone, makes the participant ineligible.
VIOLATIONS: dict[str, dict[str, Any]] = {
    "I1_SYMPTOMATIC": {"symptoms": []},
    "I1_SPINAL_LEVELS": {"index_levels": ["S1"]},
    "I1_INSTABILITY": {"sins_total": 6},
    "I1_RT_INDICATED": {"radiotherapy_indicated": False},
    "I1_SURGERY_INDICATED": {"surgery_indicated": False},
    "I2_MALIGNANCY_PROOF": {"malignancy_proof": "none"},
    "I3_RADIOGRAPHIC_EVIDENCE": {"radiographic_evidence": False},
    "I4_CONSENT_RANDOMIZATION": {"consent_randomization": False},
    "I5_FIT": {"fit_for_radiosurgery": False},
    "I6_AGE": {"age": 17},
    "E1_CANNOT_LIE_ON_TABLE": {"can_lie_on_table": False},
    "E2_LEVELS_TO_BRIDGE": {"levels_to_bridge": 6},
    "E2_RT_LOCATIONS": {"radiotherapy_locations": 2},
    "E3_PRIOR_SURGERY": {"prior_surgery_index": True},
    "E3_PRIOR_RADIOTHERAPY": {"prior_radiotherapy_index": True},
    "E4_MULTIPLE_MYELOMA": {"multiple_myeloma": True},
    "E5_NEURO_DEFICIT": {"asia_grade": "C"},
    "E6_LONG_HALFLIFE_DRUGS": {"long_halflife_drugs": True},
    "E7_LIFE_EXPECTANCY": {"life_expectancy_months": 2.5},
}


def with_changes(**changes: Any) -> dict[str, Any]:
    facts = dict(ELIGIBLE_FACTS)
    facts.update(changes)
    return facts


def test_the_reference_facts_are_eligible_with_no_reasons() -> None:
    result = assess(ELIGIBLE_FACTS)
    assert result.status == ELIGIBLE
    assert result.reasons == {} and result.undecided == {} and result.missing_facts == []


def test_every_enabled_criterion_has_a_violation_case() -> None:
    assert set(VIOLATIONS) == {c.code for c in load_criteria().active}


@pytest.mark.parametrize("code", sorted(VIOLATIONS))
def test_each_criterion_alone_makes_the_participant_ineligible_with_its_reason(code: str) -> None:
    result = assess(with_changes(**VIOLATIONS[code]))
    assert result.status == INELIGIBLE
    assert list(result.reasons) == [code]
    assert result.reasons[code]  # a human reason, not only the code


def test_every_failing_criterion_is_reported_not_only_the_first() -> None:
    changes: dict[str, Any] = {}
    for code in ("I6_AGE", "E2_LEVELS_TO_BRIDGE", "E4_MULTIPLE_MYELOMA", "E7_LIFE_EXPECTANCY"):
        changes.update(VIOLATIONS[code])
    result = assess(with_changes(**changes))
    assert set(result.reasons) == {
        "I6_AGE",
        "E2_LEVELS_TO_BRIDGE",
        "E4_MULTIPLE_MYELOMA",
        "E7_LIFE_EXPECTANCY",
    }
    assert result.reasons["E2_LEVELS_TO_BRIDGE"] == "6 levels to bridge (more than 5)"
    assert result.reasons["I6_AGE"] == "age 17 at screening is under 18"


@pytest.mark.parametrize("fact", sorted(load_criteria().required_facts()))
def test_a_missing_fact_makes_the_screening_pending(fact: str) -> None:
    facts = dict(ELIGIBLE_FACTS)
    facts.pop(fact)
    if fact == "asia_rapid_progression":
        facts["asia_grade"] = "D"  # only ASIA D needs the progression fact
    result = assess(facts)
    assert result.status == PENDING
    assert fact in result.missing_facts
    assert all(reason.startswith("information missing: ") for reason in result.reasons.values())


def test_nothing_known_is_pending_and_lists_every_required_fact() -> None:
    result = assess({})
    assert result.status == PENDING
    assert result.missing_facts == load_criteria().required_facts()


def test_a_failing_criterion_beats_missing_facts_and_keeps_the_undecided_ones() -> None:
    result = assess({"age": 16})
    assert result.status == INELIGIBLE
    assert list(result.reasons) == ["I6_AGE"]
    assert "E7_LIFE_EXPECTANCY" in result.undecided


@pytest.mark.parametrize(
    ("grade", "rapid", "status"),
    [
        ("E", None, ELIGIBLE),
        ("D", False, ELIGIBLE),
        ("D", True, INELIGIBLE),
        ("D", None, PENDING),
        ("A", None, INELIGIBLE),
        ("B", False, INELIGIBLE),
        ("C", False, INELIGIBLE),
    ],
)
def test_asia_rule_needs_progression_only_for_grade_d(
    grade: str, rapid: bool | None, status: str
) -> None:
    facts = with_changes(asia_grade=grade, asia_rapid_progression=rapid)
    assert assess(facts).status == status


def test_boundaries_are_those_of_the_registry_text() -> None:
    assert assess(with_changes(levels_to_bridge=5)).status == ELIGIBLE
    assert assess(with_changes(life_expectancy_months=3)).status == ELIGIBLE
    assert assess(with_changes(sins_total=7)).status == ELIGIBLE
    assert assess(with_changes(index_levels=["C2", "L5"])).status == ELIGIBLE


def test_age_is_derived_from_the_date_of_birth_at_the_screening_date_and_not_kept() -> None:
    facts = with_changes(date_of_birth="2007-03-11", screening_date="2025-03-10")
    facts.pop("age")
    result = assess(facts)
    assert result.facts["age"] == 17 and "date_of_birth" not in result.facts
    assert result.status == INELIGIBLE
    facts["date_of_birth"] = "2007-03-10"  # 18th birthday on the screening date
    assert assess(facts).status == ELIGIBLE


def test_the_strict_age_reading_is_a_configuration_option() -> None:
    section = copy.deepcopy(load_protocol().section("eligibility"))
    age = next(c for c in section["criteria"] if c["code"] == "I6_AGE")
    age["rule"] = {"fact": "age", "greater_than": 18}
    strict = criteria_from_section(section)
    assert assess(with_changes(age=18), strict).status == INELIGIBLE
    assert assess(with_changes(age=18)).status == ELIGIBLE


def test_the_bilsky_criterion_is_documented_but_off_until_enabled() -> None:
    assert assess(with_changes(bilsky_grade="3")).status == ELIGIBLE
    section = copy.deepcopy(load_protocol().section("eligibility"))
    next(c for c in section["criteria"] if c["code"] == "E8_BILSKY_HIGH_GRADE")["enabled"] = True
    result = assess(with_changes(bilsky_grade="3"), criteria_from_section(section))
    assert result.reasons == {"E8_BILSKY_HIGH_GRADE": "Bilsky grade 3 (high-grade compression)"}


def test_sins_total_comes_from_its_components_through_the_instruments_package() -> None:
    facts = with_changes(
        sins_components={
            "location": "semi_rigid",
            "pain": "mechanical",
            "bone_lesion": "lytic",
            "alignment": "normal",
            "collapse": "under_50",
            "posterolateral": "none",
        }
    )
    facts.pop("sins_total")
    result = assess(facts)
    assert result.facts["sins_total"] == 1 + 3 + 2 + 0 + 2 + 0
    assert result.status == ELIGIBLE
    facts["sins_components"] = {**facts["sins_components"], "pain": None}
    assert assess(facts).status == PENDING


def test_bad_facts_name_every_field_with_expected_and_received() -> None:
    with pytest.raises(FactError) as caught:
        assess(with_changes(age="sixty", asia_grade="F", symptoms="pain", favourite_colour="red"))
    errors = caught.value.errors
    assert set(errors) == {"age", "asia_grade", "symptoms", "favourite_colour"}
    assert "expected a number, got 'sixty'" in errors["age"]
    assert "expected one of ['A', 'B', 'C', 'D', 'E'], got 'F'" in errors["asia_grade"]


def test_a_rule_on_an_unknown_fact_is_a_configuration_error() -> None:
    section = copy.deepcopy(load_protocol().section("eligibility"))
    section["criteria"][0]["rule"] = {"fact": "shoe_size", "equals": 42}
    with pytest.raises(RuleError, match="shoe_size"):
        criteria_from_section(section)


def test_screen_cli_reads_json_on_stdin_and_prints_the_verdict(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(with_changes(multiple_myeloma=True))))
    assert screen_cli.main([]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "ineligible" and out["reasons"] == {
        "E4_MULTIPLE_MYELOMA": "multiple myeloma"
    }
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(ELIGIBLE_FACTS)))
    assert screen_cli.main([]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("{not json"))
    assert screen_cli.main([]) == 2
    assert "expected a JSON object" in capsys.readouterr().err


def test_every_criterion_code_and_fact_key_is_documented() -> None:
    text = (Path(__file__).parents[3] / "docs" / "eligibility.md").read_text(encoding="utf-8")
    criteria = load_criteria()
    undocumented = [c.code for c in criteria.criteria if f"`{c.code}`" not in text]
    undocumented += [key for key in criteria.facts if f"`{key}`" not in text]
    assert undocumented == []
