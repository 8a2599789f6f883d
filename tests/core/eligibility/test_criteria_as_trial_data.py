"""What the eligibility engine learned for a second trial: the `intersects` operator
(VERTICAL: a lesion in C1 or C2), a fact catalogue kept apart from the criteria (the
cohort's), and a check that every operand fits the fact it tests."""

from __future__ import annotations

import copy

import pytest

from blend.eligibility import INELIGIBLE, RuleError, assess, criteria_from_section, load_criteria
from blend.eligibility.criteria import fact_catalogue, operand_problems
from blend.protocol import load_protocol


def test_intersects_is_true_when_a_list_fact_shares_a_value() -> None:
    section = copy.deepcopy(load_protocol().section("eligibility"))
    section["criteria"].append(
        {
            "code": "E_C1_C2",
            "kind": "exclusion",
            "text": "C1 or C2",
            "reason": "upper",
            "rule": {"fact": "index_levels", "intersects": ["C1", "C2"]},
        }
    )
    criteria = criteria_from_section(section)
    assert assess({"index_levels": ["C2", "C3"]}, criteria).reasons["E_C1_C2"] == "upper"
    assert "E_C1_C2" not in assess({"index_levels": ["C3"]}, criteria).reasons
    assert assess({"index_levels": ["C2", "C3"]}, criteria).status == INELIGIBLE


def test_blends_operands_all_fit_their_facts() -> None:
    assert operand_problems(load_criteria()) == []


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (
            {"fact": "asia_grade", "in": ["A", "F"]},
            "in on fact 'asia_grade' expected a list of one of",
        ),
        ({"fact": "age", "at_least": "18"}, "at_least on fact 'age' expected a number, found '18'"),
        ({"fact": "multiple_myeloma", "equals": "yes"}, "expected true or false, found 'yes'"),
        ({"fact": "symptoms", "subset_of": ["back_pain"]}, "expected a list of values from"),
        (
            {"fact": "multiple_myeloma", "at_least": 1},
            "at_least does not apply to fact 'multiple_myeloma' of type bool",
        ),
    ],
)
def test_an_operand_that_cannot_match_its_fact_is_named(
    rule: dict[str, object], problem: str
) -> None:
    section = copy.deepcopy(load_protocol().section("eligibility"))
    section["criteria"][0]["rule"] = rule
    (found,) = operand_problems(criteria_from_section(section))
    assert found.startswith("criteria[0] (I1_SYMPTOMATIC).rule: ") and problem in found


def test_a_fact_catalogue_names_its_own_file() -> None:
    with pytest.raises(RuleError, match=r"cohort/facts.toml: facts.age.type: expected one of"):
        fact_catalogue({"age": {"type": "integer"}}, "cohort/facts.toml")
    assert fact_catalogue({"age": {"type": "int", "label": "Age"}})["age"].label == "Age"
