"""Property tests: valid answers score within range; scales move in the right direction."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from blend.instruments import get_instrument, instrument_codes, score, score_frame
from blend.instruments.model import Instrument, Item

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True)
FLAT = [c for c in instrument_codes() if c not in {"omed", "asia-worksheet", "ctcae"}]


def answer(item: Item) -> st.SearchStrategy[object]:
    if item.kind == "choice":
        return st.one_of(st.none(), st.sampled_from(item.values))
    upper = item.maximum if np.isfinite(item.maximum) else 1000.0
    numbers = (
        st.integers(int(item.minimum), int(upper))
        if item.integer
        else st.floats(item.minimum, upper, allow_nan=False)
    )
    return st.one_of(st.none(), numbers)


def answers_for(instrument: Instrument) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries({item.key: answer(item) for item in instrument.items})


@st.composite
def code_and_answers(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    code = draw(st.sampled_from(FLAT))
    return code, draw(answers_for(get_instrument(code)))


@SETTINGS
@given(code_and_answers())
def test_every_valid_answer_set_scores_within_the_scale_range(case) -> None:
    code, answers = case
    instrument = get_instrument(code)
    options = {"ecog_convention": "A"} if code == "kps" else {}
    result = score(code, answers, **options)
    for scale in instrument.scales:
        value = result.get(scale.key)
        if value is None or scale.categorical or isinstance(value, str | bool):
            continue
        assert scale.minimum <= value <= (scale.maximum or np.inf), (scale.key, value)


@SETTINGS
@given(answers_for(get_instrument("qlq-c30")))
def test_c30_summary_is_within_0_100_whenever_scored(answers) -> None:
    result = score("qlq-c30", answers)
    assert result["SUM"] is None or 0 <= result["SUM"] <= 100


def complete(code: str) -> st.SearchStrategy[dict[str, int]]:
    items = get_instrument(code).items
    return st.fixed_dictionaries({i.key: st.sampled_from(i.values) for i in items})


def worse(code: str, answers: dict[str, int], key: str) -> dict[str, int] | None:
    """The same answers with one item one step worse (None if already at its worst)."""
    item = get_instrument(code).item(key)
    higher_is_better = item.values[-1] == 7  # the 1-7 global items
    step = -1 if higher_is_better else 1
    if answers[key] + step not in item.values:
        return None
    return {**answers, key: answers[key] + step}


def check_direction(code: str, answers: dict[str, int]) -> None:
    instrument = get_instrument(code)
    before = score(code, answers)
    for item in instrument.items:
        changed = worse(code, answers, item.key)
        if changed is None:
            continue
        after = score(code, changed)
        for scale in instrument.scales:
            if item.key not in scale.items or scale.key == "SUM":
                continue
            if scale.kind == "symptom":
                assert after[scale.key] >= before[scale.key], (item.key, scale.key)
            else:
                assert after[scale.key] <= before[scale.key], (item.key, scale.key)


@SETTINGS
@given(complete("qlq-c15-pal"))
def test_c15_functional_scales_fall_and_symptoms_rise_when_an_answer_gets_worse(answers) -> None:
    check_direction("qlq-c15-pal", answers)


@SETTINGS
@given(complete("qlq-c30"))
def test_c30_functional_scales_fall_and_symptoms_rise_when_an_answer_gets_worse(answers) -> None:
    check_direction("qlq-c30", answers)
    changed = worse("qlq-c30", answers, "q1")
    if changed is not None:
        assert score("qlq-c30", changed)["SUM"] <= score("qlq-c30", answers)["SUM"]


@SETTINGS
@given(complete("bpi-sf"))
def test_bpi_scales_rise_with_more_pain(answers) -> None:
    check_direction("bpi-sf", answers)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.sampled_from(FLAT), st.integers(1, 30), st.integers(0, 2**31))
def test_score_frame_equals_score_row_by_row(code: str, n: int, seed: int) -> None:
    instrument = get_instrument(code)
    rng = np.random.default_rng(seed)
    rows = [{i.key: _random_answer(i, rng) for i in instrument.items} for _ in range(n)]
    frame = score_frame(code, pd.DataFrame(rows))
    for position, row in enumerate(rows):
        single = score(code, row)
        for key, value in single.items():
            got = frame[key].iloc[position]
            if value is None:
                assert got is None or (isinstance(got, float) and np.isnan(got))
            else:
                assert got == value, (code, key)


def _random_answer(item: Item, rng: np.random.Generator) -> object:
    if rng.random() < 0.15:
        return None
    if item.kind == "choice":
        return item.values[int(rng.integers(len(item.values)))]
    return (
        float(rng.integers(0, 200))
        if not np.isfinite(item.maximum)
        else float(rng.integers(int(item.minimum), int(item.maximum) + 1))
    )


@st.composite
def ctcae_answers(draw: st.DrawFn) -> dict[str, object]:
    from blend.instruments.ctcae import TERMS

    term = draw(st.sampled_from(TERMS))
    return {"term": term.key, "grade": draw(st.sampled_from(sorted(term.grades)))}


@SETTINGS
@given(ctcae_answers())
def test_every_valid_ctcae_term_and_grade_scores(answers) -> None:
    result = score("ctcae", answers)
    assert 1 <= result["grade"] <= 5 and result["grade3plus"] == (result["grade"] >= 3)


@st.composite
def worksheet_answers(draw: st.DrawFn) -> dict[str, object]:
    yes_no = st.one_of(st.none(), st.sampled_from(["yes", "no"]))
    keys = ("all_normal", "vac", "dap", "s45_sensory", "motor_below_3_levels")
    answers: dict[str, object] = {k: draw(yes_no) for k in keys}
    total = draw(st.integers(0, 50))
    answers["key_muscles_below_nli"] = total
    answers["key_muscles_grade3_below_nli"] = draw(st.integers(0, total))
    return answers


@SETTINGS
@given(worksheet_answers())
def test_asia_worksheet_gives_a_grade_a_to_e_or_none(answers) -> None:
    result = score("asia-worksheet", answers)
    assert result["grade"] in {None, "A", "B", "C", "D", "E"}
    if answers["all_normal"] == "yes":
        assert result["grade"] == "E"
    if answers["all_normal"] == "no" and result["grade"] in {"C", "D"}:
        assert answers["vac"] == "yes" or answers["motor_below_3_levels"] == "yes"
