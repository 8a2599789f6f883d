"""The schedule of assessments: parsing, the documented defaults, window edges and the
consistency rules the system check enforces."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from blend.instruments import instrument_codes
from blend.protocol import ProtocolError, load_protocol
from blend.protocol.schedule import TIMEPOINT_CODES, load_schedule, parse_schedule


@pytest.fixture
def raw() -> dict[str, Any]:
    return copy.deepcopy(load_protocol().section("schedule"))


def test_defaults_have_the_analysis_timepoint_codes_in_order() -> None:
    assert load_schedule().codes == TIMEPOINT_CODES
    assert load_schedule().primary == "w4"


def test_documented_windows_and_instruments() -> None:
    schedule = load_schedule()
    windows = {tp.code: (tp.day, tp.before, tp.after) for tp in schedule.timepoints}
    assert windows == {
        "baseline": (0, 14, 0),
        "w1": (7, 3, 3),
        "w2": (14, 3, 3),
        "w4": (28, 3, 3),
        "w6": (42, 7, 7),
        "w8": (56, 7, 7),
        "w12": (84, 7, 7),
        "m6": (182, 14, 14),
        "m12": (365, 14, 14),
    }
    for tp in schedule.timepoints:
        assert {"qlq-c15-pal", "pain-nrs", "omed"} <= set(tp.instruments)
    assert [tp.code for tp in schedule.timepoints if "eq5d5l-nl" in tp.instruments] == [
        "baseline",
        "w4",
        "w12",
        "m6",
        "m12",
    ]
    assert [tp.code for tp in schedule.timepoints if "cost" in tp.instruments] == [
        "w4",
        "w12",
        "m6",
    ]


def test_plan_counts_from_the_start_of_treatment_with_inclusive_window_edges() -> None:
    plan = {w.code: w for w in load_schedule().plan(date(2026, 3, 2))}
    assert plan["baseline"].opens == date(2026, 2, 16) and plan["baseline"].closes == date(
        2026, 3, 2
    )
    assert (plan["w4"].opens, plan["w4"].target, plan["w4"].closes) == (
        date(2026, 3, 27),
        date(2026, 3, 30),
        date(2026, 4, 2),
    )
    assert (plan["w12"].opens, plan["w12"].closes) == (date(2026, 5, 18), date(2026, 6, 1))
    assert (plan["m6"].opens, plan["m6"].closes) == (date(2026, 8, 17), date(2026, 9, 14))
    assert plan["m12"].target == date(2027, 3, 2)


def test_plan_crosses_a_leap_day() -> None:
    plan = {w.code: w for w in load_schedule().plan(date(2028, 2, 1))}
    assert plan["w4"].target == date(2028, 2, 29)


def test_message_steps_inside_the_window_only() -> None:
    schedule = load_schedule()
    w4 = schedule.plan(date(2026, 3, 2))[3]
    assert [(s.step, d) for s, d in schedule.message_days(w4)] == [
        ("invitation", date(2026, 3, 27)),
        ("reminder", date(2026, 3, 30)),
        ("last_reminder", date(2026, 4, 1)),
    ]


def test_the_defaults_pass_the_consistency_rules(raw: dict[str, Any]) -> None:
    parse_schedule(raw, instrument_codes())


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda r: r["timepoints"][3].update(day=12), "strictly increasing"),
        (
            lambda r: r["timepoints"][1].update(code="week1"),
            "timepoint code 'week1': expected 'baseline'",
        ),
        (lambda r: r["timepoints"].pop(5), r"timepoints \['w8'\] are missing"),
        (lambda r: r["timepoints"][2].update(code="w1"), "unique"),
        (lambda r: r["timepoints"].pop(0), "'baseline' timepoint is required"),
        (lambda r: r.update(primary="w5"), "primary 'w5'"),
        (lambda r: r["timepoints"][3].update(before=20), "contains the target day of w2"),
        (lambda r: r["timepoints"][1].update(before=7), "window opens on day 0"),
        (lambda r: r["timepoints"][0].update(after=3), "baseline must be before treatment"),
        (
            lambda r: r["timepoints"][4]["instruments"].append("qlq-c99"),
            "unknown instrument 'qlq-c99'",
        ),
        (lambda r: r["timepoints"][4].update(arm="control"), "same for both arms"),
        (lambda r: r["messages"][1].update(day=0), "strictly increasing"),
        (lambda r: r["cost"]["items"][0].update(kind="euro"), "kind expected one of"),
    ],
)
def test_inconsistent_schedules_are_rejected_with_the_reason(
    raw: dict[str, Any], change: Any, expected: str
) -> None:
    change(raw)
    with pytest.raises(ProtocolError, match=expected):
        parse_schedule(raw, instrument_codes())


def test_a_later_timepoint_may_be_added(raw: dict[str, Any]) -> None:
    raw["timepoints"].append(
        {
            "code": "m24",
            "label_en": "Month 24",
            "label_nl": "Maand 24",
            "day": 730,
            "before": 30,
            "after": 30,
            "instruments": ["qlq-c15-pal"],
        }
    )
    assert parse_schedule(raw, instrument_codes()).codes[-1] == "m24"


def test_a_missing_key_names_the_timepoint_and_the_key(raw: dict[str, Any]) -> None:
    del raw["timepoints"][2]["before"]
    with pytest.raises(ProtocolError, match=r"timepoints\[2\]: expected key 'before'"):
        parse_schedule(raw)


def test_a_wrong_type_names_what_was_expected(raw: dict[str, Any]) -> None:
    raw["timepoints"][2]["day"] = "14"
    with pytest.raises(ProtocolError, match="day expected a whole number, got '14'"):
        parse_schedule(raw)
