"""A trial's treatment is configuration: VERTICAL's form comes from its treatment.toml
(one radiotherapy fraction per arm, with dose and fractions recorded), and its start of
treatment, deviations and "received the intervention" follow from the same file."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from blend.apps.allocation.services import randomize
from blend.apps.treatment import domain
from blend.apps.treatment.models import TreatmentRecord
from blend.apps.treatment.services import (
    received_allocated_intervention,
    start_from_record,
    treatment_flags,
)
from blend.protocol import load_trial
from tests.pages import without_csrf
from tests.web.trials.flow import confirm_for_vertical

pytestmark = pytest.mark.django_db
PLAN = load_trial("VERTICAL").treatment


def test_start_deviation_and_receipt_follow_the_configuration() -> None:
    given = {"sbrt": {"on": "2025-04-02", "dose_gy": 18.0, "fractions": 1}}
    assert domain.configured_start(PLAN, "intervention", given) == date(2025, 4, 2)
    assert domain.configured_deviations(PLAN, "intervention", given) == []
    assert domain.received_arm(PLAN, "intervention", "intervention", given)
    underdosed = {"sbrt": {"on": "2025-04-02", "dose_gy": 16.0, "fractions": 1}}
    (flag,) = domain.configured_deviations(PLAN, "intervention", underdosed)
    assert "16.0 Gy in 1 fraction(s), prescribed 18 Gy in 1" in flag
    assert not domain.received_arm(PLAN, "intervention", "intervention", underdosed)
    crossed = {"conventional_rt": {"on": "2025-04-02", "dose_gy": 8.0, "fractions": 1}}
    assert not domain.received_arm(PLAN, "intervention", "control", crossed)
    assert domain.configured_start(PLAN, "intervention", {"sbrt": {"on": None}}) is None


def _vertical_member(make_participant: Any, personas: dict[str, Any]) -> tuple[Any, str]:
    member = make_participant()
    confirm_for_vertical(member, personas)
    return member, randomize(member, user=personas["nurse_nina"], trial="VERTICAL").arm


def test_the_vertical_form_is_built_from_its_treatment_file(
    client_for: Any, make_participant: Any, personas: dict[str, Any]
) -> None:
    member, arm = _vertical_member(make_participant, personas)
    client = client_for("nurse_nina")
    client.post("/trials/switch/", {"trial": "VERTICAL", "next": "/"})
    page = without_csrf(client.get(f"/treatment/{member.study_id}/").content)
    assert "SBRT, a single fraction of 18 Gy" in page
    assert 'name="sbrt_dose_gy"' in page and 'name="conventional_rt_fractions"' in page
    assert 'name="pathway"' not in page and "same-day" not in page.lower()

    day = timezone.localdate() - timedelta(days=1)
    procedure = "sbrt" if arm == "intervention" else "conventional_rt"
    response = client.post(
        f"/treatment/{member.study_id}/",
        {
            "planned_on": day.isoformat(),
            "arm_given": arm,
            f"{procedure}_on": day.isoformat(),
            f"{procedure}_dose_gy": "18" if arm == "intervention" else "8",
            f"{procedure}_fractions": "1",
        },
    )
    assert response.status_code == 302, without_csrf(response.content)
    record = TreatmentRecord.objects.get(participant=member, trial="VERTICAL")
    assert record.pathway == "" and record.arm_given == arm
    assert record.procedures[procedure] == {
        "on": day.isoformat(),
        "dose_gy": 18.0 if arm == "intervention" else 8.0,
        "fractions": 1,
    }
    assert start_from_record(record) == day and treatment_flags(record) == []
    assert received_allocated_intervention(record) == (arm == "intervention")
    assert not TreatmentRecord.objects.filter(participant=member, trial="BLEND").exists()


def test_a_day_for_another_arms_procedure_is_refused_in_words(
    client_for: Any, make_participant: Any, personas: dict[str, Any]
) -> None:
    member, _arm = _vertical_member(make_participant, personas)
    client = client_for("nurse_nina")
    client.post("/trials/switch/", {"trial": "VERTICAL", "next": "/"})
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.post(
        f"/treatment/{member.study_id}/",
        {"planned_on": day, "arm_given": "control", "sbrt_on": day},
    )
    assert response.status_code == 400
    assert "Expected no day here: Stereotactic body radiotherapy is not part of" in (
        response.content.decode()
    )
    assert not TreatmentRecord.objects.exists()
