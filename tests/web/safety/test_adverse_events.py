"""AE/SAE reporting: CTCAE grades on the form, SAE notification, the 24-hour deadline,
follow-up reports and the death review."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from blend.apps.audit.models import AuditEvent
from blend.apps.outbox.models import Message
from blend.apps.safety import services
from blend.apps.safety.models import AdverseEvent

AWARE = datetime(2025, 4, 2, 9, 0, tzinfo=UTC)


def ae_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "term": "wound_infection",
        "other_term": "",
        "grade": 2,
        "onset_date": date(2025, 4, 1),
        "resolved_on": None,
        "serious": False,
        "seriousness": [],
        "related_sbrt": "unlikely",
        "related_surgery": "probable",
        "action_taken": "medication",
        "outcome": "recovering",
        "description": "",
        "aware_at": AWARE,
    }
    data.update(overrides)
    return data


SAE = {
    "serious": True,
    "seriousness": ["hospitalisation"],
    "grade": 3,
    "action_taken": "hospitalised",
}


def test_a_non_serious_ae_is_recorded_without_notification(make_participant, personas) -> None:
    p = make_participant()
    ae = services.report_adverse_event(p, ae_data(), user=personas["nurse_nina"])
    assert ae.related and not ae.serious
    assert not Message.objects.exists()
    assert AuditEvent.objects.filter(action="ae.report", participant=p).exists()


def test_an_sae_notifies_the_pi_and_the_trial_office_at_once(make_participant, personas) -> None:
    p = make_participant()
    ae = services.report_adverse_event(p, ae_data(**SAE), user=personas["nurse_nina"])
    messages = Message.objects.filter(audience="staff").order_by("to_address")
    assert [m.to_address for m in messages] == [
        "pi.blend@example.org",
        "trialbureau.blend@example.org",
    ]
    assert all(m.participant_id == p.pk and m.status == "queued" for m in messages)
    assert f"{p.study_id}, Wound infection grade 3" in messages[0].subject
    assert "due by 2025-04-03 11:00" in messages[0].body  # 24 h after awareness, Amsterdam time
    # correcting the SAE again does not notify twice
    services.update_adverse_event(
        ae, {"description": "IV antibiotics"}, user=personas["nurse_nina"], reason="detail"
    )
    assert Message.objects.count() == 2


def test_an_ae_that_becomes_serious_on_correction_notifies(make_participant, personas) -> None:
    p = make_participant()
    ae = services.report_adverse_event(p, ae_data(), user=personas["nurse_nina"])
    services.update_adverse_event(ae, SAE, user=personas["nurse_nina"], reason="admitted")
    assert Message.objects.filter(audience="staff").count() == 2


def test_the_deadline_is_24_hours_after_awareness_and_overdue_is_flagged(
    make_participant, personas
) -> None:
    p = make_participant()
    ae = services.report_adverse_event(p, ae_data(**SAE), user=personas["nurse_nina"])
    assert ae.report_due_at(24) == AWARE + timedelta(hours=24)
    assert not ae.is_overdue(24, now=AWARE + timedelta(hours=23, minutes=59))
    assert ae.is_overdue(24, now=AWARE + timedelta(hours=24, minutes=1))
    assert services.overdue_saes(now=AWARE + timedelta(hours=25)) == [ae]
    assert services.overdue_saes(now=AWARE + timedelta(hours=2)) == []
    services.mark_sae_reported(ae, user=personas["nurse_nina"], at=AWARE + timedelta(hours=30))
    ae.refresh_from_db()
    assert ae.is_overdue(24)  # reported late stays flagged
    assert services.overdue_saes(now=AWARE + timedelta(hours=40)) == []


def test_a_timely_report_is_not_overdue(make_participant, personas) -> None:
    p = make_participant()
    ae = services.report_adverse_event(p, ae_data(**SAE), user=personas["nurse_nina"])
    services.mark_sae_reported(ae, user=personas["nurse_nina"], at=AWARE + timedelta(hours=5))
    ae.refresh_from_db()
    assert not ae.is_overdue(24, now=AWARE + timedelta(days=10))
    with pytest.raises(services.SafetyError, match="already reported"):
        services.mark_sae_reported(ae, user=personas["nurse_nina"])


def test_follow_up_reports_link_to_the_initial_report(make_participant, personas) -> None:
    p = make_participant()
    initial = services.report_adverse_event(p, ae_data(**SAE), user=personas["nurse_nina"])
    first = services.report_adverse_event(
        p,
        ae_data(**SAE, outcome="recovered", resolved_on=date(2025, 4, 20)),
        user=personas["nurse_nina"],
        follow_up_of=initial,
    )
    second = services.report_adverse_event(
        p, ae_data(**SAE), user=personas["nurse_nina"], follow_up_of=first
    )
    assert (
        first.follow_up_of == initial and second.follow_up_of == initial
    )  # chained to the initial report
    assert set(initial.follow_ups.all()) == {first, second}
    assert (
        "Follow-up SAE report"
        in Message.objects.filter(dedup_key__startswith=f"sae:{first.pk}:").first().subject
    )


def test_grade_must_exist_for_the_term(make_participant, personas) -> None:
    p = make_participant()
    with pytest.raises(services.SafetyError, match="AE02"):
        services.report_adverse_event(
            p, ae_data(term="seroma", grade=4), user=personas["nurse_nina"]
        )
    assert not AdverseEvent.objects.exists()


def test_roles_without_ae_write_cannot_report(make_participant, personas) -> None:
    p = make_participant()
    for name in ("datamanager_dirk", "statistician_stan", "monitor_mo", "admin_ada"):
        with pytest.raises(PermissionDenied):
            services.report_adverse_event(p, ae_data(), user=personas[name])


def test_the_form_shows_ctcae_grade_definitions_and_saves(make_participant, client_for) -> None:
    p = make_participant()
    client = client_for("nurse_nina")
    page = client.get(f"/safety/{p.study_id}/new/")
    assert page.status_code == 200
    body = page.content.decode()
    for text in (
        "Wound complication",
        "Wound dehiscence",
        "Wound infection",
        "Fascial disruption or dehiscence without evisceration",
        "Oral intervention indicated",
    ):
        assert text in body
    fragment = client.get(
        f"/safety/{p.study_id}/new/grades/?term=wound_dehiscence"
    ).content.decode()
    assert (
        "Incisional separation, intervention not indicated" in fragment
        and "Wound infection" not in fragment
    )
    post = {
        "term": "wound_dehiscence",
        "grade": "3",
        "onset_date": "2025-04-01",
        "serious": "on",
        "seriousness": ["hospitalisation"],
        "related_sbrt": "possible",
        "related_surgery": "definite",
        "action_taken": "reoperation",
        "outcome": "recovering",
        "aware_at": "2025-04-02T09:00",
    }
    response = client.post(f"/safety/{p.study_id}/new/", post)
    assert response.status_code == 302, response.content.decode()[:2000]
    ae = AdverseEvent.objects.get()
    assert ae.serious and ae.term == "wound_dehiscence" and ae.seriousness == ["hospitalisation"]
    assert Message.objects.filter(audience="staff").count() == 2


def test_the_form_runs_edit_checks_live(make_participant, client_for) -> None:
    p = make_participant()
    post = {
        "term": "wound_complication",
        "grade": "5",
        "onset_date": "2025-04-01",
        "serious": "on",
        "related_sbrt": "possible",
        "related_surgery": "definite",
        "action_taken": "reoperation",
        "outcome": "recovering",
        "aware_at": "2025-04-02T09:00",
    }
    response = client_for("nurse_nina").post(f"/safety/{p.study_id}/new/", post)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-check="AE03"' in body and 'data-check="AE04"' in body
    assert "Seriousness criteria: needs an answer when the event is serious." in body
    assert "Outcome: must be “fatal” for a grade 5 event; you entered" in body
    assert "[AE0" not in body
    assert not AdverseEvent.objects.exists()


def test_a_death_in_follow_up_prompts_an_sae_review(make_participant, personas) -> None:
    from blend.apps.followup.models import VitalStatus

    alive, dead, fatal = make_participant(), make_participant(), make_participant()
    nurse = personas["nurse_nina"]
    VitalStatus.objects.create(
        participant=alive, last_contact_on=date(2025, 6, 1), recorded_by=nurse
    )
    for p in (dead, fatal):
        VitalStatus.objects.create(
            participant=p,
            last_contact_on=date(2025, 5, 1),
            died_on=date(2025, 5, 1),
            recorded_by=nurse,
        )
    services.report_adverse_event(
        fatal,
        ae_data(
            grade=5,
            outcome="fatal",
            serious=True,
            seriousness=["death"],
            onset_date=date(2025, 5, 1),
        ),
        user=nurse,
    )
    assert services.deaths_needing_review() == [(dead, date(2025, 5, 1))]
    assert services.deaths_needing_review([alive, dead]) == [
        (dead, date(2025, 5, 1))
    ]  # the per-participant path
    with pytest.raises(services.SafetyError, match="reason"):
        services.review_death(
            dead, death_date=date(2025, 5, 1), decision="not_sae", user=personas["investigator_ivo"]
        )
    services.review_death(
        dead,
        death_date=date(2025, 5, 1),
        decision="not_sae",
        reason="progression, day 200",
        user=personas["investigator_ivo"],
    )
    assert services.deaths_needing_review() == []


def test_edit_checks_run_live_while_typing(make_participant, client_for) -> None:
    p = make_participant()
    client = client_for("nurse_nina")
    partial = {"term": "seroma", "grade": "4", "onset_date": "2025-04-01"}
    body = client.post(f"/safety/{p.study_id}/new/check/", partial).content.decode()
    assert 'data-check="AE02"' in body
    assert "CTCAE grade: must be a grade that CTCAE v5.0 defines for this term" in body
    assert "required" not in body  # untouched fields are not nagged about
    fine = client.post(
        f"/safety/{p.study_id}/new/check/", {**partial, "grade": "2"}
    ).content.decode()
    assert "No edit-check findings so far." in fine
    assert not AdverseEvent.objects.exists()
    assert (
        client_for("monitor_mo").post(f"/safety/{p.study_id}/new/check/", partial).status_code
        == 403
    )


def test_overdue_reminders_once_a_day(make_participant, personas) -> None:
    p = make_participant()
    ae = services.report_adverse_event(p, ae_data(**SAE), user=personas["nurse_nina"])
    assert services.remind_overdue(now=AWARE + timedelta(hours=3)) == []
    first = services.remind_overdue(now=AWARE + timedelta(hours=30))
    again = services.remind_overdue(now=AWARE + timedelta(hours=31))
    assert len(first) == 2 and {m.pk for m in again} == {m.pk for m in first}
    assert "OVERDUE" in first[0].subject and "was due 2025-04-03 11:00" in first[0].body
    assert len(services.remind_overdue(now=AWARE + timedelta(hours=60))) == 2
    assert Message.objects.filter(template_code="sae_overdue").count() == 4
    services.mark_sae_reported(ae, user=personas["nurse_nina"], at=AWARE + timedelta(hours=61))
    assert services.remind_overdue(now=AWARE + timedelta(hours=90)) == []
