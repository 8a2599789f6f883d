"""`blend check --deploy` passes with the production variables of docs/deployment.md,
and bad values stop start-up with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.translation_fixture import write_translation

BLEND = Path(sys.executable).with_name("blend")


def production_env(tmp_path: Path) -> dict[str, str]:
    seed = tmp_path / "seed.hex"
    seed.write_text("ab" * 32)
    chain_key = tmp_path / "chain.key"
    chain_key.write_text("cd" * 32)
    key = tmp_path / "secret_key"
    key.write_text("k3Y-" + "".join(chr(48 + (i * 7) % 75) for i in range(60)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLEND_", "DJANGO_"))}
    translations = tmp_path / "translations"  # the licensed wording, installed (a stand-in)
    translations.mkdir()
    write_translation(translations / "nl.json", "qlq-c15-pal", "eq5d5l-nl")
    return env | {
        "BLEND_INSTRUMENT_TRANSLATIONS_DIR": str(translations),
        "BLEND_SECRET_KEY_FILE": str(key),
        "BLEND_ALLOWED_HOSTS": "blend.example.org",
        "BLEND_CSRF_TRUSTED_ORIGINS": "https://blend.example.org",
        "BLEND_DATABASE_URL": "postgres://blend@db.example.org:5432/blend",
        "BLEND_EMAIL_HOST": "smtp.example.org",
        "BLEND_RANDOMIZATION_SEED_FILE": str(seed),
        "BLEND_CHAIN_KEY_FILE": str(chain_key),
    }


def test_the_documented_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BLEND), "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_bad_value_stops_start_up_and_names_the_variable(tmp_path: Path) -> None:
    env = production_env(tmp_path) | {"BLEND_SESSION_SECONDS": "soon"}
    result = subprocess.run(
        [str(BLEND), "check"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode != 0
    assert "BLEND_SESSION_SECONDS: expected an integer, got 'soon'" in result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["BLEND_SECRET_KEY_FILE"]
    result = subprocess.run(
        [str(BLEND), "check"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode != 0 and "BLEND_SECRET_KEY: expected a secret" in result.stderr


def test_production_refuses_a_patient_questionnaire_with_placeholder_wording(
    tmp_path: Path,
) -> None:
    env = production_env(tmp_path) | {"BLEND_INSTRUMENT_TRANSLATIONS_DIR": str(tmp_path / "none")}
    result = subprocess.run(
        [str(BLEND), "check", "--deploy"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode != 0
    assert "questionnaires.E002" in result.stderr + result.stdout


def test_production_warns_when_sae_notifications_cannot_leave_or_be_retried(
    tmp_path: Path,
) -> None:
    env = production_env(tmp_path) | {
        "BLEND_TASK_BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
    }
    del env["BLEND_EMAIL_HOST"]
    result = subprocess.run(
        [str(BLEND), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert "outbox.W001" in output and "no e-mail leaves this server" in output
    assert "outbox.W002" in output and "blend db-worker" in output
