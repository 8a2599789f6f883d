from __future__ import annotations

from datetime import date

import pytest

from blend.apps.consent.domain import Answer
from blend.apps.consent.models import ConsentFormVersion, ConsentRecord
from blend.apps.consent.services import (
    ConsentError,
    consent_states,
    may_randomize,
    may_send_questionnaires,
    randomization_consent_missing,
    record_consent,
    withdraw_consent,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("answer", ["yes", "no", "postponed"])
@pytest.mark.parametrize("item", ["a", "b", "c", "d", "e"])
def test_every_item_records_every_answer(
    make_participant, personas, consent_version, item, answer
) -> None:
    participant = make_participant(consent={})
    record_consent(
        participant,
        item,
        answer,
        on=date(2025, 3, 2),
        form_version=consent_version,
        user=personas["nurse_nina"],
    )
    assert consent_states(participant)[item] == Answer(answer)
    row = ConsentRecord.objects.get(participant=participant, item=item)
    assert row.form_version == consent_version and row.recorded_by == personas["nurse_nina"]


def test_randomization_needs_a_current_yes_on_a_c_and_d(make_participant) -> None:
    assert may_randomize(make_participant())
    postponed = make_participant(consent={"a": "yes", "b": "yes", "c": "postponed", "d": "yes"})
    assert not may_randomize(postponed)
    assert randomization_consent_missing(postponed) == ["c"]
    no_d = make_participant(consent={"a": "yes", "c": "yes", "d": "no"})
    assert randomization_consent_missing(no_d) == ["d"]


def test_questionnaires_need_a_and_b(make_participant) -> None:
    assert may_send_questionnaires(make_participant())
    assert not may_send_questionnaires(
        make_participant(consent={"a": "yes", "b": "no", "c": "yes"})
    )


def test_withdrawal_stops_randomization_and_deletes_nothing(make_participant, personas) -> None:
    participant = make_participant()
    before = ConsentRecord.objects.filter(participant=participant).count()
    withdraw_consent(
        participant,
        "c",
        on=date(2025, 4, 1),
        reason="Changed her mind",
        user=personas["nurse_nina"],
    )
    assert consent_states(participant)["c"] == Answer.WITHDRAWN
    assert not may_randomize(participant)
    assert may_send_questionnaires(participant)  # the other items stand on their own
    assert ConsentRecord.objects.filter(participant=participant).count() == before + 1


def test_withdrawal_needs_a_reason_and_a_current_yes(make_participant, personas) -> None:
    participant = make_participant(consent={"a": "yes", "b": "postponed"})
    with pytest.raises(ConsentError, match="reason: expected a reason"):
        withdraw_consent(
            participant, "a", on=date(2025, 4, 1), reason=" ", user=personas["nurse_nina"]
        )
    with pytest.raises(ConsentError, match="item b: expected a current 'yes'"):
        withdraw_consent(
            participant, "b", on=date(2025, 4, 1), reason="x", user=personas["nurse_nina"]
        )


def test_a_consent_after_withdrawal_restores_the_item(
    make_participant, personas, consent_version
) -> None:
    participant = make_participant()
    withdraw_consent(
        participant, "b", on=date(2025, 4, 1), reason="tired", user=personas["nurse_nina"]
    )
    record_consent(
        participant,
        "b",
        "yes",
        on=date(2025, 5, 1),
        form_version=consent_version,
        user=personas["nurse_nina"],
    )
    assert may_send_questionnaires(participant)


def test_a_form_version_outside_its_validity_period_is_refused(make_participant, personas) -> None:
    participant = make_participant(consent={})
    old = ConsentFormVersion.objects.create(
        version="v1", valid_from=date(2020, 1, 1), valid_until=date(2024, 12, 31)
    )
    with pytest.raises(
        ConsentError, match="form_version: version v1 is valid 2020-01-01 to 2024-12-31"
    ):
        record_consent(
            participant,
            "a",
            "yes",
            on=date(2025, 3, 2),
            form_version=old,
            user=personas["nurse_nina"],
        )
    future = ConsentFormVersion.objects.create(version="v9", valid_from=date(2025, 6, 1))
    with pytest.raises(ConsentError, match="version v9"):
        record_consent(
            participant,
            "a",
            "yes",
            on=date(2025, 3, 2),
            form_version=future,
            user=personas["nurse_nina"],
        )
    assert not ConsentRecord.objects.filter(participant=participant).exists()


def test_unknown_items_answers_and_dates_are_named(
    make_participant, personas, consent_version
) -> None:
    participant = make_participant(consent={})
    nurse = personas["nurse_nina"]
    with pytest.raises(ConsentError, match="item: expected one of a, b, c, d, e, got 'z'"):
        record_consent(
            participant, "z", "yes", on=date(2025, 3, 2), form_version=consent_version, user=nurse
        )
    with pytest.raises(ConsentError, match="answer: expected yes, no or postponed, got 'maybe'"):
        record_consent(
            participant, "a", "maybe", on=date(2025, 3, 2), form_version=consent_version, user=nurse
        )
    with pytest.raises(ConsentError, match="date: expected on or after cohort entry"):
        record_consent(
            participant, "a", "yes", on=date(2025, 1, 1), form_version=consent_version, user=nurse
        )
