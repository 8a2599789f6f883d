"""Definitions for forms, and licensed Dutch text loaded from a translation file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blend.instruments import (
    PLACEHOLDER_PREFIX,
    InstrumentError,
    get_instrument,
    instrument_codes,
    score,
)
from blend.instruments.translations import ENV_VAR

LICENSED = {"qlq-c15-pal", "qlq-c30", "bpi-sf", "eq5d5l-nl"}


def test_codes_of_the_issue_are_all_present() -> None:
    required = {
        "qlq-c15-pal",
        "qlq-c30",
        "bpi-sf",
        "eq5d5l-nl",
        "omed",
        "pain-response",
        "sins",
        "bilsky",
        "asia",
        "kps",
        "ecog",
        "ctcae",
    }
    assert required <= set(instrument_codes())


@pytest.mark.parametrize("code", sorted(LICENSED))
def test_licensed_questionnaires_carry_marked_placeholder_dutch(code: str, monkeypatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    instrument = get_instrument(code)
    assert instrument.licensed and instrument.placeholder
    for item in instrument.items:
        assert item.placeholder
        assert item.text_nl.startswith(PLACEHOLDER_PREFIX)
        assert item.text_en in item.text_nl


@pytest.mark.parametrize("code", ["sins", "bilsky", "asia", "kps", "ecog", "pain-nrs"])
def test_clinician_scores_have_dutch_wording(code: str) -> None:
    instrument = get_instrument(code)
    assert not instrument.placeholder
    for item in instrument.items:
        assert item.text_nl and not item.text_nl.startswith(PLACEHOLDER_PREFIX)
        assert all(o.label_nl for o in item.options)


def test_c15_definition_for_forms() -> None:
    c15 = get_instrument("qlq-c15-pal")
    assert c15.item_keys == tuple(f"q{i}" for i in range(1, 16))
    assert c15.score_keys == ("PF", "EF", "FA", "NV", "PA", "DY", "SL", "AP", "CO", "QL")
    q1 = c15.item("q1")
    assert q1.text_en == "Do you have any trouble taking a short walk outside of the house?"
    assert [(o.value, o.label_en) for o in q1.options] == [
        (1, "Not at all"),
        (2, "A little"),
        (3, "Quite a bit"),
        (4, "Very much"),
    ]
    assert c15.item("q15").values == tuple(range(1, 8))
    assert c15.item("q4").header_en == "During the past week:" and not q1.header_en
    assert c15.item("q14").header_en == "During the past week:"
    assert "between 1 and 7" in c15.item("q15").header_en
    assert {s.key: s.kind for s in c15.scales}["PF"] == "functional"


def test_every_instrument_documents_its_missing_rule_and_source() -> None:
    for code in instrument_codes():
        instrument = get_instrument(code)
        assert instrument.missing_rule and instrument.source, code


def write_translation(path: Path) -> Path:
    items = {f"q{i}": f"Vraag {i}" for i in range(1, 16)}
    items["q4"] = {"text_nl": "Was u kortademig?", "header_nl": "Gedurende de afgelopen week:"}
    items["q5"] = {"text_nl": "Heeft u pijn gehad?", "header_nl": "Gedurende de afgelopen week:"}
    items["q15"] = {"text_nl": "Vraag 15", "header_nl": "Omcirkel het getal tussen 1 en 7"}
    data = {
        "qlq-c15-pal": {
            "title_nl": "EORTC QLQ-C15-PAL (Nederlands)",
            "items": items,
            "options": {"1": "Helemaal niet", "2": "Een beetje", "3": "Nogal", "4": "Heel erg"},
            "item_options": {"q15": {"1": "Erg slecht", "7": "Uitstekend"}},
        }
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_translation_file_replaces_placeholders_without_code_changes(tmp_path: Path) -> None:
    path = write_translation(tmp_path / "nl.json")
    c15 = get_instrument("qlq-c15-pal", translations=path)
    q1, q4, q15 = c15.item("q1"), c15.item("q4"), c15.item("q15")
    assert q1.text_nl == "Vraag 1" and q1.options[0].label_nl == "Helemaal niet"
    assert not q1.placeholder
    # q4 still has a header in the file; the other past-week items keep placeholder headers
    assert not q4.placeholder and q4.header_nl == "Gedurende de afgelopen week:"
    assert c15.item("q6").placeholder
    assert q15.options[0].label_nl == "Erg slecht" and not q15.placeholder
    assert c15.title_nl == "EORTC QLQ-C15-PAL (Nederlands)"
    assert get_instrument("qlq-c30", translations=path).placeholder  # other codes untouched


def test_the_translation_file_can_come_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(write_translation(tmp_path / "nl.json")))
    assert get_instrument("qlq-c15-pal").item("q1").text_nl == "Vraag 1"
    monkeypatch.delenv(ENV_VAR)
    assert get_instrument("qlq-c15-pal").item("q1").placeholder


def test_translation_does_not_change_scoring(tmp_path: Path, monkeypatch) -> None:
    answers = {f"q{i}": 2 for i in range(1, 16)}
    before = score("qlq-c15-pal", answers)
    monkeypatch.setenv(ENV_VAR, str(write_translation(tmp_path / "nl.json")))
    assert score("qlq-c15-pal", answers) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"qlq-c15-pal": {"items": {"q16": "x"}}}, "unknown item 'q16'"),
        ({"qlq-c15-pal": {"item_options": {"q15": {"9": "x"}}}}, "unknown option '9'"),
        ([], "expected a JSON object"),
    ],
)
def test_bad_translation_files_fail_loudly(tmp_path: Path, data: object, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InstrumentError, match=message):
        get_instrument("qlq-c15-pal", translations=path)


def test_a_missing_translation_file_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(InstrumentError, match="cannot be read"):
        get_instrument("qlq-c15-pal", translations=tmp_path / "absent.json")


def test_an_updated_translation_file_is_picked_up(tmp_path: Path) -> None:
    import os

    path = write_translation(tmp_path / "nl.json")
    assert get_instrument("qlq-c15-pal", translations=path).item("q1").text_nl == "Vraag 1"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["qlq-c15-pal"]["items"]["q1"] = "Heeft u moeite met een korte wandeling?"
    path.write_text(json.dumps(data), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert get_instrument("qlq-c15-pal", translations=path).item("q1").text_nl.startswith("Heeft")
