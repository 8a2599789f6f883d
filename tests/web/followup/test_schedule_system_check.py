"""The system check followup.E001 rejects an inconsistent schedule given by a trial
team (BLEND_PROTOCOL_DIR), and passes the shipped defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from blend.apps.followup import checks
from blend.protocol import DEFAULTS_DIR, load_protocol


def test_the_shipped_schedule_passes() -> None:
    assert checks.check_schedule() == []


def test_an_override_with_overlapping_windows_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule = (DEFAULTS_DIR / "schedule.toml").read_text(encoding="utf-8")
    (tmp_path / "schedule.toml").write_text(
        schedule.replace("day = 14\nbefore = 3", "day = 14\nbefore = 8", 1), encoding="utf-8"
    )
    monkeypatch.setattr(checks, "load_protocol", lambda: load_protocol(str(tmp_path)))
    errors = checks.check_schedule()
    assert [e.id for e in errors] == ["followup.E001"]
    assert "w2: window (days 6..17) contains the target day of w1 (day 7)" in errors[0].msg


def test_an_override_that_splits_the_schedule_by_arm_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule = (DEFAULTS_DIR / "schedule.toml").read_text(encoding="utf-8")
    (tmp_path / "schedule.toml").write_text(
        schedule.replace('code = "w6"', 'code = "w6"\narm = "intervention"', 1), encoding="utf-8"
    )
    monkeypatch.setattr(checks, "load_protocol", lambda: load_protocol(str(tmp_path)))
    assert "same for both arms" in checks.check_schedule()[0].msg
