"""Read-side queries for the participant list: constant query counts at any cohort size."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from blend.apps.consent.queries import filter_by_randomization_consent
from blend.apps.registry.models import Participant


def filtered_participants(
    filters: dict[str, Any], *, may_search_identifiers: bool
) -> QuerySet[Participant]:
    qs = Participant.objects.select_related("site")
    query = (filters.get("q") or "").strip()
    if query:
        if may_search_identifiers:
            qs = qs.filter(
                Q(study_id__icontains=query)
                | Q(identity__full_name__icontains=query)
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
        qs = filter_by_randomization_consent(qs, state)
    return qs
