"""Verification of one trial's allocation log (``blend randomization verify --trial CODE``).

Always: the hash chain (every record's hash recomputed, every previous-hash link, gapless
sequence numbers, the head held by the sequence row), the allocations against their log
records, and no allocation before its eligibility confirmation. Given the revealed seed:
the commitment and every arm, regenerated with the design code the live allocator uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from blend.apps.allocation.models import (
    Allocation,
    AllocationLog,
    AllocationSequence,
    RandomizationCommitment,
)
from blend.apps.allocation.sequence import ARM_CODES
from blend.apps.screening.models import Screening
from blend.apps.trials.lookup import get_trial, trial_code_or_default
from blend.randomization import commitment_of_json, parse_seed, replay
from blend.randomization.chain import GENESIS_HASH, check_chain


@dataclass
class VerifyReport:
    trial: str = ""
    allocations: int = 0
    problems: list[str] = field(default_factory=list)
    regenerated: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_chain(entries: list[AllocationLog], report: VerifyReport) -> str:
    head, problems = check_chain(entries)
    report.problems.extend(problems)
    return head


def _check_head(head: str, count: int, report: VerifyReport) -> None:
    sequence = AllocationSequence.objects.filter(trial_code=report.trial).first()
    last_number, last_hash = (
        (sequence.last_number, sequence.last_hash) if sequence else (0, GENESIS_HASH)
    )
    if last_number != count or last_hash != head:
        report.problems.append(
            f"sequence head: expected {last_number} records ending in {last_hash[:12]}…, found {count} "
            f"ending in {head[:12]}… (records were deleted or the last one was edited)"
        )


def _check_arm_history(entries: list[AllocationLog], report: VerifyReport) -> None:
    """The arms the design reads (kept on the sequence row) must be those of the log."""
    sequence = AllocationSequence.objects.filter(trial_code=report.trial).first()
    kept = sequence.arms_by_stratum if sequence else {}
    logged: dict[str, str] = {}
    for entry in entries:
        logged[entry.stratum] = logged.get(entry.stratum, "") + ARM_CODES.get(entry.arm, "?")
    for stratum in sorted(set(kept) | set(logged)):
        if kept.get(stratum, "") != logged.get(stratum, ""):
            report.problems.append(
                f"stratum {stratum or '(unstratified)'}: the arm history on the sequence "
                "row differs from the log"
            )


def _check_allocations(entries: list[AllocationLog], report: VerifyReport) -> None:
    logged = {e.sequence_number: e for e in entries}
    allocations = {a.sequence_number: a for a in Allocation.objects.filter(trial=report.trial)}
    for number in sorted(set(logged) - set(allocations)):
        report.problems.append(
            f"allocation #{number}: in the log but the allocation row is missing"
        )
    for number in sorted(set(allocations) - set(logged)):
        report.problems.append(f"allocation #{number}: has no log record")
    for number in sorted(set(logged) & set(allocations)):
        a, e = allocations[number], logged[number]
        fields = ("participant_id", "arm", "stratum", "stratum_index", "profile", "allocated_at")
        differing = [f for f in fields if getattr(a, f) != getattr(e, f)]
        if differing:
            report.problems.append(
                f"allocation #{number}: differs from its log record in {', '.join(differing)}"
            )


def _check_confirmation_order(report: VerifyReport) -> None:
    confirmed = dict(
        Screening.objects.filter(trial=report.trial).values_list("participant_id", "confirmed_at")
    )
    for a in Allocation.objects.filter(trial=report.trial):
        at = confirmed.get(a.participant_id)
        if at is None or at > a.allocated_at:
            report.problems.append(
                f"allocation #{a.sequence_number}: made before eligibility was confirmed"
            )


def _check_seed(seed_hex: str, entries: list[AllocationLog], report: VerifyReport) -> None:
    seed = parse_seed(seed_hex, field="--seed")
    spec = get_trial(report.trial).design
    recorded = RandomizationCommitment.objects.filter(trial_code=report.trial).first()
    if recorded is None:
        if entries:
            report.problems.append("commitment: none recorded, yet allocations exist")
        return
    if commitment_of_json(seed, recorded.design_json) != recorded.digest:
        report.problems.append(
            "commitment: the revealed seed and recorded design do not give the recorded digest"
        )
        return
    if spec.canonical_json() != recorded.design_json:
        report.problems.append("design: randomization.toml differs from the design committed to")
        return
    expected = replay(spec, seed, [e.profile for e in entries])
    for entry, arm in zip(entries, expected, strict=True):
        if entry.arm != arm:
            report.problems.append(
                f"log record #{entry.sequence_number}: arm {entry.arm}, but the seed gives {arm}"
            )
    report.regenerated = True


def verify(seed_hex: str | None = None, *, trial: str | None = None) -> VerifyReport:
    """Check the allocation log of ``trial`` (the default trial for None): each trial has
    its own chain, sequence row, commitment and seed."""
    code = trial_code_or_default(trial)
    entries = list(AllocationLog.objects.filter(trial=code).order_by("sequence_number"))
    report = VerifyReport(trial=code, allocations=len(entries))
    head = _check_chain(entries, report)
    _check_head(head, len(entries), report)
    _check_arm_history(entries, report)
    _check_allocations(entries, report)
    _check_confirmation_order(report)
    if seed_hex is not None:
        _check_seed(seed_hex, entries, report)
    return report
