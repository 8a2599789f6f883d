"""A small trial cohort at every stage, for the export tests.

Rows of the screening, allocation, offer, treatment, follow-up and questionnaire
apps are created directly: these tests are about what the export makes of them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from blend.apps.allocation.models import Allocation
from blend.apps.followup.models import (
    Assessment,
    HospitalAdmission,
    NeuroAssessment,
    SystemicTherapy,
    VitalStatus,
)
from blend.apps.offers.models import Offer
from blend.apps.questionnaires.models import Response
from blend.apps.safety.services import report_adverse_event
from blend.apps.screening.models import Screening
from blend.apps.treatment.models import TreatmentRecord

C15 = {
    "PF": 60.0,
    "EF": 75.0,
    "FA": 44.4,
    "NV": 0.0,
    "PA": 50.0,
    "DY": 33.3,
    "SL": 33.3,
    "AP": 0.0,
    "CO": 33.3,
    "QL": 50.0,
}


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def _response(p: Any, timepoint: str, on: date, pf: float, index: float | None) -> None:
    scores: dict[str, Any] = {
        "qlq-c15-pal": {**C15, "PF": pf},
        "pain-nrs": {"worst_pain": 6.0},
        "omed": {"omed": 30.0},
    }
    if index is not None:
        scores["eq5d5l-nl"] = {"index": index, "vas": 60.0}
    assessment = Assessment.objects.create(
        participant=p,
        timepoint=timepoint,
        instruments=list(scores),
        anchor_on=on,
        target_on=on,
        opens_on=on,
        closes_on=on,
        completed_on=on,
    )
    Response.objects.create(
        participant=p,
        assessment=assessment,
        mode="web",
        language="nl",
        scores=scores,
        answers={"cost": {"gp_visits": 2, "sick_days": 0}},
        status="submitted",
        started_at=_at(on, 9),
        updated_at=_at(on, 9),
        submitted_at=_at(on, 9),
        completed_on=on,
    )


@pytest.fixture
def trial_cohort(make_participant, personas) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    nurse = personas["nurse_nina"]
    start = date(2025, 3, 1)
    people: dict[str, Any] = {}
    # screened but not randomized: ineligible, and eligible without randomization consent
    people["ineligible"] = p = make_participant(registered_on=start)
    Screening.objects.create(
        trial="BLEND",
        participant=p,
        screened_on=start + timedelta(days=3),
        screened_by=nurse,
        facts={},
        status="ineligible",
        reasons={"I1_INSTABILITY": "SINS 5"},
        criteria_version="1",
    )
    people["declined"] = p = make_participant(
        registered_on=start, consent={"a": "yes", "b": "yes", "c": "no"}
    )
    Screening.objects.create(
        trial="BLEND",
        participant=p,
        screened_on=start + timedelta(days=3),
        screened_by=nurse,
        facts={"sins_total": 9},
        status="eligible",
        reasons={},
        criteria_version="1",
    )
    arms = [
        ("accepted", "intervention"),
        ("refused", "intervention"),
        ("control", "control"),
        ("died", "control"),
    ]
    for n, (key, arm) in enumerate(arms, start=1):
        people[key] = p = make_participant(registered_on=start, hospital_number=f"HX{n:05d}")
        screened = start + timedelta(days=5)
        Screening.objects.create(
            trial="BLEND",
            participant=p,
            screened_on=screened,
            screened_by=nurse,
            facts={"sins_total": 8 + n},
            status="eligible",
            reasons={},
            criteria_version="1",
            confirmed_at=_at(screened, 10),
            confirmed_by=personas["investigator_ivo"],
        )
        randomized = screened + timedelta(days=1)
        Allocation.objects.create(
            trial="BLEND",
            participant=p,
            arm=arm,
            sequence_number=9000 + n,
            stratum="",
            stratum_index=9000 + n,
            allocated_at=_at(randomized, 11),
            allocated_by=nurse,
        )
        treated = randomized + timedelta(days=7)
        if arm == "intervention":
            state = "accepted" if key == "accepted" else "refused"
            Offer.objects.create(
                trial="BLEND",
                participant=p,
                state=state,
                offered_on=randomized + timedelta(days=1),
                decided_on=randomized + timedelta(days=2),
                reason="prefers standard care" if state == "refused" else "",
                trial_consent_version="BLEND v1.0" if state == "accepted" else "",
            )
        same_day = key == "accepted"
        TreatmentRecord.objects.create(
            trial="BLEND",
            participant=p,
            pathway="same_day" if same_day else "standard",
            planned_on=treated,
            recorded_by=nurse,
            sbrt_started_at=_at(treated, 8) if same_day else None,
            surgery_started_at=_at(treated, 14) if same_day else None,
            surgery_on=None if same_day else treated,
            radiotherapy_on=None if same_day else treated + timedelta(days=14),
        )
        HospitalAdmission.objects.create(
            participant=p,
            recorded_by=nurse,
            admitted_on=treated,
            discharged_on=treated + timedelta(days=3 + n),
            index_treatment=True,
        )
        NeuroAssessment.objects.create(
            participant=p,
            recorded_by=nurse,
            assessed_on=treated - timedelta(days=1),
            asia_grade="E",
        )
        NeuroAssessment.objects.create(
            participant=p,
            recorded_by=nurse,
            assessed_on=treated + timedelta(days=30),
            asia_grade="D" if key == "control" else "E",
        )
        if key != "died":
            SystemicTherapy.objects.create(
                participant=p,
                recorded_by=nurse,
                started_on=treated + timedelta(days=40),
                therapy_type="chemotherapy",
            )
        _response(p, "baseline", randomized, 40.0 + n, 0.6)
        if key != "died":
            _response(p, "w4", treated + timedelta(days=28), 55.0 + n, 0.7)
        died = treated + timedelta(days=20) if key == "died" else None
        VitalStatus.objects.create(
            participant=p,
            last_contact_on=died or treated + timedelta(days=90),
            died_on=died,
            recorded_by=nurse,
        )
        report_adverse_event(
            p,
            {
                "term": "wound_infection" if same_day else "seroma",
                "grade": 3 if same_day else 1,
                "onset_date": treated + timedelta(days=10),
                "serious": same_day,
                "seriousness": ["hospitalisation"] if same_day else [],
                "related_sbrt": "possible",
                "related_surgery": "probable" if same_day else "not_related",
                "action_taken": "medication",
                "outcome": "recovering",
                "aware_at": _at(treated + timedelta(days=10), 12),
            },
            user=nurse,
        )
    return people
