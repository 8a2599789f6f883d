"""Consensus pain response (Chow 2012) and OMED, with every ambiguity option (§4)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blend.instruments import InstrumentError, score, score_frame


def response(
    bl_pain: float | None,
    bl_omed: float | None,
    fu_pain: float | None,
    fu_omed: float | None,
    **options: object,
) -> object:
    answers = dict(
        baseline_worst_pain=bl_pain,
        baseline_omed=bl_omed,
        followup_worst_pain=fu_pain,
        followup_omed=fu_omed,
    )
    return score("pain-response", answers, **options)["category"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ((6, 60, 0, 60), "CR"),  # pain 0, OMED stable
        ((6, 60, 0, 40), "CR"),  # pain 0, OMED reduced
        ((6, 60, 4, 60), "PR"),  # pain -2 without analgesic increase
        ((6, 60, 4, 30), "PR"),
        ((6, 60, 6, 45), "PR"),  # OMED -25% exactly, pain unchanged
        ((6, 60, 5, 45), "PR"),  # OMED -25%, pain lower
        ((6, 60, 6, 46), "IR"),  # OMED -23%: not a 25% reduction
        ((6, 60, 7, 45), "IR"),  # OMED -25% but pain increased
        ((6, 60, 5, 60), "IR"),  # pain -1 only
        ((4, 60, 6, 60), "PP"),  # pain +2, OMED unchanged
        ((4, 60, 6, 74), "PP"),  # pain +2, OMED +23% = stable
        ((4, 60, 6, 46), "PP"),  # pain +2, OMED -23% = stable
        ((4, 60, 4, 75), "PP"),  # OMED +25%, pain unchanged
        ((4, 60, 5, 75), "PP"),  # OMED +25%, pain +1
        ((4, 60, 5, 74), "IR"),  # OMED +23%, pain +1
        ((4, 60, 3, 75), "IR"),  # OMED +25%, pain -1 (not "stable or +1")
        ((4, 60, 4, 60), "IR"),  # nothing changed
    ],
)
def test_consensus_categories_with_default_options(case: tuple[int, ...], expected: str) -> None:
    assert response(*case) == expected


@pytest.mark.parametrize(
    ("option", "case", "default", "alternative"),
    [
        # (a) a small OMED increase: disqualifies CR/PR literally, not with '25pct'
        (dict(analgesic_increase="25pct"), (6, 60, 0, 61), "IR", "CR"),
        (dict(analgesic_increase="25pct"), (6, 60, 4, 70), "IR", "PR"),
        (dict(analgesic_increase="25pct"), (6, 60, 4, 75), "IR", "IR"),
        # (b) stable OMED: +/-25% band by default, exactly unchanged as the alternative
        (dict(stable_omed="unchanged"), (4, 60, 6, 74), "PP", "IR"),
        (dict(stable_omed="unchanged"), (4, 60, 6, 60), "PP", "PP"),
        # (c) baseline OMED 0: any follow-up opioid is a >=25% increase, or not evaluable
        (dict(zero_baseline_omed="not_evaluable"), (6, 0, 6, 10), "PP", None),
        (dict(zero_baseline_omed="not_evaluable"), (6, 0, 3, 0), "PR", "PR"),
        # (d) contradictory: pain +3 with OMED +50%; and pain 6 -> 0 with OMED +50%
        (dict(contradictory="progression"), (3, 40, 6, 60), "IR", "PP"),
        (dict(contradictory="progression"), (6, 40, 0, 60), "IR", "IR"),
        # (e) CR precedence: 1 -> 0 is CR literally; not without a 2-point reduction
        (dict(cr_rule="cr_requires_pr"), (1, 60, 0, 60), "CR", "IR"),
        (dict(cr_rule="cr_requires_pr"), (6, 60, 0, 60), "CR", "CR"),
        # (f) "pain stable" in the OMED arm of PP: 0/+1, or -1..+1
        (dict(pain_stable="minus1_to_plus1"), (4, 60, 3, 75), "IR", "PP"),
        (dict(pain_stable="minus1_to_plus1"), (4, 60, 2, 75), "IR", "IR"),
        # eligibility: minimum baseline worst pain
        (dict(min_baseline_pain=2), (1, 60, 0, 60), "CR", None),
        (dict(min_baseline_pain=2), (2, 60, 0, 60), "CR", "CR"),
    ],
)
def test_each_ambiguity_option_changes_exactly_the_cases_it_names(
    option: dict[str, object], case: tuple[int, ...], default: str, alternative: str | None
) -> None:
    assert response(*case) == default
    assert response(*case, **option) == alternative


@pytest.mark.parametrize("case", [(6, 0, 6, 0), (4, 0, 6, 0), (6, 0, 0, 10), (6, 0, 0, 0)])
def test_zero_baseline_omed_cases(case: tuple[int, ...]) -> None:
    expected = {(6, 0, 6, 0): "IR", (4, 0, 6, 0): "PP", (6, 0, 0, 10): "IR", (6, 0, 0, 0): "CR"}
    assert response(*case) == expected[case]


@pytest.mark.parametrize("missing", range(4))
def test_any_missing_input_gives_no_category(missing: int) -> None:
    case: list[float | None] = [6, 60, 0, 60]
    case[missing] = None
    assert response(*case) is None


def test_frame_categories_match_single_scores_over_a_grid() -> None:
    grid = list(
        itertools.product(
            [0, 2, 5, 8], [0, 40, 60], [0, 3, 5, 7, 10], [0, 30, 45, 50, 60, 70, 75, 120]
        )
    )
    frame = pd.DataFrame(
        grid,
        columns=["baseline_worst_pain", "baseline_omed", "followup_worst_pain", "followup_omed"],
    )
    for options in ({}, {"contradictory": "progression", "stable_omed": "unchanged"}):
        scored = score_frame("pain-response", frame, **options)["category"].tolist()
        assert scored == [response(*case, **options) for case in grid]
        assert set(scored) <= {"CR", "PR", "PP", "IR"}


def test_the_categories_are_mutually_exclusive_before_precedence() -> None:
    """No case meets both PR and PP, so precedence only matters between CR and PR."""
    from blend.instruments.pain import RESPONSE_OPTIONS

    grid = np.array(
        list(
            itertools.product(
                range(11), [0, 10, 40, 60], range(11), [0, 10, 30, 45, 59, 60, 61, 75, 90]
            )
        ),
        dtype=float,
    )
    for choice in itertools.product(*(spec.choices[:2] for spec in RESPONSE_OPTIONS[:6])):
        options = {spec.name: value for spec, value in zip(RESPONSE_OPTIONS, choice, strict=False)}
        options["min_baseline_pain"] = None
        frame = pd.DataFrame(
            grid,
            columns=[
                "baseline_worst_pain",
                "baseline_omed",
                "followup_worst_pain",
                "followup_omed",
            ],
        )
        categories = score_frame("pain-response", frame, **options)["category"]
        improved = grid[:, 2] - grid[:, 0] <= -2
        assert not (categories[improved] == "PP").any()
        worse = grid[:, 2] - grid[:, 0] >= 2
        assert not categories[worse].isin(["CR", "PR"]).any()


# ---- OMED ------------------------------------------------------------------------------


def med(drug: str, dose: float | None, route: str = "oral", unit: str = "mg/day") -> dict:
    return {"drug": drug, "route": route, "dose": dose, "unit": unit}


def omed(*meds: dict, **options: object) -> object:
    return score("omed", {"medications": list(meds)}, **options)["omed"]


def test_issue_example_oxycodone_and_fentanyl_patch() -> None:
    assert omed(med("oxycodone", 40), med("fentanyl", 25, "transdermal", "ug/h")) == 120.0


@pytest.mark.parametrize(
    ("medication", "expected"),
    [
        (med("morphine", 30), 30.0),
        (med("oxycodone", 40), 60.0),  # 1.5
        (med("hydromorphone", 12), 60.0),  # 5
        (med("fentanyl", 25, "transdermal", "ug/h"), 60.0),  # 2.4 per ug/h
        (med("fentanyl", 25, "transdermal", "µg/h"), 60.0),
        (med("buprenorphine", 35, "transdermal", "ug/h"), 84.0),  # stated 100:1 ratio
        (med("tapentadol", 150), 60.0),  # 0.4
        (med("tramadol", 200), 20.0),  # 0.1 in the Dutch guideline
        (med("Oxycodone", 10, "Oral"), 15.0),  # case-insensitive drug and route
    ],
)
def test_dutch_guideline_factors(medication: dict, expected: float) -> None:
    assert omed(medication) == expected


@pytest.mark.parametrize(
    ("medication", "expected"),
    [
        (med("tramadol", 200), 40.0),
        (med("codeine", 100), 15.0),
        (med("methadone", 10), 47.0),
        (med("hydrocodone", 10), 10.0),
        (med("oxymorphone", 10), 30.0),
    ],
)
def test_cdc_table_option(medication: dict, expected: float) -> None:
    assert omed(medication, table="cdc-2022") == pytest.approx(expected)


def test_empty_list_is_zero_and_a_missing_dose_or_list_is_unscorable() -> None:
    assert omed() == 0.0
    assert omed(med("morphine", 30), med("oxycodone", None)) is None
    assert score("omed", {})["omed"] is None


@pytest.mark.parametrize(
    ("medication", "message"),
    [
        (med("methadone", 10), "methadone"),
        (med("codeine", 60), "drug/route"),
        (med("morphine", 30, "intravenous"), "drug/route"),
        (med("oxycodone", 40, unit="mg/h"), "'unit'"),
        (med("fentanyl", 25, "transdermal", "mg/day"), "'unit'"),
        (med("morphine", -5), "'dose'"),
        (med("morphine", "30"), "'dose'"),  # type: ignore[arg-type]
        (med("morphine", True), "'dose'"),  # type: ignore[arg-type]
        ({"drug": "morphine", "route": "oral", "dose": 30, "unit": "mg/day", "freq": 2}, "'freq'"),
        ({"route": "oral", "dose": 30, "unit": "mg/day"}, "'drug'"),
        ("morphine 30 mg", "medications\\[0\\]"),
    ],
)
def test_omed_never_guesses(medication: object, message: str) -> None:
    with pytest.raises(InstrumentError, match=message):
        score("omed", {"medications": [medication]})


def test_omed_rejects_unknown_top_level_keys_and_bad_tables() -> None:
    with pytest.raises(InstrumentError, match="'meds'"):
        score("omed", {"meds": []})
    with pytest.raises(InstrumentError, match="option 'table'"):
        score("omed", {"medications": []}, table="who-1986")


def test_a_custom_conversion_table_is_data_not_code(tmp_path: Path) -> None:
    path = tmp_path / "sap.csv"
    path.write_text(
        "table,drug,route,unit,factor,source,note\n"
        "sap-v1,buprenorphine,transdermal,ug/h,1.8,SAP v1,75:1\n",
        encoding="utf-8",
    )
    assert omed(med("buprenorphine", 35, "transdermal", "ug/h"), table=str(path)) == 63.0


def test_omed_frame_scores_each_row() -> None:
    frame = pd.DataFrame(
        {
            "medications": [
                [med("morphine", 30)],
                [],
                None,
                [med("oxycodone", 20), med("morphine", 10)],
            ]
        }
    )
    assert score_frame("omed", frame)["omed"].tolist()[:2] == [30.0, 0.0]
    assert np.isnan(score_frame("omed", frame)["omed"].iloc[2])
    assert score_frame("omed", frame)["omed"].iloc[3] == 40.0


def test_pain_nrs_passes_the_worst_pain_through() -> None:
    assert score("pain-nrs", {"worst_pain": 7}) == {"worst_pain": 7.0}
    assert score("pain-nrs", {}) == {"worst_pain": None}
    with pytest.raises(InstrumentError, match="'worst_pain'"):
        score("pain-nrs", {"worst_pain": 11})
