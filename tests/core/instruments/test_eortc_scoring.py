"""QLQ-C15-PAL and QLQ-C30 scoring against published vectors and the manual's rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blend.instruments import score, score_frame

C15_KEYS = ("PF", "EF", "FA", "NV", "PA", "DY", "SL", "AP", "CO", "QL")


def stata_example_frame() -> pd.DataFrame:
    """The data of the Stata ``qlqc15`` help-file example (reference §11.1).

    q1-q3 run over all 64 combinations in lexicographic order; q4 q6 q8 q9 q10 = q3 in
    rows 1-4; q5 q7 q13 = q2 and q11 q12 q14 = q3 in rows 1-16; q15 = row in rows 1-7.
    """
    rows = []
    for n, (a, b, c) in enumerate(
        ((a, b, c) for a in range(1, 5) for b in range(1, 5) for c in range(1, 5)), start=1
    ):
        row: dict[str, float] = {f"q{i}": np.nan for i in range(1, 16)}
        row.update(q1=a, q2=b, q3=c)
        if n <= 4:
            row.update({k: c for k in ("q4", "q6", "q8", "q9", "q10")})
        if n <= 16:
            row.update(q5=b, q7=b, q13=b, q11=c, q12=c, q14=c)
        if n <= 7:
            row["q15"] = n
        rows.append(row)
    return pd.DataFrame(rows, index=range(1, 65))


# (row, expected outputs, 2 decimals) printed in the Stata help file.
STATA_VECTORS = [
    (
        1,
        dict(
            PF=93.33, EF=100.00, QL=0.00, FA=0.00, NV=0.00, PA=0.00, DY=0.0, SL=0.0, AP=0.0, CO=0.0
        ),
    ),
    (
        2,
        dict(
            PF=73.33,
            EF=83.33,
            QL=16.67,
            FA=22.22,
            NV=16.67,
            PA=16.67,
            DY=33.33,
            SL=33.33,
            AP=33.33,
            CO=33.33,
        ),
    ),
    (
        3,
        dict(
            PF=60.00,
            EF=66.67,
            QL=33.33,
            FA=33.33,
            NV=50.00,
            PA=33.33,
            DY=66.67,
            SL=66.67,
            AP=66.67,
            CO=66.67,
        ),
    ),
    (
        4,
        dict(
            PF=46.67,
            EF=50.00,
            QL=50.00,
            FA=55.56,
            NV=100.00,
            PA=50.00,
            DY=100.0,
            SL=100.0,
            AP=100.0,
            CO=100.0,
        ),
    ),
    (10, dict(PF=46.67, EF=50.00, FA=44.44, PA=50.00)),
    (12, dict(PF=26.67, EF=16.67, FA=88.89, PA=83.33)),
    (13, dict(PF=46.67, EF=50.00, FA=44.44, PA=50.00)),
    (16, dict(PF=20.00, EF=0.00, FA=100.00, PA=100.00)),
    (7, dict(QL=100.00)),
    (32, dict(PF=13.33)),
    (48, dict(PF=6.67)),
    (64, dict(PF=0.00)),
]


@pytest.mark.parametrize(("row", "expected"), STATA_VECTORS)
def test_c15_pal_reproduces_the_stata_help_example(row: int, expected: dict[str, float]) -> None:
    frame = score_frame("qlq-c15-pal", stata_example_frame())
    for key, value in expected.items():
        assert round(frame.loc[row, key], 2) == value, key


@pytest.mark.parametrize(("row", "expected"), STATA_VECTORS)
def test_single_response_scoring_matches_the_published_rows(
    row: int, expected: dict[str, float]
) -> None:
    answers = stata_example_frame().loc[row].dropna().astype(int).to_dict()
    result = score("qlq-c15-pal", answers)
    for key, value in expected.items():
        assert round(result[key], 2) == value, key


def test_the_stata_example_leaves_scales_with_missing_items_unscored() -> None:
    frame = score_frame("qlq-c15-pal", stata_example_frame())
    assert frame.loc[17:, ["EF", "FA", "PA"]].isna().all().all()
    assert frame.loc[5:, ["NV", "DY", "SL", "AP", "CO"]].isna().all().all()
    assert frame.loc[8:, "QL"].isna().all()
    assert frame["PF"].notna().all()


PF_TABLE = {3: 14, 4: 11, 5: 9, 6: 7, 7: 5, 8: 4, 9: 3, 10: 2, 11: 1, 12: 0}
EF_TABLE = {2: 12, 3: 10, 4: 8, 5: 6, 6: 5, 7: 2, 8: 0}
FA_TABLE = [[0, 2, 3, 5], [2, 3, 5, 6], [3, 4, 6, 8], [4, 6, 8, 9]]


def c15(**items: int) -> dict[str, object]:
    answers = {f"q{i}": 1 for i in range(1, 16)}
    answers.update(items)
    return score("qlq-c15-pal", answers)


@pytest.mark.parametrize(
    "q", [(a, b, c) for a in range(1, 5) for b in range(1, 5) for c in range(1, 5)]
)
def test_pf_uses_the_conversion_table_for_every_item_combination(q: tuple[int, int, int]) -> None:
    result = c15(q1=q[0], q2=q[1], q3=q[2])
    assert result["PF"] == pytest.approx(PF_TABLE[sum(q)] * 100 / 15, abs=1e-12)


@pytest.mark.parametrize(("tense", "depressed"), [(a, b) for a in range(1, 5) for b in range(1, 5)])
def test_ef_uses_the_conversion_table(tense: int, depressed: int) -> None:
    result = c15(q13=tense, q14=depressed)
    assert result["EF"] == pytest.approx(EF_TABLE[tense + depressed] * 100 / 12, abs=1e-12)


@pytest.mark.parametrize(("weak", "tired"), [(a, b) for a in range(1, 5) for b in range(1, 5)])
def test_fa_table_is_asymmetric_at_sum_five(weak: int, tired: int) -> None:
    result = c15(q7=weak, q11=tired)
    assert result["FA"] == pytest.approx(FA_TABLE[weak - 1][tired - 1] * 100 / 9, abs=1e-12)
    if weak + tired == 5:
        assert round(result["FA"], 2) == (44.44 if weak > tired else 55.56)


@pytest.mark.parametrize(("nausea", "expected"), [(1, 0.0), (2, 16.67), (3, 50.0), (4, 100.0)])
def test_nv_single_item_table(nausea: int, expected: float) -> None:
    assert round(c15(q9=nausea)["NV"], 2) == expected


def test_all_not_at_all_pf_is_93_33_not_the_naive_100() -> None:
    assert round(c15()["PF"], 2) == 93.33


@pytest.mark.parametrize(("item", "key"), [("q4", "DY"), ("q6", "SL"), ("q8", "AP"), ("q10", "CO")])
@pytest.mark.parametrize("response", [1, 2, 3, 4])
def test_standard_single_item_symptom_scales(item: str, key: str, response: int) -> None:
    assert c15(**{item: response})[key] == pytest.approx((response - 1) / 3 * 100)


@pytest.mark.parametrize("response", range(1, 8))
def test_ql_is_the_linear_transformation_with_range_six(response: int) -> None:
    assert c15(q15=response)["QL"] == pytest.approx((response - 1) / 6 * 100)


def test_pa_is_the_mean_of_items_5_and_12() -> None:
    assert c15(q5=2, q12=4)["PA"] == pytest.approx(((2 + 4) / 2 - 1) / 3 * 100)


@pytest.mark.parametrize(
    ("missing", "none_keys"),
    [
        ("q1", {"PF"}),
        ("q2", {"PF"}),
        ("q3", {"PF"}),
        ("q13", {"EF"}),
        ("q14", {"EF"}),
        ("q7", {"FA"}),
        ("q11", {"FA"}),
        ("q9", {"NV"}),
        ("q5", {"PA"}),
        ("q12", {"PA"}),
        ("q4", {"DY"}),
        ("q6", {"SL"}),
        ("q8", {"AP"}),
        ("q10", {"CO"}),
        ("q15", {"QL"}),
    ],
)
def test_c15_default_missing_rule_needs_every_item_of_a_scale(
    missing: str, none_keys: set[str]
) -> None:
    answers = {f"q{i}": 2 for i in range(1, 16)}
    del answers[missing]
    result = score("qlq-c15-pal", answers)
    assert {k for k, v in result.items() if v is None} == none_keys


def test_c15_half_rule_option_scores_pa_from_one_item_only() -> None:
    answers = {f"q{i}": 2 for i in range(1, 16)}
    answers["q12"] = None
    answers["q1"] = None
    result = score("qlq-c15-pal", answers, missing="half-rule")
    assert result["PA"] == pytest.approx(100 / 3)
    assert result["PF"] is None  # the tables still need complete item sets


def test_an_empty_c15_response_scores_nothing() -> None:
    assert set(score("qlq-c15-pal", {}).values()) == {None}


def test_c15_outputs_are_possible_c30_scores() -> None:
    frame = score_frame("qlq-c15-pal", stata_example_frame())
    for key, step in (("PF", 100 / 15), ("EF", 100 / 12), ("FA", 100 / 9), ("NV", 100 / 6)):
        values = frame[key].dropna() / step
        assert np.allclose(values, values.round()), key


# ---- QLQ-C30 ---------------------------------------------------------------------------

C30_SCALES = {
    "QL2": ((29, 30), "g", 6),
    "PF2": ((1, 2, 3, 4, 5), "f", 3),
    "RF2": ((6, 7), "f", 3),
    "EF": ((21, 22, 23, 24), "f", 3),
    "CF": ((20, 25), "f", 3),
    "SF": ((26, 27), "f", 3),
    "FA": ((10, 12, 18), "s", 3),
    "NV": ((14, 15), "s", 3),
    "PA": ((9, 19), "s", 3),
    "DY": ((8,), "s", 3),
    "SL": ((11,), "s", 3),
    "AP": ((13,), "s", 3),
    "CO": ((16,), "s", 3),
    "DI": ((17,), "s", 3),
    "FI": ((28,), "s", 3),
}


def manual_score(answers: dict[str, int], items: tuple[int, ...], kind: str, rng: int) -> float:
    """The manual's formula written out independently of the library."""
    values = [answers[f"q{i}"] for i in items if answers.get(f"q{i}") is not None]
    raw = sum(values) / len(values)
    return (1 - (raw - 1) / rng) * 100 if kind == "f" else (raw - 1) / rng * 100


def mixed_c30() -> dict[str, int]:
    rng = np.random.default_rng(20261127)
    answers = {f"q{i}": int(rng.integers(1, 5)) for i in range(1, 29)}
    answers.update(q29=3, q30=6)
    return answers


def test_every_c30_scale_follows_the_manual_formula() -> None:
    answers = mixed_c30()
    result = score("qlq-c30", answers)
    for key, (items, kind, rng) in C30_SCALES.items():
        assert result[key] == pytest.approx(manual_score(answers, items, kind, rng)), key


def test_c30_summary_score_is_the_mean_of_13_scales_with_symptoms_reversed() -> None:
    answers = mixed_c30()
    result = score("qlq-c30", answers)
    functional = ["PF2", "RF2", "EF", "CF", "SF"]
    symptoms = ["FA", "NV", "PA", "DY", "SL", "AP", "CO", "DI"]
    expected = (sum(result[k] for k in functional) + sum(100 - result[k] for k in symptoms)) / 13
    assert result["SUM"] == pytest.approx(expected)


def test_c30_extremes() -> None:
    best = score("qlq-c30", {**{f"q{i}": 1 for i in range(1, 29)}, "q29": 7, "q30": 7})
    worst = score("qlq-c30", {**{f"q{i}": 4 for i in range(1, 29)}, "q29": 1, "q30": 1})
    assert best["SUM"] == 100.0 and worst["SUM"] == 0.0
    assert best["QL2"] == 100.0 and worst["QL2"] == 0.0
    assert best["PF2"] == 100.0 and best["FA"] == 0.0 and worst["FI"] == 100.0


@pytest.mark.parametrize(
    ("key", "answered", "scored"),
    [
        ("PF2", 3, True),
        ("PF2", 2, False),
        ("FA", 2, True),
        ("FA", 1, False),
        ("EF", 2, True),
        ("EF", 1, False),
        ("RF2", 1, True),
        ("RF2", 0, False),
        ("QL2", 1, True),
        ("DY", 0, False),
    ],
)
def test_c30_half_rule(key: str, answered: int, scored: bool) -> None:
    items, kind, rng = C30_SCALES[key]
    answers = mixed_c30()
    for i in items[answered:]:
        answers[f"q{i}"] = None
    result = score("qlq-c30", answers)
    if scored:
        assert result[key] == pytest.approx(manual_score(answers, items, kind, rng))
    else:
        assert result[key] is None


def test_c30_summary_needs_all_13_scales_but_not_ql2_or_fi() -> None:
    answers = mixed_c30()
    answers.update(q29=None, q30=None, q28=None)
    assert score("qlq-c30", answers)["SUM"] is not None
    answers["q17"] = None  # DI, a single-item scale in the summary
    assert score("qlq-c30", answers)["SUM"] is None


def test_c15_and_c30_share_the_standard_scales() -> None:
    """C15-PAL items map to C30 items; PA, DY, SL, AP, CO and QL score identically."""
    from blend.instruments.eortc import C15_TO_C30

    c30 = mixed_c30()
    c15_answers = {f"q{n}": c30[f"q{m}"] for n, m in C15_TO_C30.items()}
    a, b = score("qlq-c15-pal", c15_answers), score("qlq-c30", c30)
    for c15_key, c30_key in (
        ("PA", "PA"),
        ("DY", "DY"),
        ("SL", "SL"),
        ("AP", "AP"),
        ("CO", "CO"),
        ("QL", "QL2"),
    ):
        if c30_key == "QL2":
            assert a[c15_key] == pytest.approx((c30["q30"] - 1) / 6 * 100)
        else:
            assert a[c15_key] == pytest.approx(b[c30_key]), c15_key
