"""Staged consent: record decisions and withdrawals, and answer the two questions
every other part of the platform asks. Only here are those questions answered."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from blend.apps.audit.services import audited_save, record_event
from blend.apps.consent import domain as rules
from blend.apps.consent.editchecks import CONSENT_FORM
from blend.apps.consent.models import ConsentFormVersion, ConsentRecord
from blend.apps.registry.models import Participant
from blend.editchecks import run_checks
from blend.protocol import load_protocol
from blend.web.findings import describe


class ConsentError(ValueError):
    """A consent decision that the rules do not allow; the message names the field."""


def _decisions(participant: Participant) -> list[rules.Decision]:
    records = participant.consents.all()
    return [rules.Decision(r.item, rules.Answer(r.answer), r.effective_on, r.pk) for r in records]


def consent_states(participant: Participant) -> dict[str, rules.Answer | None]:
    return rules.current_states(_decisions(participant), load_protocol().consent_codes)


def _check_item(item: str) -> None:
    codes = load_protocol().consent_codes
    if item not in codes:
        raise ConsentError(f"item: expected one of {', '.join(codes)}, got {item!r}")


def _check_date(participant: Participant, on: date) -> None:
    if on < participant.registered_on:
        raise ConsentError(
            f"date: expected on or after cohort entry {participant.registered_on}, got {on}"
        )
    if on > timezone.localdate():
        raise ConsentError(f"date: expected today or earlier, got {on}")


@transaction.atomic
def record_consent(
    participant: Participant,
    item: str,
    answer: str,
    *,
    on: date,
    form_version: ConsentFormVersion,
    user: Any,
) -> ConsentRecord:
    _check_item(item)
    if answer not in {"yes", "no", "postponed"}:
        raise ConsentError(f"answer: expected yes, no or postponed, got {answer!r}")
    _check_date(participant, on)
    if not rules.version_covers(form_version.valid_from, form_version.valid_until, on):
        raise ConsentError(
            f"form_version: version {form_version.version} is valid {form_version.valid_from} to "
            f"{form_version.valid_until or 'open'}, consent date was {on}"
        )
    record = ConsentRecord(
        participant=participant,
        item=item,
        answer=answer,
        effective_on=on,
        form_version=form_version,
        recorded_by=user,
    )
    audited_save(record, user=user)
    record_event(
        "consent.record",
        actor=user,
        participant=participant,
        obj=record,
        details={"item": item, "answer": answer, "version": form_version.version},
    )
    return record


@transaction.atomic
def record_consent_form(
    participant: Participant,
    decisions: Mapping[str, str],
    *,
    on: date,
    form_version: ConsentFormVersion,
    user: Any,
) -> list[ConsentRecord]:
    """Every decision of one signed consent form, or none of them: the web form and the
    API both record a whole form through here, so the form's edit checks run here too."""
    values = {f"item_{code}": decisions.get(code, "") for code in load_protocol().consent_codes}
    findings = run_checks(CONSENT_FORM, values)
    if findings:
        raise ConsentError("; ".join(f"{f.field}: [{f.check}] {describe(f)}" for f in findings))
    if not decisions:
        raise ConsentError("decisions: expected an answer for at least one consent item; got none")
    return [
        record_consent(participant, item, answer, on=on, form_version=form_version, user=user)
        for item, answer in decisions.items()
    ]


@transaction.atomic
def withdraw_consent(
    participant: Participant, item: str, *, on: date, reason: str, user: Any
) -> ConsentRecord:
    """Withdraw one item. Nothing already collected is deleted."""
    _check_item(item)
    _check_date(participant, on)
    if not reason.strip():
        raise ConsentError("reason: expected a reason for the withdrawal, got nothing")
    Participant.objects.select_for_update().filter(pk=participant.pk).first()
    try:
        rules.check_withdrawal(consent_states(participant), item)
    except ValueError as error:
        raise ConsentError(str(error)) from None
    record = ConsentRecord(
        participant=participant,
        item=item,
        answer="withdrawn",
        effective_on=on,
        reason=reason,
        recorded_by=user,
    )
    audited_save(record, user=user)
    record_event(
        "consent.withdraw",
        actor=user,
        participant=participant,
        obj=record,
        reason=reason,
        details={"item": item},
    )
    return record


def randomization_consent_missing(
    participant: Participant, trial_code: str | None = None
) -> list[str]:
    """The consent items that stand between this participant and randomization into the trial."""
    protocol = load_protocol()
    if trial_code is not None and trial_code != protocol.trial_code:
        raise ConsentError(f"trial: expected {protocol.trial_code}, got {trial_code!r}")
    return rules.missing_items(consent_states(participant), protocol.randomization_consent_items)


def randomization_consent_fact(participant: Participant) -> bool | None:
    """The screening fact ``consent_randomization``: the answer to the item that asks for
    randomization into future trials (consent.toml ``randomization_question``)."""
    protocol = load_protocol()
    return rules.consent_fact(consent_states(participant).get(protocol.randomization_question))


def may_randomize(participant: Participant, trial_code: str | None = None) -> bool:
    """May this participant be randomized into trial T? (consent only; eligibility is separate)"""
    return not randomization_consent_missing(participant, trial_code)


def may_send_questionnaires(participant: Participant) -> bool:
    """May we send this participant questionnaires? (consent only; vital status is the follow-up's)"""
    states = consent_states(participant)
    return not rules.missing_items(states, load_protocol().questionnaire_consent_items)


def bulk_decisions(participant_ids: list[int]) -> dict[int, list[rules.Decision]]:
    """Every consent decision of many participants, in one query."""
    by_participant: dict[int, list[rules.Decision]] = {pid: [] for pid in participant_ids}
    rows = ConsentRecord.objects.filter(participant_id__in=participant_ids).values_list(
        "participant_id", "item", "answer", "effective_on", "id"
    )
    for pid, item, answer, on, pk in rows:
        by_participant[pid].append(rules.Decision(item, rules.Answer(answer), on, pk))
    return by_participant


def bulk_consent_states(participant_ids: list[int]) -> dict[int, dict[str, rules.Answer | None]]:
    """Consent states for many participants in one query (lists, dashboards, reminders)."""
    codes = load_protocol().consent_codes
    return {
        pid: rules.current_states(ds, codes) for pid, ds in bulk_decisions(participant_ids).items()
    }


def bulk_may_send_questionnaires(participant_ids: list[int]) -> dict[int, bool]:
    """``may_send_questionnaires`` for many participants in one query."""
    required = load_protocol().questionnaire_consent_items
    return {
        pid: not rules.missing_items(states, required)
        for pid, states in bulk_consent_states(participant_ids).items()
    }


def bulk_randomization_consent_dates(participant_ids: list[int]) -> dict[int, date]:
    """The date the last randomization-consent item became a current 'yes', per participant
    (those without a current yes on every item are left out)."""
    required = load_protocol().randomization_consent_items
    dates = {
        pid: rules.date_all_given(ds, required)
        for pid, ds in bulk_decisions(participant_ids).items()
    }
    return {pid: on for pid, on in dates.items() if on is not None}
