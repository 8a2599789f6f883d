"""The eligibility verdict: eligible, ineligible or pending, with every reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from blend.eligibility.criteria import Criteria, Criterion, load_criteria
from blend.eligibility.facts import clean_facts, derive

ELIGIBLE, INELIGIBLE, PENDING = "eligible", "ineligible", "pending"


@dataclass(frozen=True)
class EligibilityResult:
    """``reasons`` maps criterion code → reason: every failing criterion when ineligible,
    every undecided criterion when pending, nothing when eligible. ``undecided`` holds the
    undecided criteria even when another one already makes the participant ineligible."""

    status: str
    reasons: dict[str, str]
    undecided: dict[str, str] = field(default_factory=dict)
    missing_facts: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    criteria_version: str = ""

    def __post_init__(self) -> None:
        # The invariants of the verdict (style guide §7.5).
        assert (self.status == ELIGIBLE) == (not self.reasons), (self.status, self.reasons)
        assert self.status != PENDING or self.undecided, "pending needs an undecided criterion"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reasons": self.reasons,
            "undecided": self.undecided,
            "missing_facts": self.missing_facts,
            "criteria_version": self.criteria_version,
        }


class _Fmt(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "not recorded"


def _reason(criterion: Criterion, facts: Mapping[str, Any]) -> str:
    shown = _Fmt({k: (", ".join(v) if isinstance(v, list) else v) for k, v in facts.items()})
    return criterion.reason.format_map(shown)


def _missing_reason(criterion: Criterion, facts: Mapping[str, Any], criteria: Criteria) -> str:
    labels = [criteria.facts[key].label for key in criterion.rule.missing(facts)]
    return "information missing: " + "; ".join(labels)


def assess(facts: Mapping[str, Any], criteria: Criteria | None = None) -> EligibilityResult:
    """Assess screening facts against the configured criteria.

    ``facts`` maps fact keys (docs/eligibility.md) to values; a missing or None fact is
    unknown. Raises ``FactError`` naming every malformed fact.
    """
    criteria = criteria or load_criteria()
    return verdict(derive(clean_facts(facts, criteria)), criteria)


def verdict(known: Mapping[str, Any], criteria: Criteria) -> EligibilityResult:
    """The verdict on facts that are already checked and derived (``assess`` without the
    checking): for callers that check a member's facts once and assess them on several
    trials' criteria (``blend.eligibility.cohort``)."""
    failing: dict[str, str] = {}
    undecided: dict[str, str] = {}
    missing: set[str] = set()
    for criterion in criteria.active:
        outcome = criterion.failed(known)
        if outcome is None:
            undecided[criterion.code] = _missing_reason(criterion, known, criteria)
            missing.update(criterion.rule.missing(known))
        elif outcome:
            failing[criterion.code] = _reason(criterion, known)
    status = INELIGIBLE if failing else PENDING if undecided else ELIGIBLE
    reasons = failing if failing else undecided
    ordered_missing = [key for key in criteria.facts if key in missing]
    return EligibilityResult(
        status, reasons, undecided, ordered_missing, dict(known), criteria.version
    )
