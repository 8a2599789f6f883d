from __future__ import annotations

from pathlib import Path

import pytest

from blend.protocol import (
    DEFAULTS_DIR,
    ProtocolError,
    _read_sections,
    build_protocol,
    load_protocol,
)


def test_the_default_protocol_names_the_trial_and_all_five_consent_items() -> None:
    protocol = load_protocol()
    assert protocol.trial_code == "BLEND"
    assert protocol.registration == "NCT05575323"
    assert protocol.consent_codes == ("a", "b", "c", "d", "e")
    assert protocol.randomization_consent_items == ("a", "c", "d")


def test_an_override_folder_replaces_a_section(tmp_path: Path) -> None:
    (tmp_path / "trial.toml").write_text(
        'code = "BLEND"\ntitle = "x"\nregistration = "NCT05575323"\nprotocol_version = "2.1"\ncohort = "PRESENT+"\n'
    )
    protocol = build_protocol(_read_sections([DEFAULTS_DIR, tmp_path]))
    assert protocol.version == "2.1" and protocol.cohort_name == "PRESENT+"


def test_a_required_consent_item_that_does_not_exist_is_rejected(tmp_path: Path) -> None:
    sections = _read_sections([DEFAULTS_DIR])
    sections["consent"] = {**sections["consent"], "required_for_randomization": ["a", "z"]}
    with pytest.raises(ProtocolError, match="'z' is not one of"):
        build_protocol(sections)


def test_a_missing_section_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="expected a file nosuch.toml"):
        load_protocol().section("nosuch")


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "trial.toml").write_text("code = ")
    with pytest.raises(ProtocolError, match="trial.toml: not valid TOML"):
        _read_sections([tmp_path])
