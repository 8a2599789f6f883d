"""Bad input always gets a clear InstrumentError: item, what was expected, what was received."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blend.instruments import InstrumentError, instrument_codes, score, score_frame


def test_instrument_error_is_a_value_error() -> None:
    assert issubclass(InstrumentError, ValueError)


@pytest.mark.parametrize(("answers", "pattern"), [
    ({"q16": 1}, "unknown item 'q16'; expected q1, q2"),
    ({"Q1": 1}, "unknown item 'Q1'"),
    ({"q1": 5}, "item 'q1': expected an integer from 1 to 4, or null; received 5 \\(int\\)"),
    ({"q1": 0}, "item 'q1'.*received 0 \\(int\\)"),
    ({"q15": 8}, "item 'q15': expected an integer from 1 to 7, or null; received 8"),
    ({"q1": "2"}, "item 'q1'.*received '2' \\(str\\)"),
    ({"q1": True}, "item 'q1'.*received True \\(bool\\)"),
    ({"q1": 2.5}, "item 'q1'.*received 2.5 \\(float\\)"),
    ({"q1": [2]}, "item 'q1'.*received \\[2\\] \\(list\\)"),
    ({"q1": float("inf")}, "item 'q1'.*received inf"),
])
def test_c15_bad_answers(answers: dict[str, object], pattern: str) -> None:
    with pytest.raises(InstrumentError, match=pattern):
        score("qlq-c15-pal", answers)


def test_integral_floats_and_nan_are_accepted_as_numbers_and_missing() -> None:
    a = score("qlq-c15-pal", {"q1": 2.0, "q2": 1, "q3": 1, "q15": float("nan")})
    b = score("qlq-c15-pal", {"q1": 2, "q2": 1, "q3": 1})
    assert a == b and a["QL"] is None


@pytest.mark.parametrize("answers", [[1, 2, 3], "q1=1", None, 3])
def test_answers_must_be_a_mapping(answers: object) -> None:
    with pytest.raises(InstrumentError, match="expected a JSON object"):
        score("qlq-c15-pal", answers)  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["qlq-c15", "QLQ-C15-PAL", "", None])
def test_unknown_code(code: object) -> None:
    with pytest.raises(InstrumentError, match="instrument code: expected one of qlq-c15-pal"):
        score(code, {})  # type: ignore[arg-type]


def test_unknown_option_and_bad_option_value() -> None:
    with pytest.raises(InstrumentError, match="unknown option 'coefficient'; options are: "
                                              "coefficients"):
        score("eq5d5l-nl", {}, coefficient="unrounded")
    with pytest.raises(InstrumentError, match="option 'coefficients': expected one of "
                                              "'published', 'unrounded'; received 'exact'"):
        score("eq5d5l-nl", {}, coefficients="exact")
    with pytest.raises(InstrumentError, match="unknown option 'missing'; options are: none"):
        score("qlq-c30", {}, missing="half-rule")


def test_pain_response_numbers() -> None:
    with pytest.raises(InstrumentError, match="'baseline_omed': expected a number from 0"):
        score("pain-response", {"baseline_omed": -1})
    with pytest.raises(InstrumentError, match="'followup_worst_pain'.*received 3.5"):
        score("pain-response", {"followup_worst_pain": 3.5})


def test_frame_errors_name_the_column_and_row() -> None:
    frame = pd.DataFrame({"q1": [1, 2, 7], "q2": [1, 1, 1]}, index=["a", "b", "c"])
    with pytest.raises(InstrumentError, match="item 'q1' \\(row 'c'\\).*received 7"):
        score_frame("qlq-c15-pal", frame)
    with pytest.raises(InstrumentError, match="unknown column 'id'"):
        score_frame("qlq-c15-pal", pd.DataFrame({"id": [1], "q1": [1]}))
    with pytest.raises(InstrumentError, match="item 'q2' \\(row 1\\).*received 'x'"):
        score_frame("qlq-c15-pal", pd.DataFrame({"q2": [1, "x"]}))
    with pytest.raises(InstrumentError, match="item 'q3'.*booleans"):
        score_frame("qlq-c15-pal", pd.DataFrame({"q3": [True, False]}))
    with pytest.raises(InstrumentError, match="item 'q4' \\(row 0\\).*received 1.5"):
        score_frame("qlq-c15-pal", pd.DataFrame({"q4": [1.5]}))


def test_frames_accept_nullable_and_missing_values() -> None:
    frame = pd.DataFrame({"q9": pd.array([1, None, 4], dtype="Int64")})
    scored = score_frame("qlq-c15-pal", frame)
    assert scored["NV"].iloc[0] == 0.0 and np.isnan(scored["NV"].iloc[1])
    assert scored["NV"].iloc[2] == 100.0


@pytest.mark.parametrize("code", [c for c in instrument_codes() if c != "omed"])
def test_every_instrument_rejects_an_unknown_item(code: str) -> None:
    with pytest.raises(InstrumentError, match=f"{code}: unknown item 'nonsense'"):
        score(code, {"nonsense": 1})
