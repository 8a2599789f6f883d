"""Read-side consent questions asked of many participants at once: the current answer
per item as a subquery, counts per answer, and the randomization-consent filter of the
participant list. Constant query counts at any cohort size."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery

from blend.apps.consent.models import ConsentRecord
from blend.apps.registry.models import Participant
from blend.protocol import load_protocol

#: The states the participant-list filter offers; "none" is "nothing recorded yet".
FILTER_STATES = ("yes", "no", "postponed", "withdrawn", "none")


def current_answer(item: str) -> Subquery:
    """The participant's latest answer to ``item`` (a subquery on Participant)."""
    latest = ConsentRecord.objects.filter(participant=OuterRef("pk"), item=item).order_by(
        "-effective_on", "-id"
    )
    return Subquery(latest.values("answer")[:1])


def consent_summary(items: list[str]) -> dict[str, dict[str, int]]:
    """Count of participants per current answer, per consent item (one query per item)."""
    summary = {}
    for item in items:
        rows = (
            Participant.objects.annotate(state=current_answer(item))
            .values("state")
            .annotate(n=Count("id"))
            .order_by()
        )
        summary[item] = {(row["state"] or "none"): row["n"] for row in rows}
    return summary


def filter_by_randomization_consent(qs: QuerySet[Participant], state: str) -> QuerySet[Participant]:
    """Participants whose current answer to the randomization question (consent.toml
    ``randomization_question``) is ``state``; "none" is "never recorded"."""
    qs = qs.annotate(randomization_answer=current_answer(load_protocol().randomization_question))
    if state == "none":
        return qs.filter(randomization_answer__isnull=True)
    return qs.filter(randomization_answer=state)
