"""The trial administrator's randomization overview."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from blend.apps.allocation.models import Allocation, RandomizationCommitment
from blend.apps.trials.lookup import get_trial

NO_ARMS = {"intervention": 0, "control": 0}


def overview(today: date | None = None, trial: str | None = None) -> dict[str, Any]:
    """Counts for the trial administrator: totals per stratum now, and per arm and stratum
    only up to a delayed cut-off (``allocation.overview_delay_days``). Never the order."""
    config = get_trial(trial)
    today = today or timezone.localdate()
    delay = int(config.section("allocation").get("overview_delay_days", 7))
    cutoff = today - timedelta(days=delay)
    allocations = Allocation.objects.filter(trial=config.code)
    totals = dict(
        allocations.values_list("stratum").annotate(n=Count("id")).values_list("stratum", "n")
    )
    by_arm = _arms_per_stratum_until(allocations, cutoff)
    strata = sorted(set(totals) | set(by_arm))
    return {
        "total": sum(totals.values()),
        "trial": config.code,
        "target": config.target_sample_size,
        "cutoff": cutoff,
        "delay_days": delay,
        "strata": [
            {"stratum": s or "(unstratified)", "total": totals.get(s, 0), **by_arm.get(s, NO_ARMS)}
            for s in strata
        ],
        "commitment": RandomizationCommitment.objects.filter(trial_code=config.code).first(),
    }


def _arms_per_stratum_until(
    allocations: QuerySet[Allocation], cutoff: date
) -> dict[str, dict[str, int]]:
    """Allocations per stratum and arm made on or before ``cutoff``."""
    by_arm: dict[str, dict[str, int]] = {}
    rows = (
        allocations.filter(allocated_at__date__lte=cutoff)
        .values_list("stratum", "arm")
        .annotate(n=Count("id"))
        .values_list("stratum", "arm", "n")
    )
    for stratum, arm, n in rows:
        by_arm.setdefault(stratum, dict(NO_ARMS))[arm] = n
    return by_arm
