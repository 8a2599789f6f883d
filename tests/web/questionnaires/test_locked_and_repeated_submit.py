"""A locked participant's questionnaire gets a calm page (no trial, no study ID), in
Dutch and English, before and during filling in, and autosave says it did not save.
Sending is idempotent: nothing answered is explained, a repeated or concurrent send
gets the thank-you page, never a 500."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from blend.apps.datamanagement import services as dm
from blend.apps.followup.models import Assessment
from blend.apps.outbox.domain import check_text
from blend.apps.questionnaires import services
from blend.apps.questionnaires.models import Response
from blend.apps.questionnaires.services import issue_link
from tests.databases import require_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def w4(make_participant: Any, treat: Any) -> Assessment:
    return Assessment.objects.get(
        participant=treat(make_participant(), days_ago=28), timepoint="w4"
    )


@pytest.fixture
def url(w4: Assessment) -> str:
    return "/questionnaires/q/" + issue_link(w4).rstrip("/").rsplit("/", 1)[1] + "/"


def _calm(body: str, w4: Assessment) -> None:
    assert w4.participant.study_id not in body
    assert not check_text(body), check_text(body)
    assert "Traceback" not in body and "locked" not in body.lower()


@pytest.mark.parametrize(
    ("lang", "heading"),
    [
        ("nl", "U kunt deze vragenlijst op dit moment niet invullen"),
        ("en", "You cannot fill in this questionnaire at the moment"),
    ],
)
def test_a_locked_participant_sees_a_calm_page_in_their_language(
    url: str, w4: Assessment, personas: Any, lang: str, heading: str
) -> None:
    dm.lock_participant(w4.participant, user=personas["datamanager_dirk"], reason="frozen")
    response = Client().get(f"{url}?lang={lang}")
    body = response.content.decode()
    assert response.status_code == 200 and heading in body
    _calm(body, w4)


def test_saving_after_the_lock_gives_the_calm_page_not_a_500(
    url: str, w4: Assessment, personas: Any
) -> None:
    client = Client()
    assert client.get(url).status_code == 200  # opened before the lock
    dm.lock_database(user=personas["datamanager_dirk"], reason="final analysis")
    response = client.post(url, {"page": "0", "q1": "2", "action": "next"})
    body = response.content.decode()
    assert response.status_code == 200 and "U kunt deze vragenlijst" in body
    _calm(body, w4)
    assert not Response.objects.filter(assessment=w4).exists()


def test_autosave_under_a_lock_says_it_did_not_save(
    url: str, w4: Assessment, personas: Any
) -> None:
    dm.lock_participant(w4.participant, user=personas["datamanager_dirk"], reason="frozen")
    response = Client().post(url, {"page": "0", "q1": "2"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "kunnen op dit moment niet worden opgeslagen" in body
    _calm(body, w4)


def test_sending_with_nothing_answered_explains_what_is_missing(url: str, w4: Assessment) -> None:
    client = Client()
    review = client.get(url + "?page=5").content.decode()
    assert "U heeft nog geen enkele vraag beantwoord" in review
    assert "Mijn antwoorden versturen" not in review  # nothing to send: no send button
    response = client.post(url, {"page": "5", "action": "submit"})
    assert response.status_code == 400
    assert "U heeft nog geen enkele vraag beantwoord" in response.content.decode()
    client.post(url, {"page": "0", "q1": "", "q2": "", "q3": ""})  # blank answers only
    assert client.post(url, {"page": "5", "action": "submit"}).status_code == 400
    assert Assessment.objects.get(pk=w4.pk).completed_at is None


def test_sending_twice_gives_the_thank_you_page_twice(url: str, w4: Assessment) -> None:
    client = Client()
    client.post(url, {"page": "0", "q1": "2"})
    first = client.post(url, {"page": "5", "action": "submit"})
    second = client.post(url, {"page": "5", "action": "submit"})
    assert first.status_code == second.status_code == 200
    assert 'data-testid="thanks"' in second.content.decode()
    assert Client().get(url).status_code == 404  # opening the used link: the neutral page


def test_a_send_that_raced_another_gets_the_thank_you_page(
    url: str, w4: Assessment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race, played in order: the second request opened the link before the first
    committed, so it gets past the link check and reaches ``submit`` after it."""
    Client().post(url, {"page": "0", "q1": "2"})
    first = Client().post(url, {"page": "5", "action": "submit"})
    opened_before = Assessment.objects.select_related("participant").get(pk=w4.pk)
    opened_before.completed_at = None  # as read before the first send committed
    monkeypatch.setattr(services, "resolve_token", lambda raw, now=None: opened_before)
    second = Client().post(url, {"page": "5", "action": "submit"})
    assert first.status_code == second.status_code == 200
    assert 'data-testid="thanks"' in second.content.decode()
    assert Response.objects.get(assessment=w4).history.filter(history_type="~").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sends_at_once_both_get_a_clean_answer(url: str, w4: Assessment) -> None:
    """Real threads need a database with row locks between connections (the in-memory
    SQLite test database shares one cache and answers "table is locked")."""
    require_postgres()
    Client().post(url, {"page": "0", "q1": "2", "q2": "1"})
    barrier = threading.Barrier(2)
    results: list[tuple[int, str]] = []

    def send() -> None:
        try:
            barrier.wait()
            response = Client().post(url, {"page": "5", "action": "submit"})
            results.append((response.status_code, response.content.decode()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2
    assert [status for status, _ in results] == [200, 200]
    assert all('data-testid="thanks"' in body for _, body in results)
    response = Response.objects.get(assessment=w4)
    assert response.status == "submitted" and response.history.filter(history_type="~").count() == 1
