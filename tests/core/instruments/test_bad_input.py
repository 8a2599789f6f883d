"""Bad input always gets a clear InstrumentError: item, what was expected, what was received."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blend.instruments import InstrumentError, instrument_codes, score, score_frame


def test_instrument_error_is_a_value_error() -> None:
    assert issubclass(InstrumentError, ValueError)


@pytest.mark.parametrize(
    ("answers", "pattern"),
    [
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
    ],
)
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
    with pytest.raises(
        InstrumentError, match="unknown option 'coefficient'; options are: coefficients"
    ):
        score("eq5d5l-nl", {}, coefficient="unrounded")
    with pytest.raises(
        InstrumentError,
        match="option 'coefficients': expected one of 'published', 'unrounded'; received 'exact'",
    ):
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


@pytest.mark.parametrize("n_rows", [1, 63, 64, 65, 200])
@pytest.mark.parametrize(("column", "value"), [("q15", 8), ("q1", 0), ("q14", 5), ("q3", -1)])
def test_complete_integer_frames_are_checked_as_one_block(
    n_rows: int, column: str, value: int
) -> None:
    rng = np.random.default_rng(n_rows)
    data = rng.integers(1, 5, size=(n_rows, 15))
    frame = pd.DataFrame(data, columns=[f"q{i}" for i in range(1, 16)])
    assert score_frame("qlq-c15-pal", frame)["PF"].notna().all()
    frame.loc[n_rows - 1, column] = value
    with pytest.raises(
        InstrumentError, match=f"item '{column}' \\(row {n_rows - 1}\\).*received {value} \\(int\\)"
    ):
        score_frame("qlq-c15-pal", frame)


def test_complete_float_frames_reject_fractions_and_infinities() -> None:
    frame = pd.DataFrame(np.ones((3, 15)), columns=[f"q{i}" for i in range(1, 16)])
    frame.loc[1, "q2"] = np.nan
    assert np.isnan(score_frame("qlq-c15-pal", frame)["PF"].iloc[1])
    frame.loc[2, "q5"] = 1.5
    with pytest.raises(InstrumentError, match="item 'q5' \\(row 2\\).*received 1.5"):
        score_frame("qlq-c15-pal", frame)
    frame.loc[2, "q5"] = np.inf
    with pytest.raises(InstrumentError, match="item 'q5' \\(row 2\\).*received inf"):
        score_frame("qlq-c15-pal", frame)


def test_columns_in_any_order_score_the_same() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.integers(1, 5, size=(20, 15)), columns=[f"q{i}" for i in range(1, 16)])
    shuffled = frame[list(reversed(frame.columns))]
    pd.testing.assert_frame_equal(
        score_frame("qlq-c15-pal", frame), score_frame("qlq-c15-pal", shuffled)
    )


def test_column_extremes_matches_numpy_for_any_length() -> None:
    from blend.instruments.validation import column_extremes

    rng = np.random.default_rng(11)
    for n in (1, 63, 64, 65, 129, 1000):
        block = rng.integers(-50, 50, size=(n, 7))
        low, high = column_extremes(block)
        assert (low == block.min(axis=0)).all() and (high == block.max(axis=0)).all()
        if n < 63:
            continue  # the NaN variant needs rows enough that no column is all-NaN
        floats = block.astype(float)
        floats[rng.random(floats.shape) < 0.2] = np.nan
        low, high = column_extremes(floats)
        np.testing.assert_array_equal(low, np.nanmin(floats, axis=0))
        np.testing.assert_array_equal(high, np.nanmax(floats, axis=0))
