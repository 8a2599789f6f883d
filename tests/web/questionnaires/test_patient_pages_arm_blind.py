"""Every page a patient can open, rendered in full (base template, title, assets included),
mentions nothing of the trial — checked for a control participant in both languages.

The template-source check (questionnaires.E001) cannot see what a page inherits from
base.html; this test reads what the browser receives."""

from __future__ import annotations

import pytest
from django.test import Client

from blend.apps.followup.models import Assessment
from blend.apps.outbox.domain import check_text
from blend.apps.questionnaires.services import issue_link, pages_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["nl", "en"])
def test_no_patient_page_mentions_the_trial_to_a_control_participant(
    make_participant, treat, allocate, language
) -> None:
    participant = make_participant()
    allocate(participant, "control")
    participant = treat(participant, days_ago=28)
    assessment = Assessment.objects.get(participant=participant, timepoint="w4")
    url = issue_link(assessment)
    client = Client()
    pages = pages_for(assessment, language)
    rendered = [
        client.get(f"{url}?lang={language}&page={index}").content.decode()
        for index in range(len(pages) + 1)
    ]
    rendered.append(
        client.get("/questionnaires/q/not-a-real-link-000000000000000000/").content.decode()
    )
    assert len(rendered) == len(pages) + 2 and all("<title>" in html for html in rendered)
    for html in rendered:
        assert check_text(html) == [], html[:400]


def test_the_check_sees_a_trial_name_in_a_page_title() -> None:
    assert "BLEND" in check_text("<title>Vragenlijst · BLEND trial platform</title>")
