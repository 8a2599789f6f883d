"""Screening pages: who may open them, the live summary, field errors, confirmation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from blend.apps.allocation.services import randomize
from blend.apps.screening.models import Screening
from tests.web.screening.flow import PASSWORD, screen, screen_and_confirm

pytestmark = pytest.mark.django_db

WRITERS = {"nurse_nina", "investigator_ivo"}
EVERYONE = [
    "nurse_nina",
    "investigator_ivo",
    "datamanager_dirk",
    "statistician_stan",
    "monitor_mo",
    "admin_ada",
]


def form_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "screened_on": "2025-03-10",
        "index_levels": ["T7", "T8"],
        "symptoms": ["mechanical_pain"],
        "sins_location": "semi_rigid",
        "sins_pain": "mechanical",
        "sins_bone_lesion": "lytic",
        "sins_alignment": "normal",
        "sins_collapse": "under_50",
        "sins_posterolateral": "none",
        "bilsky_grade": "1a",
        "radiotherapy_indicated": "yes",
        "surgery_indicated": "yes",
        "malignancy_proof": "histology",
        "radiographic_evidence": "yes",
        "levels_to_bridge": "3",
        "radiotherapy_locations": "1",
        "prior_surgery_index": "no",
        "prior_radiotherapy_index": "no",
        "multiple_myeloma": "no",
        "asia_grade": "E",
        "asia_rapid_progression": "",
        "long_halflife_drugs": "no",
        "life_expectancy_months": "8",
        "can_lie_on_table": "yes",
        "fit_for_radiosurgery": "yes",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("username", EVERYONE)
def test_only_screening_writers_open_the_form_and_preview(
    client_for, make_participant, username: str
) -> None:
    participant = make_participant()
    client = client_for(username)
    expected = 200 if username in WRITERS else 403
    assert (
        client.get(reverse("screening:form", args=[participant.study_id])).status_code == expected
    )
    response = client.post(reverse("screening:preview", args=[participant.study_id]), form_data())
    assert response.status_code == expected
    response = client.post(reverse("screening:form", args=[participant.study_id]), form_data())
    assert response.status_code == (302 if username in WRITERS else 403)
    assert Screening.objects.exists() == (username in WRITERS)


@pytest.mark.parametrize("username", EVERYONE)
def test_only_investigators_open_the_confirmation(
    client_for, make_participant, personas, username: str
) -> None:
    participant = make_participant()
    screen(participant, personas["nurse_nina"])
    client = client_for(username)
    url = reverse("screening:confirm", args=[participant.study_id])
    expected = 200 if username == "investigator_ivo" else 403
    assert client.get(url).status_code == expected
    client.post(url, {"password": PASSWORD, "attest": "on"})
    assert Screening.objects.get().is_confirmed == (username == "investigator_ivo")


@pytest.mark.parametrize("username", EVERYONE)
def test_the_screening_log_shows_reasons_but_no_identifiers(
    client_for, make_participant, personas, username: str
) -> None:
    participant = make_participant(full_name="Greta Identifiable")
    screen(participant, personas["nurse_nina"], multiple_myeloma=True)
    response = client_for(username).get(reverse("screening:log"))
    assert response.status_code == 200
    html = response.content.decode()
    assert participant.study_id in html and "E4_MULTIPLE_MYELOMA" in html
    assert "Greta" not in html and "1960-05-17" not in html


def test_saving_the_form_computes_sins_and_the_verdict(client_for, make_participant) -> None:
    participant = make_participant()
    response = client_for("nurse_nina").post(
        reverse("screening:form", args=[participant.study_id]), form_data()
    )
    assert response.status_code == 302
    screening = Screening.objects.get()
    assert screening.status == "eligible" and screening.facts["sins_total"] == 1 + 3 + 2 + 0 + 2 + 0
    assert screening.facts["asia_grade"] == "E" and "asia_rapid_progression" not in screening.facts


def test_the_live_summary_lists_every_failing_criterion(client_for, make_participant) -> None:
    participant = make_participant()
    response = client_for("nurse_nina").post(
        reverse("screening:preview", args=[participant.study_id]),
        form_data(levels_to_bridge="7", multiple_myeloma="yes", life_expectancy_months=""),
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert 'data-testid="eligibility-status">ineligible' in html
    assert "E2_LEVELS_TO_BRIDGE" in html and "E4_MULTIPLE_MYELOMA" in html
    assert "Estimated life expectancy" in html  # undecided, listed separately
    assert not Screening.objects.exists()  # the preview writes nothing


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"levels_to_bridge": "-1"}, "levels_to_bridge"),
        ({"life_expectancy_months": "soon"}, "life_expectancy_months"),
        ({"asia_grade": "F"}, "asia_grade"),
        ({"screened_on": "2999-01-01"}, "screened_on"),
        ({"screened_on": "2025-01-01"}, "screened_on"),  # before cohort entry
        ({"index_levels": ["X9"]}, "index_levels"),
    ],
)
def test_bad_input_gives_field_errors_and_writes_nothing(
    client_for, make_participant, changes, field
) -> None:
    participant = make_participant()
    response = client_for("nurse_nina").post(
        reverse("screening:form", args=[participant.study_id]), form_data(**changes)
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Screening.objects.exists()


def test_an_edit_without_a_reason_is_refused_on_the_form(
    client_for, make_participant, personas
) -> None:
    participant = make_participant()
    screen(participant, personas["nurse_nina"])
    client = client_for("nurse_nina")
    url = reverse("screening:form", args=[participant.study_id])
    response = client.post(url, form_data(levels_to_bridge="6"))
    assert response.status_code == 400 and "reason" in response.context["form"].errors
    assert Screening.objects.get().facts["levels_to_bridge"] == 4
    assert client.post(url, form_data(levels_to_bridge="6", reason="re-read")).status_code == 302
    assert Screening.objects.get().facts["levels_to_bridge"] == 6


def test_a_wrong_password_is_a_field_error(client_for, make_participant, personas) -> None:
    participant = make_participant()
    screen(participant, personas["nurse_nina"])
    response = client_for("investigator_ivo").post(
        reverse("screening:confirm", args=[participant.study_id]),
        {"password": "nope", "attest": "on"},
    )
    assert response.status_code == 400 and "password" in response.context["form"].errors
    assert not Screening.objects.get().is_confirmed


def test_the_participant_page_shows_the_screening_panel(
    client_for, make_participant, personas
) -> None:
    participant = make_participant()
    screen(participant, personas["nurse_nina"], prior_radiotherapy_index=True)
    html = client_for("statistician_stan").get(
        reverse("participant-detail", args=[participant.study_id])
    )
    text = html.content.decode()
    assert 'data-testid="screening-panel"' in text and "E3_PRIOR_RADIOTHERAPY" in text
    assert reverse("screening:form", args=[participant.study_id]) not in text  # no write link


def test_the_panel_offers_no_edit_once_the_participant_is_randomized(
    client_for, make_participant, personas
) -> None:
    participant = make_participant()
    screen_and_confirm(participant, personas)
    page = reverse("participant-detail", args=[participant.study_id])
    edit = reverse("screening:form", args=[participant.study_id])
    assert edit in client_for("nurse_nina").get(page).content.decode()
    randomize(participant, user=personas["nurse_nina"])
    text = client_for("nurse_nina").get(page).content.decode()
    assert 'data-testid="screening-panel"' in text and edit not in text


def test_the_confirmation_shows_every_criterion_with_its_values_and_sources(
    client_for, make_participant, personas
) -> None:
    from blend.eligibility import load_criteria

    participant = make_participant()
    screen(participant, personas["nurse_nina"])
    response = client_for("investigator_ivo").get(
        reverse("screening:confirm", args=[participant.study_id])
    )
    page = response.content.decode()
    rows = response.context["criteria"]
    assert [r["code"] for r in rows] == [c.code for c in load_criteria().active]
    assert all(r["outcome"] == "met" for r in rows)
    assert 'data-testid="criteria-signed"' in page
    for row in rows:
        assert row["text"] in page
        for fact in row["facts"]:
            assert fact["source"] and fact["value"] != "" and "None" not in fact["value"]
    sources = {f["source"] for r in rows for f in r["facts"]}
    assert "consent records" in sources and any("nurse_nina" in s for s in sources)


def test_a_wrong_password_is_told_in_words_in_english_and_dutch(
    client_for, make_participant, personas
) -> None:
    participant = make_participant()
    screen(participant, personas["nurse_nina"])
    client = client_for("investigator_ivo")
    url = reverse("screening:confirm", args=[participant.study_id])
    english = client.post(url, {"password": "nope", "attest": "on"})
    assert english.context["form"].errors["password"] == ["The password is not correct."]
    dutch = client.post(url, {"password": "nope", "attest": "on"}, HTTP_ACCEPT_LANGUAGE="nl")
    assert dutch.context["form"].errors["password"] == ["Het wachtwoord is niet juist."]
