"""Every export reads each table once, however many participants there are: the number of
queries is the same for a cohort three times larger (the rows are streamed from the
cursor, never fetched per participant)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from blend.apps.allocation.models import Allocation
from blend.apps.exports.services import export_analysis, export_full
from blend.apps.followup.models import HospitalAdmission, VitalStatus
from blend.apps.offers.models import Offer
from blend.apps.safety.services import report_adverse_event
from blend.apps.screening.models import Screening
from blend.apps.treatment.models import TreatmentRecord
from tests.web.exports.conftest import _at, _response

pytestmark = pytest.mark.django_db


def _randomize(make_participant: Any, personas: dict[str, Any], count: int) -> None:
    """``count`` more randomized members, each with a row in every trial table."""
    nurse, start = personas["nurse_nina"], date(2025, 3, 1)
    for _ in range(count):
        p = make_participant(registered_on=start)
        n = Allocation.objects.count() + 1
        screened, arm = start + timedelta(days=5), ("intervention" if n % 2 else "control")
        Screening.objects.create(
            trial="BLEND",
            participant=p,
            screened_on=screened,
            screened_by=nurse,
            facts={"sins_total": 9},
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
            sequence_number=n,
            stratum="",
            stratum_index=n,
            allocated_at=_at(randomized, 11),
            allocated_by=nurse,
        )
        if arm == "intervention":
            Offer.objects.create(
                trial="BLEND",
                participant=p,
                state="accepted",
                offered_on=randomized,
                decided_on=randomized,
                trial_consent_version="BLEND v1.0",
            )
        treated = randomized + timedelta(days=7)
        TreatmentRecord.objects.create(
            trial="BLEND",
            participant=p,
            pathway="standard",
            planned_on=treated,
            recorded_by=nurse,
            surgery_on=treated,
        )
        HospitalAdmission.objects.create(
            participant=p,
            recorded_by=nurse,
            admitted_on=treated,
            discharged_on=treated + timedelta(days=3),
            index_treatment=True,
        )
        _response(p, "baseline", randomized, 40.0, 0.6)
        _response(p, "w4", treated + timedelta(days=28), 50.0, 0.7)
        VitalStatus.objects.create(
            participant=p, last_contact_on=treated + timedelta(days=90), recorded_by=nurse
        )
        report_adverse_event(
            p,
            {
                "term": "seroma",
                "grade": 1,
                "onset_date": treated + timedelta(days=10),
                "serious": False,
                "seriousness": [],
                "related_sbrt": "possible",
                "related_surgery": "not_related",
                "action_taken": "medication",
                "outcome": "recovering",
                "aware_at": _at(treated + timedelta(days=10), 12),
            },
            user=nurse,
        )


def _queries(run: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "export",
    [
        pytest.param(lambda folder, user: export_analysis(folder, user=user), id="analysis"),
        pytest.param(lambda folder, user: export_full(folder, ["csv"], user=user), id="csv"),
        pytest.param(lambda folder, user: export_full(folder, ["odm"], user=user), id="odm"),
    ],
)
def test_the_number_of_queries_does_not_grow_with_the_cohort(
    export: Any, make_participant: Any, personas: dict[str, Any], tmp_path: Path
) -> None:
    user = personas["statistician_stan"]
    _randomize(make_participant, personas, 2)
    export(tmp_path / "warm", user)  # the first run fills the caches (roles, the protocol)
    small = _queries(lambda: export(tmp_path / "small", user))
    _randomize(make_participant, personas, 6)
    large = _queries(lambda: export(tmp_path / "large", user))
    assert Allocation.objects.count() == 8
    assert small == large
