"""The allocation service: preconditions, the unique constraint, the chain, the commitment."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from blend.apps.allocation.models import (
    Allocation,
    AllocationLog,
    AllocationSequence,
    RandomizationCommitment,
)
from blend.apps.allocation.queries import arm_of
from blend.apps.allocation.services import (
    AlreadyRandomized,
    ConsentMissing,
    NotEligible,
    RandomizationUnavailable,
    randomize,
)
from blend.apps.audit.models import AuditEvent
from blend.apps.consent.services import withdraw_consent
from blend.randomization import commitment, load_spec, sequence
from tests.web.screening.flow import arms, screen, screen_and_confirm

pytestmark = pytest.mark.django_db
TEST_SEED = "5eed" * 16  # blend.web.test_settings


def test_it_allocates_a_confirmed_consenting_participant_and_chains_the_log(
    make_participant, personas
) -> None:
    participant = make_participant()
    screening = screen_and_confirm(participant, personas)
    allocation = randomize(participant, user=personas["nurse_nina"])
    assert (
        allocation.sequence_number == 1
        and allocation.stratum == ""
        and allocation.stratum_index == 0
    )
    assert arm_of(participant) == allocation.arm in {"intervention", "control"}
    assert allocation.allocated_at >= screening.confirmed_at
    entry = AllocationLog.objects.get()
    assert (entry.arm, entry.study_id, entry.allocated_by) == (
        allocation.arm,
        participant.study_id,
        "nurse_nina",
    )
    assert entry.previous_hash == "0" * 64 and len(entry.hash) == 64
    assert AllocationSequence.objects.get().last_hash == entry.hash


def test_the_commitment_is_recorded_before_the_first_allocation(make_participant, personas) -> None:
    participant = make_participant()
    screen_and_confirm(participant, personas)
    assert not RandomizationCommitment.objects.exists()
    allocation = randomize(participant, user=personas["nurse_nina"])
    recorded = RandomizationCommitment.objects.get()
    assert recorded.digest == commitment(TEST_SEED, load_spec())
    assert recorded.design_json == load_spec().canonical_json()
    assert recorded.recorded_at <= allocation.allocated_at
    assert TEST_SEED not in str(list(RandomizationCommitment.objects.values())) + str(
        list(AllocationLog.objects.values())
    )


def test_the_audit_event_does_not_carry_the_arm(make_participant, personas) -> None:
    participant = make_participant()
    screen_and_confirm(participant, personas)
    randomize(participant, user=personas["nurse_nina"])
    event = AuditEvent.objects.get(action="allocation.randomize")
    assert event.details == {"trial": "BLEND", "sequence_number": 1, "stratum": ""}


def test_arms_follow_the_configured_design_from_the_secret_seed(make_participant, personas) -> None:
    for _ in range(12):
        participant = make_participant()
        screen_and_confirm(participant, personas)
        randomize(participant, user=personas["nurse_nina"])
    assert arms() == sequence(load_spec(), TEST_SEED, 12)
    assert list(Allocation.objects.values_list("sequence_number", flat=True)) == list(range(1, 13))


def test_no_allocation_without_a_screening_or_without_confirmation(
    make_participant, personas
) -> None:
    participant = make_participant()
    with pytest.raises(NotEligible, match="not screened"):
        randomize(participant, user=personas["nurse_nina"])
    screen(participant, personas["nurse_nina"])
    with pytest.raises(NotEligible, match="not confirmed"):
        randomize(participant, user=personas["nurse_nina"])
    ineligible = make_participant()
    screen(ineligible, personas["nurse_nina"], prior_surgery_index=True)
    with pytest.raises(NotEligible, match="got ineligible"):
        randomize(ineligible, user=personas["nurse_nina"])
    assert not Allocation.objects.exists() and not AllocationLog.objects.exists()


def test_no_allocation_without_consent_d(make_participant, personas) -> None:
    participant = make_participant(consent={"a": "yes", "b": "yes", "c": "yes"})
    screen_and_confirm(participant, personas)
    with pytest.raises(ConsentMissing, match="items d"):
        randomize(participant, user=personas["nurse_nina"])
    assert not Allocation.objects.exists()


def test_no_allocation_when_consent_c_is_withdrawn_after_confirmation(
    make_participant, personas
) -> None:
    participant = make_participant()
    screen_and_confirm(participant, personas)
    withdraw_consent(
        participant, "c", on=date(2025, 3, 12), reason="changed mind", user=personas["nurse_nina"]
    )
    with pytest.raises(ConsentMissing, match="items c"):
        randomize(participant, user=personas["nurse_nina"])
    assert (
        not Allocation.objects.exists()
        and not AllocationSequence.objects.filter(last_number__gt=0).exists()
    )


def test_a_second_allocation_is_refused_by_the_service(make_participant, personas) -> None:
    participant = make_participant()
    screen_and_confirm(participant, personas)
    first = randomize(participant, user=personas["nurse_nina"])
    with pytest.raises(AlreadyRandomized):
        randomize(participant, user=personas["investigator_ivo"])
    assert Allocation.objects.get() == first and AllocationLog.objects.count() == 1


def test_a_second_allocation_is_impossible_at_the_database_level(
    make_participant, personas
) -> None:
    participant = make_participant()
    screen_and_confirm(participant, personas)
    first = randomize(participant, user=personas["nurse_nina"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.create(
            trial="BLEND",
            participant=participant,
            arm="control",
            sequence_number=99,
            stratum="",
            stratum_index=99,
            allocated_at=timezone.now(),
            allocated_by=personas["nurse_nina"],
        )
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(),
    ):  # append-only: no silent arm switch either
        Allocation.objects.filter(pk=first.pk).update(
            arm="control" if first.arm == "intervention" else "intervention"
        )
    assert Allocation.objects.get().arm == first.arm


def test_no_seed_means_nobody_can_be_randomized(make_participant, personas) -> None:
    participant = make_participant()
    screen_and_confirm(participant, personas)
    with (
        override_settings(RANDOMIZATION_SEED=None),
        pytest.raises(RandomizationUnavailable, match="SEED"),
    ):
        randomize(participant, user=personas["nurse_nina"])
    with (
        override_settings(RANDOMIZATION_SEED="abc"),
        pytest.raises(RandomizationUnavailable, match="64"),
    ):
        randomize(participant, user=personas["nurse_nina"])
    assert not Allocation.objects.exists() and not RandomizationCommitment.objects.exists()


def test_a_changed_seed_after_the_first_allocation_is_refused(make_participant, personas) -> None:
    first, second = make_participant(), make_participant()
    screen_and_confirm(first, personas)
    screen_and_confirm(second, personas)
    randomize(first, user=personas["nurse_nina"])
    with (
        override_settings(RANDOMIZATION_SEED="ab" * 32),
        pytest.raises(RandomizationUnavailable, match="commitment"),
    ):
        randomize(second, user=personas["nurse_nina"])
    assert Allocation.objects.count() == 1
