from __future__ import annotations

from pathlib import Path

import pytest

from blend.web import env


def test_booleans_accept_the_usual_words_and_refuse_anything_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("X_FLAG", "yes")
    assert env.env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(env.EnvError, match="X_FLAG: expected one of .* got 'maybe'"):
        env.env_bool("X_FLAG", False)


def test_integers_name_the_variable_and_the_bad_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(env.EnvError, match="X_INT: expected an integer, got 'ten'"):
        env.env_int("X_INT", 1)
    monkeypatch.setenv("X_INT", "0")
    with pytest.raises(env.EnvError, match=">= 1"):
        env.env_int("X_INT", 1, minimum=1)


def test_secrets_come_from_a_file_when_name_file_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env.env_secret("X_SECRET") == "s3cret"
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(env.EnvError, match="X_SECRET_FILE: expected a readable file"):
        env.env_secret("X_SECRET")
