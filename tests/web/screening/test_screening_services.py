"""Screening services: facts from the records, edits with reasons, confirmation."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from blend.apps.allocation.services import randomize
from blend.apps.audit.models import AuditEvent
from blend.apps.consent.services import withdraw_consent
from blend.apps.registry.models import Identity, Participant
from blend.apps.screening.models import Screening
from blend.apps.screening.services import (
    ScreeningError,
    confirm_eligibility,
    save_screening,
    screening_log_counts,
)
from tests.web.screening.flow import (
    ELIGIBLE_FORM_FACTS,
    PASSWORD,
    SCREENED_ON,
    screen,
    screen_and_confirm,
)

pytestmark = pytest.mark.django_db


def test_it_fills_age_and_consent_from_the_records_and_keeps_no_date_of_birth(
    make_participant, personas
) -> None:
    participant = make_participant(date_of_birth=date(1960, 5, 17))
    screening = screen(participant, personas["nurse_nina"])
    assert screening.status == "eligible" and screening.reasons == {}
    assert screening.facts["age"] == 64
    assert screening.facts["consent_randomization"] is True
    assert "date_of_birth" not in screening.facts and "1960" not in str(screening.facts)


def test_typed_in_age_and_consent_are_ignored(make_participant, personas) -> None:
    participant = make_participant(consent={"a": "yes", "c": "no"})
    # Registration refuses a minor (edit check R01), so the record is made one afterwards,
    # as a wrong date of birth found later would be.
    Identity.objects.filter(participant=participant).update(date_of_birth=date(2008, 1, 1))
    Participant.objects.filter(pk=participant.pk).update(birth_year=2008)
    participant.refresh_from_db()
    screening = screen(participant, personas["nurse_nina"], age=40, consent_randomization=True)
    assert screening.status == "ineligible"
    assert set(screening.reasons) == {"I6_AGE", "I4_CONSENT_RANDOMIZATION"}


def test_consent_c_not_yet_asked_leaves_the_screening_pending(make_participant, personas) -> None:
    participant = make_participant(consent={"a": "yes"})
    screening = screen(participant, personas["nurse_nina"])
    assert screening.status == "pending"
    assert list(screening.reasons) == ["I4_CONSENT_RANDOMIZATION"]


def test_sins_components_give_the_total_through_the_instruments(make_participant, personas) -> None:
    participant = make_participant()
    facts = {k: v for k, v in ELIGIBLE_FORM_FACTS.items() if k != "sins_total"}
    facts["sins_components"] = {
        "location": "junctional",
        "pain": "occasional",
        "bone_lesion": "blastic",
        "alignment": "normal",
        "collapse": "none",
        "posterolateral": "none",
    }
    screening = save_screening(participant, facts, on=SCREENED_ON, user=personas["nurse_nina"])
    assert screening.facts["sins_total"] == 4 and list(screening.reasons) == ["I1_INSTABILITY"]
    assert screening.facts["sins_components"]["location"] == "junctional"


def test_bad_input_names_the_field_and_writes_nothing(make_participant, personas) -> None:
    participant = make_participant(registered_on=date(2025, 3, 1))
    with pytest.raises(ScreeningError) as caught:
        save_screening(
            participant, {"levels_to_bridge": -2}, on=SCREENED_ON, user=personas["nurse_nina"]
        )
    assert "levels_to_bridge" in caught.value.errors
    with pytest.raises(ScreeningError) as caught:
        save_screening(participant, {}, on=date(2025, 2, 1), user=personas["nurse_nina"])
    assert "expected on or after cohort entry 2025-03-01" in caught.value.errors["screened_on"]
    assert not Screening.objects.exists()
    assert not AuditEvent.objects.filter(action="screening.save").exists()


def test_roles_without_screening_write_cannot_save(make_participant, personas) -> None:
    participant = make_participant()
    for name in ("datamanager_dirk", "statistician_stan", "monitor_mo", "admin_ada"):
        with pytest.raises(PermissionDenied):
            screen(participant, personas[name])
    assert not Screening.objects.exists()


def test_an_edit_needs_a_reason_is_audited_and_clears_the_confirmation(
    make_participant, personas
) -> None:
    participant = make_participant()
    screening = screen_and_confirm(participant, personas)
    assert screening.confirmed_at is not None
    with pytest.raises(ScreeningError) as caught:
        screen(participant, personas["nurse_nina"], levels_to_bridge=6)
    assert "reason" in caught.value.errors
    edited = save_screening(
        participant,
        {**ELIGIBLE_FORM_FACTS, "levels_to_bridge": 6},
        on=SCREENED_ON,
        user=personas["nurse_nina"],
        reason="MRI re-read: 6 levels",
    )
    assert (
        edited.status == "ineligible"
        and edited.confirmed_at is None
        and edited.confirmed_by is None
    )
    history = list(
        edited.history.order_by("history_date").values_list("status", "history_change_reason")
    )
    assert history[-1] == ("ineligible", "MRI re-read: 6 levels")
    assert len(history) == 3  # first entry, confirmation, edit


def test_confirmation_needs_the_investigators_password(make_participant, personas) -> None:
    participant = make_participant()
    screen(participant, personas["nurse_nina"])
    with pytest.raises(ScreeningError) as caught:
        confirm_eligibility(participant, user=personas["investigator_ivo"], password="wrong")
    assert "password" in caught.value.errors
    assert Screening.objects.get(participant=participant).confirmed_at is None
    with pytest.raises(PermissionDenied):
        confirm_eligibility(participant, user=personas["nurse_nina"], password=PASSWORD)
    screening = confirm_eligibility(
        participant, user=personas["investigator_ivo"], password=PASSWORD
    )
    assert (
        screening.confirmed_by == personas["investigator_ivo"]
        and screening.confirmed_at is not None
    )
    event = AuditEvent.objects.get(action="eligibility.confirm", participant=participant)
    assert event.at == screening.confirmed_at and event.actor == personas["investigator_ivo"]
    with pytest.raises(ScreeningError, match="already confirmed"):
        confirm_eligibility(participant, user=personas["investigator_ivo"], password=PASSWORD)


@pytest.mark.parametrize("changes", [{"multiple_myeloma": True}, {"life_expectancy_months": None}])
def test_only_an_eligible_screening_can_be_confirmed(
    make_participant, personas, changes: dict[str, Any]
) -> None:
    participant = make_participant()
    screen(participant, personas["nurse_nina"], **changes)
    with pytest.raises(ScreeningError, match="expected an eligible screening"):
        confirm_eligibility(participant, user=personas["investigator_ivo"], password=PASSWORD)


def test_a_consent_withdrawn_after_screening_blocks_the_confirmation(
    make_participant, personas
) -> None:
    participant = make_participant()
    screen(participant, personas["nurse_nina"])
    withdraw_consent(
        participant, "c", on=date(2025, 3, 11), reason="changed mind", user=personas["nurse_nina"]
    )
    with pytest.raises(ScreeningError, match="I4_CONSENT|item \\(c\\)"):
        confirm_eligibility(participant, user=personas["investigator_ivo"], password=PASSWORD)


def test_the_log_counts_feed_consort(make_participant, personas) -> None:
    nurse = personas["nurse_nina"]
    screen_and_confirm(make_participant(), personas)
    screen(make_participant(), nurse, multiple_myeloma=True, levels_to_bridge=7)
    screen(make_participant(), nurse, multiple_myeloma=True)
    screen(make_participant(), nurse, asia_grade="D")  # progression unknown → pending
    make_participant()  # never screened
    counts = screening_log_counts()
    assert counts == {
        "cohort": 5,
        "screened": 4,
        "eligible": 1,
        "ineligible": 2,
        "pending": 1,
        "confirmed": 1,
        "ineligible_by_criterion": {"E4_MULTIPLE_MYELOMA": 2, "E2_LEVELS_TO_BRIDGE": 1},
    }


@pytest.mark.parametrize("reason", ["", "late lab result"])
def test_once_randomized_the_screening_is_final(make_participant, personas, reason: str) -> None:
    participant = make_participant()
    screen_and_confirm(participant, personas)
    randomize(participant, user=personas["nurse_nina"])
    before = Screening.objects.get(participant=participant)
    with pytest.raises(ScreeningError) as refused:
        save_screening(
            participant,
            {**ELIGIBLE_FORM_FACTS, "sins_total": 10},
            on=SCREENED_ON,
            user=personas["nurse_nina"],
            reason=reason,
        )
    assert refused.value.errors == {
        "__all__": "the participant is randomized: the screening is final"
    }
    after = Screening.objects.get(participant=participant)
    assert (after.facts, after.confirmed_at) == (before.facts, before.confirmed_at)


@pytest.mark.parametrize(
    ("answers", "fact", "status"),
    [
        ({"a": "yes", "c": "yes", "d": "yes"}, True, "eligible"),
        ({"a": "yes", "c": "no", "d": "yes"}, False, "ineligible"),
        ({"a": "yes", "c": "postponed", "d": "yes"}, None, "pending"),
        ({"a": "yes", "c": "yes", "d": "no"}, True, "eligible"),  # d is randomization's own check
    ],
)
def test_the_consent_fact_is_the_answer_to_the_randomization_question(
    make_participant, personas, answers, fact, status
) -> None:
    """consent.toml names the question (``randomization_question = "c"``); the screening
    never hard-codes it. Randomization still needs every required item (a, c, d)."""
    participant = make_participant(consent=answers)
    screening = screen(participant, personas["nurse_nina"])
    assert screening.facts.get("consent_randomization") is fact  # unknown facts are not stored
    assert screening.status == status
