"""Treatment records per pathway: the form, the flags, the reason for change, the
re-planned schedule, and who may see and write them."""

from __future__ import annotations

from datetime import date

import pytest

from blend.apps.followup.models import Assessment
from blend.apps.offers.models import Offer
from blend.apps.treatment.models import TreatmentRecord
from blend.apps.treatment.services import treatment_start

pytestmark = pytest.mark.django_db


def _same_day(**extra: str) -> dict[str, str]:
    return {
        "pathway": "same_day",
        "planned_on": "2025-04-01",
        "sbrt_dose_gy": "18",
        "sbrt_fractions": "1",
        "surgical_site_dose_gy": "4",
        "sbrt_started_at": "2025-04-01T08:00",
        "surgery_started_at": "2025-04-01T13:30",
        "levels_stabilized": "T11-L1",
        "levels_count": "3",
        "decompression": "true",
        "approach": "percutaneous",
        **extra,
    }


def test_intervention_record_sets_the_start_and_plans_the_schedule(
    client_for, make_participant, allocate
) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    allocate(p, "intervention")
    response = client_for("nurse_nina").post(f"/treatment/{p.study_id}/", _same_day())
    assert response.status_code == 302
    record = TreatmentRecord.objects.get(participant=p)
    assert (record.surgery_on, record.radiotherapy_on, record.hours_between) == (
        date(2025, 4, 1),
        date(2025, 4, 1),
        5.5,
    )
    assert treatment_start(p) == date(2025, 4, 1)
    assert Assessment.objects.get(participant=p, timepoint="w4").target_on == date(2025, 4, 29)


def test_more_than_24_hours_apart_is_flagged(client_for, make_participant, allocate) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    allocate(p, "intervention")
    client = client_for("nurse_nina")
    response = client.post(
        f"/treatment/{p.study_id}/", _same_day(surgery_started_at="2025-04-02T09:00"), follow=True
    )
    assert "SBRT and surgery more than 24 h apart" in response.content.decode()
    page = client.get(f"/participants/{p.study_id}/").content.decode()
    assert 'data-testid="treatment-flag"' in page


def test_control_radiotherapy_within_7_days_is_flagged(
    client_for, make_participant, allocate
) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    allocate(p, "control")
    response = client_for("nurse_nina").post(
        f"/treatment/{p.study_id}/",
        {
            "pathway": "standard",
            "planned_on": "2025-04-01",
            "surgery_on": "2025-04-01",
            "radiotherapy_on": "2025-04-06",
            "radiotherapy_type": "5x4 Gy",
        },
        follow=True,
    )
    assert "radiotherapy less than 7 days after surgery" in response.content.decode()
    assert TreatmentRecord.objects.get(participant=p).sbrt_dose_gy is None


def test_default_pathway_follows_arm_and_offer(
    client_for, make_participant, allocate, personas
) -> None:  # type: ignore[no-untyped-def]
    accepted, refused = make_participant(), make_participant()
    for p, state in ((accepted, "accepted"), (refused, "refused")):
        allocate(p, "intervention")
        Offer.objects.create(
            trial="BLEND",
            participant=p,
            state=state,
            offered_on=date(2025, 3, 5),
            trial_consent_version="1.0",
            reason="" if state == "accepted" else "prefers standard care",
        )
    client = client_for("nurse_nina")
    assert (
        'value="same_day" selected'
        in client.get(f"/treatment/{accepted.study_id}/").content.decode()
    )
    assert (
        'value="standard" selected'
        in client.get(f"/treatment/{refused.study_id}/").content.decode()
    )


def test_bad_input_names_the_field_and_keeps_the_rest(client_for, make_participant) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    response = client_for("nurse_nina").post(
        f"/treatment/{p.study_id}/",
        _same_day(sbrt_fractions="", surgery_started_at="2025-04-01T07:00"),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Expected the SBRT prescription for same-day treatment." in body
    assert "Expected after the start of SBRT (SBRT comes first)." in body
    assert 'value="T11-L1"' in body
    assert not TreatmentRecord.objects.exists()


def test_an_edit_needs_a_reason(client_for, make_participant) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    client = client_for("nurse_nina")
    client.post(f"/treatment/{p.study_id}/", _same_day())
    response = client.post(f"/treatment/{p.study_id}/", _same_day(sbrt_dose_gy="16"))
    assert response.status_code == 400
    assert "Expected a reason for changing a saved treatment record." in response.content.decode()
    client.post(f"/treatment/{p.study_id}/", _same_day(sbrt_dose_gy="16", reason="typo in dose"))
    record = TreatmentRecord.objects.get(participant=p)
    assert record.sbrt_dose_gy == 16
    assert record.history.first().history_change_reason == "typo in dose"


@pytest.mark.parametrize(
    "persona", ["statistician_stan", "monitor_mo", "datamanager_dirk", "admin_ada"]
)
def test_roles_without_clinical_write_cannot_record(client_for, make_participant, persona) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    assert client_for(persona).post(f"/treatment/{p.study_id}/", _same_day()).status_code == 403
    assert not TreatmentRecord.objects.exists()


def test_the_pathway_is_hidden_from_roles_that_may_not_see_arms(
    client_for, make_participant, treat
) -> None:  # type: ignore[no-untyped-def]
    p = treat(make_participant(), pathway="same_day")
    admin_page = client_for("admin_ada").get(f"/participants/{p.study_id}/").content.decode()
    assert "same-day" not in admin_page.lower() and "SBRT" not in admin_page
    assert "Start of treatment (day 0)" in admin_page
    nurse_page = client_for("nurse_nina").get(f"/participants/{p.study_id}/").content.decode()
    assert "same-day SBRT and surgery" in nurse_page


def _pathway_sets(body: str) -> dict[str, bool]:
    """Which pathway fieldsets the page shows (True) or hides (False)."""
    shown = {}
    for pathway in ("same_day", "standard"):
        start = body.index(f'data-testid="pathway-{pathway}"')
        shown[pathway] = " hidden" not in body[start : body.index(">", start)]
    return shown


def test_the_form_shows_only_the_chosen_pathways_fields(  # type: ignore[no-untyped-def]
    client_for, make_participant, allocate, personas
) -> None:
    accepted = make_participant()
    allocate(accepted, "intervention")
    Offer.objects.create(
        trial="BLEND",
        participant=accepted,
        state="accepted",
        offered_on=date(2025, 3, 5),
        trial_consent_version="1.0",
    )
    client = client_for("nurse_nina")
    body = client.get(f"/treatment/{accepted.study_id}/").content.decode()
    assert _pathway_sets(body) == {"same_day": True, "standard": False}
    assert (
        'name="sbrt_dose_gy"'
        in body.split('data-testid="pathway-same_day"')[1].split("</fieldset>")[0]
    )
    assert "treatment/pathway.js" in body and "://" not in body.split("pathway.js")[0][-80:]
    bad = client.post(
        f"/treatment/{accepted.study_id}/",
        {
            "pathway": "standard",
            "planned_on": "2025-04-01",
            "surgery_on": "2025-04-01",
            "radiotherapy_on": "2025-03-20",
        },
    )
    assert bad.status_code == 400
    assert _pathway_sets(bad.content.decode()) == {"same_day": False, "standard": True}
    assert "radiotherapy_on" in bad.context["form"].errors


def test_the_other_pathways_fields_are_neither_validated_nor_saved(  # type: ignore[no-untyped-def]
    client_for, make_participant
) -> None:
    p = make_participant()
    response = client_for("nurse_nina").post(
        f"/treatment/{p.study_id}/",
        {
            "pathway": "standard",
            "planned_on": "2025-04-01",
            "surgery_on": "2025-04-01",
            "radiotherapy_on": "2025-04-20",
            "sbrt_dose_gy": "not a number",  # hidden same-day field, left over
            "sbrt_started_at": "2025-04-01T08:00",
        },
    )
    assert response.status_code == 302
    record = TreatmentRecord.objects.get()
    assert record.sbrt_dose_gy is None and record.sbrt_started_at is None
    response = client_for("nurse_nina").post(
        f"/treatment/{make_participant().study_id}/",
        _same_day(radiotherapy_on="bad date", surgery_on="2025-01-01"),
    )
    assert response.status_code == 302
    assert TreatmentRecord.objects.filter(pathway="same_day").exists()
