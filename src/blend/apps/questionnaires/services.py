"""Questionnaire state changes: personal links, saving answers as the patient goes,
submission with scoring, staff entry of paper/telephone questionnaires and of a trial's
extra measurements."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from blend.apps.accounts.domain import Cap
from blend.apps.audit.guards import WriteRefused, refusal_of
from blend.apps.audit.services import audited_save, record_event
from blend.apps.followup.domain import AssessmentStatus
from blend.apps.followup.models import Assessment, ExtraAssessment
from blend.apps.followup.services import mark_extra_completed, may_contact, statuses
from blend.apps.outbox.services import cancel_purpose
from blend.apps.questionnaires import domain as pages
from blend.apps.questionnaires.models import (
    AccessToken,
    ExtraResponse,
    Mode,
    Response,
    ResponseStatus,
)
from blend.apps.registry.models import Participant
from blend.protocol.schedule import load_schedule


class QuestionnaireError(ValueError):
    """A questionnaire action the rules do not allow; the message names the field."""


class NothingToSubmit(QuestionnaireError):
    """A submission without a single answered question: there is nothing to score."""


#: How long after sending a questionnaire its link still answers a repeated "send"
#: (a double tap, a second tab, a retried request) with the thank-you page.
RESUBMIT_GRACE = timedelta(minutes=10)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def link_expiry(assessment: Assessment) -> datetime:
    """Valid through the last day of the window (local time)."""
    return timezone.make_aware(datetime.combine(assessment.closes_on + timedelta(days=1), time.min))


def new_token(assessment: Assessment, now: datetime) -> tuple[str, AccessToken]:
    raw = secrets.token_urlsafe(32)  # 256 bits: unguessable
    return raw, AccessToken(
        assessment=assessment,
        token_hash=hash_token(raw),
        created_at=now,
        expires_at=link_expiry(assessment),
    )


def link_url(raw: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("questionnaires:patient", args=[raw])


def issue_link(assessment: Assessment, now: datetime | None = None) -> str:
    """Mint one personal link (e.g. for the delivery of a message) and return its URL."""
    raw, token = new_token(assessment, now or timezone.now())
    token.save()
    return link_url(raw)


def resolve_token(raw: str, now: datetime | None = None) -> Assessment | None:
    """The assessment a link opens, or None for any link that must not open anything:
    unknown, revoked, expired, completed, window not open, died, consent withdrawn.
    Callers answer every None the same way, so a link reveals nothing."""
    now = now or timezone.now()
    if not raw or len(raw) > 100:
        return None
    token = (
        AccessToken.objects.select_related("assessment__participant")
        .filter(token_hash=hash_token(raw))
        .first()
    )
    if token is None or token.revoked_at is not None or now >= token.expires_at:
        return None
    assessment = token.assessment
    today = timezone.localdate(now)
    if (
        assessment.completed_at is not None
        or not assessment.opens_on <= today <= assessment.closes_on
    ):
        return None
    return assessment if may_contact(assessment.participant) else None


def just_submitted(raw: str, now: datetime | None = None) -> Assessment | None:
    """Whether ``raw`` is a link whose questionnaire was sent with it moments ago.

    A submit is idempotent: the same "send" arriving again (a double tap, a retry after
    a slow network) gets the same thank-you, not the neutral page for a used link. Only
    within ``RESUBMIT_GRACE`` of the submission, and only for a link that the
    submission itself closed, so an old link still reveals nothing."""
    now = now or timezone.now()
    if not raw or len(raw) > 100:
        return None
    token = (
        AccessToken.objects.filter(token_hash=hash_token(raw), revoked_at__isnull=False)
        .select_related("assessment__response")
        .first()
    )
    response = getattr(token.assessment, "response", None) if token else None
    if token is None or response is None or response.submitted_at is None:
        return None
    assert token.revoked_at is not None  # filtered above
    closed_by_submission = token.revoked_at >= response.submitted_at
    recent = now - response.submitted_at <= RESUBMIT_GRACE
    return token.assessment if closed_by_submission and recent else None


def write_refusal(assessment: Assessment) -> WriteRefused | None:
    """Why answers to ``assessment`` cannot be saved now (a lock, for one), or None.

    Asked before the patient starts, so nobody fills in a page that will be refused.
    The guards belong to higher apps; they are asked through ``audit.guards``."""
    probe = response_of(assessment) or Response(
        participant=assessment.participant, assessment=assessment
    )
    return refusal_of(probe)


def purpose_of(assessment_id: int) -> str:
    """The outbox purpose of every message about one assessment's questionnaire."""
    return f"q:{assessment_id}"


def revoke_links(participant: Participant, assessment: Assessment | None = None) -> int:
    tokens = AccessToken.objects.filter(
        assessment__participant=participant, revoked_at__isnull=True
    )
    if assessment is not None:
        tokens = tokens.filter(assessment=assessment)
    return tokens.update(revoked_at=timezone.now())


def pages_for(assessment: Assessment, language: str) -> list[pages.Page]:
    return pages.build_pages(assessment.instruments, language, load_schedule().cost)


def response_of(assessment: Assessment) -> Response | None:
    return Response.objects.filter(assessment=assessment).first()


def submitted_answers(assessment_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The answers already submitted, by assessment ID: one query per 2,000 assessments
    (the historical import checks a whole file's questionnaires at once)."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(assessment_ids), 2_000):
        found.update(
            Response.objects.filter(
                assessment_id__in=assessment_ids[start : start + 2_000],
                status=ResponseStatus.SUBMITTED,
            ).values_list("assessment_id", "answers")
        )
    return found


def save_answers(
    assessment: Assessment,
    code: str,
    values: Mapping[str, Any],
    *,
    mode: str,
    language: str,
    user: Any = None,
) -> Response:
    """Merge one page's answers into the response (created on the first save)."""
    return save_all(assessment, {code: values}, mode=mode, language=language, user=user)


@transaction.atomic
def save_all(
    assessment: Assessment,
    answers: Mapping[str, Mapping[str, Any]],
    *,
    mode: str,
    language: str,
    user: Any = None,
) -> Response:
    """Merge answers for several instruments at once (one write, one history row)."""
    unknown = [code for code in answers if code not in assessment.instruments]
    if unknown:
        raise QuestionnaireError(
            f"instrument: expected one of {assessment.instruments}, got {unknown[0]!r}"
        )
    now = timezone.now()
    response = Response.objects.select_for_update().filter(
        assessment=assessment
    ).first() or Response(
        participant=assessment.participant,
        assessment=assessment,
        mode=mode,
        language=language,
        started_at=now,
    )
    if response.status == ResponseStatus.SUBMITTED:
        raise QuestionnaireError("status: this questionnaire was already submitted")
    merged = dict(response.answers)
    for code, values in answers.items():
        merged[code] = {**merged.get(code, {}), **values}
    response.answers = merged
    response.updated_at, response.mode, response.language = now, mode, language
    audited_save(
        response, user=user, reason="" if response.pk is None else f"answers saved ({mode})"
    )
    return response


@transaction.atomic
def submit(
    assessment: Assessment,
    *,
    mode: str,
    completed_on: date | None = None,
    user: Any = None,
    at: datetime | None = None,
) -> Response:
    """Score every instrument with blend.instruments and close the assessment and its links.
    ``at`` is the moment of submission when it was not now (a paper form, the demo's history).

    Idempotent: a questionnaire that was already submitted is returned as it is, so two
    submits at once (the row lock serializes them) both get the one submitted response.
    Nothing answered at all raises ``NothingToSubmit``."""
    response = Response.objects.select_for_update().filter(assessment=assessment).first()
    if response is None or not pages.any_answer(response.answers):
        raise NothingToSubmit(
            "answers: expected at least one answered question before submitting, got none"
        )
    if response.status == ResponseStatus.SUBMITTED:
        return response
    now = at or timezone.now()
    response.scores = pages.score_all(response.answers, assessment.instruments)
    response.status, response.submitted_at, response.mode = ResponseStatus.SUBMITTED, now, mode
    response.completed_on = completed_on or timezone.localdate(now)
    response.entered_by = user if getattr(user, "pk", None) else None
    audited_save(response, user=user, reason=f"submitted ({mode})")
    assessment.completed_at, assessment.completed_on = now, response.completed_on
    audited_save(assessment, user=user, reason=f"questionnaire completed ({mode})")
    revoke_links(assessment.participant, assessment)
    cancel_purpose(purpose_of(assessment.pk))  # every reminder still queued for it
    record_event(
        "questionnaire.submit",
        actor=user,
        participant=assessment.participant,
        obj=response,
        details={"timepoint": assessment.timepoint, "mode": mode},
    )
    return response


@transaction.atomic
def enter_by_staff(
    assessment: Assessment,
    answers: Mapping[str, Mapping[str, Any]],
    *,
    mode: str,
    completed_on: date,
    user: Any,
) -> Response:
    """A paper or telephone questionnaire typed in by staff, recording the mode."""
    if mode not in {Mode.PAPER, Mode.TELEPHONE}:
        raise QuestionnaireError(f"mode: expected paper or telephone, got {mode!r}")
    if completed_on > timezone.localdate():
        raise QuestionnaireError(f"completed_on: expected today or earlier, got {completed_on}")
    existing = response_of(assessment)
    if existing is not None and existing.status == ResponseStatus.SUBMITTED:
        raise QuestionnaireError("status: this questionnaire was already submitted")
    language = getattr(
        getattr(assessment.participant, "identity", None), "preferred_language", "nl"
    )
    if any(answers.values()):
        save_all(assessment, answers, mode=mode, language=language, user=user)
    return submit(assessment, mode=mode, completed_on=completed_on, user=user)


# A trial's extra measurements (followup.ExtraAssessment): entered by staff only. Each
# reveals the arm, so every service below asks for ``allocation.view`` in its trial.


class ExtraNotVisible(PermissionError):
    """The user may not see this trial's arms, so may not see its extra measurements."""


def may_see_extra(extra: ExtraAssessment, user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.can(Cap.ALLOCATION_VIEW, trial=extra.trial)
        and user.can(Cap.PARTICIPANT_VIEW, trial=extra.trial)
    )


def may_enter_extra(extra: ExtraAssessment, user: Any) -> bool:
    return may_see_extra(extra, user) and user.can(Cap.QUESTIONNAIRE_ENTER, trial=extra.trial)


#: Statuses in which staff may enter a questionnaire: its window has opened, and it is
#: neither done nor stopped (a form returned after the window closed is still entered).
ENTERABLE = frozenset({AssessmentStatus.DUE, AssessmentStatus.OVERDUE, AssessmentStatus.MISSED})


def extra_status(extra: ExtraAssessment) -> AssessmentStatus:
    return statuses([extra])[extra.pk]


def extra_pages_for(extra: ExtraAssessment, language: str) -> list[pages.Page]:
    return pages.build_pages(extra.instruments, language, load_schedule().cost)


def extra_response_of(extra: ExtraAssessment) -> ExtraResponse | None:
    return ExtraResponse.objects.filter(extra=extra).first()


@transaction.atomic
def enter_extra_by_staff(
    extra: ExtraAssessment,
    answers: Mapping[str, Mapping[str, Any]],
    *,
    mode: str,
    completed_on: date,
    user: Any,
) -> ExtraResponse:
    """A trial's extra measurement, answered on paper or by telephone and typed in by
    staff: scored with blend.instruments like a routine questionnaire, and the extra
    marked done. Entered once; the rules are those of ``enter_by_staff``."""
    if not may_enter_extra(extra, user):
        raise ExtraNotVisible(
            f"user: expected questionnaire entry and allocation.view in {extra.trial}, "
            f"got neither or one"
        )
    status = extra_status(extra)
    if status not in ENTERABLE:
        raise QuestionnaireError(
            f"status: expected an extra measurement whose window has opened, not stopped "
            f"(died or questionnaire consent withdrawn) or already done, got {status}"
        )
    if mode not in {Mode.PAPER, Mode.TELEPHONE}:
        raise QuestionnaireError(f"mode: expected paper or telephone, got {mode!r}")
    participant = extra.participant
    if not participant.registered_on <= completed_on <= timezone.localdate():
        raise QuestionnaireError(
            f"completed_on: expected a date between cohort entry ({participant.registered_on}) "
            f"and today, got {completed_on}"
        )
    unknown = [code for code in answers if code not in extra.instruments]
    if unknown:
        raise QuestionnaireError(
            f"instrument: expected one of {extra.instruments}, got {unknown[0]!r}"
        )
    if not pages.any_answer(answers):
        raise NothingToSubmit(
            "answers: expected at least one answered question before submitting, got none"
        )
    ExtraAssessment.objects.select_for_update().filter(pk=extra.pk).first()  # one entry at once
    if ExtraResponse.objects.filter(extra=extra).exists():
        raise QuestionnaireError("status: this extra measurement was already entered")
    now = timezone.now()
    response = ExtraResponse(
        participant=participant,
        extra=extra,
        trial=extra.trial,
        mode=mode,
        language=getattr(getattr(participant, "identity", None), "preferred_language", "nl"),
        answers={code: dict(values) for code, values in answers.items()},
        scores=pages.score_all(answers, extra.instruments),
        submitted_at=now,
        completed_on=completed_on,
        entered_by=user if getattr(user, "pk", None) else None,
    )
    audited_save(response, user=user, reason=f"extra measurement entered ({mode})")
    mark_extra_completed(extra, on=completed_on, user=user)
    record_event(
        "questionnaire.extra_entered",
        actor=user,
        participant=participant,
        obj=response,
        details={"trial": extra.trial, "extra": extra.code, "mode": mode},
    )
    return response
