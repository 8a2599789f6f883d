"""A trial's extra measurement (for those who accepted its offer) is entered by staff on
paper or by telephone, scored like a routine questionnaire, kept apart from the routine
responses, and, because it reveals the arm, exists only for users with
``allocation.view`` in its trial: pages (404 otherwise), the full export and the audit
trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from blend.apps.accounts.services import grant_trial_role
from blend.apps.audit.services import participant_history
from blend.apps.exports.tables import arms_only_of, export_tables
from blend.apps.followup.models import ExtraAssessment
from blend.apps.followup.services import plan_schedule, record_vital_status
from blend.apps.offers.models import OfferState
from blend.apps.questionnaires import services
from blend.apps.questionnaires.models import ExtraResponse, Response
from tests.web.followup.palliate import allocated_in_palliate

pytestmark = pytest.mark.django_db

EQ5D = {
    "mobility": "2",
    "self_care": "1",
    "usual_activities": "3",
    "pain_discomfort": "2",
    "anxiety_depression": "1",
    "vas": "60",
}


def _post(**overrides: str) -> dict[str, str]:
    return {
        "mode": "paper",
        "completed_on": str(timezone.localdate()),
        **{f"eq5d5l-nl__{k}": v for k, v in EQ5D.items()},
        **overrides,
    }


@pytest.fixture
def extra(palliate, make_participant, personas) -> ExtraAssessment:  # type: ignore[no-untyped-def]
    """An accepted PALLIATE member whose extra (day 3 to day 7) is open today (day 4)."""
    nurse = personas["nurse_nina"]
    member = make_participant()
    allocated_in_palliate(member, nurse, "intervention", OfferState.ACCEPTED)
    plan_schedule(member, anchor=timezone.localdate() - timedelta(days=4), user=nurse)
    return ExtraAssessment.objects.get(participant=member)


def _enter(extra: ExtraAssessment, user: Any) -> None:
    services.enter_extra_by_staff(
        extra,
        {"eq5d5l-nl": {"vas": 50}},
        mode="paper",
        completed_on=timezone.localdate(),
        user=user,
    )


def _url(extra: ExtraAssessment) -> str:
    return f"/questionnaires/extra/{extra.pk}/"


def test_a_nurse_enters_an_extra_and_it_is_scored_apart_from_the_routine(extra, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for("nurse_nina")
    form = client.get(_url(extra)).content.decode()
    assert "Enter a paper or telephone questionnaire" in form and 'data-testid="extra-note"' in form
    panel = client.get(f"/participants/{extra.participant.study_id}/").content.decode()
    assert _url(extra) in panel
    response = client.post(_url(extra), _post())
    assert response.status_code == 302
    saved = ExtraResponse.objects.get(extra=extra)
    assert (saved.trial, saved.mode, saved.entered_by.username) == (
        "PALLIATE",
        "paper",
        "nurse_nina",
    )
    # EQ-5D-5L 21321 with the Dutch value set: the same score as the instrument gives.
    from blend.instruments import score

    expected = score("eq5d5l-nl", {k: int(v) for k, v in EQ5D.items()})
    assert saved.scores["eq5d5l-nl"] == pytest.approx(expected)
    extra.refresh_from_db()
    assert extra.completed_on == timezone.localdate()
    assert not Response.objects.filter(participant=extra.participant).exists()
    shown = client.get(_url(extra)).content.decode()
    assert "Enter a paper or telephone questionnaire" not in shown
    assert 'data-scale="eq5d5l-nl:' in shown
    # Entered once: a second post changes nothing.
    client.post(_url(extra), _post(**{"eq5d5l-nl__vas": "90"}))
    assert ExtraResponse.objects.get(extra=extra).answers["eq5d5l-nl"]["vas"] == 60


def test_bad_entry_names_the_field_and_writes_nothing(extra, client_for) -> None:  # type: ignore[no-untyped-def]
    tomorrow = str(timezone.localdate() + timedelta(days=1))
    response = client_for("nurse_nina").post(
        _url(extra), _post(mode="", completed_on=tomorrow, **{"eq5d5l-nl__vas": "140"})
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Expected paper or telephone." in body and tomorrow in body
    assert 'name="eq5d5l-nl__mobility" value="2" checked' in body  # kept for correction
    assert not ExtraResponse.objects.exists()
    blank = {"mode": "telephone", "completed_on": str(timezone.localdate())}
    refused = client_for("nurse_nina").post(_url(extra), blank)
    assert refused.status_code == 400 and "expected at least one answered question" in (
        refused.content.decode()
    )
    assert not ExtraResponse.objects.exists()
    extra.refresh_from_db()
    assert extra.completed_on is None


def test_without_the_trials_arms_an_extra_does_not_exist(extra, client_for, personas) -> None:  # type: ignore[no-untyped-def]
    nurse = personas["nurse_nina"]
    grant_trial_role(nurse, "BLEND", "nurse", by=personas["admin_ada"])  # BLEND only now
    client = client_for("nurse_nina")
    unknown = client.get("/questionnaires/extra/999999/")
    assert client.get(_url(extra)).status_code == unknown.status_code == 404
    assert client.post(_url(extra), _post()).status_code == 404
    assert not ExtraResponse.objects.exists()
    with pytest.raises(services.ExtraNotVisible):
        _enter(extra, nurse)


@pytest.mark.parametrize("persona", ["statistician_stan", "monitor_mo", "datamanager_dirk"])
def test_roles_that_see_arms_but_do_not_enter_questionnaires_only_read(
    extra, client_for, persona
) -> None:  # type: ignore[no-untyped-def]
    client = client_for(persona)
    page = client.get(_url(extra))
    assert page.status_code == 200
    assert "Enter a paper or telephone questionnaire" not in page.content.decode()
    client.post(_url(extra), _post())
    assert not ExtraResponse.objects.exists()


def test_an_admin_without_arms_gets_404(extra, client_for) -> None:  # type: ignore[no-untyped-def]
    assert client_for("admin_ada").get(_url(extra)).status_code == 404


def test_an_extra_not_yet_open_or_stopped_by_death_is_not_entered(
    palliate, make_participant, personas, client_for
) -> None:  # type: ignore[no-untyped-def]
    nurse = personas["nurse_nina"]
    member = make_participant()
    allocated_in_palliate(member, nurse, "intervention", OfferState.ACCEPTED)
    plan_schedule(member, anchor=timezone.localdate(), user=nurse)  # opens in 3 days
    extra = ExtraAssessment.objects.get(participant=member)
    page = client_for("nurse_nina").get(_url(extra)).content.decode()
    assert "Enter a paper or telephone questionnaire" not in page
    with pytest.raises(services.QuestionnaireError, match="^status: .* got upcoming"):
        _enter(extra, nurse)
    record_vital_status(
        member, last_contact_on=timezone.localdate(), died_on=timezone.localdate(), user=nurse
    )
    with pytest.raises(services.QuestionnaireError, match="got stopped"):
        _enter(extra, nurse)
    assert not ExtraResponse.objects.exists()


def test_the_export_and_the_audit_trail_show_it_only_with_the_trials_arms(
    extra, client_for, personas
) -> None:  # type: ignore[no-untyped-def]
    client_for("nurse_nina").post(_url(extra), _post())
    (table,) = [t for t in export_tables() if t.model is ExtraResponse]
    assert table.queryset().count() == 1
    (blend_only,) = [
        t for t in arms_only_of(export_tables(), frozenset({"BLEND"})) if t.model is ExtraResponse
    ]
    assert blend_only.queryset().count() == 0  # the table stays, its rows do not
    (both,) = [
        t
        for t in arms_only_of(export_tables(), frozenset({"BLEND", "PALLIATE"}))
        if t.model is ExtraResponse
    ]
    assert both.queryset().count() == 1
    member = extra.participant

    def mentions_extra(trail: list[dict[str, Any]]) -> bool:
        return any(
            "extra" in str(row.get("model", "")).lower() or "extra" in str(row.get("event", ""))
            for row in trail
        )

    assert not mentions_extra(
        participant_history(member, include_identifiers=False, include_allocation=["BLEND"])
    )
    full = participant_history(member, include_identifiers=False, include_allocation=True)
    assert mentions_extra(full)
