"""After `make demo`, the documented commands work as typed, with nothing exported:
the demo's settings (debug, seed, public address with its port) sit in local.env in var/,
which every `blend` command reads. The environment still wins, production refuses the
file, and without it a server still refuses to start without its secrets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from blend.apps.demo.management.commands import demo

REPO = Path(__file__).resolve().parents[2]
BLEND = Path(sys.executable).with_name("blend")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("make") is None, reason="needs make"),
]


def _clean_env(**extra: str) -> dict[str, str]:
    """A newcomer's shell: nothing of BLEND or Django exported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLEND_", "DJANGO_"))}
    return env | extra


def _blend(
    cwd: Path, *args: str, stdin: str = "", **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BLEND), *args],
        input=stdin,
        cwd=cwd,
        env=_clean_env(**extra),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where `make demo PORT=8100` has written its settings and migrated."""
    folder = tmp_path_factory.mktemp("checkout")
    made = subprocess.run(
        ["make", "-f", str(REPO / "Makefile"), "local-settings", "PORT=8100"],
        cwd=folder,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert "http://127.0.0.1:8100" in made.stdout
    migrated = _blend(folder, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    return folder


def test_the_documented_commands_run_with_nothing_exported(checkout: Path, tmp_path: Path) -> None:
    for args in (
        ("send-reminders",),
        ("check-data",),
        ("createstaff", "--username", "dana", "--role", "data_manager", "--password-stdin"),
        ("api-token", "dana"),
        ("export", "analysis", str(tmp_path / "out"), "--user", "dana"),
    ):
        result = _blend(checkout, *args, stdin="a-long-demo-password-1\n")
        assert result.returncode == 0, (args, result.stdout + result.stderr)
        assert "BLEND_SECRET_KEY" not in result.stderr


def test_patient_links_follow_the_configured_port(checkout: Path) -> None:
    code = "from blend.apps.questionnaires.services import link_url; print(link_url('abc'))"
    result = _blend(checkout, "shell", "--no-imports", "-c", code)
    assert (
        result.stdout.strip().splitlines()[-1] == "http://127.0.0.1:8100/questionnaires/q/abc/"
    ), result.stderr


def test_the_environment_wins_over_the_local_file(checkout: Path) -> None:
    code = "from django.conf import settings; print(settings.PUBLIC_BASE_URL)"
    result = _blend(
        checkout, "shell", "-c", code, BLEND_PUBLIC_BASE_URL="https://blend.example.org"
    )
    assert result.stdout.strip().splitlines()[-1] == "https://blend.example.org"


def test_the_deploy_check_refuses_the_local_file(checkout: Path) -> None:
    result = _blend(checkout, "check", "--deploy")
    assert result.returncode != 0 and "web.E001" in result.stdout + result.stderr


def test_without_the_file_a_command_still_needs_its_secrets(tmp_path: Path) -> None:
    result = _blend(tmp_path, "send-reminders")
    assert result.returncode != 0
    assert "BLEND_SECRET_KEY: expected a secret" in result.stderr and "make demo" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_the_demo_prints_the_address_it_serves(
    settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "load_demo", lambda **options: False)
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8100"  # type: ignore[attr-defined]
    out = StringIO()
    call_command("demo", stdout=out)
    assert "Open http://127.0.0.1:8100 and log in." in out.getvalue()
    assert "8000" not in out.getvalue()
