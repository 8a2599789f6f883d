"""The bulk consent read used by reminders and dashboards gives exactly the answer of
consent.services.may_send_questionnaires for every consent situation."""

from __future__ import annotations

from datetime import date

import pytest

from blend.apps.consent.services import may_send_questionnaires, withdraw_consent
from blend.apps.followup.services import questionnaire_permission

pytestmark = pytest.mark.django_db

SITUATIONS = [
    {"a": "yes", "b": "yes"},
    {"a": "yes", "b": "no"},
    {"a": "yes", "b": "postponed"},
    {"a": "no", "b": "yes"},
    {"a": "yes"},
    {},
    {"a": "yes", "b": "yes", "c": "no", "d": "no", "e": "no"},
]


def test_bulk_permission_equals_the_consent_service(make_participant, personas) -> None:  # type: ignore[no-untyped-def]
    people = [make_participant(consent=answers) for answers in SITUATIONS]
    withdrawn = make_participant()
    withdraw_consent(
        withdrawn, "b", on=date(2025, 4, 1), reason="too tiring", user=personas["nurse_nina"]
    )
    people.append(withdrawn)
    bulk = questionnaire_permission([p.pk for p in people])
    assert bulk == {p.pk: may_send_questionnaires(p) for p in people}
    assert list(bulk.values()) == [True, False, False, False, False, False, True, False]
