"""Invitations and reminders (``blend send-reminders``, run by cron).

Each run queues, for every open and unfinished assessment, the latest message step that
is due (``schedule.toml [[messages]]``), then delivers the outbox. The first step, the
invitation, goes out first, however late in the window it is noticed (a treatment
entered after the window opened); every later step is timed from the day its own
invitation was given, and falls on the window's last day at the latest. Each message's
purpose is ``q:<assessment>`` and its step the message step, so a step is queued at
most once, ever. Nothing goes to a participant who completed the
questionnaire, died, or withdrew questionnaire consent (``followup.services.contactable``):
checked when queuing, and again when the link is minted at delivery (``mint_links``).

Work is done in batches of assessments with a fixed number of queries per batch, so the
cost grows linearly with the open windows and not per participant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import formats, timezone, translation

from blend.apps.followup.models import Assessment
from blend.apps.followup.services import contactable
from blend.apps.outbox import domain as arm_blind
from blend.apps.outbox.message_templates import load_templates, render
from blend.apps.outbox.models import LINK_MARK, Audience, Channel
from blend.apps.outbox.services import Draft, given_on, message_key, queue_many
from blend.apps.questionnaires.models import AccessToken
from blend.apps.questionnaires.services import link_url, new_token, purpose_of
from blend.apps.registry.models import Identity
from blend.protocol.schedule import MessageStep, Schedule, load_schedule, window_for

BATCH_SIZE = 2000
#: The name under which ``mint_links`` is registered with the outbox (QuestionnairesConfig.ready).
LINK_FACTORY = "questionnaire-link"


@dataclass
class PlanReport:
    queued: int = 0
    already: int = 0
    no_address: int = 0
    not_allowed: int = 0
    batches: int = 0
    queries_per_batch: list[int] = field(default_factory=list)


def open_assessments(today: date) -> QuerySet[Assessment]:
    """The assessments whose window is open today and that are not completed (the
    rule of ``is_open``, as a query)."""
    return Assessment.objects.filter(
        completed_at__isnull=True, opens_on__lte=today, closes_on__gte=today
    )


def is_open(a: Assessment, today: date) -> bool:
    """``open_assessments``' rule for one assessment already fetched."""
    return a.completed_at is None and a.opens_on <= today <= a.closes_on


def due_step(
    schedule: Schedule,
    assessment: Assessment,
    today: date,
    given: Mapping[str, date] | None = None,
) -> MessageStep | None:
    """The message step to queue today for ``assessment``, or None.

    ``given`` maps the steps already given to the day each was given. The first step
    (the invitation) comes first, whenever the window is found open. A later step is
    due its own number of days after the invitation (``day`` minus the invitation's
    ``day``), and on the window's last day if that is sooner; of the steps due, the
    latest is sent and earlier unsent ones are skipped. Never two messages for one
    questionnaire on one day."""
    given = given or {}
    window = window_for(schedule.timepoint(assessment.timepoint), assessment.anchor_on)
    steps = sorted(schedule.messages, key=lambda s: s.day)
    if not steps or not window.opens + timedelta(days=steps[0].day) <= today <= window.closes:
        return None
    invitation = steps[0]
    if invitation.step not in given:
        return invitation
    if today in given.values():
        return None
    invited_on = given[invitation.step]
    due = [
        step
        for step in steps[1:]
        if min(invited_on + timedelta(days=step.day - invitation.day), window.closes) <= today
    ]
    return due[-1] if due else None


def plan_messages(
    today: date | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[], None] | None = None,
) -> PlanReport:
    today = today or timezone.localdate()
    schedule, report, last_id = load_schedule(), PlanReport(), 0
    texts = Texts(schedule)
    while True:
        batch = _open_batch(today, last_id, batch_size)
        if not batch:
            return report
        last_id = batch[-1].pk
        _plan_batch(batch, schedule, today, report, texts)
        report.batches += 1
        if on_batch:
            on_batch()


def _open_batch(today: date, after_id: int, size: int) -> list[Assessment]:
    """The next ``size`` open assessments after ``after_id``, in id order (one query).
    The ids come from the window index alone, and only the chosen rows are read: reading
    every open row after ``after_id`` to sort it, for each batch, was a tenth of planning."""
    ids = open_assessments(today).filter(id__gt=after_id).order_by("id").values("id")[:size]
    return list(
        Assessment.objects.filter(id__in=ids)
        .order_by("id")
        .only("id", "participant_id", "timepoint", "anchor_on", "closes_on")
    )


def _plan_batch(
    batch: list[Assessment], schedule: Schedule, today: date, report: PlanReport, texts: Texts
) -> None:
    pids = sorted({a.participant_id for a in batch})
    may_contact = contactable(pids)
    contacts = {
        pid: (email, phone, lang)
        for pid, email, phone, lang in Identity.objects.filter(participant_id__in=pids).values_list(
            "participant_id", "email", "phone", "preferred_language"
        )
    }
    # Only the steps of those who may be contacted: the others are skipped below.
    given = _given_steps([a for a in batch if a.participant_id in may_contact], schedule)
    wanted = {}
    for a in batch:
        if a.participant_id not in may_contact:
            report.not_allowed += 1
            continue
        step = due_step(schedule, a, today, given.get(a.pk, {}))
        if step is not None:
            wanted[message_key(purpose_of(a.pk), step.step)] = (a, step)
    existing = {key for key, (a, step) in wanted.items() if step.step in given.get(a.pk, {})}
    report.already += len(existing)
    drafts = []
    for key, (a, step) in wanted.items():
        if key in existing:
            continue
        draft = build_message(a, step, schedule, contacts.get(a.participant_id), texts)
        if draft is None:
            report.no_address += 1
        else:
            drafts.append(draft)
    report.queued += queue_many(drafts)


def _given_steps(batch: list[Assessment], schedule: Schedule) -> dict[int, dict[str, date]]:
    """For each assessment of the batch, the message steps already given and the day
    each was given (one query for the batch)."""
    keys = {
        message_key(purpose_of(a.pk), step.step): (a.pk, step.step)
        for a in batch
        for step in schedule.messages
    }
    given: dict[int, dict[str, date]] = {}
    for key, on in given_on(list(keys)).items():
        assessment_id, step = keys[key]
        given.setdefault(assessment_id, {})[step] = on
    return given


class Texts:
    """The rendered subject and body of each message, once per distinct text.

    A message's text depends only on its template, channel, language, timepoint and
    closing day (its context is the timepoint's label, the closing day written in the
    language, and the link mark), and a run sends the same few hundred texts to tens of
    thousands of people: rendering and arm-blind checking each once took most of the
    planning. None means the text is refused by the arm-blind check."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self._known: dict[tuple[str, str, str, str, date], tuple[str, str] | None] = {}

    def get(
        self, template_code: str, channel: str, language: str, timepoint: str, closes_on: date
    ) -> tuple[str, str] | None:
        key = (template_code, channel, language, timepoint, closes_on)
        if key not in self._known:
            self._known[key] = self._render(*key)
        return self._known[key]

    def _render(
        self, template_code: str, channel: str, language: str, timepoint: str, closes_on: date
    ) -> tuple[str, str] | None:
        template = load_templates()[template_code]
        with translation.override(language):
            closes = formats.date_format(closes_on, "DATE_FORMAT")
        context = {
            "link": LINK_MARK,
            "closes_on": closes,
            "timepoint": self.schedule.timepoint(timepoint).label(language),
        }
        if channel == Channel.EMAIL:
            subject, body = (
                render(template.source("subject", language), context),
                render(template.source("body", language), context),
            )
        else:
            subject, body = "", render(template.source("sms", language), context)
        if arm_blind.check_text(subject + "\n" + body):
            return None  # defence in depth: the system check already refuses such templates
        return subject, body


def build_message(
    a: Assessment,
    step: MessageStep,
    schedule: Schedule,
    contact: tuple[str, str, str] | None,
    texts: Texts | None = None,
) -> Draft | None:
    """The message of ``step`` for ``a``, or None without an address (or an arm-blind
    refusal). ``texts`` shares the rendered texts between the messages of a run."""
    if contact is None or not (contact[0] or contact[1]):
        return None
    email, phone, language = contact
    channel = Channel.EMAIL if email else Channel.SMS
    rendered = (texts or Texts(schedule)).get(
        step.template, channel, language, a.timepoint, a.closes_on
    )
    if rendered is None:
        return None
    subject, body = rendered
    return Draft(
        purpose=purpose_of(a.pk),
        step=step.step,
        participant_id=a.participant_id,
        audience=Audience.PARTICIPANT,
        channel=channel,
        to_address=email or phone,
        language=language,
        template_code=step.template,
        subject=subject,
        body=body,
        link_factory=LINK_FACTORY,
        link_args={"assessment": a.pk},
        send_after=timezone.now(),
    )


def mint_links(args: Sequence[dict[str, Any]], now: datetime | None = None) -> list[str | None]:
    """Outbox link factory: a fresh personal link per message, or None (cancel) when the
    questionnaire was completed, the window closed, the participant died or withdrew."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ids = [a["assessment"] for a in args]
    # Fetched by primary key and checked with ``is_open``: SQLite chose the window index
    # for ``open_assessments(today).filter(id__in=ids)`` and read every past unfinished
    # window for each batch. Only the columns a link needs: the instruments' JSON was
    # decoded for every message and never read.
    found = {
        a.pk: a
        for a in Assessment.objects.filter(id__in=ids).only(
            "id", "participant_id", "opens_on", "closes_on", "completed_at"
        )
        if is_open(a, today)
    }
    may_contact = contactable(sorted({a.participant_id for a in found.values()}))
    url_of = link_urls()
    urls: list[str | None] = []
    tokens = []
    for assessment_id in ids:
        a = found.get(assessment_id)
        if a is None or a.participant_id not in may_contact:
            urls.append(None)
            continue
        raw, token = new_token(a, now)
        tokens.append(token)
        urls.append(url_of(raw))
    AccessToken.objects.bulk_create(tokens)
    return urls


#: Stands for the token while the link's URL is reversed once per batch; like every token
#: (``secrets.token_urlsafe``) it has only characters that ``reverse`` leaves unescaped.
_TOKEN_SLOT = "T" * 43


def link_urls() -> Callable[[str], str]:
    """``link_url`` for a batch of tokens: the URL is reversed once, with a stand-in for
    the token, and each token put in its place (``reverse`` per link was a tenth of a
    delivery). A URL configuration that changes the token falls back to ``link_url``."""
    before, slot, after = link_url(_TOKEN_SLOT).rpartition(_TOKEN_SLOT)
    if not slot:
        return link_url
    return lambda raw: before + raw + after
