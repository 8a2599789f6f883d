"""Personal links: only the right, live link opens a questionnaire; every other link
gets the same neutral page and reveals nothing."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from blend.apps.consent.services import withdraw_consent
from blend.apps.followup.models import Assessment
from blend.apps.followup.services import record_vital_status
from blend.apps.questionnaires.models import AccessToken, Response
from blend.apps.questionnaires.services import issue_link, resolve_token, save_answers, submit
from tests.pages import without_csrf

pytestmark = pytest.mark.django_db


def _token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def _open(participant, code="w4"):  # type: ignore[no-untyped-def]
    return Assessment.objects.get(participant=participant, timepoint=code)


@pytest.fixture
def open_w4(make_participant, treat):  # type: ignore[no-untyped-def]
    participant = treat(make_participant(), days_ago=28)
    return _open(participant)


def _get(token: str):  # type: ignore[no-untyped-def]
    return Client().get(f"/questionnaires/q/{token}/")


def _normal(body: bytes) -> str:
    return without_csrf(body)


def _assert_neutral(response) -> None:  # type: ignore[no-untyped-def]
    """The same page, byte for byte, as for a token that never existed."""
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]
    assert _normal(response.content) == _normal(_get("never-issued-" + "x" * 30).content)
    # The random CSRF token once held "w4", so the leak check reads the page without it.
    body = _normal(response.content)
    assert "deze link werkt niet" in body.lower()
    for leak in ("PRS-", "w4", "Week 4", "Test Person", "verlopen op", "overleden"):
        assert leak not in body


def test_a_live_link_opens_the_questionnaire_in_the_patients_language(open_w4) -> None:  # type: ignore[no-untyped-def]
    response = _get(_token(issue_link(open_w4)))
    assert response.status_code == 200
    assert 'lang="nl"' in response.content.decode()
    assert "Opslaan en verder" in response.content.decode()


def test_only_a_hash_of_the_token_is_stored(open_w4) -> None:  # type: ignore[no-untyped-def]
    token = _token(issue_link(open_w4))
    stored = AccessToken.objects.get(assessment=open_w4)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(AccessToken.objects.values()))
    assert len(token) >= 43  # 256 bits, URL-safe


def test_a_guessed_token_gets_nothing(open_w4) -> None:  # type: ignore[no-untyped-def]
    issue_link(open_w4)
    _assert_neutral(_get("A" * 43))
    _assert_neutral(_get("x"))


def test_an_expired_token_gets_nothing(open_w4) -> None:  # type: ignore[no-untyped-def]
    token = _token(issue_link(open_w4))
    after_window = timezone.now() + timedelta(days=4)
    assert resolve_token(token, now=after_window) is None
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    _assert_neutral(_get(token))


def test_a_reused_token_after_submission_gets_nothing(open_w4) -> None:  # type: ignore[no-untyped-def]
    token = _token(issue_link(open_w4))
    save_answers(open_w4, "pain-nrs", {"worst_pain": 5}, mode="web", language="nl")
    submit(open_w4, mode="web")
    _assert_neutral(_get(token))


def test_another_patients_token_does_not_open_this_patients_questionnaire(
    make_participant, treat, open_w4
) -> None:  # type: ignore[no-untyped-def]
    other = _open(treat(make_participant(), days_ago=28))
    other_token = _token(issue_link(other))
    assert resolve_token(other_token) == other
    response = _get(other_token)
    assert f"/questionnaires/q/{other_token}/" in response.content.decode()
    # Answers posted through the other patient's link land on the other patient only.
    Client().post(f"/questionnaires/q/{other_token}/", {"page": "1", "worst_pain": "7"})
    assert not Response.objects.filter(assessment=open_w4).exists()
    assert Response.objects.get(assessment=other).answers == {"pain-nrs": {"worst_pain": 7}}


def test_links_stop_working_after_death_or_consent_withdrawal(
    make_participant, treat, personas
) -> None:  # type: ignore[no-untyped-def]
    dead = _open(treat(make_participant(), days_ago=28))
    withdrawn = _open(treat(make_participant(), days_ago=28))
    dead_token, withdrawn_token = _token(issue_link(dead)), _token(issue_link(withdrawn))
    today = timezone.localdate()
    record_vital_status(
        dead.participant,
        last_contact_on=today,
        died_on=today,
        cause_of_death="unknown",
        user=personas["nurse_nina"],
    )
    withdraw_consent(
        withdrawn.participant,
        "b",
        on=date.today(),
        reason="too tiring",
        user=personas["nurse_nina"],
    )
    _assert_neutral(_get(dead_token))
    _assert_neutral(_get(withdrawn_token))


def test_a_link_before_the_window_opens_gets_nothing(make_participant, treat) -> None:  # type: ignore[no-untyped-def]
    later = _open(treat(make_participant(), days_ago=28), "m6")
    _assert_neutral(_get(_token(issue_link(later))))
