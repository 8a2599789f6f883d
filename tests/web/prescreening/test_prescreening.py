"""Finding eligible members from cohort data: recorded cohort facts, the worklist per
trial, the Screen link's prefilled form, the cohort denominator, and bulk reads."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blend.apps.allocation.services import randomize
from blend.apps.audit.models import AuditEvent
from blend.apps.prescreening import services
from blend.apps.prescreening.models import CohortFact
from blend.apps.prescreening.services import (
    PrescreeningError,
    cohort_denominator,
    member_facts,
    record_cohort_facts,
    refresh_trial,
    worklist,
)
from blend.apps.registry.models import Participant
from tests.web.screening.flow import ELIGIBLE_FORM_FACTS, screen, screen_and_confirm
from tests.web.trials.flow import VERTICAL_ELIGIBLE_FACTS, confirm_for_vertical

pytestmark = pytest.mark.django_db

RECORDED_ON = date(2025, 3, 5)
# Potentially eligible for BLEND (surgery indicated), so excluded from VERTICAL (E8).
BLEND_COHORT_FACTS = {**ELIGIBLE_FORM_FACTS, "unstable_spine_needs_stabilization": True}
VERTICAL_COHORT_FACTS = {**VERTICAL_ELIGIBLE_FACTS, "surgery_indicated": False}


def record(participant: Participant, user: Any, facts: dict[str, Any], **kwargs: Any) -> Any:
    return record_cohort_facts(
        participant, facts, on=RECORDED_ON, user=user, source="MDT 2025-03-05", **kwargs
    )


# ------------------------------------------------------------------ recording cohort facts


def test_recorded_facts_are_checked_against_the_cohort_catalogue_and_audited(
    make_participant, personas
) -> None:
    nurse, member = personas["nurse_nina"], make_participant()
    record(member, nurse, {"kps": 80, "index_levels": ["T9", "T7"], "pain_score": 6})
    rows = {row.key: row for row in CohortFact.objects.filter(participant=member)}
    assert rows["index_levels"].value == ["T7", "T9"]  # catalogue order
    assert rows["kps"].recorded_by == nurse and rows["kps"].source == "MDT 2025-03-05"
    event = AuditEvent.objects.get(action="cohort_facts.record", participant=member)
    assert event.details["facts"] == ["index_levels", "kps", "pain_score"]

    with pytest.raises(PrescreeningError, match="reason for change"):
        record(member, nurse, {"kps": 60})
    record(member, nurse, {"kps": 60, "pain_score": None}, reason="KPS re-assessed")
    assert dict(CohortFact.objects.filter(participant=member).values_list("key", "value")) == {
        "index_levels": ["T7", "T9"],
        "kps": 60,
    }
    assert CohortFact.history.filter(key="kps").count() == 2


@pytest.mark.parametrize(
    ("facts", "field", "message"),
    [
        ({"kps": "eighty"}, "kps", "expected a number, got 'eighty'"),
        ({"kps": 150}, "kps", "expected a value from 0 to 100, got 150"),
        ({"neurological_signs": "some"}, "neurological_signs", "expected one of"),
        ({"sleep_hours": 8}, "sleep_hours", "unknown fact; expected one of"),
        ({"age": 40}, "age", "comes from the identity record (date of birth)"),
        ({"consent_randomization": True}, "consent_randomization", "the consent records"),
        ({}, "facts", "expected a non-empty object"),
    ],
)
def test_a_bad_key_or_value_names_the_field_what_was_expected_and_got_and_writes_nothing(
    make_participant, personas, facts, field, message
) -> None:
    member = make_participant()
    with pytest.raises(PrescreeningError) as caught:
        record(member, personas["nurse_nina"], {**facts, "pain_score": 6} if facts else facts)
    assert message in caught.value.errors[field]
    assert not CohortFact.objects.exists()
    assert not AuditEvent.objects.filter(action="cohort_facts.record").exists()


def test_source_and_date_are_required(make_participant, personas) -> None:
    member = make_participant(registered_on=date(2025, 3, 1))
    with pytest.raises(PrescreeningError) as caught:
        record_cohort_facts(
            member, {"kps": 80}, on=date(2025, 2, 1), user=personas["nurse_nina"], source=" "
        )
    assert set(caught.value.errors) == {"source", "recorded_on"}
    assert "expected on or after cohort entry 2025-03-01, got 2025-02-01" in str(caught.value)


def test_only_roles_that_edit_cohort_data_record_facts(make_participant, personas) -> None:
    member = make_participant()
    with pytest.raises(PermissionDenied):
        record(member, personas["admin_ada"], {"kps": 80})


def test_facts_from_the_records_fill_in_what_is_not_recorded(make_participant, personas) -> None:
    myeloma = make_participant(primary_tumour="myeloma", performance_status=2)
    breast = make_participant(consent={"a": "yes", "b": "yes", "c": "no"}, performance_status=0)
    record(breast, personas["nurse_nina"], {"kps": 70})
    known = member_facts(Participant.objects.all(), date(2025, 6, 1)).facts
    assert known[myeloma.pk]["multiple_myeloma"] is True
    assert known[myeloma.pk]["radiosensitive_histology"] is True
    assert "kps" not in known[myeloma.pk]  # ECOG 2 straddles KPS 50: none derived
    assert known[myeloma.pk]["age"] == 65 and known[myeloma.pk]["consent_randomization"] is True
    assert known[breast.pk]["kps"] == 70  # a recorded value wins over ECOG 0's 90
    assert known[breast.pk]["multiple_myeloma"] is False
    assert known[breast.pk]["consent_randomization"] is False


# ------------------------------------------------------------------ the worklist per trial


@pytest.fixture
def cohort(make_participant, personas) -> dict[str, Participant]:
    nurse = personas["nurse_nina"]
    members = {name: make_participant() for name in ("blend", "vertical", "pending", "excluded")}
    members["screened"] = make_participant()
    members["no_facts"] = make_participant()
    record(members["blend"], nurse, BLEND_COHORT_FACTS)
    record(members["vertical"], nurse, VERTICAL_COHORT_FACTS)
    record(members["pending"], nurse, {"index_levels": ["T9"], "pain_score": 6})
    record(members["excluded"], nurse, {"life_expectancy_months": 2})
    record(members["screened"], nurse, BLEND_COHORT_FACTS)
    screen(members["screened"], nurse)
    return members


def listed(trial: str) -> dict[str, str]:
    return {row.study_id: row.status for row in worklist(trial, date(2025, 6, 1)).rows}


def test_the_worklist_holds_the_potentially_eligible_not_yet_screened_per_trial(cohort) -> None:
    ids = {name: member.study_id for name, member in cohort.items()}
    assert listed("BLEND") == {ids["blend"]: "eligible", ids["pending"]: "pending"}
    # VERTICAL: the BLEND-screened member is not screened for VERTICAL, but needs surgery.
    assert listed("VERTICAL") == {ids["vertical"]: "eligible", ids["pending"]: "pending"}
    pending = next(r for r in worklist("BLEND", date(2025, 6, 1)).rows if r.status == "pending")
    assert "Symptoms from the spinal metastases" in pending.missing


def test_the_worklist_page_follows_the_trial_switcher_and_links_to_screening(
    cohort, client_for
) -> None:
    nurse = client_for("nurse_nina")
    page = nurse.get(reverse("prescreening:worklist"), {"trial": "VERTICAL"})
    assert page.status_code == 200
    text = page.content.decode()
    assert cohort["vertical"].study_id in text and cohort["blend"].study_id not in text
    assert "VERTICAL is not recruiting" in text
    assert f"{reverse('screening:form', args=[cohort['vertical'].study_id])}?trial=VERTICAL" in text
    page = nurse.get(reverse("prescreening:worklist"), {"trial": "BLEND"})
    text = page.content.decode()
    assert cohort["blend"].study_id in text and cohort["vertical"].study_id not in text
    assert cohort["screened"].study_id not in text and cohort["excluded"].study_id not in text


@pytest.mark.parametrize(
    "persona", ["admin_ada", "datamanager_dirk", "statistician_stan", "monitor_mo"]
)
def test_only_screeners_open_the_worklist(cohort, client_for, persona) -> None:
    assert client_for(persona).get(reverse("prescreening:worklist")).status_code == 403


def test_the_screen_link_opens_the_form_prefilled_with_the_cohort_facts(cohort, client_for) -> None:
    nurse = client_for("nurse_nina")
    url = reverse("screening:form", args=[cohort["vertical"].study_id])
    page = nurse.get(url, {"trial": "VERTICAL"})
    form = page.context["form"]
    assert page.context["prefilled"] is True
    assert form.initial["kps"] == 80 and form.initial["neurological_signs"] == "none"
    assert form.initial["spinal_cord_compression"] == "no"
    assert 'data-testid="prefilled-from-cohort"' in page.content.decode()
    # Someone screened already sees that screening, not the cohort's facts.
    page = nurse.get(reverse("screening:form", args=[cohort["screened"].study_id]))
    assert page.context["prefilled"] is False


def test_a_member_an_overlap_rule_keeps_out_is_shown_with_the_rule(
    make_participant, personas, client_for
) -> None:
    member = make_participant()
    record(member, personas["nurse_nina"], BLEND_COHORT_FACTS)
    confirm_for_vertical(member, personas)
    randomize(member, user=personas["nurse_nina"], trial="VERTICAL")
    found = worklist("BLEND")
    assert found.rows == [] and found.in_other_trial == 1 and found.refused == []
    found = worklist("BLEND", others_page=1)  # the rules are asked only when shown
    (row,) = found.refused
    assert row.study_id == member.study_id and found.to_screen == []
    assert row.refusals[0].rule.kind == "not_during_primary_window"
    nurse = client_for("nurse_nina")
    text = nurse.get(reverse("prescreening:worklist")).content.decode()
    assert 'data-testid="show-others"' in text and "primary-outcome window" not in text
    text = nurse.get(reverse("prescreening:worklist"), {"others": "1"}).content.decode()
    assert "not while in the primary-outcome window of another trial" in text
    assert "no date can be given" in text  # VERTICAL's treatment not yet recorded


def _worklist_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("prescreening:worklist")).status_code == 200
    return len(queries)


def test_the_worklist_reads_in_bulk_10_or_100_members_same_queries(
    make_participant, personas, client_for, monkeypatch
) -> None:
    nurse, client = personas["nurse_nina"], client_for("nurse_nina")
    # No margin: once a request has synced, the next one finds nothing changed.
    monkeypatch.setattr(services, "SYNC_MARGIN", timedelta(0))

    def add(n: int) -> None:
        for i in range(n):
            member = make_participant()
            record(member, nurse, BLEND_COHORT_FACTS if i % 2 else {"pain_score": 6})

    # Each first request after the additions brings the stored verdicts up to date; the
    # second one only reads them.
    add(10)
    _worklist_queries(client)
    at_10 = _worklist_queries(client)
    add(90)
    _worklist_queries(client)
    assert _worklist_queries(client) == at_10
    assert worklist("BLEND").assessed == 100


# ------------------------------------------------------------------ the cohort denominator


def test_the_counts_start_from_the_cohort_members_in_the_trials_period(
    cohort, make_participant, personas, client_for
) -> None:
    make_participant(registered_on=date(2021, 1, 4))  # before BLEND's period (2022-10-15)
    screen_and_confirm(cohort["blend"], personas)
    randomize(cohort["blend"], user=personas["nurse_nina"])
    counts = cohort_denominator("BLEND", date(2025, 6, 1))
    assert counts["period_start"] == date(2022, 10, 15)
    assert {k: v for k, v in counts.items() if isinstance(v, int)} == {
        "in_period": 6,
        "assessed": 5,
        "not_assessed": 1,
        "potentially_eligible": 3,  # blend, pending, screened (vertical needs no surgery: fails)
        "ineligible_on_cohort_facts": 2,
        "potentially_eligible_not_screened": 1,  # pending: would otherwise vanish
        "screened": 2,
        "eligible": 2,
        "randomized": 1,
    }
    # VERTICAL's period (2015-2019) holds none of these members.
    assert cohort_denominator("VERTICAL", date(2025, 6, 1))["in_period"] == 0
    page = client_for("monitor_mo").get(reverse("screening:log"), {"trial": "BLEND"})
    text = page.content.decode()
    assert 'data-testid="cohort-denominator"' in text
    assert '<td data-testid="n-not-screened">1</td>' in text  # no worklist link: cannot screen


# ------------------------------------------------------------------ the cohort-facts page


def test_a_nurse_records_cohort_facts_on_the_participant_page(make_participant, client_for) -> None:
    member = make_participant()
    nurse = client_for("nurse_nina")
    url = reverse("prescreening:facts", args=[member.study_id])
    detail = nurse.get(reverse("participant-detail", args=[member.study_id])).content.decode()
    assert url in detail
    response = nurse.post(
        url,
        {"screened_on": "2025-03-05", "source": "MDT", "kps": "80", "neurological_signs": "mild"},
    )
    assert response.status_code == 302
    assert dict(CohortFact.objects.values_list("key", "value")) == {
        "kps": 80,
        "neurological_signs": "mild",
    }
    # A change without a reason is refused on the form, naming the reason field.
    response = nurse.post(url, {"screened_on": "2025-03-06", "source": "MDT", "kps": "60"})
    assert response.status_code == 400
    assert "reason for change" in response.content.decode()
    assert CohortFact.objects.get(key="kps").value == 80


@pytest.mark.parametrize("persona", ["admin_ada", "statistician_stan", "monitor_mo"])
def test_roles_that_do_not_edit_cohort_data_cannot_open_the_facts_page(
    make_participant, client_for, persona
) -> None:
    member = make_participant()
    url = reverse("prescreening:facts", args=[member.study_id])
    assert client_for(persona).get(url).status_code == 403


def test_facts_that_no_longer_fit_the_catalogue_leave_only_that_member_out(
    make_participant, personas, client_for
) -> None:
    nurse = personas["nurse_nina"]
    good, stale = make_participant(), make_participant()
    record(good, nurse, BLEND_COHORT_FACTS)
    record(stale, nurse, BLEND_COHORT_FACTS)
    # As if the catalogue had changed since: a value it no longer allows.
    # (A queryset update writes no history, so the stored verdicts are refreshed as
    # `blend prescreen-refresh` does; a real catalogue change alters the fingerprint.)
    CohortFact.objects.filter(participant=stale, key="asia_grade").update(value="F")
    refresh_trial("BLEND")
    found = worklist("BLEND")
    assert [row.study_id for row in found.rows] == [good.study_id]
    assert found.unreadable == [stale.study_id] and found.assessed == 1
    text = client_for("nurse_nina").get(reverse("prescreening:worklist")).content.decode()
    assert 'data-testid="unreadable"' in text and stale.study_id in text
