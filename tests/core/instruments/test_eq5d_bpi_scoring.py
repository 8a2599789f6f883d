"""EQ-5D-5L (Dutch value set) and BPI short form."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from blend.instruments import score, score_frame
from blend.instruments.eq5d import DIMENSIONS


def state(code: str, vas: int | None = None) -> dict[str, int | None]:
    answers: dict[str, int | None] = {d: int(c) for d, c in zip(DIMENSIONS, code, strict=True)}
    answers["vas"] = vas
    return answers


# fragla/eq5d tests/testthat/test-eq5d5l.R (published 3-decimal set, reference §11.8)
PUBLISHED = [
    ("11111", 1.0),
    ("21111", 0.918),
    ("55511", 0.390),
    ("44444", -0.289),
    ("55555", -0.446),
]
# MathsinHealth/eq5dsuite-value-sets EQ-5D-5L/NL.csv (unrounded set, 7 decimals)
UNROUNDED = [
    ("11112", 0.8834547),
    ("21111", 0.9176223),
    ("11115", 0.5324406),
    ("12345", 0.0476468),
    ("54321", 0.4293422),
    ("22222", 0.7048426),
    ("33333", 0.5126986),
    ("44444", -0.2894959),
    ("55555", -0.4463194),
    ("32354", 0.0000112),
    ("33155", 0.0000955),
    ("13524", 0.2777917),
    ("52431", 0.4272391),
    ("35245", -0.0910247),
]


@pytest.mark.parametrize(("code", "expected"), PUBLISHED)
def test_published_coefficients_reproduce_the_eq5d_package(code: str, expected: float) -> None:
    assert round(score("eq5d5l-nl", state(code))["index"], 3) == expected


@pytest.mark.parametrize(("code", "expected"), UNROUNDED)
def test_unrounded_coefficients_reproduce_eq5dsuite_to_7_decimals(
    code: str, expected: float
) -> None:
    result = score("eq5d5l-nl", state(code), coefficients="unrounded")
    assert round(result["index"], 7) == expected


def test_the_two_coefficient_sets_differ_by_at_most_0_0018_over_all_3125_states() -> None:
    states = pd.DataFrame(list(itertools.product(range(1, 6), repeat=5)), columns=DIMENSIONS)
    published = score_frame("eq5d5l-nl", states)["index"]
    unrounded = score_frame("eq5d5l-nl", states, coefficients="unrounded")["index"]
    assert len(states) == 3125
    assert (published - unrounded).abs().max() == pytest.approx(0.0018, abs=1e-4)
    assert published.max() == 1.0 and published.min() == -0.446


def test_eq5d_index_never_rises_when_a_dimension_gets_worse() -> None:
    states = list(itertools.product(range(1, 6), repeat=5))
    values = score_frame("eq5d5l-nl", pd.DataFrame(states, columns=DIMENSIONS))["index"]
    lookup = dict(zip(states, values, strict=True))
    for levels, value in lookup.items():
        for d in range(5):
            if levels[d] < 5:
                worse = levels[:d] + (levels[d] + 1,) + levels[d + 1 :]
                assert lookup[worse] <= value


def test_the_constant_applies_to_every_state_except_11111() -> None:
    assert score("eq5d5l-nl", state("11111"))["index"] == 1.0
    assert score("eq5d5l-nl", state("11112"))["index"] == pytest.approx(1 - 0.047 - 0.070)


def test_vas_is_returned_as_given_and_does_not_need_the_index() -> None:
    assert score("eq5d5l-nl", state("12345", vas=65))["vas"] == 65.0
    partial = {"mobility": 2, "vas": 80}
    assert score("eq5d5l-nl", partial) == {"index": None, "vas": 80.0}


def test_missing_dimension_makes_index_missing() -> None:
    answers = state("11111")
    answers["anxiety_depression"] = None
    assert score("eq5d5l-nl", answers)["index"] is None


@pytest.mark.parametrize("vas", [-1, 101, 50.5])
def test_vas_outside_0_100_or_fractional_is_rejected(vas: float) -> None:
    from blend.instruments import InstrumentError

    with pytest.raises(InstrumentError, match="'vas'"):
        score("eq5d5l-nl", state("11111", vas=vas))  # type: ignore[arg-type]


# ---- BPI short form --------------------------------------------------------------------

SEVERITY = ("worst", "least", "average", "now")
INTERFERENCE = ("activity", "mood", "walking", "work", "relations", "sleep", "enjoyment")


def test_bpi_severity_and_interference_are_item_means() -> None:
    answers = dict(zip(SEVERITY, (8, 2, 5, 4), strict=True)) | dict(
        zip(INTERFERENCE, (7, 6, 5, 4, 3, 2, 0), strict=True)
    )
    assert score("bpi-sf", answers) == {"severity": 4.75, "interference": 27 / 7}


@pytest.mark.parametrize(("answered", "expected"), [(7, 3.0), (4, 3.0), (3, None), (0, None)])
def test_bpi_interference_needs_four_of_seven(answered: int, expected: float | None) -> None:
    answers = {key: 3 for key in INTERFERENCE[:answered]}
    assert score("bpi-sf", answers)["interference"] == expected


def test_bpi_severity_needs_all_four_items_by_default() -> None:
    answers = {"worst": 6, "least": 2, "average": 4}
    assert score("bpi-sf", answers)["severity"] is None
    assert score("bpi-sf", answers, severity_min_items=3)["severity"] == 4.0
    assert score("bpi-sf", {"worst": 6}, severity_min_items=1)["severity"] == 6.0


def test_bpi_extremes() -> None:
    zero = score("bpi-sf", {k: 0 for k in SEVERITY + INTERFERENCE})
    ten = score("bpi-sf", {k: 10 for k in SEVERITY + INTERFERENCE})
    assert zero == {"severity": 0.0, "interference": 0.0}
    assert ten == {"severity": 10.0, "interference": 10.0}


def test_bpi_frame_matches_single_scores() -> None:
    rng = np.random.default_rng(3)
    data = rng.integers(0, 11, size=(50, 11)).astype(float)
    data[rng.random(data.shape) < 0.3] = np.nan
    frame = pd.DataFrame(data, columns=SEVERITY + INTERFERENCE)
    scored = score_frame("bpi-sf", frame)
    for i in range(50):
        single = score("bpi-sf", frame.iloc[i].to_dict())
        for key in ("severity", "interference"):
            expected = single[key]
            got = scored.iloc[i][key]
            assert (np.isnan(got) and expected is None) or got == pytest.approx(expected)
