"""The FHIR import of screening facts into the cohort: a good bundle pre-fills a member's
facts, marked imported and unconfirmed; they feed the worklist; eligibility waits for the
nurse's confirmation; a bad bundle is refused whole; the permission boundaries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from blend.apps.audit.models import AuditEvent
from blend.apps.prescreening.fhir_import import (
    confirm_imported_facts,
    import_fhir_bundle,
    unconfirmed_imports,
)
from blend.apps.prescreening.models import CohortFact, Origin
from blend.apps.prescreening.services import PrescreeningError, record_cohort_facts, worklist
from blend.apps.screening.services import ScreeningError, confirm_eligibility
from blend.interop.fhir_import import BundleRefused
from tests.web.prescreening.test_prescreening import BLEND_COHORT_FACTS, RECORDED_ON
from tests.web.screening.flow import PASSWORD, screen

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).parents[2] / "fixtures" / "fhir" / "screening-bundle.json"
IMPORTED = {
    "bone_metastases_imaging",
    "index_levels",
    "kps",
    "neurological_signs",
    "long_halflife_drugs",
    "prior_radiotherapy_index",
}


def bundle_for(study_id: str = "", hospital_number: str = "") -> dict[str, Any]:
    bundle = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    identifiers = []
    if study_id:
        identifiers.append({"system": "urn:blend:study-id", "value": study_id})
    if hospital_number:
        identifiers.append({"system": "urn:blend:hospital-number", "value": hospital_number})
    bundle["entry"][0]["resource"]["identifier"] = identifiers
    return bundle


def facts_of(member: Any) -> dict[str, Any]:
    return dict(CohortFact.objects.filter(participant=member).values_list("key", "value"))


# ------------------------------------------------------------------- a good bundle


def test_a_good_bundle_prefills_the_members_facts_marked_imported_and_unconfirmed(
    make_participant, personas
) -> None:
    member, nurse = make_participant(), personas["nurse_nina"]
    result = import_fhir_bundle(bundle_for(member.study_id), user=nurse)
    assert result.participant == member and set(result.written.values()) == {"added"}
    rows = {row.key: row for row in CohortFact.objects.filter(participant=member)}
    assert set(rows) == IMPORTED
    assert rows["kps"].value == 70 and rows["index_levels"].value == ["T7", "T8"]
    assert all(row.origin == Origin.FHIR and row.to_confirm for row in rows.values())
    assert rows["kps"].source == "FHIR UMCU-2026-03-02-0018: Observation/ecog (2026-03-02)"
    event = AuditEvent.objects.get(action="cohort_facts.import_fhir", participant=member)
    assert event.details["bundle"] == "UMCU-2026-03-02-0018" and event.actor == nurse
    assert "PRS000018" not in json.dumps(event.details)
    assert [row.key for row in unconfirmed_imports(member)] == sorted(IMPORTED)


def test_imported_facts_feed_the_worklist_with_a_count_to_confirm(
    make_participant, personas, client_for
) -> None:
    nurse = personas["nurse_nina"]
    on_list, falls_off = make_participant(), make_participant()
    record_cohort_facts(on_list, {"pain_score": 6}, on=RECORDED_ON, user=nurse, source="MDT")
    record_cohort_facts(falls_off, BLEND_COHORT_FACTS, on=RECORDED_ON, user=nurse, source="MDT")
    assert falls_off.study_id in {row.study_id for row in worklist("BLEND").rows}
    import_fhir_bundle(bundle_for(on_list.study_id), user=nurse)
    bundle = bundle_for(falls_off.study_id)
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] != "rt-2024"]
    result = import_fhir_bundle(bundle, user=nurse)
    assert result.written["long_halflife_drugs"] == "replaced"  # bevacizumab: BLEND excludes
    rows = {row.study_id: row for row in worklist("VERTICAL").rows}
    assert rows[on_list.study_id].to_confirm == len(IMPORTED)
    assert falls_off.study_id not in {row.study_id for row in worklist("BLEND").rows}
    page = client_for("nurse_nina").get(reverse("prescreening:worklist"), {"trial": "VERTICAL"})
    assert 'data-testid="to-confirm"' in page.content.decode()


def test_a_value_the_nurse_entered_is_replaced_only_with_what_it_was_kept(
    make_participant, personas
) -> None:
    member, nurse = make_participant(), personas["nurse_nina"]
    record_cohort_facts(
        member, {"kps": 70, "asia_grade": "E"}, on=RECORDED_ON, user=nurse, source="MDT"
    )
    bundle = bundle_for(member.study_id)
    bundle["entry"].append(
        {
            "resource": {
                "resourceType": "Observation",
                "id": "kps",
                "status": "final",
                "code": {"coding": [{"system": "urn:blend:screening-fact", "code": "kps"}]},
                "subject": {"reference": "Patient/p1"},
                "valueInteger": 60,
            }
        }
    )
    result = import_fhir_bundle(bundle, user=nurse)
    assert result.written["kps"] == "replaced"
    row = CohortFact.objects.get(participant=member, key="kps")
    assert (row.value, row.replaced_value, row.to_confirm) == (60, 70, True)
    assert (
        CohortFact.history.filter(key="kps")
        .first()
        .history_change_reason.startswith("imported from the hospital record")
    )
    asia = CohortFact.objects.get(participant=member, key="asia_grade")
    assert asia.origin == Origin.ENTERED  # not in the bundle: untouched
    # The nurse corrects it on the form: recorded as entered, nothing left to confirm there.
    record_cohort_facts(
        member, {"kps": 70}, on=RECORDED_ON, user=nurse, source="MDT", reason="record checked"
    )
    row.refresh_from_db()
    assert (row.value, row.origin, row.to_confirm, row.replaced_value) == (
        70,
        Origin.ENTERED,
        False,
        None,
    )


def test_the_same_value_again_is_left_as_it_is(make_participant, personas) -> None:
    member, nurse = make_participant(), personas["nurse_nina"]
    import_fhir_bundle(bundle_for(member.study_id), user=nurse)
    confirm_imported_facts(member, ["kps"], user=nurse)
    again = import_fhir_bundle(bundle_for(member.study_id), user=nurse)
    assert set(again.written.values()) == {"unchanged"} and again.to_confirm == []
    assert not CohortFact.objects.get(participant=member, key="kps").to_confirm


# ----------------------------------------------------- confirmation, and screening final


def test_eligibility_is_not_confirmed_while_an_imported_fact_is_unconfirmed(
    make_participant, personas
) -> None:
    member, nurse, ivo = make_participant(), personas["nurse_nina"], personas["investigator_ivo"]
    screen(member, nurse)
    bundle = bundle_for(member.study_id)
    bundle["entry"] = bundle["entry"][:3]  # the Patient, the bone metastases, ECOG
    import_fhir_bundle(bundle, user=nurse)
    with pytest.raises(ScreeningError) as caught:
        confirm_eligibility(member, user=ivo, password=PASSWORD)
    message = caught.value.errors["__all__"]
    assert "confirmed by the research nurse before eligibility is confirmed" in message
    assert "Karnofsky performance status (0-100)" in message
    assert not AuditEvent.objects.filter(action="eligibility.confirm").exists()

    confirm_imported_facts(member, ["kps", "index_levels"], user=nurse)
    with pytest.raises(ScreeningError, match="Imaging evidence of bone metastases"):
        confirm_eligibility(member, user=ivo, password=PASSWORD)
    confirm_imported_facts(member, ["bone_metastases_imaging"], user=nurse)
    assert confirm_eligibility(member, user=ivo, password=PASSWORD).confirmed_at is not None
    event = AuditEvent.objects.filter(action="cohort_facts.confirm_import").order_by("-pk").first()
    assert event.actor == nurse and event.details["facts"] == ["bone_metastases_imaging"]


def test_confirming_needs_an_imported_fact_waiting_for_it(make_participant, personas) -> None:
    member, nurse = make_participant(), personas["nurse_nina"]
    import_fhir_bundle(bundle_for(member.study_id), user=nurse)
    with pytest.raises(PrescreeningError) as caught:
        confirm_imported_facts(member, ["kps", "pain_score"], user=nurse)
    assert "expected an imported fact waiting for confirmation" in caught.value.errors["pain_score"]
    assert CohortFact.objects.get(participant=member, key="kps").to_confirm  # nothing confirmed
    with pytest.raises(PrescreeningError, match="at least one imported fact"):
        confirm_imported_facts(member, [], user=nurse)


def test_the_nurse_confirms_on_the_cohort_facts_page(
    make_participant, personas, client_for
) -> None:
    member = make_participant()
    import_fhir_bundle(bundle_for(member.study_id), user=personas["nurse_nina"])
    client = client_for("nurse_nina")
    url = reverse("prescreening:facts", args=[member.study_id])
    page = client.get(url).content.decode()
    assert 'data-testid="imported-to-confirm"' in page and "FHIR UMCU-2026-03-02-0018" in page
    panel = client.get(reverse("participant-detail", args=[member.study_id])).content.decode()
    assert 'data-testid="imports-to-confirm"' in panel
    confirm_url = reverse("prescreening:confirm-imports", args=[member.study_id])
    response = client.post(confirm_url, {"key": ["kps", "index_levels"]})
    assert response.status_code == 302
    assert {row.key for row in unconfirmed_imports(member)} == IMPORTED - {"kps", "index_levels"}
    response = client.post(confirm_url, {"key": ["nonsense"]}, follow=True)
    assert "expected an imported fact waiting for confirmation" in response.content.decode()
    client.post(confirm_url, {"key": sorted(IMPORTED - {"kps", "index_levels"})})
    assert 'data-testid="imported-to-confirm"' not in client.get(url).content.decode()


# ------------------------------------------------------------------- refused whole


def test_a_bundle_for_no_member_is_refused_and_nothing_is_written(
    make_participant, personas
) -> None:
    make_participant()
    with pytest.raises(BundleRefused) as caught:
        import_fhir_bundle(bundle_for("PRS999999"), user=personas["nurse_nina"])
    (problem,) = caught.value.problems
    assert problem.path == "Bundle.entry[0].resource.identifier"
    assert problem.expected == "the study ID of one cohort member"
    assert problem.found == "('PRS999999',)"
    assert not CohortFact.objects.exists()
    assert not AuditEvent.objects.filter(action="cohort_facts.import_fhir").exists()


def test_a_bad_resource_refuses_the_whole_bundle(make_participant, personas) -> None:
    member = make_participant()
    bundle = bundle_for(member.study_id)
    bundle["entry"][2]["resource"]["valueInteger"] = 9  # ECOG 9: maps to nothing, but
    bundle["entry"][3]["resource"]["valueCodeableConcept"]["coding"][0]["code"] = "some"
    with pytest.raises(BundleRefused) as caught:
        import_fhir_bundle(bundle, user=personas["nurse_nina"])
    (problem,) = caught.value.problems
    assert problem.path == "Bundle.entry[3].resource.valueCodeableConcept.coding[0].code"
    assert problem.expected == "one of ['none', 'mild', 'severe'], got 'some'"
    assert not CohortFact.objects.exists()


def test_matching_by_hospital_number_needs_the_identifiers_capability(
    make_participant, personas
) -> None:
    member = make_participant()
    number = member.identity.hospital_number
    result = import_fhir_bundle(
        bundle_for(hospital_number=number.lower()), user=personas["nurse_nina"]
    )
    assert result.participant == member
    other = make_participant()
    with pytest.raises(
        BundleRefused, match="a study ID and a hospital number of the same cohort member"
    ):
        import_fhir_bundle(bundle_for(other.study_id, number), user=personas["nurse_nina"])
    with pytest.raises(BundleRefused) as caught:
        import_fhir_bundle(bundle_for(hospital_number="H0000000"), user=personas["nurse_nina"])
    assert "H0000000" not in str(caught.value)  # a direct identifier is not repeated back


@pytest.mark.parametrize(
    "persona", ["datamanager_dirk", "monitor_mo", "statistician_stan", "admin_ada"]
)
def test_only_roles_that_record_cohort_facts_import_or_confirm_them(
    make_participant, personas, persona
) -> None:
    member = make_participant()
    with pytest.raises(PermissionDenied):
        import_fhir_bundle(bundle_for(member.study_id), user=personas[persona])
    import_fhir_bundle(bundle_for(member.study_id), user=personas["nurse_nina"])
    with pytest.raises(PermissionDenied):
        confirm_imported_facts(member, ["kps"], user=personas[persona])
    assert CohortFact.objects.get(participant=member, key="kps").to_confirm


def test_the_confirm_page_is_refused_to_roles_that_do_not_record_facts(
    make_participant, personas, client_for
) -> None:
    member = make_participant()
    import_fhir_bundle(bundle_for(member.study_id), user=personas["nurse_nina"])
    url = reverse("prescreening:confirm-imports", args=[member.study_id])
    assert client_for("monitor_mo").post(url, {"key": ["kps"]}).status_code == 403
    assert CohortFact.objects.get(participant=member, key="kps").to_confirm
