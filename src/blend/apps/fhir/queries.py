"""What the FHIR export reads: plain values for ``blend.interop.fhir_export``, in a few
bulk queries (one per table, whatever the number of members).

The arm is read only for a reader who may see it in that trial (``allocation.blinding``);
for anyone else it is never loaded, so it cannot leak through a later mistake."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from blend.apps.accounts.models import User
from blend.apps.allocation import blinding
from blend.apps.allocation.models import Allocation
from blend.apps.offers.models import Offer
from blend.apps.questionnaires.domain import medications
from blend.apps.questionnaires.models import Response, ResponseStatus
from blend.apps.screening.models import Screening
from blend.apps.trials.lookup import known_trial_codes
from blend.instruments import instrument_codes
from blend.interop.fhir_export import OMED, ResponseFacts, SubjectFacts, actual_arm, subject_status


def visible_trials(user: User | None) -> list[str]:
    """The trials whose study and subjects ``user`` may read (None: the operator, all)."""
    return [code for code in known_trial_codes() if user is None or user.works_in(code)]


def subject_ids(trial: str) -> set[str]:
    """Study IDs of the trial's subjects: members screened or randomized for it."""
    screened = Screening.objects.filter(trial=trial).values_list("participant__study_id", flat=True)
    allocated = Allocation.objects.filter(trial=trial).values_list(
        "participant__study_id", flat=True
    )
    return set(screened) | set(allocated)


def subjects(trial: str, user: User | None, study_id: str | None = None) -> list[SubjectFacts]:
    """Every subject of ``trial`` (or the one with ``study_id``), in study-ID order."""
    sees_arm = user is None or blinding.sees_arm(user, trial)
    screenings = Screening.objects.filter(trial=trial)
    allocations = Allocation.objects.filter(trial=trial)
    if study_id is not None:
        screenings = screenings.filter(participant__study_id=study_id)
        allocations = allocations.filter(participant__study_id=study_id)
    status = dict(screenings.values_list("participant__study_id", "status"))
    randomized = {
        sid: (timezone.localdate(at), arm)
        for sid, at, arm in allocations.values_list(
            "participant__study_id", "allocated_at", "arm" if sees_arm else "trial"
        )
    }
    offers: dict[str, str] = {}
    if sees_arm:
        chosen = Offer.objects.filter(trial=trial)
        if study_id is not None:
            chosen = chosen.filter(participant__study_id=study_id)
        offers = dict(chosen.values_list("participant__study_id", "state"))
    found = []
    for sid in sorted(set(status) | set(randomized)):
        on, arm = randomized.get(sid, (None, None))
        found.append(
            SubjectFacts(
                study_id=sid,
                trial=trial,
                status=subject_status(status.get(sid), sid in randomized),
                randomized_on=on,
                arm=arm if sees_arm else None,
                actual_arm=actual_arm(arm, offers.get(sid)) if sees_arm else None,
            )
        )
    return found


def submitted(
    study_ids: Collection[str] | None = None, study_id: str | None = None
) -> QuerySet[Response]:
    """Submitted questionnaires, oldest first; of these members when given."""
    rows = Response.objects.filter(status=ResponseStatus.SUBMITTED).order_by("pk")
    if study_ids is not None:
        rows = rows.filter(participant__study_id__in=list(study_ids))
    if study_id is not None:
        rows = rows.filter(participant__study_id=study_id)
    return rows


FIELDS = (
    "pk",
    "participant__study_id",
    "assessment__timepoint",
    "assessment__instruments",
    "answers",
    "scores",
    "completed_on",
    "mode",
    "language",
)


def response_facts(
    rows: QuerySet[Response], instrument: str | None = None
) -> Iterator[ResponseFacts]:
    """One ``ResponseFacts`` per scored instrument of each questionnaire (the cost
    questionnaire is not an instrument of ``blend.instruments`` and is not exported)."""
    known = set(instrument_codes())
    for pk, sid, timepoint, codes, answers, scores, on, mode, language in rows.values_list(
        *FIELDS
    ).iterator(chunk_size=2000):
        for code in codes:
            if code not in known or (instrument is not None and code != instrument):
                continue
            yield ResponseFacts(
                response_id=pk,
                study_id=sid,
                instrument=code,
                answers=_instrument_answers(code, (answers or {}).get(code, {})),
                scores=(scores or {}).get(code, {}),
                completed_on=on,
                timepoint=timepoint,
                mode=mode,
                language=language,
            )


def _instrument_answers(code: str, given: dict[str, Any]) -> dict[str, Any]:
    """The answers as ``blend.instruments.score`` takes them: the painkiller page's rows
    become the OMED medicine list (``questionnaires.domain.medications``)."""
    if code == OMED:
        meds = medications(given)
        return {} if meds is None else {"medications": meds}
    return {k: v for k, v in given.items() if v is not None}
