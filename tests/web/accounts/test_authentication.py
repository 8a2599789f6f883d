from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, get_hasher
from django.test import override_settings

from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

PRODUCTION_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def test_production_settings_hash_passwords_with_argon2() -> None:
    from blend.web import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    with override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS):
        assert isinstance(get_hasher("default"), Argon2PasswordHasher)


def test_a_correct_password_logs_in(client, personas) -> None:
    response = client.post("/accounts/login/", {"username": "nurse_nina", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/participants/").status_code == 200


def test_repeated_failures_lock_the_account_even_with_the_right_password(client, personas) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "nurse_nina", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "nurse_nina", "password": PASSWORD})
    assert response.status_code in {302, 403, 429}
    assert client.get("/participants/").status_code == 302  # still not logged in


def test_a_lockout_of_one_account_leaves_colleagues_alone(client, personas) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "nurse_nina", "password": "wrong"})
    response = client.post(
        "/accounts/login/", {"username": "investigator_ivo", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_sessions_expire_when_idle_and_when_the_browser_closes() -> None:
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    # The idle timeout is kept by blend.apps.api.sessions.IdleSessionMiddleware, not by a
    # write per request (tests/web/api/test_sessions.py attacks it).
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE and not settings.SESSION_SAVE_EVERY_REQUEST
    assert "blend.apps.api.sessions.IdleSessionMiddleware" in settings.MIDDLEWARE


def test_a_session_older_than_the_idle_limit_is_logged_out(client, personas) -> None:
    import time_machine

    with time_machine.travel("2026-01-01 09:00", tick=False) as traveller:
        client.post("/accounts/login/", {"username": "nurse_nina", "password": PASSWORD})
        assert client.get("/participants/").status_code == 200
        traveller.shift(settings.SESSION_COOKIE_AGE + 60)
        assert client.get("/participants/").status_code == 302
