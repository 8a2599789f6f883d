"""`blend randomization verify` detects edited and deleted rows and regenerates the arms."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from blend import cli as blend_cli
from blend.apps.allocation.models import Allocation, AllocationLog
from blend.apps.allocation.verification import verify
from tests.web.screening.flow import screen_and_confirm

pytestmark = pytest.mark.django_db
TEST_SEED = "5eed" * 16


@pytest.fixture
def five(make_participant, personas) -> list[Allocation]:
    from blend.apps.allocation.services import randomize

    made = []
    for _ in range(5):
        participant = make_participant()
        screen_and_confirm(participant, personas)
        made.append(randomize(participant, user=personas["nurse_nina"]))
    return made


def tamper(table: str, sql: str, params: list[object]) -> None:
    """What a person with database access could do: switch off the append-only trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # a superuser can bypass triggers for the session
            cursor.execute("SET session_replication_role = replica")
        else:
            cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_no_update"')
            cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_no_delete"')
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def flipped(arm: str) -> str:
    return "control" if arm == "intervention" else "intervention"


def test_an_untouched_log_verifies_and_the_seed_regenerates_every_arm(five) -> None:
    report = verify(TEST_SEED)
    assert report.ok, report.problems
    assert report.allocations == 5 and report.regenerated


def test_a_wrong_seed_is_caught_by_the_commitment(five) -> None:
    report = verify("ab" * 32)
    assert report.problems == [
        "commitment: the revealed seed and recorded design do not give the recorded digest"
    ]


def test_an_edited_log_arm_is_detected(five) -> None:
    entry = AllocationLog.objects.get(sequence_number=3)
    tamper(
        "allocation_allocationlog",
        "UPDATE allocation_allocationlog SET arm = %s WHERE id = %s",
        [flipped(entry.arm), entry.pk],
    )
    problems = verify().problems
    assert "log record #3: hash does not match its contents (the record was edited)" in problems
    assert any(p.startswith("allocation #3: differs from its log record in arm") for p in problems)


def test_an_edited_log_record_with_a_recomputed_hash_breaks_the_next_link(five) -> None:
    from blend.randomization.chain import KEYED, canonical_record, chain_hash

    entry = AllocationLog.objects.get(sequence_number=2)
    entry.arm = flipped(entry.arm)
    new_hash = chain_hash(entry.previous_hash, canonical_record(entry, KEYED))
    tamper(
        "allocation_allocationlog",
        "UPDATE allocation_allocationlog SET arm = %s, hash = %s WHERE id = %s",
        [entry.arm, new_hash, entry.pk],
    )
    tamper(
        "allocation_allocation",
        "UPDATE allocation_allocation SET arm = %s WHERE sequence_number = 2",
        [entry.arm],
    )
    problems = verify().problems
    assert problems == [
        "log record #2: MAC does not match the chain key (the record or the chain "
        "before it was rewritten without the key)",
        "log record #3: previous hash does not match the record before it "
        "(a record was deleted, inserted or edited)",
        "stratum (unstratified): the arm history on the sequence row differs from the log",
    ]
    assert "log record #2: arm" in " ".join(verify(TEST_SEED).problems)


def test_an_edited_allocation_row_is_detected(five) -> None:
    target = five[0]
    tamper(
        "allocation_allocation",
        "UPDATE allocation_allocation SET arm = %s WHERE id = %s",
        [flipped(target.arm), target.pk],
    )
    assert verify().problems == ["allocation #1: differs from its log record in arm"]


def test_a_deleted_log_row_is_detected(five) -> None:
    tamper(
        "allocation_allocationlog",
        "DELETE FROM allocation_allocationlog WHERE sequence_number = %s",
        [4],
    )
    problems = verify().problems
    assert (
        "log record #5: expected sequence number 4 (a record is missing or was inserted)"
        in problems
    )
    assert "allocation #4: has no log record" in problems


def test_deleting_the_last_rows_is_caught_by_the_sequence_head(five) -> None:
    tamper(
        "allocation_allocationlog",
        "DELETE FROM allocation_allocationlog WHERE sequence_number = %s",
        [5],
    )
    tamper(
        "allocation_allocation", "DELETE FROM allocation_allocation WHERE sequence_number = %s", [5]
    )
    problems = verify().problems
    assert problems[0].startswith("sequence head: expected 5 records") and len(problems) == 2
    assert (
        problems[1]
        == "stratum (unstratified): the arm history on the sequence row differs from the log"
    )


def test_the_management_command_fails_loudly_and_the_cli_delegates_to_it(five) -> None:
    out = StringIO()
    call_command("randomization_verify", "--seed", TEST_SEED, stdout=out)
    assert (
        "5 allocations; chain checked; 5 keyed record(s), every MAC checked with the chain "
        "key; every arm regenerated from the seed" in out.getvalue()
    )
    tamper(
        "allocation_allocationlog",
        "DELETE FROM allocation_allocationlog WHERE sequence_number = %s",
        [1],
    )
    with pytest.raises(CommandError, match="verification failed"):
        call_command("randomization_verify", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(SystemExit) as exited:
        blend_cli.main(["randomization", "verify"])
    assert exited.value.code == 1


def test_a_malformed_seed_is_a_clear_error(five) -> None:
    with pytest.raises(CommandError, match="--seed: expected 64 hexadecimal characters"):
        call_command("randomization_verify", "--seed", "xyz", stdout=StringIO())


def test_the_commitment_can_be_recorded_ahead_of_the_first_patient(db) -> None:
    from django.test import override_settings

    from blend.apps.allocation.models import RandomizationCommitment
    from blend.randomization import commitment, load_spec

    out = StringIO()
    call_command("randomization_commit", stdout=out)
    recorded = RandomizationCommitment.objects.get()
    assert recorded.digest == commitment(TEST_SEED, load_spec())
    assert f"digest:      {recorded.digest}" in out.getvalue() and TEST_SEED not in out.getvalue()
    call_command("randomization_commit", stdout=StringIO())  # idempotent
    assert RandomizationCommitment.objects.count() == 1
    with (
        override_settings(RANDOMIZATION_SEED="ab" * 32),
        pytest.raises(CommandError, match="commitment"),
    ):
        call_command("randomization_commit", stdout=StringIO())
