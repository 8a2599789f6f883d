"""A query is raised from the field itself (participant page, adverse-event page), by the
roles that raise queries, on a form and field the casebook knows; fields show by label."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from blend.apps.audit.models import AuditEvent
from blend.apps.datamanagement import services
from blend.apps.datamanagement.models import Query
from blend.apps.safety.services import report_adverse_event
from tests.web.followup.factories import treat  # noqa: F401  (a fixture)
from tests.web.safety.test_adverse_events import ae_data


def _url(p, **params: str) -> str:  # type: ignore[no-untyped-def]
    return f"/datamanagement/{p.study_id}/query/?{urlencode(params)}"


def _post(p, **overrides: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "form": "Cohort registration",
        "field": "performance_status",
        "object": "",
        "next": f"/participants/{p.study_id}/",
        "assigned_role": "nurse",
        "text": "WHO 3 here, 1 in the outpatient letter?",
        **overrides,
    }


def _panel(page: str) -> str:
    """The participant page's data-management panel (the audit trail is item 14's business)."""
    return page.split('data-testid="data-management"', 1)[1].split("</section>", 1)[0]


def test_a_nurse_answers_queries_but_cannot_raise_one(make_participant, client_for) -> None:
    p = make_participant()
    nurse = client_for("nurse_nina")
    page = nurse.get(f"/participants/{p.study_id}/").content.decode()
    assert "raise-query-link" not in page and "raise-query-slot" not in page
    assert nurse.get(_url(p, form="Cohort registration", field="sex")).status_code == 403
    assert nurse.post(f"/datamanagement/{p.study_id}/query/", _post(p)).status_code == 403
    assert not Query.objects.exists()


def test_a_data_manager_raises_a_query_from_a_field_of_the_participant_page(
    make_participant, client_for
) -> None:
    p = make_participant()
    manager = client_for("datamanager_dirk")
    page = manager.get(f"/participants/{p.study_id}/").content.decode()
    links = re.findall(r'class="raise-query-link" href="([^"]+)"', page)
    assert len([url for url in links if "Cohort+registration" in url]) == 6  # one per field
    record = p.consents.first()
    assert f"form=Consent&amp;field=effective_on&amp;object={record.pk}" in page
    assert 'Raise query<span class="visually-hidden"> on WHO/ECOG performance status</span>' in (
        page
    )
    link = next(url for url in links if "performance_status" in url).replace("&amp;", "&")
    opened = manager.get(link).content.decode()
    assert "Field: <strong>WHO/ECOG performance status</strong>" in opened
    assert 'type="hidden" name="field" value="performance_status"' in opened
    fragment = manager.get(link, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and 'data-testid="raise-query"' in fragment

    response = manager.post(f"/datamanagement/{p.study_id}/query/", _post(p))
    assert response.status_code == 302 and response["Location"] == f"/participants/{p.study_id}/"
    query = Query.objects.get()
    assert (query.form, query.field, query.object_type, query.object_id) == (
        "Cohort registration",
        "performance_status",
        "registry.Participant",
        str(p.pk),
    )
    assert AuditEvent.objects.filter(action="query.open", participant=p).count() == 1
    beside = client_for("nurse_nina").get(f"/participants/{p.study_id}/").content.decode()
    assert (  # the open query shows beside its field, to the nurse who will answer it
        f'href="/datamanagement/queries/{query.pk}/" data-field="performance_status">'
        f"Query {query.pk}<" in beside
    )
    for page in (
        manager.get("/datamanagement/").content.decode(),
        _panel(manager.get(f"/participants/{p.study_id}/").content.decode()),
        manager.get(f"/datamanagement/queries/{query.pk}/").content.decode(),
    ):
        assert "WHO/ECOG performance status" in page
        assert "performance_status</" not in page and ">performance_status" not in page


def test_a_query_on_an_adverse_event_names_the_report(make_participant, client_for, personas):  # type: ignore[no-untyped-def]
    p = make_participant()
    ae = report_adverse_event(p, ae_data(), user=personas["nurse_nina"])
    manager = client_for("datamanager_dirk")
    page = manager.get(f"/safety/ae/{ae.pk}/").content.decode()
    assert f"field=grade&amp;object={ae.pk}" in page
    response = manager.post(
        f"/datamanagement/{p.study_id}/query/",
        _post(p, form="Adverse event", field="grade", object=str(ae.pk), next=""),
    )
    query = Query.objects.get()
    assert response["Location"] == f"/datamanagement/queries/{query.pk}/"
    assert (query.object_type, query.object_id) == ("safety.AdverseEvent", str(ae.pk))
    assert "CTCAE grade" in manager.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"field": "created_by"}, "“created_by” is not a field of the form “Cohort registration”"),
        ({"field": "x' OR 1=1 --"}, "is not a field of the form “Cohort registration”"),
        ({"form": "Bogus", "field": ""}, "“Bogus” is not a form a query can be raised on"),
        ({"form": "Adverse event", "field": "grade", "object": "999999"}, "is not one of"),
        ({"next": "https://evil.example/"}, None),  # not refused, but never followed
    ],
)
def test_a_query_on_an_unknown_form_field_or_record_is_refused(
    make_participant, client_for, overrides, says
) -> None:
    p = make_participant()
    manager = client_for("datamanager_dirk")
    response = manager.post(f"/datamanagement/{p.study_id}/query/", _post(p, **overrides))
    if says is None:
        assert response.status_code == 302 and "evil" not in response["Location"]
        return
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not Query.objects.exists()
    shown = {k: v for k, v in _post(p, **overrides).items() if k in ("form", "field", "object")}
    opened = manager.get(_url(p, **shown))
    assert opened.status_code == 400 and says in opened.content.decode()
    in_place = manager.get(_url(p, **shown), headers={"HX-Request": "true"})
    assert in_place.status_code == 200 and says in in_place.content.decode()  # htmx shows it


def test_another_participants_record_is_refused(make_participant, client_for, personas) -> None:
    p, other = make_participant(), make_participant()
    ae = report_adverse_event(other, ae_data(), user=personas["nurse_nina"])
    response = client_for("datamanager_dirk").post(
        f"/datamanagement/{p.study_id}/query/",
        _post(p, form="Adverse event", field="grade", object=str(ae.pk)),
    )
    assert response.status_code == 400 and not Query.objects.exists()


def test_the_service_refuses_an_unknown_field_whoever_calls_it(make_participant, personas) -> None:
    p = make_participant()
    with pytest.raises(services.DataManagementError, match="is not a field of the form"):
        services.open_query(
            services.QueryTarget(p, "Cohort registration", "study_id"),
            "?",
            assigned_role="nurse",
            user=personas["datamanager_dirk"],
        )
    assert not Query.objects.exists()


def test_a_query_on_the_whole_form_is_raised_from_the_panel(make_participant, client_for) -> None:
    p = make_participant()
    manager = client_for("datamanager_dirk")
    page = manager.get(f"/datamanagement/{p.study_id}/query/").content.decode()
    assert '<select name="form"' in page and "Adverse event" in page
    response = manager.post(
        f"/datamanagement/{p.study_id}/query/", _post(p, form="Consent", field="", next="")
    )
    assert response.status_code == 302
    assert Query.objects.get().form == "Consent"


def test_treatment_vital_status_and_clinical_events_carry_the_control_by_their_labels(
    make_participant,
    client_for,
    personas,
    treat,  # noqa: F811  (the fixture named by the import)
) -> None:
    """Issue 18 item 13 as a class: every form on the participant page, not two of them."""
    from datetime import timedelta

    from django.utils import timezone

    from blend.apps.followup.models import HospitalAdmission
    from blend.apps.followup.services import record_vital_status, save_clinical

    p = treat(make_participant(), days_ago=30)
    today = timezone.localdate()
    record_vital_status(p, last_contact_on=today, user=personas["nurse_nina"])
    save_clinical(
        HospitalAdmission(participant=p, admitted_on=today - timedelta(days=30)),
        user=personas["nurse_nina"],
    )
    page = client_for("datamanager_dirk").get(f"/participants/{p.study_id}/").content.decode()
    links = re.findall(r'class="raise-query-link" href="([^"]+)"', page)
    forms = {re.search(r"form=([^&]+)", url).group(1) for url in links}  # type: ignore[union-attr]
    assert {"Treatment", "Vital+status", "Hospital+admission"} <= forms
    # Shown by label, never the column name.
    assert 'Raise query<span class="visually-hidden"> on Date of surgery</span>' in page
    assert 'Raise query<span class="visually-hidden"> on Date of last contact</span>' in page
    record = p.treatments.get()
    manager = client_for("datamanager_dirk")
    answer = manager.post(
        f"/datamanagement/{p.study_id}/query/",
        _post(p, form="Treatment", field="surgery_on", object=str(record.pk)),
    )
    assert answer.status_code == 302
    query = Query.objects.get()
    assert (query.form, query.field, query.object_id) == ("Treatment", "surgery_on", str(record.pk))
    refused = manager.post(
        f"/datamanagement/{p.study_id}/query/", _post(p, form="Treatment", field="password")
    )
    assert refused.status_code == 400 and Query.objects.count() == 1
