"""Demo offers: intervention participants are offered within days of allocation; about a
quarter refuse, a few are never offered (death or deterioration), recent ones are open."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from blend.apps.allocation.models import Arm
from blend.apps.offers import services
from blend.apps.trials.lookup import default_trial_code

REFUSALS = [
    "prefers standard care",
    "does not want two procedures on one day",
    "travel or logistics",
    "wants more time to decide, then declined",
]
NOT_OFFERED = ["died before the offer", "clinical deterioration", "surgery no longer indicated"]


def populate(ctx: Any) -> None:  # ctx: demo's DemoContext (the demo app sits above this one)
    populate_vertical(ctx)
    rng, nurse = ctx.rng, ctx.users["nurse"]
    version = services.trial_consent_versions()[0]
    for participant in ctx.extra.get("randomized", []):
        allocation = participant.allocations.get(trial=default_trial_code())
        if allocation.arm != Arm.INTERVENTION:
            continue  # control: nothing at all is created (TwiCs)
        allocated_on = timezone.localdate(allocation.allocated_at)
        offer_on = allocated_on + timedelta(days=rng.randint(0, 3))
        if offer_on > ctx.today:
            continue  # not yet offered: on the worklist
        if rng.random() < 0.07:
            services.record_not_offered(
                participant, on=offer_on, reason=rng.choice(NOT_OFFERED), user=nurse
            )
            continue
        services.make_offer(participant, on=offer_on, user=nurse)
        decided_on = offer_on + timedelta(days=rng.randint(0, 5))
        if decided_on > ctx.today:
            continue  # offered, decision pending
        if rng.random() < 0.26:
            services.record_refusal(
                participant, on=decided_on, reason=rng.choice(REFUSALS), user=nurse
            )
        else:
            services.record_acceptance(
                participant, on=decided_on, consent_version=version, user=nurse
            )


def populate_vertical(ctx: Any) -> None:
    """VERTICAL's intervention arm was offered SBRT at randomization; most accepted."""
    rng, nurse = random.Random("vertical-offers"), ctx.users["nurse"]
    version = services.trial_consent_versions("VERTICAL")[0]
    for participant in ctx.extra.get("randomized_by_trial", {}).get("VERTICAL", []):
        allocation = participant.allocations.get(trial="VERTICAL")
        if allocation.arm != Arm.INTERVENTION:
            continue
        on = timezone.localdate(allocation.allocated_at)
        services.make_offer(participant, on=on, user=nurse, trial="VERTICAL")
        if rng.random() < 0.12:
            services.record_refusal(
                participant,
                on=on,
                reason="prefers the usual treatment",
                user=nurse,
                trial="VERTICAL",
            )
        else:
            services.record_acceptance(
                participant, on=on, consent_version=version, user=nurse, trial="VERTICAL"
            )
