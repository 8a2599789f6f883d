"""Verification of one trial's allocation log (``blend randomization verify --trial CODE``).

Always: the hash chain (every record's hash recomputed, every previous-hash link, gapless
sequence numbers, the head held by the sequence row), every field of the allocations
against their log records, and no allocation before its eligibility confirmation. With
the trial's chain key (the configured one unless another is given): every keyed
record's MAC, and that unkeyed records are only the sealed beginning of the chain, so a
chain rewritten by someone without the key is caught without the seed. Given external
anchors (the anchor file, the trial office's receipts, or one head): truncation and
divergence. Given the revealed seed: the commitment and every arm, regenerated with the
design code the live allocator uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from blend.apps.allocation.models import (
    Allocation,
    AllocationLog,
    AllocationSequence,
    RandomizationCommitment,
)
from blend.apps.allocation.sequence import ARM_CODES, chain_key_text, chain_key_variable
from blend.apps.screening.models import Screening
from blend.apps.trials.lookup import get_trial, trial_code_or_default
from blend.randomization import commitment_of_json, parse_seed, replay
from blend.randomization.anchor import Anchor, compare
from blend.randomization.chain import GENESIS_HASH, KEYED, check_keyed_chain, parse_chain_key


@dataclass
class VerifyReport:
    trial: str = ""
    allocations: int = 0
    problems: list[str] = field(default_factory=list)
    regenerated: bool = False
    #: How many records are keyed (chain version 2), and whether their MACs were checked.
    keyed: int = 0
    authenticated: bool = False
    #: How many external anchors were compared.
    anchors: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_chain(
    entries: list[AllocationLog], report: VerifyReport, key: bytes | None
) -> tuple[str, dict[int, str]]:
    """The head hash and each record's head digest (its MAC; a legacy record's hash)."""
    sequence = AllocationSequence.objects.filter(trial_code=report.trial).first()
    found = check_keyed_chain(
        entries, key, trial=report.trial, seal=sequence.legacy_seal if sequence else ""
    )
    report.problems.extend(found.problems)
    report.keyed, report.authenticated = found.keyed, found.authenticated
    digests = {e.sequence_number: e.mac if e.chain_version == KEYED else e.hash for e in entries}
    return found.head, digests


def configured_key(trial: str) -> bytes | None:
    """The trial's configured chain key, or None when there is none."""
    raw = chain_key_text(trial)
    return parse_chain_key(raw, field=chain_key_variable(trial)) if raw else None


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


#: Every field of an allocation, compared with its log record (``allocated_by``, a user
#: there and a username in the log, and the participant's study ID, separately).
COMPARED_FIELDS = (
    "trial",
    "sequence_number",
    "participant_id",
    "arm",
    "stratum",
    "stratum_index",
    "profile",
    "allocated_at",
)


def _check_allocations(entries: list[AllocationLog], report: VerifyReport) -> None:
    logged = {e.sequence_number: e for e in entries}
    allocations = {
        a.sequence_number: a
        for a in Allocation.objects.filter(trial=report.trial).select_related(
            "allocated_by", "participant"
        )
    }
    for number in sorted(set(logged) - set(allocations)):
        report.problems.append(
            f"allocation #{number}: in the log but the allocation row is missing"
        )
    for number in sorted(set(allocations) - set(logged)):
        report.problems.append(f"allocation #{number}: has no log record")
    for number in sorted(set(logged) & set(allocations)):
        a, e = allocations[number], logged[number]
        differing = [f for f in COMPARED_FIELDS if getattr(a, f) != getattr(e, f)]
        if a.allocated_by.get_username() != e.allocated_by:
            differing.append("allocated_by")
        if a.participant.study_id != e.study_id:
            differing.append("study_id")
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


def verify(
    seed_hex: str | None = None,
    *,
    trial: str | None = None,
    key: bytes | None = None,
    anchors: Iterable[Anchor] = (),
    anchor_source: str = "anchor",
) -> VerifyReport:
    """Check the allocation log of ``trial`` (the default trial for None): each trial has
    its own chain, sequence row, commitment, seed and chain key.

    ``key`` defaults to the trial's configured chain key; ``anchors`` are external heads
    (``blend.randomization.anchor``: the anchor file, receipts, or one head given)."""
    code = trial_code_or_default(trial)
    key = key if key is not None else configured_key(code)
    entries = list(AllocationLog.objects.filter(trial=code).order_by("sequence_number"))
    report = VerifyReport(trial=code, allocations=len(entries))
    head, digests = _check_chain(entries, report, key)
    anchors = list(anchors)
    report.anchors = len(anchors)
    report.problems.extend(compare(anchors, digests, source=anchor_source))
    _check_head(head, len(entries), report)
    _check_arm_history(entries, report)
    _check_allocations(entries, report)
    _check_confirmation_order(report)
    if seed_hex is not None:
        _check_seed(seed_hex, entries, report)
    return report
