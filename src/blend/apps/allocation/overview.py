"""The trial administrator's randomization overview."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from blend.apps.allocation.models import Allocation, RandomizationCommitment
from blend.apps.allocation.sequence import trial_code
from blend.protocol import load_protocol

NO_ARMS = {"intervention": 0, "control": 0}


def overview(today: date | None = None) -> dict[str, Any]:
    """Counts for the trial administrator: totals per stratum now, and per arm and stratum
    only up to a delayed cut-off (``allocation.overview_delay_days``). Never the order."""
    today = today or timezone.localdate()
    delay = int(load_protocol().section("allocation").get("overview_delay_days", 7))
    cutoff = today - timedelta(days=delay)
    totals = dict(
        Allocation.objects.values_list("stratum")
        .annotate(n=Count("id"))
        .values_list("stratum", "n")
    )
    by_arm = _arms_per_stratum_until(cutoff)
    strata = sorted(set(totals) | set(by_arm))
    return {
        "total": sum(totals.values()),
        "target": load_protocol().section("trial").get("target_sample_size"),
        "cutoff": cutoff,
        "delay_days": delay,
        "strata": [
            {"stratum": s or "(unstratified)", "total": totals.get(s, 0), **by_arm.get(s, NO_ARMS)}
            for s in strata
        ],
        "commitment": RandomizationCommitment.objects.filter(trial_code=trial_code()).first(),
    }


def _arms_per_stratum_until(cutoff: date) -> dict[str, dict[str, int]]:
    """Allocations per stratum and arm made on or before ``cutoff``."""
    by_arm: dict[str, dict[str, int]] = {}
    rows = (
        Allocation.objects.filter(allocated_at__date__lte=cutoff)
        .values_list("stratum", "arm")
        .annotate(n=Count("id"))
        .values_list("stratum", "arm", "n")
    )
    for stratum, arm, n in rows:
        by_arm.setdefault(stratum, dict(NO_ARMS))[arm] = n
    return by_arm
