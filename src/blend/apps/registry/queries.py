"""Read-side queries for the registry pages: constant query counts at any cohort size."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery

from blend.apps.consent.models import ConsentRecord
from blend.apps.registry.models import Participant


def latest_answer(item: str) -> Subquery:
    latest = ConsentRecord.objects.filter(participant=OuterRef("pk"), item=item).order_by("-effective_on", "-id")
    return Subquery(latest.values("answer")[:1])


def filtered_participants(filters: dict[str, Any], *, may_search_identifiers: bool) -> QuerySet[Participant]:
    qs = Participant.objects.select_related("site")
    query = (filters.get("q") or "").strip()
    if query:
        if may_search_identifiers:
            from django.db.models import Q

            qs = qs.filter(
                Q(study_id__icontains=query) | Q(identity__full_name__icontains=query)
                | Q(identity__hospital_number__iexact=query)
            )
        else:
            qs = qs.filter(study_id__icontains=query)
    if filters.get("site"):
        qs = qs.filter(site=filters["site"])
    if filters.get("primary_tumour"):
        qs = qs.filter(primary_tumour=filters["primary_tumour"])
    state = filters.get("randomization_consent")
    if state:
        qs = qs.annotate(consent_c=latest_answer("c"))
        qs = qs.filter(consent_c__isnull=True) if state == "none" else qs.filter(consent_c=state)
    return qs


def consent_summary(items: list[str]) -> dict[str, dict[str, int]]:
    """Count of participants per current answer, per consent item (one query per item)."""
    summary = {}
    for item in items:
        rows = (
            Participant.objects.annotate(state=latest_answer(item))
            .values("state").annotate(n=Count("id")).order_by()
        )
        summary[item] = {(row["state"] or "none"): row["n"] for row in rows}
    return summary
