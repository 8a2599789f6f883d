"""Consent over time: postponed randomization consent, re-consent under a new form
version, the yearly refresh and the member's own page of choices (arm-blind)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from blend.apps.audit.models import AuditEvent
from blend.apps.consent.models import ConsentFormVersion
from blend.apps.consent.over_time import (
    approve_form_version,
    choices_token,
    postponed_worklist,
    reconsent_worklist,
    refresh_worklist,
)
from blend.apps.consent.services import ConsentError, record_consent
from blend.apps.outbox.domain import check_text
from tests.pages import without_csrf
from tests.web.screening.flow import randomized

pytestmark = pytest.mark.django_db
ALL_YES = {code: "yes" for code in "abcde"}


def test_the_postponed_worklist_equals_a_direct_reading_of_the_records(
    make_participant, personas, consent_version
) -> None:
    waiting = make_participant(
        consent={**ALL_YES, "c": "postponed"}, registered_on=date(2025, 3, 1)
    )
    both = make_participant(consent={**ALL_YES, "c": "postponed", "d": "postponed"})
    decided_later = make_participant(consent={**ALL_YES, "c": "postponed"})
    record_consent(
        decided_later, "c", "yes", on=date(2025, 4, 1), form_version=consent_version,
        user=personas["nurse_nina"],
    )  # fmt: skip
    make_participant(consent={**ALL_YES, "b": "postponed"})  # b is not a randomization item
    rows = {w.study_id: w for w in postponed_worklist()}
    assert set(rows) == {waiting.study_id, both.study_id}
    assert rows[both.study_id].items == ("c", "d")
    assert rows[waiting.study_id].since == date(2025, 3, 1)


def test_a_new_version_closes_the_old_one_and_lists_who_to_ask_again(
    make_participant, personas, consent_version
) -> None:
    old = make_participant()
    withdrew = make_participant()
    from blend.apps.consent.services import withdraw_consent

    withdraw_consent(
        withdrew, "e", on=date(2025, 3, 5), reason="no registries", user=personas["nurse_nina"]
    )
    v4 = approve_form_version(
        "PRESENT v4.0",
        valid_from=date(2025, 6, 1),
        reask_items=["d", "e"],
        user=personas["datamanager_dirk"],
    )
    consent_version.refresh_from_db()
    assert consent_version.valid_until == date(2025, 5, 31)
    resigned = make_participant(consent={}, registered_on=date(2025, 6, 2))
    for item in "abcde":
        record_consent(
            resigned, item, "yes", on=date(2025, 6, 2), form_version=v4, user=personas["nurse_nina"]
        )
    for item in "de":
        record_consent(
            old, item, "yes", on=date(2025, 6, 3), form_version=v4, user=personas["nurse_nina"]
        )
    version, rows = reconsent_worklist()
    assert version == v4
    by_id = {w.study_id: w.items for w in rows}
    assert old.study_id not in by_id and resigned.study_id not in by_id
    assert by_id[withdrew.study_id] == ("d",)  # a withdrawn item is not asked again
    event = AuditEvent.objects.get(action="consent.version_approved")
    assert event.details["reask"] == ["d", "e"] and event.actor == personas["datamanager_dirk"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"version": "PRESENT v3.0"}, "already registered"),
        ({"version": " "}, "version: expected 1 to 40 characters"),
        ({"reask_items": ["z"]}, "reask_items: expected some of a, b, c, d, e, got \\['z'\\]"),
        ({"valid_from": date(2019, 1, 1)}, "valid_from: expected after 2020-01-01"),
    ],
)
def test_a_bad_version_is_refused_and_nothing_is_written(
    personas, consent_version, kwargs, message
) -> None:
    values = {"version": "v4", "valid_from": date(2025, 6, 1), "reask_items": ["c"], **kwargs}
    with pytest.raises(ConsentError, match=message):
        approve_form_version(**values, user=personas["datamanager_dirk"])  # type: ignore[arg-type]
    consent_version.refresh_from_db()
    assert consent_version.valid_until is None and ConsentFormVersion.objects.count() == 1


def test_the_refresh_is_due_a_year_after_the_latest_decision(make_participant, personas) -> None:
    due = make_participant(registered_on=date(2025, 3, 1))
    not_yet = make_participant(registered_on=date(2025, 9, 1))
    left = make_participant(registered_on=date(2025, 3, 1))
    from blend.apps.consent.services import withdraw_consent

    withdraw_consent(
        left, "a", on=date(2025, 3, 2), reason="moved away", user=personas["nurse_nina"]
    )
    ids = [w.study_id for w in refresh_worklist(on=date(2026, 3, 1))]
    assert ids == [due.study_id]
    assert not_yet.study_id in [w.study_id for w in refresh_worklist(on=date(2026, 9, 1))]


def test_staff_see_the_worklists_and_make_the_link(client_for, make_participant) -> None:
    member = make_participant(consent={**ALL_YES, "c": "postponed"}, registered_on=date(2025, 3, 1))
    nurse = client_for("nurse_nina")
    page = nurse.get(reverse("consent:over-time")).content.decode()
    assert member.study_id in page and "re-ask at the next visit" in page
    made = nurse.post(reverse("consent:choices-link", args=[member.study_id]))
    link = re.search(r'data-testid="choices-link">([^<]+)<', made.content.decode())
    assert made.status_code == 200 and link is not None
    assert AuditEvent.objects.filter(
        action="consent.refresh_link_given", participant=member
    ).exists()
    assert client_for("statistician_stan").get(reverse("consent:over-time")).status_code == 403


def _normalised(html: str) -> str:
    html = without_csrf(html)
    return re.sub(r"\(\d{1,2} \w+ \d{4}\)", "(DATE)", html)


def test_the_members_page_of_choices_is_the_same_for_a_control_and_an_intervention_member(
    client, make_participant, personas
) -> None:
    intervention = randomized(make_participant, personas, "intervention")
    control = randomized(make_participant, personas, "control")
    pages = {}
    for who, member in (("intervention", intervention), ("control", control)):
        for language in ("nl", "en"):
            response = client.get(
                reverse("consent:my-choices", args=[choices_token(member)]) + f"?lang={language}"
            )
            assert response.status_code == 200
            assert (
                "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
            )
            html = response.content.decode()
            text = re.sub(r"<[^>]+>", " ", html)
            assert check_text(text) == [], (who, language, check_text(text))
            assert member.study_id not in html
            pages[who, language] = _normalised(html)
    assert pages["intervention", "nl"] == pages["control", "nl"]
    assert pages["intervention", "en"] == pages["control", "en"]
    assert "Meedoen aan toekomstig onderzoek binnen PRESENT" in pages["control", "nl"]
    # Without ?lang the page speaks the member's preferred language (Dutch here).
    plain = client.get(reverse("consent:my-choices", args=[choices_token(control)]))
    assert "Meedoen aan toekomstig onderzoek binnen PRESENT" in plain.content.decode()


def test_a_forged_or_expired_link_shows_a_calm_page(client, make_participant) -> None:
    member = make_participant()
    token = choices_token(member)
    assert client.get(reverse("consent:my-choices", args=[token[:-2] + "xx"])).status_code == 404
    with time_machine.travel(date.today() + timedelta(days=61)):
        expired = client.get(reverse("consent:my-choices", args=[token]))
    assert expired.status_code == 404 and "no longer works" in expired.content.decode()


def test_the_consent_version_command_registers_and_refuses_with_the_field(
    personas, consent_version, capsys
) -> None:
    from django.core.management import CommandError, call_command

    call_command(
        "consent_version", "add", "PRESENT v4.0", "--valid-from", "2025-06-01",
        "--reask", "d, e", "--user", "nurse_nina",
    )  # fmt: skip
    assert "items to ask again: d, e." in capsys.readouterr().out
    with pytest.raises(
        CommandError, match="--valid-from: expected a date as YYYY-MM-DD, got '1/7/2025'"
    ):
        call_command(
            "consent_version", "add", "v5", "--valid-from", "1/7/2025", "--user", "nurse_nina"
        )
    with pytest.raises(CommandError, match="may not record consent"):
        call_command(
            "consent_version",
            "add",
            "v5",
            "--valid-from",
            "2025-07-01",
            "--user",
            "statistician_stan",
        )
    call_command("consent_version", "list")
    listed = capsys.readouterr().out
    assert "PRESENT v3.0" in listed and "2025-05-31" in listed and "re-ask: d,e" in listed


def test_counts_and_limits_agree_with_the_full_lists(
    make_participant, personas, consent_version
) -> None:
    from blend.apps.consent.over_time import postponed_count, reconsent_count, refresh_count

    for day in (5, 1, 3):
        make_participant(consent={**ALL_YES, "c": "postponed"}, registered_on=date(2025, 3, day))
    assert postponed_count() == len(postponed_worklist()) == 3
    first_two = postponed_worklist(limit=2)
    assert [w.since.day for w in first_two] == [1, 3]  # the longest waiting first
    assert reconsent_count() == len(reconsent_worklist()[1]) == 0
    approve_form_version(
        "v9", valid_from=date(2025, 6, 1), reask_items=["c"], user=personas["nurse_nina"]
    )
    assert reconsent_count() == len(reconsent_worklist()[1]) == 3
    assert refresh_count(on=date(2026, 6, 1)) == len(refresh_worklist(on=date(2026, 6, 1))) == 3
    assert len(refresh_worklist(on=date(2026, 6, 1), limit=1)) == 1


def test_the_participant_page_reminds_staff_to_re_ask_and_nobody_else(
    make_participant, client_for
) -> None:
    member = make_participant(consent={**ALL_YES, "c": "postponed"}, registered_on=date(2025, 3, 1))
    nurse = client_for("nurse_nina").get(f"/participants/{member.study_id}/").content.decode()
    assert 'data-testid="consent-postponed-reminder"' in nurse
    assert "Randomization consent (c) was postponed on 2025-03-01" in nurse
    admin = client_for("admin_ada").get(f"/participants/{member.study_id}/").content.decode()
    assert "consent-postponed-reminder" not in admin
    decided = make_participant()
    page = client_for("nurse_nina").get(f"/participants/{decided.study_id}/").content.decode()
    assert "consent-postponed-reminder" not in page
