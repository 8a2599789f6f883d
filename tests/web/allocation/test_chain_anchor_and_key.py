"""Attacks on the allocation chain by someone who can write the database but holds
neither the chain key nor the anchor file (docs/security.md sections 4 and 5).

- Deleting the last allocation and rolling the sequence row back leaves a chain that is
  consistent in itself and passes even with the seed; the anchor file (and the trial
  office's receipts) record the deleted head, so verify reports the truncation.
- Flipping an arm and recomputing every SHA-256 hash (all an attacker without the key
  can do) is caught without the seed by the MACs, and so is turning keyed records back
  into unkeyed ones. Changing ``allocated_by`` alone is caught as well.

The same tests run on PostgreSQL in the PostgreSQL pass (``tamper`` switches the
append-only triggers off the way a superuser could).
"""

from __future__ import annotations

import logging
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from blend.apps.allocation.anchoring import anchor_path
from blend.apps.allocation.errors import RandomizationUnavailable
from blend.apps.allocation.models import Allocation, AllocationLog, AllocationSequence
from blend.apps.allocation.services import randomize
from blend.apps.allocation.verification import verify
from blend.apps.outbox.models import Message
from blend.randomization.anchor import parse_anchors
from blend.randomization.chain import (
    GENESIS_HASH,
    KEYED,
    LEGACY,
    canonical_record,
    chain_hash,
    parse_chain_key,
)
from tests.web.allocation.test_verify import TEST_SEED, flipped, tamper
from tests.web.screening.flow import screen_and_confirm

pytestmark = pytest.mark.django_db
TEST_KEY = parse_chain_key("c4a1" * 16)  # BLEND_CHAIN_KEY of the test settings


@pytest.fixture
def anchors_dir(settings: Any, tmp_path: Path) -> Path:
    settings.CHAIN_ANCHOR_DIR = str(tmp_path / "anchors")
    return tmp_path / "anchors"


@pytest.fixture
def five(
    make_participant: Any,
    personas: dict[str, Any],
    anchors_dir: Path,
    django_capture_on_commit_callbacks: Any,
) -> list[Allocation]:
    made = []
    for _ in range(5):
        participant = make_participant()
        screen_and_confirm(participant, personas)
        with django_capture_on_commit_callbacks(execute=True):
            made.append(randomize(participant, user=personas["nurse_nina"]))
    return made


def anchors_of(path: Path) -> list[Any]:
    found, problems = parse_anchors(path.read_text(), trial="BLEND", key=TEST_KEY)
    assert problems == []
    return found


def json_parameter() -> str:
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


def truncate_last(number: int) -> None:
    """Delete allocation ``number`` (the last) with its log record, and roll the sequence
    row back to the record before it, so that the chain is consistent again."""
    tamper(
        "allocation_allocationlog",
        "DELETE FROM allocation_allocationlog WHERE trial = 'BLEND' AND sequence_number = %s",
        [number],
    )
    tamper(
        "allocation_allocation",
        "DELETE FROM allocation_allocation WHERE trial = 'BLEND' AND sequence_number = %s",
        [number],
    )
    before = AllocationLog.objects.get(trial="BLEND", sequence_number=number - 1)
    arms = "".join(
        "I" if arm == "intervention" else "C"
        for arm in AllocationLog.objects.filter(trial="BLEND")
        .order_by("sequence_number")
        .values_list("arm", flat=True)
    )
    AllocationSequence.objects.filter(trial_code="BLEND").update(
        last_number=number - 1, last_hash=before.hash, arms_by_stratum={"": arms}
    )


def rewrite_chain_from(number: int, *, version: int) -> None:
    """Recompute every hash from record ``number`` on with plain SHA-256, as someone
    without the chain key would (``version`` 1: also claim the records are unkeyed)."""
    previous = GENESIS_HASH
    for entry in AllocationLog.objects.filter(trial="BLEND").order_by("sequence_number"):
        if entry.sequence_number >= number:
            entry.previous_hash = previous
            entry.chain_version = version
            entry.hash = chain_hash(previous, canonical_record(entry, version))
            tamper(
                "allocation_allocationlog",
                "UPDATE allocation_allocationlog SET arm = %s, previous_hash = %s, hash = %s, "
                "chain_version = %s, mac = %s WHERE id = %s",
                [
                    entry.arm,
                    entry.previous_hash,
                    entry.hash,
                    version,
                    "" if version == LEGACY else entry.mac,
                    entry.pk,
                ],
            )
        previous = entry.hash
    AllocationSequence.objects.filter(trial_code="BLEND").update(last_hash=previous)


def flip_arm(number: int) -> None:
    entry = AllocationLog.objects.get(trial="BLEND", sequence_number=number)
    arm = flipped(entry.arm)
    tamper(
        "allocation_allocationlog",
        "UPDATE allocation_allocationlog SET arm = %s WHERE id = %s",
        [arm, entry.pk],
    )
    tamper(
        "allocation_allocation",
        "UPDATE allocation_allocation SET arm = %s WHERE trial = 'BLEND' AND sequence_number = %s",
        [arm, number],
    )
    sequence = AllocationSequence.objects.get(trial_code="BLEND")
    history = sequence.arms_by_stratum[""]
    code = "I" if arm == "intervention" else "C"
    history = history[: number - 1] + code + history[number:]
    AllocationSequence.objects.filter(pk=sequence.pk).update(arms_by_stratum={"": history})


# ------------------------------------------------------------------ the anchor (item 4)


def test_each_allocation_appends_its_signed_head_to_the_anchor_file(five: Any) -> None:
    path = anchor_path("BLEND")
    assert path is not None
    anchors = anchors_of(path)
    macs = list(
        AllocationLog.objects.filter(trial="BLEND")
        .order_by("sequence_number")
        .values_list("mac", flat=True)
    )
    assert [(a.number, a.digest) for a in anchors] == list(enumerate(macs, start=1))
    logs = AllocationLog.objects.filter(trial="BLEND")
    assert all(e.chain_version == KEYED for e in logs)
    # The head digest is the MAC, not the SHA-256 hash: it reveals no arm.
    assert not ({e.hash for e in logs} & {a.digest for a in anchors})
    report = verify(trial="BLEND", anchors=anchors)
    assert report.ok and report.anchors == 5, report.problems


def test_deleting_the_last_allocation_and_rolling_back_the_sequence_is_caught_by_the_anchor(
    five: Any,
) -> None:
    path = anchor_path("BLEND")
    assert path is not None
    last = AllocationLog.objects.get(trial="BLEND", sequence_number=5)
    truncate_last(5)
    # The database is consistent again: without the anchor, even the seed sees nothing.
    assert verify(TEST_SEED, trial="BLEND").ok
    problems = verify(TEST_SEED, trial="BLEND", anchors=anchors_of(path)).problems
    assert problems == [
        f"truncation: the database ends at #4 but the anchor records #5 with digest "
        f"{last.mac[:16]}… at {last.allocated_at.isoformat(timespec='microseconds')} "
        "(allocations were deleted and the sequence rolled back)"
    ]
    err = StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command(
            "randomization_verify",
            "--trial",
            "BLEND",
            "--anchor",
            "default",
            stdout=StringIO(),
            stderr=err,
        )
    assert "FAIL truncation: the database ends at #4 but the anchor records #5" in err.getvalue()
    # One head read from a receipt does the same.
    with pytest.raises(CommandError, match="1 problem"):
        call_command(
            "randomization_verify", "--head", f"5:{last.mac}", stdout=StringIO(), stderr=StringIO()
        )


def test_a_reallocation_after_the_truncation_diverges_from_the_anchor(
    five: Any,
    make_participant: Any,
    personas: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    path = anchor_path("BLEND")
    assert path is not None
    anchored = anchors_of(path)
    truncate_last(5)
    participant = make_participant()
    screen_and_confirm(participant, personas)
    with django_capture_on_commit_callbacks(execute=True):
        randomize(participant, user=personas["nurse_nina"])
    problems = verify(trial="BLEND", anchors=anchored).problems
    assert len(problems) == 1 and problems[0].startswith(
        "divergence: the anchor records #5 with digest"
    ), problems


def test_a_forged_anchor_line_is_reported_and_not_trusted(five: Any) -> None:
    path = anchor_path("BLEND")
    assert path is not None
    with path.open("a") as handle:
        handle.write(
            "BLEND\t6\t" + "ab" * 32 + "\t2030-01-01T00:00:00.000000+00:00\t" + "00" * 32 + "\n"
        )
    found, problems = parse_anchors(path.read_text(), trial="BLEND", key=TEST_KEY)
    assert [a.number for a in found] == [1, 2, 3, 4, 5]
    assert problems == [
        "anchor line 6: MAC does not match the chain key of BLEND (the line was not "
        "written by the application; it is ignored)"
    ]
    with pytest.raises(CommandError, match="1 problem"):
        call_command(
            "randomization_verify", "--anchor", str(path), stdout=StringIO(), stderr=StringIO()
        )


def test_the_trial_office_receives_a_signed_receipt_that_reveals_no_arm(
    settings: Any,
    make_participant: Any,
    personas: dict[str, Any],
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CHAIN_ANCHOR_DIR = ""  # receipts only
    settings.CHAIN_RECEIPT_EMAIL = "trial-office@example.org"
    for _ in range(3):
        participant = make_participant()
        screen_and_confirm(participant, personas)
        with django_capture_on_commit_callbacks(execute=True):
            randomize(participant, user=personas["nurse_nina"])
    receipts = Message.objects.filter(to_address="trial-office@example.org").order_by("id")
    assert receipts.count() == 3 and all(m.participant_id is None for m in receipts)
    assert all(m.audience == "staff" for m in receipts)
    for message in receipts:
        assert "intervention" not in message.body and "control" not in message.body
    saved = tmp_path / "receipts.txt"  # what the trial office keeps: the e-mails, saved
    saved.write_text("\n\n".join(m.body for m in receipts))
    call_command("randomization_verify", "--anchor", str(saved), stdout=StringIO())
    truncate_last(3)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("randomization_verify", "--anchor", str(saved), stdout=StringIO(), stderr=err)
    assert "truncation: the database ends at #2 but the anchor" in err.getvalue()


def test_an_anchor_that_cannot_be_written_never_fails_the_allocation(
    settings: Any,
    make_participant: Any,
    personas: dict[str, Any],
    tmp_path: Path,
    caplog: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    settings.CHAIN_ANCHOR_DIR = str(blocked)
    participant = make_participant()
    screen_and_confirm(participant, personas)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        allocation = randomize(participant, user=personas["nurse_nina"])
    assert allocation.pk and "could not append" in caplog.text


# ------------------------------------------------------------------ the key (item 5)


def test_rewriting_the_chain_with_plain_sha256_after_flipping_an_arm_is_caught_without_the_seed(
    five: Any,
) -> None:
    flip_arm(3)
    rewrite_chain_from(3, version=KEYED)
    problems = verify(trial="BLEND").problems  # the configured key; no seed
    mac_problem = (
        "MAC does not match the chain key (the record or the chain before it was "
        "rewritten without the key)"
    )
    assert problems == [f"log record #{n}: {mac_problem}" for n in (3, 4, 5)]
    assert "log record #3: arm" in " ".join(verify(TEST_SEED, trial="BLEND").problems)


def test_rewriting_the_chain_as_unkeyed_records_is_caught_without_the_seed(five: Any) -> None:
    flip_arm(2)
    rewrite_chain_from(1, version=LEGACY)
    problems = verify(trial="BLEND").problems
    assert problems == [
        "chain: all 5 records are unkeyed (version 1) and the chain key's seal over them is "
        "missing or does not match (keyed records were rewritten without the key, or the "
        "legacy chain was never sealed: `blend randomization-commit --trial CODE --seal-legacy` seals it)"
    ]
    # Sealing it now is refused: the anchor file shows that keyed records existed.
    with pytest.raises(CommandError, match="the chain was rewritten"):
        call_command("randomization_commit", "--seal-legacy", stdout=StringIO())


def test_an_unkeyed_record_after_keyed_ones_is_refused(five: Any) -> None:
    rewrite_chain_from(4, version=LEGACY)
    problems = verify(trial="BLEND").problems
    assert problems == [
        f"log record #{n}: an unkeyed (version 1) record after keyed ones (keyed records "
        "were rewritten by someone without the chain key)"
        for n in (4, 5)
    ]


def test_changing_allocated_by_alone_is_caught(five: Any, personas: dict[str, Any]) -> None:
    other = personas["investigator_ivo"]
    tamper(
        "allocation_allocation",
        "UPDATE allocation_allocation SET allocated_by_id = %s WHERE trial = 'BLEND' AND sequence_number = 2",
        [other.pk],
    )
    assert verify(trial="BLEND").problems == [
        "allocation #2: differs from its log record in allocated_by"
    ]
    entry = AllocationLog.objects.get(trial="BLEND", sequence_number=2)
    entry.allocated_by = other.get_username()
    tamper(
        "allocation_allocationlog",
        "UPDATE allocation_allocationlog SET allocated_by = %s, hash = %s WHERE id = %s",
        [
            entry.allocated_by,
            chain_hash(entry.previous_hash, canonical_record(entry, KEYED)),
            entry.pk,
        ],
    )
    problems = verify(trial="BLEND").problems
    assert (
        "log record #2: MAC does not match the chain key (the record or the chain before it was rewritten without the key)"
        in problems
    )


def test_every_allocation_field_is_compared_with_the_log(five: Any) -> None:
    tamper(
        "allocation_allocation",
        f"UPDATE allocation_allocation SET stratum_index = 7, profile = {json_parameter()} "
        "WHERE trial = 'BLEND' AND sequence_number = 4",
        ['{"centre": "X"}'],
    )
    assert verify(trial="BLEND").problems == [
        "allocation #4: differs from its log record in stratum_index, profile"
    ]


def test_a_wrong_key_fails_every_mac_and_no_key_says_so(five: Any) -> None:
    problems = verify(trial="BLEND", key=b"\x01" * 32).problems
    assert len(problems) == 5 and all("MAC does not match" in p for p in problems)
    out = StringIO()
    call_command("randomization_verify", stdout=out)
    assert "5 keyed record(s), every MAC checked with the chain key" in out.getvalue()


def test_nobody_is_randomized_without_the_chain_key(
    settings: Any, make_participant: Any, personas: dict[str, Any]
) -> None:
    settings.CHAIN_KEY = None
    participant = make_participant()
    screen_and_confirm(participant, personas)
    with pytest.raises(RandomizationUnavailable, match="BLEND_CHAIN_KEY: expected a 64-hex"):
        randomize(participant, user=personas["nurse_nina"])
    settings.CHAIN_KEY = "zz" * 32
    with pytest.raises(RandomizationUnavailable, match="BLEND_CHAIN_KEY: expected only hex"):
        randomize(participant, user=personas["nurse_nina"])
    assert not Allocation.objects.exists()


def test_a_chain_written_before_keys_verifies_once_sealed_and_then_grows_keyed(
    five: Any,
    anchors_dir: Path,
    make_participant: Any,
    personas: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # What a database from before keyed chains holds: unkeyed records and no anchor file.
    rewrite_chain_from(1, version=LEGACY)
    for path in anchors_dir.iterdir():
        path.unlink()
    assert (
        verify(TEST_SEED, trial="BLEND").problems[0].startswith("chain: all 5 records are unkeyed")
    )
    out = StringIO()
    call_command("randomization_commit", "--seal-legacy", stdout=out)
    assert "chain:       the unkeyed records are sealed with the chain key" in out.getvalue()
    report = verify(TEST_SEED, trial="BLEND")
    assert report.ok and report.keyed == 0, report.problems
    participant = make_participant()
    screen_and_confirm(participant, personas)
    with django_capture_on_commit_callbacks(execute=True):
        randomize(participant, user=personas["nurse_nina"])
    report = verify(TEST_SEED, trial="BLEND")
    assert report.ok and report.keyed == 1 and report.allocations == 6, report.problems
    out = StringIO()
    call_command("randomization_verify", stdout=out)
    assert "1 keyed record(s), every MAC checked with the chain key; 5 unkeyed (version 1) " in (
        out.getvalue()
    )
    # The seal covers those 5 records only: editing one is still caught.
    tamper(
        "allocation_allocationlog",
        "UPDATE allocation_allocationlog SET allocated_by = 'someone' WHERE trial = 'BLEND' "
        "AND sequence_number = 2",
        [],
    )
    assert "log record #2: hash does not match its contents (the record was edited)" in (
        verify(trial="BLEND").problems
    )


def test_production_refuses_a_trial_with_a_seed_but_no_chain_key(tmp_path: Path) -> None:
    import subprocess

    from tests.web.test_deploy_check import BLEND, production_env

    env = production_env(tmp_path)
    anchorless = env | {"BLEND_CHAIN_ANCHOR_DIR": ""}
    del env["BLEND_CHAIN_KEY_FILE"]
    result = subprocess.run(
        [str(BLEND), "check", "--deploy"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode != 0
    assert "allocation.E001" in result.stderr + result.stdout
    assert "BLEND_CHAIN_KEY: expected a 64-hex-character chain key for BLEND" in (
        result.stderr + result.stdout
    )
    result = subprocess.run(
        [str(BLEND), "check", "--deploy", "--fail-level", "WARNING"],
        env=anchorless,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode != 0 and "allocation.W001" in result.stderr + result.stdout


@pytest.mark.django_db(transaction=True)
def test_the_anchor_is_appended_after_the_commit_and_outside_the_writer_lock(
    settings: Any,
    tmp_path: Path,
    make_participant: Any,
    personas: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from blend.apps.allocation import anchoring, sequence

    settings.CHAIN_ANCHOR_DIR = str(tmp_path)
    seen: list[tuple[bool, bool, int]] = []
    real_append = anchoring.append_anchor

    def watching(path: Path, line: str) -> None:
        locked = connection.vendor == "sqlite" and sequence._SQLITE_WRITER.locked()
        seen.append((locked, connection.in_atomic_block, AllocationLog.objects.count()))
        real_append(path, line)

    monkeypatch.setattr(anchoring, "append_anchor", watching)
    participant = make_participant()
    screen_and_confirm(participant, personas)
    randomize(participant, user=personas["nurse_nina"])
    # Not under the lock, not in the transaction, and the allocation already committed.
    assert seen == [(False, False, 1)]
    assert [a.number for a in anchors_of(tmp_path / "BLEND.log")] == [1]
