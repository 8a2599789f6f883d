"""What a patient sees: short steps with progress, each header inside the group of
questions it introduces, plain titles, screen instructions, every choice clearable,
painkillers in Dutch spelling, and an invalid-link page that says its text once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from blend.apps.followup.models import Assessment
from blend.apps.questionnaires import domain
from blend.apps.questionnaires.models import Response
from blend.apps.questionnaires.services import issue_link, pages_for
from tests.pages import without_csrf

pytestmark = pytest.mark.django_db


@pytest.fixture
def w4(make_participant: Any, treat: Any) -> Assessment:
    return Assessment.objects.get(
        participant=treat(make_participant(), days_ago=28), timepoint="w4"
    )


@pytest.fixture
def url(w4: Assessment) -> str:
    return "/questionnaires/q/" + issue_link(w4).rstrip("/").rsplit("/", 1)[1] + "/"


def _questions(body: str) -> int:
    return body.count('<fieldset class="item')


def test_the_long_questionnaire_comes_in_short_steps_with_progress(
    url: str, w4: Assessment
) -> None:
    client = Client()
    pages = pages_for(w4, "nl")
    steps = [s for p in pages for s in domain.split_steps(p)]
    assert len(steps) > len(pages)
    first = client.get(url).content.decode()
    assert _questions(first) <= domain.MAX_STEP_QUESTIONS
    assert f"stap 1 van {len(steps)}" in first
    assert "0 van 30 vragen beantwoord" in first
    for index, page in enumerate(pages):
        for step in range(len(domain.split_steps(page))):
            body = client.get(f"{url}?page={index}&step={step}").content.decode()
            limit = 7 if page.code == "omed" else domain.MAX_STEP_QUESTIONS  # 3 short rows
            assert 0 < _questions(body) <= limit, (index, step)


def test_a_step_keeps_every_question_of_its_instrument_once() -> None:
    page = domain.instrument_page("qlq-c15-pal", "nl")
    steps = domain.split_steps(page)
    assert [f.key for s in steps for f in s.fields] == [f.key for f in page.fields]
    assert [len(s.fields) for s in steps] == [3, 4, 4, 4]  # 11 past-week items: 4 + 4 + 3
    assert [(s.part, s.parts) for s in steps] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert len(domain.split_steps(domain.opioid_page("nl"))) == 1  # its rows belong together


def test_each_header_is_shown_once_inside_the_group_it_introduces(url: str) -> None:
    body = Client().get(f"{url}?page=0&step=1").content.decode()
    assert body.count("During the past week:") == 1
    group = re.search(r'<section class="question-group".*?</section>', body, re.S)
    assert group is not None
    assert "During the past week:" in group.group(0)
    assert _questions(group.group(0)) == _questions(body)  # the questions are inside it


def test_titles_are_plain_language_and_instructions_fit_a_screen(url: str) -> None:
    client = Client()
    nl = [client.get(f"{url}?page={i}").content.decode() for i in range(5)]
    en = [client.get(f"{url}?lang=en&page={i}").content.decode() for i in range(5)]
    assert "<h1>Hoe het met u gaat" in nl[0] and "<h1>Uw gezondheid vandaag" in nl[3]
    assert "<h1>How you have been feeling" in en[0] and "<h1>Your health today" in en[3]
    assert "Tik op het antwoord" in nl[0] and "Tap the answer" in en[0]
    for body in map(without_csrf, nl + en):
        assert "EQ-5D" not in body and "QLQ" not in body and "NRS" not in body
        assert not re.search(r"circl|omcirkel", body, re.I)
    last_step = client.get(f"{url}?lang=nl&page=0&step=3").content.decode()
    assert (
        "tap the number from 1 to 7" in client.get(f"{url}?lang=en&page=0&step=3").content.decode()
    )
    assert "Tik bij de volgende vraag op het getal van 1 tot en met 7" in last_step


def test_every_choice_can_be_cleared_without_javascript(url: str, w4: Assessment) -> None:
    client = Client()
    client.post(url, {"page": "0", "step": "0", "q1": "2", "q2": "3"})
    page = client.get(f"{url}?page=0&step=0").content.decode()
    assert page.count('name="clear"') == 3  # one per choice on the step
    response = client.post(url, {"page": "0", "step": "0", "q1": "2", "q2": "3", "clear": "q1"})
    assert response.status_code == 302 and response["Location"].endswith("step=0#item-q1")
    saved = Response.objects.get(assessment=w4).answers["qlq-c15-pal"]
    assert saved["q1"] is None and saved["q2"] == 3


def test_a_painkiller_chosen_by_mistake_can_be_emptied(url: str, w4: Assessment) -> None:
    client = Client()
    client.post(
        url,
        {
            "page": "2",
            "any": "yes",
            "drug_1": "morphine|oral",
            "dose_1": "60",
            "drug_2": "oxycodone|oral",
            "dose_2": "",
        },
    )
    body = client.get(f"{url}?page=2").content.decode()
    assert '<select name="drug_2"' in body and '<option value="">—</option>' in body
    client.post(
        url,
        {
            "page": "2",
            "any": "yes",
            "drug_1": "morphine|oral",
            "dose_1": "60",
            "drug_2": "",
            "dose_2": "",
        },
    )
    assert client.post(url, {"page": "5", "action": "submit"}).status_code == 200
    assert Response.objects.get(assessment=w4).scores["omed"] == {"omed": 60.0}


def test_the_painkiller_error_says_what_the_page_lets_you_do(url: str) -> None:
    dose_missing = Client().post(url, {"page": "2", "any": "yes", "drug_1": "morphine|oral"})
    assert "kies “—” als pijnstiller" in dose_missing.content.decode()
    drug_missing = Client().post(url, {"page": "2", "any": "yes", "dose_1": "10"})
    assert "maak de hoeveelheid leeg" in drug_missing.content.decode()
    assert "maak beide leeg" not in dose_missing.content.decode()


def test_painkillers_are_spelled_the_dutch_way_in_dutch(url: str) -> None:
    nl = Client().get(f"{url}?page=2").content.decode()
    assert ">morfine (mg per dag)<" in nl and ">oxycodon (mg per dag)<" in nl
    assert ">hydromorfon (mg per dag)<" in nl and ">buprenorfine (microgram" in nl
    assert "morphine (" not in nl and "oxycodone (" not in nl
    en = Client().get(f"{url}?lang=en&page=2").content.decode()
    assert ">morphine (mg per day)<" in en


@pytest.mark.parametrize(
    ("accept", "own", "other"),
    [
        ("nl", "Deze link werkt niet (meer)", "This link does not work (any more)."),
        ("en", "This link does not work (any more)", "Deze link werkt niet (meer)."),
    ],
)
def test_the_invalid_link_page_says_it_once_and_once_in_the_other_language(
    accept: str, own: str, other: str
) -> None:
    body = Client().get("/questionnaires/q/no-such-link/", HTTP_ACCEPT_LANGUAGE=accept)
    text = body.content.decode()
    assert body.status_code == 404
    assert text.count(own) == 1 and text.count(other) == 1
