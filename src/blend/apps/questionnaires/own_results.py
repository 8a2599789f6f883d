"""Return of individual results: a member's own scores over time, in plain words.

The cohort chooses which scores (``cohort.toml [return_of_results]``). The page is
reached from the thank-you page after a questionnaire is sent, by a signed link (no
database row, valid ``LINK_DAYS``). It shows only the member's own questionnaire scores:
nothing about a trial, an arm or a treatment, so it is the same kind of page for a control
and an intervention member (tests/web/questionnaires/test_own_results.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core import signing

from blend.apps.questionnaires.models import Response, ResponseStatus
from blend.apps.registry.models import Participant
from blend.protocol import load_cohort

LINK_SALT = "blend.questionnaires.own-results"
LINK_DAYS = 30


@dataclass(frozen=True)
class Point:
    on: date
    value: int  # rounded: a member reads whole numbers


@dataclass(frozen=True)
class OwnScale:
    label: str
    higher_is_better: bool
    points: tuple[Point, ...]


def enabled() -> bool:
    return bool(load_cohort().returned_results)


def own_results(participant: Participant, language: str) -> list[OwnScale]:
    """Each returned scale with the member's scores, oldest first (one query)."""
    responses = (
        Response.objects.filter(participant=participant, status=ResponseStatus.SUBMITTED)
        .order_by("completed_on", "id")
        .values_list("completed_on", "scores")
    )
    rows = list(responses)
    scales = []
    for spec in load_cohort().returned_results:
        points = []
        for on, scores in rows:
            value = (scores or {}).get(spec.instrument, {}).get(spec.scale)
            if isinstance(value, int | float) and on is not None:
                points.append(Point(on, round(value)))
        label = spec.label_nl if language == "nl" else spec.label_en
        scales.append(OwnScale(label, spec.higher_is_better, tuple(points)))
    return [scale for scale in scales if scale.points]


def link_token(participant: Participant) -> str:
    return signing.dumps(participant.study_id, salt=LINK_SALT, compress=True)


def participant_for(token: str) -> Participant | None:
    try:
        study_id = signing.loads(token, salt=LINK_SALT, max_age=timedelta(days=LINK_DAYS))
    except signing.BadSignature:
        return None
    return Participant.objects.filter(study_id=study_id).first()
