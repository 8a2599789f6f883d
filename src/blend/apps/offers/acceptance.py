"""How the offers of one trial are going: the counts a sample-size re-estimation reads,
and the record of a re-estimation used for a decision (docs/design.md §4).

Offer rows exist only for the intervention arm, so everything here needs
``allocation.view`` in the trial: the counts say how many were allocated to it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check
from blend.apps.audit.services import record_event
from blend.apps.offers.models import Offer, OfferState
from blend.apps.trials.lookup import trial_code_or_default
from blend.design.reestimate import Offers, Reestimation
from blend.stats.acceptance import AcceptanceSummary, OfferRecord, summarise

REESTIMATION_EVENT = "design.sample_size_reestimated"


def offer_counts(trial: str | None, *, user: User) -> Offers:
    """Accepted, refused and pending offers of ``trial`` (not-offered ones carry no
    information about refusal and are left out)."""
    code = trial_code_or_default(trial)
    check(user, Cap.ALLOCATION_VIEW, trial=code)
    by_state = dict(
        Offer.objects.filter(trial=code)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return Offers(
        accepted=by_state.get(OfferState.ACCEPTED, 0),
        refused=by_state.get(OfferState.REFUSED, 0),
        pending=by_state.get(OfferState.OFFERED, 0),
    )


def acceptance_summary(trial: str | None, *, user: User) -> AcceptanceSummary:
    """The acceptance monitor of ``trial``, from its offer records (one query)."""
    code = trial_code_or_default(trial)
    check(user, Cap.ALLOCATION_VIEW, trial=code)
    rows = Offer.objects.filter(trial=code).values_list(
        "state", "offered_on", "decided_on", "reason"
    )
    return summarise([OfferRecord(*row) for row in rows])


@transaction.atomic
def record_reestimation(
    trial: str | None, result: Reestimation, *, user: User, reason: str
) -> dict[str, Any]:
    """Record that ``user`` used this re-estimation for a decision, and why.

    Refused before the plan's interim (the rule decides once, at ``interim_decisions``)
    and without a reason; the audit event holds the counts, every row and the new N.
    """
    code = trial_code_or_default(trial)
    check(user, Cap.ALLOCATION_VIEW, trial=code)
    if not reason.strip():
        raise ValueError("reason: expected why the re-estimation is used, e.g. the DSMB minute")
    decided, needed = result.offers.decided, result.plan.interim_decisions
    if decided < needed:
        raise ValueError(
            f"offers: the rule re-estimates after {needed} decided offers; "
            f"{code} has {decided} so far"
        )
    details = {"trial": code, **result.as_dict()}
    record_event(REESTIMATION_EVENT, actor=user, reason=reason.strip(), details=details)
    return details
