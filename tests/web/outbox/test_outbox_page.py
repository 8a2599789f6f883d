"""The outbox page lists participant messages; addresses only for roles that may see
identifiers."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_outbox_lists_messages_and_hides_addresses_without_identifiers_view(
    client_for, make_participant, treat
) -> None:  # type: ignore[no-untyped-def]
    p = treat(make_participant(), days_ago=25)
    call_command("send_reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115
    nurse = client_for("nurse_nina").get("/outbox/").content.decode()
    assert p.study_id in nurse and "questionnaire_invitation" in nurse and p.identity.email in nurse
    assert "/questionnaires/q/" not in nurse
    stan = client_for("statistician_stan").get("/outbox/?status=sent").content.decode()
    assert p.study_id in stan and p.identity.email not in stan
    assert p.study_id not in client_for("nurse_nina").get("/outbox/?status=failed").content.decode()
