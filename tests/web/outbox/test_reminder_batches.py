"""The batch shortcuts of `blend send-reminders` give what the one-by-one code gave: texts
rendered once per distinct text, arm-blind checks once per distinct text, links whose URL
is reversed once per batch, and the open-window rule applied to rows fetched by id."""

from __future__ import annotations

import copy
import hashlib
import secrets
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from blend.apps.followup.models import Assessment
from blend.apps.outbox.message_templates import parse_templates
from blend.apps.outbox.models import Audience, Channel
from blend.apps.outbox.services import Draft, OutboxError, queue_many
from blend.apps.questionnaires import reminders
from blend.apps.questionnaires.models import AccessToken
from blend.apps.questionnaires.reminders import (
    Texts,
    build_message,
    is_open,
    link_urls,
    mint_links,
    open_assessments,
)
from blend.apps.questionnaires.services import link_url, resolve_token, save_answers, submit
from blend.protocol import load_protocol
from blend.protocol.schedule import load_schedule

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("base", ["http://testserver", "https://example.org/blend/"])
def test_batch_link_urls_are_the_urls_of_link_url(settings: Any, base: str) -> None:
    settings.PUBLIC_BASE_URL = base
    url_of = link_urls()
    for raw in [secrets.token_urlsafe(32) for _ in range(200)] + ["-_" * 21 + "A"]:
        assert url_of(raw) == link_url(raw)


def test_is_open_is_the_rule_of_open_assessments(make_participant: Any, treat: Any) -> None:
    p = treat(make_participant(), days_ago=25)  # w4 opens today; other windows past or ahead
    w4 = Assessment.objects.get(participant=p, timepoint="w4")
    save_answers(w4, "pain-nrs", {"worst_pain": 4}, mode="web", language="nl")
    submit(w4, mode="web")
    everyone = list(Assessment.objects.filter(participant=p))
    today = timezone.localdate()
    for day in range(-40, 400, 3):
        on = today + timedelta(days=day)
        assert {a.pk for a in everyone if is_open(a, on)} == set(
            open_assessments(on).filter(participant=p).values_list("id", flat=True)
        ), on


def _contacts() -> list[tuple[str, str, str]]:
    return [
        ("a@example.org", "", "nl"),
        ("b@example.org", "+31 612345678", "en"),
        ("", "+31 612345678", "en"),
        ("", "+31 612345678", "nl"),
    ]


def test_shared_texts_are_the_texts_rendered_alone(make_participant: Any, treat: Any) -> None:
    schedule = load_schedule()
    people = [treat(make_participant(), days_ago=days) for days in (25, 26, 30)]
    assessments = list(
        Assessment.objects.filter(participant__in=people, timepoint__in=["w4", "w12"])
    )
    assert len(assessments) == 6
    texts = Texts(schedule)
    for a in assessments:
        for step in schedule.messages:
            for contact in _contacts():
                shared = build_message(a, step, schedule, contact, texts)
                alone = build_message(a, step, schedule, contact)
                assert shared is not None and alone is not None
                assert (shared.subject, shared.body, shared.channel, shared.to_address) == (
                    alone.subject,
                    alone.body,
                    alone.channel,
                    alone.to_address,
                )


def test_each_distinct_text_is_rendered_once(
    make_participant: Any, treat: Any, monkeypatch: Any
) -> None:
    rendered: list[str] = []
    real = reminders.render

    def counting(source: str, context: dict[str, Any]) -> str:
        rendered.append(source)
        return real(source, context)

    monkeypatch.setattr(reminders, "render", counting)
    schedule = load_schedule()
    a, b = (treat(make_participant(), days_ago=25) for _ in range(2))
    w4s = list(Assessment.objects.filter(participant__in=[a, b], timepoint="w4"))
    texts, step = Texts(schedule), schedule.messages[0]
    for w4 in w4s:  # the same window: the same text for both
        build_message(w4, step, schedule, ("x@example.org", "", "nl"), texts)
    assert len(rendered) == 2  # one subject and one body
    build_message(w4s[0], step, schedule, ("", "+31 612345678", "nl"), texts)
    assert len(rendered) == 3  # the SMS is another text


def test_a_template_that_mentions_the_trial_gives_no_message(
    make_participant: Any, treat: Any, monkeypatch: Any
) -> None:
    section = copy.deepcopy(load_protocol().section("messages"))
    section["questionnaire_invitation"]["body_nl"] += "\nDit hoort bij de BLEND-trial."
    monkeypatch.setattr(reminders, "load_templates", lambda: parse_templates(section))
    schedule = load_schedule()
    people = [treat(make_participant(), days_ago=25) for _ in range(2)]
    texts, step = Texts(schedule), schedule.messages[0]
    for w4 in Assessment.objects.filter(participant__in=people, timepoint="w4"):
        assert build_message(w4, step, schedule, ("x@example.org", "", "nl"), texts) is None
        assert build_message(w4, step, schedule, ("x@example.org", "", "en"), texts) is not None


def _draft(n: int, audience: str, body: str) -> Draft:
    return Draft(
        purpose=f"test:{n}",
        step="one",
        audience=audience,
        channel=Channel.EMAIL,
        to_address="x@example.org",
        language="en",
        template_code="questionnaire_invitation",
        subject="Hello",
        body=body,
    )


def test_queue_many_refuses_a_forbidden_text_after_many_allowed_ones() -> None:
    drafts = [_draft(n, Audience.PARTICIPANT, "See you soon.") for n in range(5)]
    with pytest.raises(OutboxError, match="trial"):
        queue_many([*drafts, _draft(9, Audience.PARTICIPANT, "About the trial.")])


def test_queue_many_checks_a_text_again_for_a_participant_after_staff() -> None:
    text = "The trial needs your signature."
    with pytest.raises(OutboxError, match="trial"):
        queue_many([_draft(1, Audience.STAFF, text), _draft(2, Audience.PARTICIPANT, text)])
    assert queue_many([_draft(1, Audience.STAFF, text), _draft(3, Audience.STAFF, text)]) == 2


def test_mint_links_only_for_open_unfinished_windows(make_participant: Any, treat: Any) -> None:
    p = treat(make_participant(), days_ago=25)  # w4 open today
    q = treat(make_participant(), days_ago=25)
    open_w4 = Assessment.objects.get(participant=p, timepoint="w4")
    done_w4 = Assessment.objects.get(participant=q, timepoint="w4")
    save_answers(done_w4, "pain-nrs", {"worst_pain": 4}, mode="web", language="nl")
    submit(done_w4, mode="web")
    ahead = Assessment.objects.get(participant=p, timepoint="w12")
    urls = mint_links(
        [{"assessment": open_w4.pk}, {"assessment": done_w4.pk}, {"assessment": ahead.pk}]
    )
    assert urls[1:] == [None, None]
    assert urls[0] is not None
    raw = urls[0].rstrip("/").rsplit("/", 1)[1]
    token = AccessToken.objects.get()
    assert token.assessment_id == open_w4.pk
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest() != raw
    assert resolve_token(raw) == open_w4
    later = timezone.now() + timedelta(days=30)  # the w4 window has closed by then
    assert mint_links([{"assessment": open_w4.pk}], now=later) == [None]
