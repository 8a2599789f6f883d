"""Filling in: saved as the patient goes, resumable, field errors that keep the other
answers, scored with blend.instruments on submission, staff entry with the mode."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from blend.apps.followup.models import Assessment
from blend.apps.questionnaires.models import Response
from blend.apps.questionnaires.services import issue_link
from blend.instruments import score

pytestmark = pytest.mark.django_db

C15 = {
    f"q{n}": v
    for n, v in zip(range(1, 16), [2, 1, 1, 3, 4, 2, 3, 1, 2, 1, 3, 4, 2, 2, 5], strict=True)
}


@pytest.fixture
def w4(make_participant, treat):  # type: ignore[no-untyped-def]
    return Assessment.objects.get(
        participant=treat(make_participant(), days_ago=28), timepoint="w4"
    )


@pytest.fixture
def url(w4) -> str:  # type: ignore[no-untyped-def]
    return "/questionnaires/q/" + issue_link(w4).rstrip("/").rsplit("/", 1)[1] + "/"


def _fill_all(client: Client, url: str) -> None:
    client.post(url, {"page": "0", **{k: str(v) for k, v in C15.items()}})
    client.post(url, {"page": "1", "worst_pain": "6"})
    client.post(
        url,
        {
            "page": "2",
            "any": "yes",
            "drug_1": "oxycodone|oral",
            "dose_1": "20",
            "drug_2": "",
            "dose_2": "",
        },
    )
    client.post(
        url,
        {
            "page": "3",
            "mobility": "2",
            "self_care": "1",
            "usual_activities": "3",
            "pain_discomfort": "3",
            "anxiety_depression": "2",
            "vas": "55",
        },
    )
    client.post(
        url,
        {
            "page": "4",
            "gp_visits": "2",
            "specialist_visits": "3",
            "physio_sessions": "0",
            "homecare_hours": "12",
            "hospital_nights": "4",
            "paid_work": "no",
            "sick_days": "",
        },
    )


def test_submission_stores_the_scores_of_blend_instruments(w4, url) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    _fill_all(client, url)
    assert client.get(url + "?page=5").status_code == 200
    response = client.post(url, {"page": "5", "action": "submit"})
    assert "Uw antwoorden zijn ontvangen" in response.content.decode()
    saved = Response.objects.get(assessment=w4)
    assert saved.status == "submitted" and saved.mode == "web"
    assert saved.scores["qlq-c15-pal"] == pytest.approx(score("qlq-c15-pal", C15))
    assert saved.scores["qlq-c15-pal"]["PF"] == pytest.approx(100 * 11 / 15)  # S = 4 -> k = 11
    assert saved.scores["pain-nrs"] == {"worst_pain": 6.0}
    assert saved.scores["omed"] == {"omed": 30.0}  # 20 mg oxycodone x 1.5
    assert saved.scores["eq5d5l-nl"]["vas"] == 55.0
    assert saved.answers["cost"]["hospital_nights"] == 4
    w4.refresh_from_db()
    assert w4.completed_on == timezone.localdate()


def test_answers_are_saved_per_page_and_the_link_resumes_at_the_first_blank_page(url, w4) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.post(url, {"page": "0", **{k: str(v) for k, v in C15.items()}})
    assert Response.objects.get(assessment=w4).answers["qlq-c15-pal"]["q15"] == 5
    resumed = Client().get(url)  # a new device, the same link
    assert "Ergste pijn" in resumed.content.decode()


def test_htmx_autosave_saves_what_is_valid_and_reports_the_rest(url, w4) -> None:  # type: ignore[no-untyped-def]
    response = Client().post(
        url, {"page": "3", "mobility": "2", "vas": "150"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Niet alle antwoorden" in response.content.decode()
    saved = Response.objects.get(assessment=w4).answers["eq5d5l-nl"]
    assert saved["mobility"] == 2 and saved.get("vas") is None


def test_bad_answers_get_field_errors_and_keep_what_was_entered(url, w4) -> None:  # type: ignore[no-untyped-def]
    response = Client().post(url, {"page": "3", "mobility": "2", "self_care": "9", "vas": "abc"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Kies een van de antwoorden." in body
    assert "Vul een getal in (u vulde &#x27;abc&#x27; in)." in body
    assert 'value="abc"' in body  # the typed text is shown again to correct
    assert 'name="mobility" value="2" checked' in body
    saved = Response.objects.get(assessment=w4).answers["eq5d5l-nl"]
    assert saved["mobility"] == 2 and "self_care" not in saved and "vas" not in saved


def test_a_painkiller_without_a_dose_is_a_field_error(url) -> None:  # type: ignore[no-untyped-def]
    response = Client().post(
        url, {"page": "2", "any": "yes", "drug_1": "morphine|oral", "dose_1": ""}
    )
    assert response.status_code == 400
    assert "Vul in hoeveel u gebruikt, of kies “—” als pijnstiller" in response.content.decode()


def test_partly_answered_questionnaire_scores_what_it_can(url, w4) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.post(url, {"page": "0", "q1": "1", "q2": "1", "q3": "2"})
    client.post(url, {"page": "5", "action": "submit"})
    scores = Response.objects.get(assessment=w4).scores
    assert scores["qlq-c15-pal"]["PF"] == pytest.approx(100 * 11 / 15)
    assert scores["qlq-c15-pal"]["QL"] is None
    assert scores["pain-nrs"]["worst_pain"] is None and scores["omed"]["omed"] is None


def test_staff_enter_a_paper_questionnaire_with_its_mode(client_for, w4) -> None:  # type: ignore[no-untyped-def]
    post = {
        "mode": "paper",
        "completed_on": str(timezone.localdate() - timedelta(days=1)),
        **{f"qlq-c15-pal__{k}": str(v) for k, v in C15.items()},
        "pain-nrs__worst_pain": "3",
        "omed__any": "no",
    }
    response = client_for("nurse_nina").post(f"/questionnaires/assessment/{w4.pk}/", post)
    assert response.status_code == 302
    saved = Response.objects.get(assessment=w4)
    assert (saved.mode, saved.status, saved.entered_by.username) == (
        "paper",
        "submitted",
        "nurse_nina",
    )
    assert saved.scores["omed"] == {"omed": 0.0}
    assert saved.scores["qlq-c15-pal"]["PF"] == pytest.approx(100 * 11 / 15)
    page = (
        client_for("statistician_stan").get(f"/questionnaires/assessment/{w4.pk}/").content.decode()
    )
    assert 'data-scale="qlq-c15-pal:PF">73.33' in page


def test_staff_entry_errors_keep_the_entered_answers(client_for, w4) -> None:  # type: ignore[no-untyped-def]
    post = {"mode": "", "completed_on": "", "qlq-c15-pal__q1": "3", "pain-nrs__worst_pain": "11"}
    response = client_for("nurse_nina").post(f"/questionnaires/assessment/{w4.pk}/", post)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Expected paper or telephone." in body and "Choose one of the answers." in body
    assert 'name="qlq-c15-pal__q1" value="3" checked' in body
    assert not Response.objects.filter(assessment=w4).exists()


def test_a_blank_staff_entry_is_refused_not_an_error(client_for, w4) -> None:  # type: ignore[no-untyped-def]
    post = {"mode": "telephone", "completed_on": str(timezone.localdate())}
    response = client_for("nurse_nina").post(f"/questionnaires/assessment/{w4.pk}/", post)
    assert response.status_code == 400
    assert "expected at least one answered question" in response.content.decode()
    assert not Response.objects.filter(assessment=w4, status="submitted").exists()


@pytest.mark.parametrize(
    "persona", ["statistician_stan", "monitor_mo", "datamanager_dirk", "admin_ada"]
)
def test_roles_without_questionnaire_entry_cannot_enter(client_for, w4, persona) -> None:  # type: ignore[no-untyped-def]
    client = client_for(persona)
    page = client.get(f"/questionnaires/assessment/{w4.pk}/").content.decode()
    assert "Enter a paper or telephone questionnaire" not in page
    client.post(
        f"/questionnaires/assessment/{w4.pk}/",
        {"mode": "paper", "completed_on": str(timezone.localdate()), "pain-nrs__worst_pain": "3"},
    )
    assert not Response.objects.filter(assessment=w4).exists()


def test_the_patient_can_switch_language_and_it_sticks_to_the_link(url) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    assert "Opslaan en verder" in client.get(url).content.decode()
    english = client.get(url + "?lang=en&page=1").content.decode()
    assert "Save and continue" in english and 'lang="en"' in english
    assert "Please rate the pain at the treated site" in english
    assert "Save and continue" in client.get(url + "?page=2").content.decode()
    assert (
        "Opslaan en verder" in Client().get(url).content.decode()
    )  # another device: preferred language
