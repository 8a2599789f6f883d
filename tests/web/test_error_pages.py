"""The 403 and 404 pages: readable, in the reader's language, and naming no trial.

A patient reaches them by a mistyped or foreign link, and a control must never learn of a
trial (TwiCs), so the pages carry the cohort's name only. The refusal's own text (which may
name a capability or a form) is never echoed."""

from __future__ import annotations

import pytest

from blend.protocol.trial_config import trial_codes

pytestmark = pytest.mark.django_db

TRIAL_WORDS = ("BLEND", "VERTICAL", "trial platform", "capability")


def _trial_words(body: str) -> list[str]:
    words = [*TRIAL_WORDS, *trial_codes()]
    return [w for w in words if w.lower() in body.lower()]


def test_a_refusal_is_a_page_that_names_no_trial(client_for) -> None:
    response = client_for("nurse_nina").get("/exports/import/")
    body = response.content.decode()
    assert response.status_code == 403
    assert "You do not have access to this page" in body and 'data-testid="forbidden"' in body
    assert _trial_words(body) == [], _trial_words(body)


def test_an_unknown_address_is_a_page_in_dutch_that_names_no_trial(client) -> None:
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="nl")
    body = response.content.decode()
    assert response.status_code == 404
    assert "Deze pagina bestaat niet" in body and 'lang="nl"' in body
    assert _trial_words(body) == [], _trial_words(body)
