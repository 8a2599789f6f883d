"""SINS, Bilsky, ASIA (grade and worksheet), Karnofsky, ECOG/WHO and CTCAE v5.0."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from blend.instruments import InstrumentError, score, score_frame

# Points per finding, copied from Fisher 2010 (reference §5), independent of the library.
SINS_POINTS = {
    "location": {"junctional": 3, "mobile": 2, "semi_rigid": 1, "rigid": 0},
    "pain": {"mechanical": 3, "occasional": 1, "none": 0},
    "bone_lesion": {"lytic": 2, "mixed": 1, "blastic": 0},
    "alignment": {"subluxation": 4, "de_novo_deformity": 2, "normal": 0},
    "collapse": {"over_50": 3, "under_50": 2, "none_over_50_involved": 1, "none": 0},
    "posterolateral": {"bilateral": 3, "unilateral": 1, "none": 0},
}


def sins_category(total: int) -> str:
    return "stable" if total <= 6 else "indeterminate" if total <= 12 else "unstable"


def test_sins_every_combination_of_findings() -> None:
    combos = list(itertools.product(*(list(v) for v in SINS_POINTS.values())))
    frame = pd.DataFrame(combos, columns=list(SINS_POINTS))
    scored = score_frame("sins", frame)
    assert len(combos) == 1296
    for i, combo in enumerate(combos):
        total = sum(SINS_POINTS[k][v] for k, v in zip(SINS_POINTS, combo, strict=True))
        assert scored["total"].iloc[i] == total
        assert scored["category"].iloc[i] == sins_category(total)
    assert scored["total"].min() == 0 and scored["total"].max() == 18


@pytest.mark.parametrize(
    ("findings", "total", "category"),
    [
        (
            dict(
                location="rigid",
                pain="none",
                bone_lesion="blastic",
                alignment="normal",
                collapse="none",
                posterolateral="none",
            ),
            0,
            "stable",
        ),
        (
            dict(
                location="junctional",
                pain="mechanical",
                bone_lesion="blastic",
                alignment="normal",
                collapse="none",
                posterolateral="none",
            ),
            6,
            "stable",
        ),
        (
            dict(
                location="junctional",
                pain="mechanical",
                bone_lesion="blastic",
                alignment="normal",
                collapse="none_over_50_involved",
                posterolateral="none",
            ),
            7,
            "indeterminate",
        ),
        (
            dict(
                location="junctional",
                pain="mechanical",
                bone_lesion="lytic",
                alignment="de_novo_deformity",
                collapse="under_50",
                posterolateral="none",
            ),
            12,
            "indeterminate",
        ),
        (
            dict(
                location="junctional",
                pain="mechanical",
                bone_lesion="lytic",
                alignment="de_novo_deformity",
                collapse="under_50",
                posterolateral="unilateral",
            ),
            13,
            "unstable",
        ),
        (
            dict(
                location="junctional",
                pain="mechanical",
                bone_lesion="lytic",
                alignment="subluxation",
                collapse="over_50",
                posterolateral="bilateral",
            ),
            18,
            "unstable",
        ),
    ],
)
def test_sins_category_boundaries(findings: dict[str, str], total: int, category: str) -> None:
    result = score("sins", findings)
    assert (result["total"], result["category"]) == (total, category)


def test_sins_total_needs_all_six_components_but_points_are_kept() -> None:
    result = score("sins", {"location": "mobile", "pain": "occasional"})
    assert result["total"] is None and result["category"] is None
    assert result["location_points"] == 2.0 and result["pain_points"] == 1.0
    assert result["collapse_points"] is None


@pytest.mark.parametrize("bad", ["Junctional", "junctional ", 3, None])
def test_sins_rejects_unknown_findings(bad: object) -> None:
    if bad is None:  # None is a missing answer, not an error
        assert score("sins", {"location": bad})["location_points"] is None
        return
    with pytest.raises(InstrumentError, match="'location'.*'junctional'"):
        score("sins", {"location": bad})


@pytest.mark.parametrize(
    ("grade", "ordinal", "high"),
    [
        ("0", 0, False),
        ("1a", 1, False),
        ("1b", 2, False),
        ("1c", 3, False),
        ("2", 4, True),
        ("3", 5, True),
    ],
)
def test_bilsky_grades_are_ordered_and_2_3_are_high_grade(
    grade: str, ordinal: int, high: bool
) -> None:
    assert score("bilsky", {"grade": grade}) == {
        "grade": grade,
        "ordinal": ordinal,
        "high_grade": high,
    }


def test_bilsky_rejects_numbers_and_unknown_grades() -> None:
    for bad in (2, "1d", "1A"):
        with pytest.raises(InstrumentError, match="'grade'"):
            score("bilsky", {"grade": bad})
    assert score("bilsky", {}) == {"grade": None, "ordinal": None, "high_grade": None}


@pytest.mark.parametrize(("grade", "ordinal"), [("A", 1), ("B", 2), ("C", 3), ("D", 4), ("E", 5)])
def test_asia_grade(grade: str, ordinal: int) -> None:
    assert score("asia", {"grade": grade}) == {"grade": grade, "ordinal": ordinal}


def worksheet(**facts: object) -> object:
    return score("asia-worksheet", facts)["grade"]


@pytest.mark.parametrize(
    ("facts", "grade"),
    [
        (dict(all_normal="yes"), "E"),
        (dict(all_normal="no", vac="no", dap="no", s45_sensory="no"), "A"),
        (
            dict(all_normal="no", vac="no", dap="yes", s45_sensory="no", motor_below_3_levels="no"),
            "B",
        ),
        (
            dict(all_normal="no", vac="no", dap="no", s45_sensory="yes", motor_below_3_levels="no"),
            "B",
        ),
        (
            dict(
                all_normal="no",
                vac="yes",
                dap="no",
                s45_sensory="no",
                key_muscles_below_nli=10,
                key_muscles_grade3_below_nli=4,
            ),
            "C",
        ),
        (
            dict(
                all_normal="no",
                vac="yes",
                dap="no",
                s45_sensory="no",
                key_muscles_below_nli=10,
                key_muscles_grade3_below_nli=5,
            ),
            "D",
        ),  # exactly half -> D
        (
            dict(
                all_normal="no",
                vac="no",
                dap="no",
                s45_sensory="yes",
                motor_below_3_levels="yes",
                key_muscles_below_nli=10,
                key_muscles_grade3_below_nli=9,
            ),
            "D",
        ),
        (
            dict(
                all_normal="no",
                vac="no",
                dap="yes",
                s45_sensory="no",
                motor_below_3_levels="yes",
                key_muscles_below_nli=10,
                key_muscles_grade3_below_nli=0,
            ),
            "C",
        ),
        # facts needed on the path are missing: no grade
        (dict(all_normal="no", vac="no", dap="no"), None),
        (dict(all_normal="no", vac="no", dap="yes", s45_sensory="no"), None),
        (dict(all_normal="no", vac="yes", dap="no", s45_sensory="no"), None),
        (
            dict(
                all_normal="no",
                vac="yes",
                dap="no",
                s45_sensory="no",
                key_muscles_below_nli=0,
                key_muscles_grade3_below_nli=0,
            ),
            None,
        ),
        (dict(vac="no", dap="no", s45_sensory="no"), None),
    ],
)
def test_asia_worksheet_classification_steps(facts: dict[str, object], grade: str | None) -> None:
    assert worksheet(**facts) == grade


def test_asia_worksheet_rejects_more_strong_muscles_than_muscles() -> None:
    with pytest.raises(InstrumentError, match="key_muscles_grade3_below_nli"):
        worksheet(
            all_normal="no",
            vac="yes",
            dap="no",
            s45_sensory="no",
            key_muscles_below_nli=4,
            key_muscles_grade3_below_nli=5,
        )


@pytest.mark.parametrize(
    ("kps", "ecog_a", "ecog_b"),
    [
        (100, 0, 0),
        (90, 0, 1),
        (80, 1, 1),
        (70, 1, 2),
        (60, 2, 2),
        (50, 2, 3),
        (40, 3, 3),
        (30, 3, 4),
        (20, 4, 4),
        (10, 4, 4),
        (0, 5, 5),
    ],
)
def test_kps_and_both_ecog_conventions(kps: int, ecog_a: int, ecog_b: int) -> None:
    assert score("kps", {"kps": kps}) == {"kps": kps, "ecog": None}
    assert score("kps", {"kps": kps}, ecog_convention="A")["ecog"] == ecog_a
    assert score("kps", {"kps": kps}, ecog_convention="B")["ecog"] == ecog_b


@pytest.mark.parametrize("bad", [75, 110, -10, 7.5, "70"])
def test_kps_accepts_only_the_eleven_levels(bad: object) -> None:
    with pytest.raises(InstrumentError, match="'kps'"):
        score("kps", {"kps": bad})
    with pytest.raises(InstrumentError, match="'kps'"):
        score_frame("kps", pd.DataFrame({"kps": [70, bad]}))


@pytest.mark.parametrize("ecog", range(6))
def test_ecog(ecog: int) -> None:
    assert score("ecog", {"ecog": ecog}) == {"ecog": ecog}


def test_ecog_out_of_range() -> None:
    with pytest.raises(InstrumentError, match="expected an integer from 0 to 5"):
        score("ecog", {"ecog": 6})


@pytest.mark.parametrize(
    "term",
    [
        "wound_complication",
        "wound_dehiscence",
        "wound_infection",
        "postoperative_hemorrhage",
        "spinal_fracture",
        "dermatitis_radiation",
        "csf_leakage",
    ],
)
@pytest.mark.parametrize("grade", range(1, 6))
def test_ctcae_grades_one_to_five(term: str, grade: int) -> None:
    assert score("ctcae", {"term": term, "grade": grade}) == {
        "grade": grade,
        "grade3plus": grade >= 3,
    }


def test_ctcae_rejects_a_grade_the_term_does_not_have() -> None:
    assert score("ctcae", {"term": "seroma", "grade": 3})["grade"] == 3.0
    with pytest.raises(InstrumentError, match="expected one of \\[1, 2, 3\\] for seroma"):
        score("ctcae", {"term": "seroma", "grade": 4})


def test_ctcae_needs_term_and_grade() -> None:
    assert score("ctcae", {"grade": 2}) == {"grade": None, "grade3plus": None}
    with pytest.raises(InstrumentError, match="'term'"):
        score("ctcae", {"term": "wound complication", "grade": 2})


def test_ctcae_term_descriptions_for_forms() -> None:
    from blend.instruments.ctcae import ctcae_term

    term = ctcae_term("wound_dehiscence")
    assert term.grades[1] == "Incisional separation, intervention not indicated"
    assert term.meddra == "10048031"
    with pytest.raises(InstrumentError):
        ctcae_term("hypertension")
