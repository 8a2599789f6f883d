"""The offer workflow (TwiCs stage 2) for participants allocated to the intervention.

offered (date, by whom) → accepted (trial consent signed, form version)
                        → refused (reason)
                        → not offered (reason: could not go ahead, e.g. death)
(no offer)              → not offered (reason, e.g. death or deterioration)

Refusers get standard care and stay in the ITT population. Control participants get
nothing at all: every function here refuses them, and nothing is created at
randomization time — the offer worklist is a query, not stored tasks.

Each offer is of one trial (``trial``; None is the default trial): a member allocated
to the intervention of one trial and to control in another is offered the first only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.allocation.models import Allocation, Arm
from blend.apps.audit.services import audited_save, record_event
from blend.apps.offers.models import Offer, OfferState
from blend.apps.registry.models import Participant
from blend.apps.trials.lookup import get_trial, trial_code_or_default


class OfferError(ValueError):
    """Refused input or transition; ``errors`` maps a form field (or "__all__") to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def offer_state(participant: Participant, trial: str | None = None) -> str | None:
    """ "offered", "accepted", "refused", "not_offered", or None (no offer recorded;
    always None for control participants)."""
    return (
        Offer.objects.filter(participant=participant, trial=trial_code_or_default(trial))
        .values_list("state", flat=True)
        .first()
    )


def may_mention_trial(participant: Participant, trial: str | None = None) -> bool:
    """The TwiCs rule for anything patient-facing: only the trial's intervention-arm
    participants may ever be told about it (its controls are not informed)."""
    return Allocation.objects.filter(
        participant=participant, trial=trial_code_or_default(trial), arm=Arm.INTERVENTION
    ).exists()


ACTIONS = ("offer", "accept", "refuse", "not-offered")


def applicable_actions(participant: Participant, trial: str | None = None) -> frozenset[str]:
    """The offer actions that apply now; the panel links only these and the views refuse
    the others before showing a form (control participants: none at all)."""
    if not may_mention_trial(participant, trial):
        return frozenset()
    state = offer_state(participant, trial)
    if state is None:
        return frozenset({"offer", "not-offered"})
    if state == OfferState.OFFERED:
        return frozenset({"accept", "refuse", "not-offered"})
    return frozenset()


def why_not_applicable(participant: Participant, action: str, trial: str | None = None) -> str:
    """A sentence for staff on why ``action`` does not apply to this participant now."""
    if not may_mention_trial(participant, trial):
        return _(
            "This participant is not allocated to the intervention, so there is no offer to record."
        )
    state = offer_state(participant, trial)
    if state is None:
        return _("The intervention has not been offered yet, so there is no decision to record.")
    if state == OfferState.OFFERED and action == "offer":
        return _("The offer is already recorded; record the participant's decision instead.")
    return _("The offer is already decided (%(state)s); nothing more can be recorded.") % {
        "state": OfferState(state).label
    }


def trial_consent_versions(trial: str | None = None) -> list[str]:
    return list(get_trial(trial).section("offers").get("trial_consent_versions", []))


def _intervention_allocation(participant: Participant, trial: str) -> Allocation:
    allocation = Allocation.objects.filter(participant=participant, trial=trial).first()
    if allocation is None or allocation.arm != Arm.INTERVENTION:
        raise OfferError(
            {
                "__all__": "expected a participant allocated to the intervention arm; the "
                "offer exists only for them"
            }
        )
    return allocation


def _check_date(allocation: Allocation, on: date, field: str) -> None:
    allocated_on = timezone.localdate(allocation.allocated_at)
    if on < allocated_on:
        raise OfferError(
            {field: f"expected on or after the allocation date {allocated_on}, got {on}"}
        )
    if on > timezone.localdate():
        raise OfferError({field: f"expected today or earlier, got {on}"})


def _locked_offer(participant: Participant, trial: str) -> Offer | None:
    return Offer.objects.select_for_update().filter(participant=participant, trial=trial).first()


DecisionListener = Callable[[Offer, User], object]  # what it returns is ignored

_decision_listeners: dict[str, DecisionListener] = {}


def register_decision_listener(name: str, listener: DecisionListener) -> None:
    """Call ``listener(offer, user)`` after an offer is saved, inside the same transaction
    (follow-up plans a trial's extra measurements for acceptors this way, without the
    offers app importing it)."""
    _decision_listeners[name] = listener


def _save(offer: Offer, user: User, action: str, reason: str = "") -> Offer:
    audited_save(offer, user=user, reason=reason if offer.pk else "")
    for listener in _decision_listeners.values():
        listener(offer, user)
    # The event is the offer's audit trail (no history table, see models): the whole new state.
    state = {
        "trial": offer.trial,
        "state": offer.state,
        "offered_on": offer.offered_on,
        "offered_by": _name(offer.offered_by),
        "decided_on": offer.decided_on,
        "decided_by": _name(offer.decided_by),
        "trial_consent_version": offer.trial_consent_version,
    }
    record_event(
        action,
        actor=user,
        participant=offer.participant,
        obj=offer,
        reason=offer.reason,
        details={k: v.isoformat() if isinstance(v, date) else v for k, v in state.items()},
    )
    return offer


def _name(user: User | None) -> str | None:
    return user.get_username() if user is not None else None


def _check_after_offer(offer: Offer, on: date) -> None:
    """A decision may not precede the offer. An open offer always has its date (the
    model's constraint); only a never-made offer has none."""
    if offer.offered_on is not None and on < offer.offered_on:
        raise OfferError(
            {"decided_on": f"expected on or after the offer date {offer.offered_on}, got {on}"}
        )


@transaction.atomic
def make_offer(
    participant: Participant, *, on: date, user: User, trial: str | None = None
) -> Offer:
    code = trial_code_or_default(trial)
    check(user, Cap.OFFER_WRITE, trial=code)
    allocation = _intervention_allocation(participant, code)
    _check_date(allocation, on, "offered_on")
    if _locked_offer(participant, code) is not None:
        state = offer_state(participant, code)
        raise OfferError({"__all__": f"an offer is already recorded ({state})"})
    offer = Offer(
        participant=participant,
        trial=code,
        state=OfferState.OFFERED,
        offered_on=on,
        offered_by=user,
    )
    return _save(offer, user, "offer.make")


def _decide(participant: Participant, on: date, user: User, trial: str) -> Offer:
    check(user, Cap.OFFER_WRITE, trial=trial)
    allocation = _intervention_allocation(participant, trial)
    _check_date(allocation, on, "decided_on")
    offer = _locked_offer(participant, trial)
    if offer is None or offer.state != OfferState.OFFERED:
        state = offer.state if offer else "no offer"
        raise OfferError({"__all__": f"expected an open offer (state offered), got {state}"})
    _check_after_offer(offer, on)
    offer.decided_on, offer.decided_by = on, user
    return offer


@transaction.atomic
def record_acceptance(
    participant: Participant,
    *,
    on: date,
    consent_version: str,
    user: User,
    trial: str | None = None,
) -> Offer:
    """Accepted: the trial consent form was signed (this version) on ``on``."""
    code = trial_code_or_default(trial)
    versions = trial_consent_versions(code)
    if consent_version not in versions:
        raise OfferError(
            {"trial_consent_version": f"expected one of {versions}, got {consent_version!r}"}
        )
    offer = _decide(participant, on, user, code)
    offer.state, offer.trial_consent_version = OfferState.ACCEPTED, consent_version
    return _save(offer, user, "offer.accept", reason="offer accepted")


@transaction.atomic
def record_refusal(
    participant: Participant, *, on: date, reason: str, user: User, trial: str | None = None
) -> Offer:
    """Refused: the participant gets standard care and stays in the ITT population."""
    if not reason.strip():
        raise OfferError({"reason": "expected the reason for refusal, got nothing"})
    offer = _decide(participant, on, user, trial_code_or_default(trial))
    offer.state, offer.reason = OfferState.REFUSED, reason.strip()
    return _save(offer, user, "offer.refuse", reason="offer refused")


@transaction.atomic
def record_not_offered(
    participant: Participant, *, on: date, reason: str, user: User, trial: str | None = None
) -> Offer:
    """Not offered, or an open offer that could not go ahead (e.g. death or deterioration
    before the offer or the decision)."""
    code = trial_code_or_default(trial)
    check(user, Cap.OFFER_WRITE, trial=code)
    if not reason.strip():
        raise OfferError({"reason": "expected the reason the offer was not made, got nothing"})
    allocation = _intervention_allocation(participant, code)
    _check_date(allocation, on, "decided_on")
    offer = _locked_offer(participant, code)
    if offer is not None and offer.state != OfferState.OFFERED:
        raise OfferError({"__all__": f"the offer is already decided ({offer.state})"})
    if offer is not None:
        _check_after_offer(offer, on)
    offer = offer or Offer(participant=participant, trial=code)
    offer.state, offer.decided_on, offer.decided_by, offer.reason = (
        OfferState.NOT_OFFERED,
        on,
        user,
        reason.strip(),
    )
    return _save(offer, user, "offer.not_offered", reason="offer not made")


def offer_worklist(trial: str | None = None) -> QuerySet[Allocation]:
    """The trial's intervention allocations still waiting for an offer or for a decision;
    each row carries ``offer_state`` and ``offered_on`` (None before the offer)."""
    code = trial_code_or_default(trial)
    offers = Offer.objects.filter(trial=code, participant=OuterRef("participant"))
    decided = offers.filter(
        state__in=[OfferState.ACCEPTED, OfferState.REFUSED, OfferState.NOT_OFFERED]
    )
    return (
        Allocation.objects.filter(trial=code, arm=Arm.INTERVENTION)
        .exclude(Exists(decided))
        .annotate(
            offer_state=Subquery(offers.values("state")[:1]),
            offered_on=Subquery(offers.values("offered_on")[:1]),
        )
        .select_related("participant")
        .order_by("allocated_at")
    )
