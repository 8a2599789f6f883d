"""Every declared edit check fires on a value that breaks it and stays silent on a good one,
and says what failed as data: the rule, the value found, the value expected and its source."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from blend.apps.consent.editchecks import CONSENT_FORM, CONSENT_RECORD
from blend.apps.datamanagement.editchecks import TIMELINE
from blend.apps.datamanagement.runner import all_codes
from blend.apps.registry.editchecks import PARTICIPANT, REGISTRATION
from blend.apps.safety.editchecks import ADVERSE_EVENT
from blend.editchecks import (
    CrossField,
    DateOrder,
    Finding,
    Range,
    Relation,
    RequiredIf,
    Rule,
    out_of_order,
    run_checks,
)

T = "timeline."
GOOD_AE = {
    "term": "wound_infection",
    "grade": 2,
    "serious": False,
    "seriousness": [],
    "other_term": "",
    "outcome": "recovering",
    "onset_date": date(2025, 4, 1),
    "resolved_on": None,
    T + "registered_on": date(2025, 3, 1),
    T + "death_date": None,
}
GOOD_TIMELINE = {
    T + "registered_on": date(2025, 3, 1),
    T + "consent_on": date(2025, 3, 1),
    T + "screened_on": date(2025, 3, 10),
    T + "randomized_on": date(2025, 3, 12),
    T + "treatment_start": date(2025, 3, 20),
    T + "death_date": date(2025, 9, 1),
}
GOOD_PARTICIPANT = {
    "performance_status": 1,
    "metastases_diagnosed_on": date(2025, 2, 1),
    "registered_on": date(2025, 3, 1),
    "birth_year": 1960,
}

# (check set, good values, breaking change, expected check code, field blamed)
CASES: list[tuple[tuple[Any, ...], dict[str, Any], dict[str, Any], str, str]] = [
    (PARTICIPANT, GOOD_PARTICIPANT, {"performance_status": 5}, "P01", "performance_status"),
    (
        PARTICIPANT,
        GOOD_PARTICIPANT,
        {"metastases_diagnosed_on": date(2025, 3, 2)},
        "P02",
        "metastases_diagnosed_on",
    ),
    (PARTICIPANT, GOOD_PARTICIPANT, {"birth_year": 2010}, "P03", "birth_year"),
    (
        REGISTRATION,
        {"date_of_birth": date(1960, 1, 1), "registered_on": date(2025, 3, 1)},
        {"date_of_birth": date(2012, 1, 1)},
        "R01",
        "date_of_birth",
    ),
    (CONSENT_FORM, {"item_c": "yes", "item_d": "yes"}, {"item_c": "no"}, "C01", "item_d"),
    (
        CONSENT_RECORD,
        {T + "registered_on": date(2025, 3, 1), "effective_on": date(2025, 3, 1)},
        {"effective_on": date(2025, 2, 28)},
        "C02",
        "effective_on",
    ),
    (ADVERSE_EVENT, GOOD_AE, {"grade": 6}, "AE01", "grade"),
    (ADVERSE_EVENT, GOOD_AE, {"term": "seroma", "grade": 4}, "AE02", "grade"),
    (ADVERSE_EVENT, GOOD_AE, {"serious": True}, "AE03", "seriousness"),
    (
        ADVERSE_EVENT,
        GOOD_AE,
        {"grade": 5, "serious": True, "seriousness": ["death"]},
        "AE04",
        "outcome",
    ),
    (ADVERSE_EVENT, GOOD_AE, {"seriousness": ["hospitalisation"]}, "AE05", "serious"),
    (ADVERSE_EVENT, GOOD_AE, {"term": "other"}, "AE06", "other_term"),
    (ADVERSE_EVENT, GOOD_AE, {"resolved_on": date(2025, 3, 31)}, "AE07", "resolved_on"),
    (ADVERSE_EVENT, GOOD_AE, {"onset_date": date(2025, 2, 1)}, "AE08", "onset_date"),
    (ADVERSE_EVENT, GOOD_AE, {"outcome": "recovered"}, "AE09", "resolved_on"),
    (ADVERSE_EVENT, GOOD_AE, {T + "death_date": date(2025, 3, 20)}, "AE10", "onset_date"),
    (
        ADVERSE_EVENT,
        GOOD_AE,
        {"grade": 5, "outcome": "fatal", "serious": True, "seriousness": ["hospitalisation"]},
        "AE11",
        "seriousness",
    ),
    (
        ADVERSE_EVENT,
        {**GOOD_AE, T + "randomized_on": date(2025, 3, 20)},
        {"onset_date": date(2025, 3, 19)},
        "AE12",
        "onset_date",
    ),
    (TIMELINE, GOOD_TIMELINE, {T + "consent_on": date(2025, 2, 1)}, "T01", T + "consent_on"),
    (
        TIMELINE,
        GOOD_TIMELINE,
        {
            T + "consent_on": date(2025, 3, 13),
            T + "screened_on": date(2025, 3, 13),
            T + "randomized_on": date(2025, 3, 12),
        },
        "T02",
        T + "randomized_on",
    ),
    (TIMELINE, GOOD_TIMELINE, {T + "screened_on": date(2025, 3, 13)}, "T03", T + "randomized_on"),
    (
        TIMELINE,
        GOOD_TIMELINE,
        {T + "treatment_start": date(2025, 3, 11)},
        "T04",
        T + "treatment_start",
    ),
    (TIMELINE, GOOD_TIMELINE, {T + "death_date": date(2025, 3, 19)}, "T05", T + "treatment_start"),
    (
        TIMELINE,
        {T + "registered_on": date(2025, 3, 1), T + "death_date": date(2025, 3, 1)},
        {T + "death_date": date(2025, 2, 27)},
        "T06",
        T + "death_date",
    ),
]


def test_every_declared_check_has_a_case() -> None:
    assert sorted(all_codes()) == sorted([*(code for *_, code, _ in CASES), "Q01"])


def test_q01_questionnaires_in_schedule_order() -> None:
    events = [
        ("w4", date(2025, 4, 29), date(2025, 4, 30)),
        ("w6", date(2025, 5, 13), date(2025, 5, 20)),
        ("w8", date(2025, 5, 27), date(2025, 5, 18)),
        ("w12", date(2025, 6, 24), None),
    ]
    assert out_of_order(events[:2] + events[3:]) == []
    [finding] = out_of_order(events)
    assert finding == Finding(
        "Q01",
        "completed_on",
        Rule.SCHEDULE_ORDER,
        found=date(2025, 5, 18),
        expected=date(2025, 5, 20),
        expected_from="w6",
        relation=Relation.ON_OR_AFTER,
        subject="w8",
    )
    assert (
        finding.message == "completed_on: expected w8 on or after w6 (2025-05-20), got 2025-05-18"
    )


@pytest.mark.parametrize(
    ("check_set", "good", "change", "code", "field"), CASES, ids=[case[3] for case in CASES]
)
def test_each_check_fires(
    check_set: Any, good: dict[str, Any], change: dict[str, Any], code: str, field: str
) -> None:
    assert run_checks(check_set, good) == []
    findings = run_checks(check_set, {**good, **change})
    assert [(f.check, f.field) for f in findings if f.check == code] == [(code, field)]
    [finding] = [f for f in findings if f.check == code]
    assert finding.rule in set(Rule)
    assert finding.message.startswith(f"{finding.label or field}: ")
    assert "[" + code not in finding.message


def test_a_date_order_says_which_date_it_compared_with_and_what_it_found() -> None:
    [finding] = run_checks(ADVERSE_EVENT, {**GOOD_AE, "onset_date": date(2025, 2, 1)})
    assert finding == Finding(
        "AE08",
        "onset_date",
        Rule.DATE_ORDER,
        found=date(2025, 2, 1),
        expected=date(2025, 3, 1),
        expected_from=T + "registered_on",
        relation=Relation.ON_OR_AFTER,
    )
    assert finding.message == (
        "onset_date: expected on or after timeline.registered_on (2025-03-01), got 2025-02-01"
    )


def test_a_date_order_blaming_the_earlier_date_asks_for_on_or_before() -> None:
    findings = run_checks(
        PARTICIPANT, {**GOOD_PARTICIPANT, "metastases_diagnosed_on": date(2025, 3, 2)}
    )
    assert [(f.field, f.relation, f.found, f.expected, f.expected_from) for f in findings] == [
        (
            "metastases_diagnosed_on",
            Relation.ON_OR_BEFORE,
            date(2025, 3, 2),
            date(2025, 3, 1),
            "registered_on",
        )
    ]


def test_a_strict_date_order_asks_for_after() -> None:
    check = DateOrder("X01", "a", "b", strict=True)
    [finding] = check.run({"a": date(2025, 1, 1), "b": date(2025, 1, 1)})
    assert finding.relation is Relation.AFTER and finding.expected_from == "a"


def test_a_range_gives_its_bounds_and_the_value_found() -> None:
    [finding] = Range("X02", "score", 0, 4, "Score").run({"score": 7})
    assert (finding.rule, finding.expected, finding.found, finding.label) == (
        Rule.RANGE,
        (0, 4),
        7,
        "Score",
    )
    assert finding.message == "Score: expected 0–4, got 7"


def test_required_if_gives_its_condition_in_words() -> None:
    check = RequiredIf("X03", "why", lambda v: v.get("flag") is True, "the flag is set")
    [finding] = check.run({"flag": True, "why": ""})
    assert (finding.rule, finding.condition, finding.found) == (
        Rule.REQUIRED,
        "the flag is set",
        "",
    )


def test_a_cross_field_rule_gives_the_values_it_read() -> None:
    check = CrossField("X04", "b", ("a", "b"), lambda v: v["a"] < v["b"], "must exceed a")
    [finding] = check.run({"a": 3, "b": 2, "c": 9})
    assert (finding.rule, finding.condition, finding.values, finding.found) == (
        Rule.CROSS_FIELD,
        "must exceed a",
        (("a", 3), ("b", 2)),
        2,
    )
    assert finding.message == "b: must exceed a; got a=3, b=2"


def test_checks_are_silent_while_values_are_missing() -> None:
    assert run_checks(TIMELINE, {T + "registered_on": date(2025, 3, 1)}) == []
    assert run_checks(ADVERSE_EVENT, {}) == []
