"""Return of individual results: a member's own scores over time, after sending."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from blend.apps.followup.models import Assessment
from blend.apps.outbox.domain import check_text
from blend.apps.questionnaires import own_results
from blend.apps.questionnaires.models import Response
from blend.apps.questionnaires.services import issue_link, save_all, submit
from tests.pages import without_csrf

pytestmark = pytest.mark.django_db
# QLQ-C15-PAL: q1-q3 physical (1 = not at all ... 4 = very much), q9/q15 pain and so on.
C15 = {f"q{i}": 2 for i in range(1, 15)} | {"q15": 5}


def _answered(participant, timepoint: str) -> Assessment:
    assessment = Assessment.objects.get(participant=participant, timepoint=timepoint)
    save_all(assessment, {"qlq-c15-pal": C15}, mode="web", language="nl")
    submit(assessment, mode="web")
    return assessment


@pytest.fixture
def member(make_participant, treat, allocate):
    def make(arm: str):
        participant = make_participant()
        allocate(participant, arm)
        return treat(participant, days_ago=28)

    return make


def test_the_scores_are_the_members_own_submitted_scores(member) -> None:
    participant = member("control")
    baseline = _answered(participant, "baseline")
    scales = own_results.own_results(participant, "en")
    assert [s.label for s in scales] == [
        "Getting about and doing things yourself",
        "Pain",
        "Tiredness",
        "Your quality of life overall",
    ]
    scores = Response.objects.get(assessment=baseline).scores
    expected = round(scores["qlq-c15-pal"]["PF"])
    assert [(p.on, p.value) for p in scales[0].points] == [(baseline.completed_on, expected)]


def test_the_thank_you_page_links_them_and_the_page_is_the_same_for_both_arms(member) -> None:
    pages = {}
    for arm in ("intervention", "control"):
        participant = member(arm)
        _answered(participant, "baseline")
        assessment = Assessment.objects.get(participant=participant, timepoint="w4")
        url = issue_link(assessment)
        client = Client()
        save_all(assessment, {"qlq-c15-pal": C15}, mode="web", language="nl")
        thanks = client.post(url, {"action": "submit", "page": 99, "step": 0})
        html = thanks.content.decode()
        link = re.search(r'href="(/questionnaires/mine/[^"]+)"', html)
        assert link is not None, html[:500]
        for language in ("nl", "en"):
            page = client.get(f"{link.group(1)}?lang={language}")
            text = page.content.decode()
            assert page.status_code == 200 and check_text(text) == []
            assert participant.study_id not in text
            normalised = re.sub(r"\d{1,2} \w+ \d{4}", "DATE", without_csrf(text))
            pages[arm, language] = normalised
    assert pages["intervention", "nl"] == pages["control", "nl"]
    assert pages["intervention", "en"] == pages["control", "en"]
    assert "Zelf dingen doen en u verplaatsen" in pages["control", "nl"]


def test_a_forged_link_and_a_cohort_that_returns_nothing(member, monkeypatch) -> None:
    participant = member("control")
    client = Client()
    token = own_results.link_token(participant)
    assert client.get(reverse("questionnaires:own-results", args=[token + "x"])).status_code == 404
    monkeypatch.setattr(own_results, "enabled", lambda: False)
    assert client.get(reverse("questionnaires:own-results", args=[token])).status_code == 404
