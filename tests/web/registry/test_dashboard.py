"""The dashboard shows the whole trial path through every app's cards."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from blend.apps.datamanagement.services import QueryTarget, open_query
from blend.apps.safety.services import report_adverse_event
from tests.web.safety.test_adverse_events import SAE, ae_data

pytestmark = pytest.mark.django_db


def card_values(response) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {str(card["label"]): card["value"] for card in response.context["cards"]}


def test_every_role_sees_cohort_safety_and_follow_up_cards(client_for, make_participant) -> None:
    make_participant()
    for username in [
        "nurse_nina",
        "investigator_ivo",
        "datamanager_dirk",
        "statistician_stan",
        "monitor_mo",
        "admin_ada",
    ]:
        cards = card_values(client_for(username).get("/"))
        assert {"screened for BLEND", "questionnaires overdue", "SAE reports overdue"} <= set(
            cards
        ), username


def test_an_overdue_sae_report_shows_on_the_dashboard(
    client_for, make_participant, personas
) -> None:
    participant = make_participant()
    aware = timezone.now() - timedelta(days=3)
    report_adverse_event(
        participant,
        ae_data(**SAE, onset_date=aware.date(), aware_at=aware),
        user=personas["nurse_nina"],
    )
    assert card_values(client_for("investigator_ivo").get("/"))["SAE reports overdue"] == 1


def test_open_queries_are_counted_for_the_role_they_are_assigned_to(
    client_for, make_participant, personas
) -> None:
    participant = make_participant(registered_on=date(2025, 3, 1))
    open_query(
        QueryTarget(participant, form="Cohort registration", field="performance_status"),
        "Please check",
        assigned_role="nurse",
        user=personas["datamanager_dirk"],
    )
    assert card_values(client_for("nurse_nina").get("/"))["open queries for your role"] == 1
    assert card_values(client_for("investigator_ivo").get("/"))["open queries for your role"] == 0


def test_consent_answers_are_shown_in_dutch_when_the_reader_chose_dutch(
    client_for, make_participant
) -> None:
    participant = make_participant(consent={"a": "yes", "c": "postponed"})
    client = client_for("nurse_nina")
    client.post("/i18n/setlang/", {"language": "nl", "next": "/"})
    body = client.get(f"/participants/{participant.study_id}/").content.decode()
    assert "uitgesteld" in body and "niet vastgelegd" in body and ">postponed<" not in body
