"""Demo allocations: every confirmed, consenting participant is randomized through the
real service, shortly after the confirmation (TwiCs: allocation follows eligibility)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from blend.apps.allocation.errors import NotEligible
from blend.apps.allocation.models import Allocation
from blend.apps.allocation.services import randomize
from blend.apps.consent.services import may_randomize
from blend.apps.screening.models import Screening
from blend.apps.trials.lookup import default_trial_code


def populate(ctx: Any) -> None:  # ctx: demo's DemoContext (the demo app sits above this one)
    rng, nurse = ctx.rng, ctx.users["nurse"]
    randomized = []
    others: dict[str, list[Any]] = {}  # trial -> its members, for the later demo steps
    refused = []
    confirmed = (
        Screening.objects.filter(confirmed_at__isnull=False)
        .select_related("participant")
        .order_by("confirmed_at")
    )
    for screening in confirmed:
        participant, confirmed_at = screening.participant, screening.confirmed_at
        assert confirmed_at is not None  # the query selects confirmed screenings only
        if Allocation.objects.filter(participant=participant, trial=screening.trial).exists():
            continue
        if not may_randomize(participant):
            continue  # e.g. no consent (d): stays unrandomized, as the randomize page explains
        moment = min(confirmed_at + timedelta(minutes=rng.randint(2, 90)), timezone.now())
        try:
            randomize(participant, user=nurse, trial=screening.trial, now=moment)
        except NotEligible:
            refused.append((participant, screening.trial))  # an overlap rule: shown as such
            continue
        if screening.trial == default_trial_code():
            randomized.append(participant)
        else:
            others.setdefault(screening.trial, []).append(participant)
    ctx.extra["randomized"] = randomized
    ctx.extra["overlap_refused"] = refused
    ctx.extra["randomized_by_trial"] = others
