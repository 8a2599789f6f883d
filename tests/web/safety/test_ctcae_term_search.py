"""The AE form offers every CTCAE v5.0 term, BLEND's first, grouped by organ class, and
searches them as the reporter types (htmx); the service and the API accept any term by
its key and refuse an unknown one naming the field."""

from __future__ import annotations

import re

import pytest

from blend.apps.safety import domain, services
from blend.apps.safety.models import AdverseEvent
from tests.web.safety.test_adverse_events import ae_data

pytestmark = pytest.mark.django_db


def _options(html: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', html)


def test_the_form_lists_every_term_blend_first(make_participant, client_for) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    body = client_for("nurse_nina").get(f"/safety/{p.study_id}/new/").content.decode()
    select = body[body.index('name="term"') : body.index("</select>", body.index('name="term"'))]
    values = [v for v in _options(select) if v]
    assert len(values) == 837 + 1  # every CTCAE term, and "other"
    assert values[:3] == ["wound_complication", "wound_dehiscence", "wound_infection"]
    assert 'optgroup label="BLEND: wound and treatment-related terms"' in select
    assert 'optgroup label="Blood and lymphatic system disorders"' in select
    assert 'name="term_search"' in body and 'hx-get="terms/"' in body
    # Before a term is chosen, the grade table shows BLEND's terms, not all 837.
    assert "Incisional separation, intervention not indicated" in body
    assert "Hemoglobin (Hgb) &lt;LLN - 10.0 g/dL" not in body


def test_searching_narrows_the_list_and_keeps_the_choice(make_participant, client_for) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    client = client_for("nurse_nina")
    found = client.get(f"/safety/{p.study_id}/new/terms/", {"term_search": "anem"}).content.decode()
    assert "10002272" in _options(found) and "wound_infection" not in _options(found)
    by_code = client.get(f"/safety/{p.study_id}/new/terms/", {"term_search": "10048038"})
    assert "wound_infection" in _options(by_code.content.decode())
    by_class = client.get(
        f"/safety/{p.study_id}/new/terms/", {"term_search": "cardiac arrest"}
    ).content.decode()
    assert [v for v in _options(by_class) if v not in {"", "other"}] == ["10007515"]
    kept = client.get(
        f"/safety/{p.study_id}/new/terms/", {"term_search": "anem", "term": "seroma"}
    ).content.decode()
    assert 'value="seroma" selected' in kept and "10002272" in _options(kept)
    nothing = client.get(f"/safety/{p.study_id}/new/terms/", {"term_search": "zzzz"})
    assert "No CTCAE term matches" in nothing.content.decode()
    dutch = client.get(f"/safety/{p.study_id}/new/terms/", {"term_search": "wondinf"})
    assert "wound_infection" in _options(dutch.content.decode())


def test_any_ctcae_term_is_reported_and_shown_by_name(
    make_participant, personas, client_for
) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    ae = services.report_adverse_event(
        p, ae_data(term="10002272", grade=3), user=personas["nurse_nina"]
    )
    assert ae.term_label == "Anemia"
    page = client_for("nurse_nina").get(f"/safety/ae/{ae.pk}/").content.decode()
    assert "Anemia" in page and "Hgb &lt;8.0 g/dL" in page  # its grade 3 definition
    with pytest.raises(
        services.SafetyError, match="^term: expected a CTCAE v5.0 term .* got '12345678'"
    ):
        services.report_adverse_event(p, ae_data(term="12345678"), user=personas["nurse_nina"])
    assert AdverseEvent.objects.count() == 1


def test_the_form_saves_a_term_found_by_search(make_participant, client_for) -> None:  # type: ignore[no-untyped-def]
    p = make_participant()
    post = {
        "term_search": "anemia",
        "term": "10002272",
        "grade": "2",
        "onset_date": "2025-04-01",
        "related_sbrt": "unlikely",
        "related_surgery": "unlikely",
        "action_taken": "medication",
        "outcome": "recovering",
        "aware_at": "2025-04-02T09:00",
    }
    response = client_for("nurse_nina").post(f"/safety/{p.study_id}/new/", post)
    assert response.status_code == 302, response.content.decode()[:1500]
    assert AdverseEvent.objects.get().term == "10002272"


def test_grouping_keeps_blend_first_and_other_last() -> None:
    groups = domain.grouped(list(domain.TERMS))
    assert groups[0][0] == domain.BLEND_GROUP and groups[-1][0] == domain.OTHER_GROUP
    assert groups[-1][1] == [("other", "Other (name the CTCAE v5.0 term)")]


def test_the_forms_helpers_need_a_login_and_ae_write(client, client_for) -> None:  # type: ignore[no-untyped-def]
    for url in ("/safety/terms/?term_search=anem", "/safety/grades/?term=seroma"):
        assert client.get(url).status_code == 302  # to the login page
        assert client_for("monitor_mo").get(url).status_code == 403
        assert client_for("nurse_nina").get(url).status_code == 200
