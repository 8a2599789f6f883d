"""``load_protocol()`` is the single-trial view every existing caller reads: BLEND's
sections assembled from the cohort and the BLEND folder, pinned to what the code returned
before the split (``legacy_protocol.json``, written by the single-folder code), and
``BLEND_PROTOCOL_DIR`` overrides keep their meaning while the cohort and trial API
follow them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from blend.eligibility import INELIGIBLE, assess, criteria_from_section
from blend.protocol import (
    COHORT_DIR,
    DEFAULTS_DIR,
    TRIALS_DIR,
    ConfigError,
    Protocol,
    clear_caches,
    load_cohort,
    load_protocol,
    load_trial,
)
from blend.protocol.schedule import parse_schedule

PINNED = Path(__file__).with_name("legacy_protocol.json")
SHIPPED_TREATMENT = """start_of_treatment = "surgery"

[intervention]
max_hours_between = 12
sbrt_dose_gy = 24.0
sbrt_fractions = 3
surgical_site_dose_gy = 4.0

[control]
min_days_surgery_to_radiotherapy = 14
radiotherapy_types = ["1x8 Gy", "other"]
"""
SINGLE_TRIAL_ELIGIBILITY = """version = "override"

[facts.age]
type = "int"
label = "Age in years"
min = 0
max = 130

[facts.shoe_size]
type = "int"
label = "Shoe size (a fact the cohort did not have)"
min = 30
max = 50

[[criteria]]
code = "I_AGE"
kind = "inclusion"
text = "Adult"
reason = "age {age}"
rule = { fact = "age", at_least = 18 }

[[criteria]]
code = "E_SHOES"
kind = "exclusion"
text = "Large feet"
reason = "shoe size {shoe_size}"
rule = { fact = "shoe_size", greater_than = 46 }
"""


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLEND_PROTOCOL_DIR", raising=False)
    monkeypatch.delenv("BLEND_TRIALS_DIRS", raising=False)
    clear_caches()


def _as_pinned(protocol: Protocol) -> str:
    fields = {
        f.name: getattr(protocol, f.name)
        for f in dataclasses.fields(protocol)
        if f.name != "sections"
    }
    # The fields a consent item had before the split (plain_en/plain_nl came later).
    fields["consent_items"] = [
        {key: getattr(item, key) for key in ("code", "label_en", "label_nl")}
        for item in protocol.consent_items
    ]
    fields = {
        key: list(value) if isinstance(value, tuple) else value for key, value in fields.items()
    }
    return (
        json.dumps(
            {"fields": fields, "sections": dict(protocol.sections)}, ensure_ascii=False, indent=1
        )
        + "\n"
    )


def test_load_protocol_returns_byte_for_byte_what_it_returned_before_the_split() -> None:
    # The JSON keeps key order and tells 24 from 24.0, so any drift in any value shows.
    assert _as_pinned(load_protocol()) == PINNED.read_text(encoding="utf-8")


def test_every_file_of_the_single_trial_layout_is_a_link_to_its_new_home() -> None:
    homes = {path.name: path.resolve() for path in DEFAULTS_DIR.glob("*.toml")}
    assert sorted(name.removesuffix(".toml") for name in homes) == sorted(load_protocol().sections)
    for name in ("consent.toml", "messages.toml", "schedule.toml"):
        assert homes[name] == (COHORT_DIR / name).resolve()
    for name in set(homes) - {"consent.toml", "messages.toml", "schedule.toml"}:
        assert homes[name] == (TRIALS_DIR / "BLEND" / name).resolve()


def test_an_old_layout_eligibility_override_replaces_the_section_and_reaches_the_trial(
    tmp_path: Path,
) -> None:
    (tmp_path / "eligibility.toml").write_text(SINGLE_TRIAL_ELIGIBILITY, encoding="utf-8")
    section = load_protocol(str(tmp_path)).section("eligibility")
    assert list(section["facts"]) == ["age", "shoe_size"] and section["version"] == "override"
    # The new API sees the same: its fact tables are laid over the cohort's catalogue.
    assert load_cohort(str(tmp_path)).facts["shoe_size"].label.startswith("Shoe size")
    criteria = load_trial("BLEND", override_dir=str(tmp_path)).criteria
    assert criteria == criteria_from_section(section)
    assert assess({"age": 40, "shoe_size": 47}, criteria).status == INELIGIBLE


def test_a_new_layout_file_copied_from_the_blend_folder_also_works_as_an_override(
    tmp_path: Path,
) -> None:
    text = (TRIALS_DIR / "BLEND" / "eligibility.toml").read_text(encoding="utf-8")
    (tmp_path / "eligibility.toml").write_text(
        text.replace("at_least = 18", "at_least = 21"), encoding="utf-8"
    )
    section = load_protocol(str(tmp_path)).section("eligibility")
    assert section["facts"] == load_protocol().section("eligibility")["facts"]  # tables, as before
    age = next(c for c in section["criteria"] if c["code"] == "I6_AGE")
    assert age["rule"] == {"fact": "age", "at_least": 21}


def test_a_schedule_override_without_primary_keeps_blends_primary_timepoint(tmp_path: Path) -> None:
    routine = (DEFAULTS_DIR / "schedule.toml").read_text(
        encoding="utf-8"
    )  # the cohort's: no primary
    (tmp_path / "schedule.toml").write_text(
        routine.replace("day = 182\n", "day = 180\n"), encoding="utf-8"
    )
    schedule = parse_schedule(load_protocol(str(tmp_path)).section("schedule"))
    assert schedule.primary == "w4" and schedule.timepoint("m6").day == 180
    assert load_cohort(str(tmp_path)).timepoint("m6").day == 180


def test_a_schedule_override_with_primary_moves_blends_primary_timepoint(tmp_path: Path) -> None:
    routine = (COHORT_DIR / "schedule.toml").read_text(encoding="utf-8")
    (tmp_path / "schedule.toml").write_text('primary = "w12"\n' + routine, encoding="utf-8")
    assert load_protocol(str(tmp_path)).section("schedule")["primary"] == "w12"
    assert load_trial("BLEND", override_dir=str(tmp_path)).primary_outcome.timepoint == "w12"
    assert load_cohort(str(tmp_path)).schedule.primary is None


def test_an_old_layout_treatment_override_is_the_section_and_lands_on_blends_arms(
    tmp_path: Path,
) -> None:
    (tmp_path / "treatment.toml").write_text(SHIPPED_TREATMENT, encoding="utf-8")
    assert (
        load_protocol(str(tmp_path)).section("treatment")["intervention"]["max_hours_between"] == 12
    )
    plan = load_trial("BLEND", override_dir=str(tmp_path)).treatment
    sbrt = plan.arm("intervention").procedure("sbrt")
    assert (plan.start_of_treatment, sbrt.dose_gy, sbrt.fractions) == ("surgery", 24.0, 3)
    assert sbrt.constraints == {"surgical_site_dose_gy": 4.0}
    assert [r.amount for r in plan.arm("intervention").timing] == [12]
    assert [r.amount for r in plan.arm("control").timing] == [14]
    assert plan.arm("control").procedure("radiotherapy").schedules == ("1x8 Gy", "other")


def test_the_environment_variable_overrides_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "randomization.toml").write_text(
        'design = "simple"\nratio = "1:1"\n', encoding="utf-8"
    )
    monkeypatch.setenv("BLEND_PROTOCOL_DIR", str(tmp_path))
    clear_caches()
    assert load_protocol().section("randomization") == {"design": "simple", "ratio": "1:1"}
    assert load_trial("BLEND").design.design == "simple"
    monkeypatch.setenv("BLEND_PROTOCOL_DIR", str(tmp_path / "nowhere"))
    clear_caches()
    with pytest.raises(ValueError, match="BLEND_PROTOCOL_DIR: expected a folder"):
        load_protocol()


def test_a_trial_override_replaces_the_file_and_keeps_what_the_old_layout_could_not_say(
    tmp_path: Path,
) -> None:
    text = (TRIALS_DIR / "BLEND" / "trial.toml").read_text(encoding="utf-8")
    single_trial = text[: text.index("status =")].replace(
        '"1.0-demo"', '"2.1"'
    )  # no status, no outcome
    (tmp_path / "trial.toml").write_text(single_trial, encoding="utf-8")
    assert load_protocol(str(tmp_path)).version == "2.1"
    blend = load_trial("BLEND", override_dir=str(tmp_path))
    assert (blend.protocol_version, blend.status, blend.primary_outcome.measure) == (
        "2.1",
        "recruiting",
        "pf",
    )
    (tmp_path / "trial.toml").write_text(
        'code = "BLEND"\nprotocol_version = "2.1"\n', encoding="utf-8"
    )
    clear_caches()
    with pytest.raises(ValueError, match="expected key 'title'"):  # whole, as it always was
        load_protocol(str(tmp_path))
    with pytest.raises(ConfigError, match="expected the key"):
        load_trial("BLEND", override_dir=str(tmp_path))


def test_an_override_cannot_turn_blend_into_another_trial(tmp_path: Path) -> None:
    (tmp_path / "trial.toml").write_text(
        'code = "OTHER"\ntitle = "x"\nregistration = "y"\nprotocol_version = "1"\ncohort = "PRESENT"\n',
        encoding="utf-8",
    )
    assert load_protocol(str(tmp_path)).trial_code == "OTHER"  # the single-trial view, as before
    with pytest.raises(ConfigError) as refused:
        load_trial("BLEND", override_dir=str(tmp_path))
    assert (refused.value.key, refused.value.found) == ("code", "OTHER")
    assert refused.value.file == str(tmp_path / "trial.toml")
