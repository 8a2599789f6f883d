"""Screening services: record the facts, assess them, confirm eligibility, and the log.

The facts that come from other records are filled in here and never from the form:
the age (from the identity record's date of birth at the screening date; only the
age is kept) and the consent to randomization (``consent.services``, over the items
the protocol requires for randomization).

A higher app may make a screening final (allocation does, once the participant is
randomized): it registers a finality rule here at start-up, so this app never imports it.
A higher app may also hold back the confirmation of eligibility, the step that makes a
screening final (prescreening does while a fact imported from the hospital record waits
for the nurse's confirmation): it registers a confirmation hold.

Every screening is for one trial (``trial``: a trial code; None means the default trial,
``blend.apps.trials.lookup``): a cohort member is screened for each trial on its own
criteria, and the facts of one trial's screening never decide another's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.accounts.services import ReauthenticationFailed, reauthenticate
from blend.apps.audit.services import audited_save, record_event
from blend.apps.consent.services import may_send_questionnaires, randomization_consent_fact
from blend.apps.registry.domain import age_on
from blend.apps.registry.models import Identity, Participant
from blend.apps.screening.models import Screening, Status
from blend.apps.trials.lookup import get_trial, trial_code_or_default
from blend.eligibility import EligibilityResult, FactError, assess

# Takes the participant and the trial; returns why that screening may no longer change.
FinalityRule = Callable[[Participant, str], str | None]

_finality_rules: dict[str, FinalityRule] = {}

# Takes the participant and the trial; returns facts to start a first screening from.
Prefill = Callable[[Participant, str], dict[str, Any]]

_prefills: dict[str, Prefill] = {}

# Takes the participant and the trial; returns why eligibility may not be confirmed yet.
ConfirmationHold = Callable[[Participant, str], str | None]

_confirmation_holds: dict[str, ConfirmationHold] = {}

# Facts that only the records give: a value entered for one of them is ignored.
FROM_RECORDS = frozenset(
    {"age", "consent_randomization", "consent_questionnaires", "date_of_birth"}
)


class ScreeningError(ValueError):
    """Refused input or action; ``errors`` maps a form field (or "__all__") to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def latest_screening(participant: Participant, trial: str | None = None) -> Screening | None:
    """The participant's current screening for ``trial``, or None when never screened."""
    return (
        Screening.objects.filter(participant=participant, trial=trial_code_or_default(trial))
        .select_related("confirmed_by")
        .first()
    )


def register_finality_rule(name: str, rule: FinalityRule) -> None:
    """Add (or replace, so that ``ready`` may run twice) the rule called ``name``."""
    _finality_rules[name] = rule


def register_prefill(name: str, prefill: Prefill) -> None:
    """Add (or replace) a source of facts for the first screening of a member: a higher
    app (prescreening: the cohort's recorded facts) plugs in here at start-up."""
    _prefills[name] = prefill


def register_confirmation_hold(name: str, hold: ConfirmationHold) -> None:
    """Add (or replace) a reason to refuse the confirmation of eligibility for now: a
    higher app (prescreening: imported facts the nurse has not confirmed) plugs in here."""
    _confirmation_holds[name] = hold


def why_not_confirmable(participant: Participant, trial: str | None = None) -> str | None:
    """Why eligibility for ``trial`` may not be confirmed yet (a registered hold), or None."""
    code = trial_code_or_default(trial)
    for hold in _confirmation_holds.values():
        reason = hold(participant, code)
        if reason:
            return reason
    return None


def prefill_facts(participant: Participant, trial: str | None = None) -> dict[str, Any]:
    """The facts a first screening for ``trial`` starts from (empty when none is known);
    the nurse checks and completes them on the form, and nothing is saved until then."""
    code = trial_code_or_default(trial)
    facts: dict[str, Any] = {}
    for prefill in _prefills.values():
        facts.update(prefill(participant, code))
    return facts


def why_final(participant: Participant, trial: str | None = None) -> str | None:
    """Why the participant's screening for ``trial`` may no longer be edited, or None."""
    code = trial_code_or_default(trial)
    for rule in _finality_rules.values():
        reason = rule(participant, code)
        if reason:
            return reason
    return None


def record_facts(participant: Participant, on: date, asked: Collection[str] = ()) -> dict[str, Any]:
    """Facts read from other records: age at ``on``, the consent to randomization, and
    the consent to questionnaires when the trial's criteria ask for it (``asked``)."""
    facts: dict[str, Any] = {
        "screening_date": on.isoformat(),
        "consent_randomization": randomization_consent_fact(participant),
    }
    if "consent_questionnaires" in asked:
        facts["consent_questionnaires"] = may_send_questionnaires(participant)
    dob = (
        Identity.objects.filter(participant=participant)
        .values_list("date_of_birth", flat=True)
        .first()
    )
    if dob is not None:
        facts["age"] = age_on(dob, on)
    return facts


def evaluate(
    participant: Participant, facts: dict[str, Any], on: date, trial: str | None = None
) -> EligibilityResult:
    """Assess form facts plus record facts on ``trial``'s criteria, without writing
    anything (live summary)."""
    entered = {k: v for k, v in facts.items() if k not in FROM_RECORDS}
    criteria = get_trial(trial).criteria
    try:
        # Only the record facts this trial's criteria read (VERTICAL asks no age).
        recorded = {
            key: value
            for key, value in record_facts(participant, on, criteria.facts).items()
            if key in criteria.facts
        }
        return assess({**entered, **recorded}, criteria)
    except FactError as error:
        raise ScreeningError(error.errors) from None


# Where each fact read from another record comes from, for the investigator who signs.
RECORD_SOURCES = {
    "consent_questionnaires": gettext_lazy("consent records"),
    "age": gettext_lazy("identity record (date of birth), at the screening date"),
    "date_of_birth": gettext_lazy("identity record"),
    "consent_randomization": gettext_lazy("consent records"),
    "screening_date": gettext_lazy("screening date"),
    "sins_total": gettext_lazy("sum of the SINS components entered on the screening form"),
}


def _shown(value: Any) -> str:
    """A fact value as a person reads it (not a Python repr)."""
    if value is None:
        return _("not known")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return ", ".join(_shown(v) for v in value)
    return str(value)


def criteria_for_signature(screening: Screening, result: EligibilityResult) -> list[dict[str, Any]]:
    """Every enabled criterion with its outcome and the facts it read: value and source.

    This is what the investigator signs for, so nothing is summarised away."""
    criteria = get_trial(screening.trial).criteria
    entered = _("screening form, %(by)s, %(on)s") % {
        "by": screening.screened_by.get_username(),
        "on": screening.screened_on.isoformat(),
    }
    rows = []
    for criterion in criteria.active:
        outcome = criterion.failed(result.facts)
        keys = [key for key in criteria.facts if key in criterion.rule.facts()]
        rows.append(
            {
                "code": criterion.code,
                "kind": criterion.kind,
                "text": criterion.text,
                "outcome": "undecided" if outcome is None else "fails" if outcome else "met",
                "facts": [
                    {
                        "label": criteria.facts[key].label,
                        "value": _shown(result.facts.get(key)),
                        "source": RECORD_SOURCES.get(key, entered),
                    }
                    for key in keys
                ]
                or [{"label": "—", "value": "", "source": ""}],
            }
        )
    return rows


def _check_date(participant: Participant, on: date) -> None:
    if on < participant.registered_on:
        raise ScreeningError(
            {
                "screened_on": f"expected on or after cohort entry {participant.registered_on}, "
                f"got {on}"
            }
        )
    if on > timezone.localdate():
        raise ScreeningError({"screened_on": f"expected today or earlier, got {on}"})


def _stored_facts(result: EligibilityResult, facts: dict[str, Any]) -> dict[str, Any]:
    stored = dict(result.facts)
    if facts.get("sins_components"):
        stored["sins_components"] = facts[
            "sins_components"
        ]  # so an edit shows the components again
    return stored


@transaction.atomic
def save_screening(
    participant: Participant,
    facts: dict[str, Any],
    *,
    on: date,
    user: User,
    reason: str = "",
    trial: str | None = None,
) -> Screening:
    """Create or update the participant's screening for ``trial``. An edit needs a reason
    and clears an earlier confirmation; a registered finality rule (randomization)
    refuses it."""
    code = trial_code_or_default(trial)
    check(user, Cap.SCREENING_WRITE, trial=code)
    _check_date(participant, on)
    result = evaluate(participant, facts, on, code)
    Participant.objects.select_for_update().filter(pk=participant.pk).first()
    final = why_final(participant, code)
    if final:
        raise ScreeningError({"__all__": final})
    screening = Screening.objects.filter(participant=participant, trial=code).first()
    if screening is not None and not reason.strip():
        raise ScreeningError(
            {"reason": "expected a reason for change when editing a saved screening; got nothing"}
        )
    screening = screening or Screening(participant=participant, trial=code)
    screening.screened_on, screening.screened_by = on, user
    screening.facts = _stored_facts(result, facts)
    screening.status, screening.reasons = result.status, result.reasons
    screening.criteria_version = result.criteria_version
    screening.confirmed_at = screening.confirmed_by = None  # facts changed: confirm again
    audited_save(screening, user=user, reason=reason)
    record_event(
        "screening.save",
        actor=user,
        participant=participant,
        obj=screening,
        reason=reason,
        details={"trial": code, "status": result.status, "criteria": sorted(result.reasons)},
    )
    return screening


def _offline_request() -> HttpRequest:
    """A bare request for callers outside a web request (demo, scripts): the lockout
    counts failures per username, so it still applies."""
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    return request


@transaction.atomic
def confirm_eligibility(
    participant: Participant,
    *,
    user: User,
    password: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
    trial: str | None = None,
) -> Screening:
    """The investigator's explicit, time-stamped confirmation of eligibility for
    ``trial``, with password re-entry.

    The facts are re-assessed first with today's consent records, so a consent withdrawn
    after the screening cannot slip through. ``now`` (a historical time stamp, not before
    the screening date) is for the demo and data migrations; the views never pass it."""
    check(user, Cap.ELIGIBILITY_CONFIRM, trial=trial_code_or_default(trial))
    try:
        reauthenticate(request or _offline_request(), user, password)
    except ReauthenticationFailed as error:
        raise ScreeningError({"password": str(error).removeprefix("password: ")}) from None
    code = trial_code_or_default(trial)
    screening = (
        Screening.objects.select_for_update().filter(participant=participant, trial=code).first()
    )
    if screening is None:
        raise ScreeningError(
            {"__all__": "expected a saved screening to confirm; the participant is not screened"}
        )
    if screening.confirmed_at is not None:
        raise ScreeningError(
            {"__all__": f"already confirmed at {screening.confirmed_at:%Y-%m-%d %H:%M}"}
        )
    held = why_not_confirmable(participant, code)
    if held:
        raise ScreeningError({"__all__": held})
    current = evaluate(participant, screening.facts, screening.screened_on, code)
    if screening.status != Status.ELIGIBLE or current.status != Status.ELIGIBLE:
        raise ScreeningError(
            {
                "__all__": f"expected an eligible screening, got {current.status}: "
                + "; ".join(current.reasons.values())
            }
        )
    now = now or timezone.now()
    if timezone.localdate(now) < screening.screened_on:
        raise ScreeningError(
            {
                "__all__": f"expected a confirmation on or after the screening date "
                f"{screening.screened_on}, got {now:%Y-%m-%d}"
            }
        )
    screening.confirmed_at, screening.confirmed_by = now, user
    audited_save(screening, user=user, reason="eligibility confirmed (password re-entered)")
    record_event(
        "eligibility.confirm",
        actor=user,
        participant=participant,
        obj=screening,
        at=screening.confirmed_at,
        details={"trial": code},
    )
    return screening


def screening_log(status: str | None = None, trial: str | None = None) -> QuerySet[Screening]:
    """Every cohort member screened for ``trial``, newest first (the screening log)."""
    rows = Screening.objects.filter(trial=trial_code_or_default(trial)).select_related(
        "participant", "participant__site", "screened_by", "confirmed_by"
    )
    return rows.filter(status=status) if status else rows


def screening_log_counts(trial: str | None = None) -> dict[str, Any]:
    """Counts for the CONSORT diagram: screened, by status, confirmed, and by reason."""
    screenings = Screening.objects.filter(trial=trial_code_or_default(trial))
    by_status = Counter(screenings.values_list("status", flat=True))
    reasons: Counter[str] = Counter()
    for row in screenings.filter(status=Status.INELIGIBLE).values_list("reasons", flat=True):
        reasons.update(row.keys())
    return {
        "cohort": Participant.objects.count(),
        "screened": sum(by_status.values()),
        "eligible": by_status[Status.ELIGIBLE],
        "ineligible": by_status[Status.INELIGIBLE],
        "pending": by_status[Status.PENDING],
        "confirmed": screenings.filter(confirmed_at__isnull=False).count(),
        "ineligible_by_criterion": dict(reasons.most_common()),
    }
