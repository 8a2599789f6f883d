"""The shipped CTCAE v5.0 term list: every term of the NCI's list, with its MedDRA code,
organ class and grades, BLEND's eight terms first under their established keys.

The published facts checked here (NCI CTEP, CTCAE v5.0, 27 November 2017): 837 terms in
26 MedDRA system organ classes; Anemia is MedDRA 10002272 with grades 1-5; Seroma has
grades 1-3 only; Febrile neutropenia starts at grade 3."""

from __future__ import annotations

import csv

import pytest

from blend.instruments import score
from blend.instruments.ctcae import (
    BLEND_KEYS,
    COLUMNS,
    DATA,
    SOURCE,
    TERMS,
    CtcaeDataError,
    ctcae_term,
    load_terms,
)
from blend.instruments.errors import InstrumentError


def test_the_list_is_the_whole_of_ctcae_v5() -> None:
    assert len(TERMS) == 837
    assert len({t.soc for t in TERMS}) == 26
    assert len({t.meddra for t in TERMS}) == 837
    assert all(len(t.meddra) == 8 and t.meddra.isdigit() for t in TERMS)
    assert "v5.0" in SOURCE and "2017" in SOURCE


def test_blend_terms_come_first_with_their_keys_and_dutch_names() -> None:
    first = TERMS[:8]
    assert {t.key for t in first} == BLEND_KEYS
    assert [t.key for t in first][:3] == [
        "wound_complication",
        "wound_dehiscence",
        "wound_infection",
    ]
    assert ctcae_term("csf_leakage").name_en == "Cerebrospinal fluid leakage"
    assert ctcae_term("seroma").meddra == "10040102"  # known now, blank before the full list
    assert ctcae_term("wound_infection").name_nl == "Wondinfectie"
    assert all(t.blend for t in first) and not any(t.blend for t in TERMS[8:])


def test_other_terms_are_keyed_by_meddra_code_with_their_grades() -> None:
    anemia = ctcae_term("10002272")
    assert (anemia.name_en, anemia.soc) == ("Anemia", "Blood and lymphatic system disorders")
    assert sorted(anemia.grades) == [1, 2, 3, 4, 5]
    assert anemia.definition.startswith("A disorder characterized by a reduction")
    assert sorted(ctcae_term("seroma").grades) == [1, 2, 3]
    febrile = next(t for t in TERMS if t.name_en == "Febrile neutropenia")
    assert sorted(febrile.grades) == [3, 4, 5]
    assert score("ctcae", {"term": "10002272", "grade": 4}) == {"grade": 4.0, "grade3plus": True}
    with pytest.raises(InstrumentError, match="expected one of \\[3, 4, 5\\]"):
        score("ctcae", {"term": febrile.key, "grade": 1})
    with pytest.raises(InstrumentError, match="MedDRA code"):
        ctcae_term("99999999")


def test_the_file_has_the_columns_the_loader_expects() -> None:
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 838
    assert all(len(row) == len(COLUMNS) for row in rows)


def test_a_damaged_file_is_refused_with_line_and_column(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from blend.instruments import ctcae

    damaged = tmp_path / "ctcae_v5.0.csv"
    lines = DATA.read_text(encoding="utf-8").split("\n")
    lines[1] = lines[1].replace("10002272", "1000227X", 1)
    damaged.write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setattr(ctcae, "DATA", damaged)
    load_terms.cache_clear()
    try:
        with pytest.raises(
            CtcaeDataError, match="line 2: MedDRA Code: expected 8 digits; received '1000227X'"
        ):
            load_terms()
    finally:
        load_terms.cache_clear()
