"""The one console script: pure subcommands without Django, everything else through it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BLEND = Path(sys.executable).with_name("blend")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BLEND), *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "BLEND_DEBUG": "1"},
        timeout=120,
    )


def test_help_lists_trial_platform_and_django_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for name in [
        "score",
        "screen",
        "simulate",
        "analyze",
        "randomization",
        "send-reminders",
        "check-data",
        "export",
        "import-data",
        "demo",
        "createstaff",
        "migrate",
        "runserver",
    ]:
        assert name in result.stdout, name


def test_help_works_even_when_the_settings_are_incomplete() -> None:
    result = subprocess.run(
        [str(BLEND), "--help"],
        capture_output=True,
        text=True,
        # No settings at all: not even the var/local.env that `make demo` leaves behind.
        env={"PATH": "/usr/bin:/bin", "BLEND_LOCAL_SETTINGS": ""},
        timeout=120,
    )
    assert result.returncode == 0 and "score" in result.stdout and "not listed" in result.stdout


def test_hyphenated_names_reach_the_django_command(tmp_path: Path) -> None:
    result = run("send-reminders", "--help")
    assert result.returncode == 0 and "usage: blend send_reminders" in result.stdout
