"""Stage 3 of staged consent: telling a completed trial's participants its results.

Young-Afat et al. (2016) describe staged consent: cohort members agree to be randomized and
not to be told when they are a control; once the trial ends, they are told the results.

1. ``release_results``: the PI (an investigator, re-entering the password) releases the
   results of a trial whose configuration says it is completed. Every participant
   randomized into it who is alive and has not left the cohort goes on the list, with
   their group.
2. ``save_template`` / ``review_template``: one message per group, in Dutch and English.
   It may name this trial, randomization and the groups, and never a trial still running
   (``outbox.domain.check_disclosure_text``). Editing it undoes the review.
3. ``send_disclosures``: once every group's message is reviewed, a message is queued for
   each member on the list, checked again at that moment: the dead and those who left are
   never contacted, those without an address are marked to be told in person.
4. A death recorded later cancels the member's message (``cancel_on_death``); delivery is
   tracked per member (``track_delivery``); a question asked back and its answer are
   recorded per member (``record_question``, ``record_answer``).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.allocation.models import Allocation
from blend.apps.audit.services import audited_save, record_event
from blend.apps.consent.domain import Answer
from blend.apps.consent.services import bulk_consent_states
from blend.apps.disclosure.models import (
    ArmGroup,
    Disclosure,
    DisclosureState,
    DisclosureTemplate,
    ResultsRelease,
)
from blend.apps.followup.models import VitalStatus
from blend.apps.outbox.domain import check_disclosure_text
from blend.apps.outbox.models import Message, Status
from blend.apps.outbox.services import Draft, message_key, queue_many
from blend.apps.registry.models import Identity, Participant
from blend.apps.trials.lookup import get_trial, trial_code_or_default
from blend.protocol import load_cohort

TEMPLATE_CODE = "results_disclosure"
COHORT_ITEM_GONE = {Answer.WITHDRAWN, Answer.NO}


class DisclosureError(ValueError):
    """A disclosure step the rules do not allow; the message names the field."""


def _check_pi(user: User, password: str, trial: str) -> None:
    check(user, Cap.SIGN_OFF)  # the PI's e-signature capability
    check(user, Cap.ALLOCATION_VIEW, trial=trial)
    if not user.check_password(password):
        raise DisclosureError("password: expected your own password, to sign the release")


def _gone(participant_ids: list[int]) -> dict[int, str]:
    """Who may not be contacted now, and why: dead, or left the cohort (consent item a)."""
    why = {
        pid: f"died on {died}"
        for pid, died in VitalStatus.objects.filter(
            participant_id__in=participant_ids, died_on__isnull=False
        ).values_list("participant_id", "died_on")
    }
    cohort_item = load_cohort().consent_codes[0]
    for pid, states in bulk_consent_states(participant_ids).items():
        if pid not in why and states.get(cohort_item) in COHORT_ITEM_GONE:
            why[pid] = "left the cohort (consent withdrawn)"
    return why


@transaction.atomic
def release_results(
    trial: str | None, *, on: date, summary: str, user: User, password: str
) -> ResultsRelease:
    code = trial_code_or_default(trial)
    _check_pi(user, password, code)
    config = get_trial(code)
    if config.status != "completed":
        raise DisclosureError(
            f"trial: expected a completed trial, {code} is {config.status} (trial.toml status)"
        )
    if ResultsRelease.objects.filter(trial=code).exists():
        raise DisclosureError(f"trial: the results of {code} are already released")
    if not summary.strip():
        raise DisclosureError("summary: expected the results in a few sentences, got nothing")
    if on > timezone.localdate():
        raise DisclosureError(f"released_on: expected today or earlier, got {on}")
    release = ResultsRelease(trial=code, released_on=on, summary=summary.strip(), released_by=user)
    audited_save(release, user=user)
    arms = dict(Allocation.objects.filter(trial=code).values_list("participant_id", "arm"))
    gone = _gone(list(arms))
    listed = [
        Disclosure(release=release, participant_id=pid, arm_group=arm)
        for pid, arm in sorted(arms.items())
        if pid not in gone
    ]
    Disclosure.objects.bulk_create(listed)
    record_event(
        "disclosure.results_released",
        actor=user,
        obj=release,
        details={
            "trial": code,
            "listed": dict(Counter(d.arm_group for d in listed)),
            "not_listed": len(gone),
        },
    )
    return release


TEXT_FIELDS = ("subject_en", "body_en", "subject_nl", "body_nl")


@transaction.atomic
def save_template(
    release: ResultsRelease, arm_group: str, texts: dict[str, str], *, user: User
) -> DisclosureTemplate:
    """Write one group's message; a change undoes the PI's review."""
    check(user, Cap.ALLOCATION_VIEW, trial=release.trial)
    if arm_group not in ArmGroup.values:
        raise DisclosureError(f"arm_group: expected one of {ArmGroup.values}, got {arm_group!r}")
    for name in TEXT_FIELDS:
        if not texts.get(name, "").strip():
            raise DisclosureError(f"{name}: expected the text of the message, got nothing")
        found = check_disclosure_text(texts[name], release.trial)
        if found:
            raise DisclosureError(
                f"{name}: may not name a trial still running ({', '.join(found)}): its "
                "controls must not learn of it"
            )
    template = DisclosureTemplate.objects.filter(release=release, arm_group=arm_group).first()
    template = template or DisclosureTemplate(release=release, arm_group=arm_group)
    for name in TEXT_FIELDS:
        setattr(template, name, texts[name].strip())
    template.reviewed_by, template.reviewed_at = None, None
    audited_save(template, user=user, reason="message text written")
    record_event(
        "disclosure.template_saved",
        actor=user,
        obj=template,
        details={"trial": release.trial, "group": arm_group},
    )
    return template


@transaction.atomic
def review_template(template: DisclosureTemplate, *, user: User, password: str) -> None:
    _check_pi(user, password, template.release.trial)
    template.reviewed_by, template.reviewed_at = user, timezone.now()
    audited_save(template, user=user, reason="reviewed by the PI")
    record_event(
        "disclosure.template_reviewed",
        actor=user,
        obj=template,
        details={"trial": template.release.trial, "group": template.arm_group},
    )


def _groups_waiting_for_review(release: ResultsRelease) -> list[str]:
    groups = set(release.members.values_list("arm_group", flat=True))
    reviewed = set(
        release.templates.filter(reviewed_at__isnull=False).values_list("arm_group", flat=True)
    )
    return sorted(groups - reviewed)


@transaction.atomic
def send_disclosures(release: ResultsRelease, *, user: User) -> dict[str, int]:
    """Queue the message of everyone still listed; returns the counts per outcome."""
    check(user, Cap.ALLOCATION_VIEW, trial=release.trial)
    waiting = _groups_waiting_for_review(release)
    if waiting:
        raise DisclosureError(
            f"templates: the PI has not reviewed the message of the {', '.join(waiting)} group"
        )
    listed = list(release.members.select_for_update().filter(state=DisclosureState.LISTED))
    ids = [d.participant_id for d in listed]
    gone = _gone(ids)
    identities = Identity.objects.in_bulk(ids, field_name="participant_id")
    templates = {t.arm_group: t for t in release.templates.all()}
    drafts, counts = [], Counter[str]()
    for disclosure in listed:
        identity = identities.get(disclosure.participant_id)
        if disclosure.participant_id in gone:
            disclosure.state, disclosure.why = (
                DisclosureState.CANCELLED,
                gone[disclosure.participant_id],
            )
        elif identity is None or not (identity.email or identity.phone):
            disclosure.state = DisclosureState.NO_ADDRESS
        else:
            drafts.append(_draft(release, templates[disclosure.arm_group], disclosure, identity))
            disclosure.state = DisclosureState.QUEUED
        counts[disclosure.state] += 1
    queue_many(drafts)
    keys = {d.key: d.participant_id for d in drafts}
    messages = dict(
        (keys[key], pk)
        for key, pk in Message.objects.filter(dedup_key__in=list(keys)).values_list(
            "dedup_key", "pk"
        )
    )
    for disclosure in listed:
        disclosure.message_id = messages.get(disclosure.participant_id)
    Disclosure.objects.bulk_update(listed, ["state", "why", "message"])
    record_event(
        "disclosure.sent", actor=user, obj=release, details={"trial": release.trial, **counts}
    )
    return dict(counts)


def _draft(
    release: ResultsRelease, template: DisclosureTemplate, disclosure: Disclosure, identity: Any
) -> Draft:
    language = identity.preferred_language if identity.preferred_language in ("nl", "en") else "nl"
    email = bool(identity.email)
    return Draft(
        purpose=f"disclosure:{release.trial}:{disclosure.participant_id}",
        step="results",
        audience="participant",
        channel="email" if email else "sms",
        to_address=identity.email or identity.phone,
        language=language,
        template_code=TEMPLATE_CODE,
        subject=getattr(template, f"subject_{language}") if email else "",
        body=getattr(template, f"body_{language}"),
        participant_id=disclosure.participant_id,
        disclosed_trial=release.trial,
    )


def cancel_on_death(participant: Participant) -> None:
    """The follow-up's death listener: a member who died is never told (the outbox
    already cancelled the queued message)."""
    open_states = [DisclosureState.LISTED, DisclosureState.QUEUED, DisclosureState.FAILED]
    Disclosure.objects.filter(participant=participant, state__in=open_states).update(
        state=DisclosureState.CANCELLED, why="died before the message was sent"
    )


def track_delivery(messages: list[Message]) -> None:
    """The outbox's delivery listener: each member's row follows their message."""
    for message in messages:
        state = {
            Status.SENT: DisclosureState.SENT,
            Status.FAILED: DisclosureState.FAILED,
        }.get(message.status)  # type: ignore[call-overload]
        if state is not None:
            Disclosure.objects.filter(message=message).update(
                state=state, why=message.error if state == DisclosureState.FAILED else ""
            )


@transaction.atomic
def record_question(disclosure: Disclosure, question: str, *, on: date, user: User) -> Disclosure:
    check(user, Cap.ALLOCATION_VIEW, trial=disclosure.release.trial)
    if not question.strip():
        raise DisclosureError("question: expected what the member asked, got nothing")
    disclosure.question, disclosure.question_on = question.strip(), on
    audited_save(disclosure, user=user, reason="question asked back")
    record_event(
        "disclosure.question", actor=user, participant=disclosure.participant, obj=disclosure
    )
    return disclosure


@transaction.atomic
def record_answer(disclosure: Disclosure, answer: str, *, on: date, user: User) -> Disclosure:
    check(user, Cap.ALLOCATION_VIEW, trial=disclosure.release.trial)
    if not disclosure.question:
        raise DisclosureError("answer: expected a question to answer; none was recorded")
    if not answer.strip():
        raise DisclosureError("answer: expected the answer given, got nothing")
    disclosure.answer, disclosure.answered_on = answer.strip(), on
    audited_save(disclosure, user=user, reason="question answered")
    record_event(
        "disclosure.answer", actor=user, participant=disclosure.participant, obj=disclosure
    )
    return disclosure


def message_key_of(release: ResultsRelease, participant_id: int) -> str:
    return message_key(f"disclosure:{release.trial}:{participant_id}", "results")
