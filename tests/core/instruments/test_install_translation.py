"""`blend instruments install-translation FILE`: a licensed translation is checked
against the instrument (language, edition, every item, header and answer option, no
placeholder, no paper-only wording) and installed whole or not at all; scoring never
changes; `blend instruments status` lists what still lacks one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from blend.instruments import get_instrument, score
from blend.instruments.cli import main_instruments
from blend.instruments.translations import DIR_ENV_VAR, ENV_VAR, check_translation_file
from tests.translation_fixture import complete_translation, write_translation

LICENSED = ("qlq-c15-pal", "qlq-c30", "bpi-sf", "eq5d5l-nl")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "installed"
    monkeypatch.setenv(DIR_ENV_VAR, str(target))
    monkeypatch.delenv(ENV_VAR, raising=False)
    return target


def _broken(**changes: Any) -> dict[str, Any]:
    spec = complete_translation("qlq-c15-pal")
    for key, value in changes.items():
        spec[key] = value
    return spec


def test_a_complete_file_installs_and_replaces_every_placeholder(
    tmp_path: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert get_instrument("qlq-c15-pal").placeholder
    source = write_translation(tmp_path / "c15.json", "qlq-c15-pal", "eq5d5l-nl")
    assert main_instruments(["install-translation", str(source)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["eq5d5l-nl.nl.json", "qlq-c15-pal.nl.json"]
    c15 = get_instrument("qlq-c15-pal")
    assert not c15.placeholder and c15.item("q1").text_nl == "Testvraag q1?"
    assert c15.translation_source.startswith("test stand-in")
    assert "installed qlq-c15-pal.nl.json" in capsys.readouterr().out


def test_installing_never_changes_a_score(tmp_path: Path, folder: Path) -> None:
    answers = {f"q{n}": 1 + n % 4 for n in range(1, 15)} | {"q15": 6}
    before = score("qlq-c15-pal", answers)
    main_instruments(
        ["install-translation", str(write_translation(tmp_path / "f.json", "qlq-c15-pal"))]
    )
    assert score("qlq-c15-pal", answers) == before


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"version": "3.0"},
            "version: this platform scores edition '2006'; the file translates '3.0'",
        ),
        ({"language": "de"}, "language: expected one of ['nl']; got 'de'"),
        ({"source": ""}, "source: expected the licence or origin"),
        (
            {"title_nl": "[NL placeholder: official translation required] x"},
            "title_nl: still the placeholder",
        ),
        ({"instructions_nl": "Omcirkel het antwoord."}, "says to circle an answer"),
    ],
)
def test_a_file_for_another_edition_or_with_gaps_is_refused(
    tmp_path: Path,
    folder: Path,
    change: dict[str, Any],
    problem: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"qlq-c15-pal": _broken(**change)}))
    assert main_instruments(["install-translation", str(path)]) == 2
    assert problem in capsys.readouterr().err
    assert not folder.exists()  # nothing installed


def test_a_missing_item_or_answer_option_is_named(tmp_path: Path) -> None:
    spec = complete_translation("qlq-c15-pal")
    del spec["items"]["q7"]
    del spec["item_options"]["q15"]["7"]
    del spec["items"]["q4"]["header_nl"]
    problems = check_translation_file({"qlq-c15-pal": spec})
    assert "qlq-c15-pal: items: expected all 15 items; got 14, missing q7" in problems
    assert "qlq-c15-pal: item q15 option 7: expected Dutch text; got None" in problems
    assert "qlq-c15-pal: item q4 header: expected Dutch text; got None" in problems


def test_unknown_items_options_and_instruments_are_refused() -> None:
    spec = complete_translation("eq5d5l-nl")
    spec["item_options"]["mobility"]["9"] = "Negen"
    assert any("unknown option '9'" in p for p in check_translation_file({"eq5d5l-nl": spec}))
    spec = complete_translation("eq5d5l-nl")
    spec["items"]["walking"] = "Lopen"
    assert any("unknown item 'walking'" in p for p in check_translation_file({"eq5d5l-nl": spec}))
    assert check_translation_file({"qlq-c99": {}}) == [
        "qlq-c99: unknown instrument; expected one of "
        + ", ".join(__import__("blend.instruments", fromlist=["x"]).instrument_codes())
    ]


def test_one_bad_instrument_keeps_the_whole_file_out(tmp_path: Path, folder: Path) -> None:
    path = tmp_path / "two.json"
    path.write_text(
        json.dumps(
            {"eq5d5l-nl": complete_translation("eq5d5l-nl"), "qlq-c15-pal": _broken(version="x")}
        )
    )
    assert main_instruments(["install-translation", str(path)]) == 2
    assert get_instrument("eq5d5l-nl").placeholder


def test_check_only_installs_nothing(tmp_path: Path, folder: Path) -> None:
    path = write_translation(tmp_path / "f.json", "bpi-sf")
    assert main_instruments(["install-translation", "--check", str(path)]) == 0
    assert not folder.exists()


def test_status_lists_what_lacks_a_translation_until_everything_is_installed(
    tmp_path: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_instruments(["status"]) == 1
    out = capsys.readouterr().out
    assert "qlq-c15-pal    nl  version 2006   PLACEHOLDER: 15 of 15 items untranslated" in out
    main_instruments(
        ["install-translation", str(write_translation(tmp_path / "all.json", *LICENSED))]
    )
    capsys.readouterr()
    assert main_instruments(["status"]) == 0
    assert "PLACEHOLDER" not in capsys.readouterr().out
