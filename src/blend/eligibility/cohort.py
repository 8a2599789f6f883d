"""Pre-screening: every cohort member's recorded facts against every trial's criteria
(pure; no Django).

    from blend.eligibility.cohort import assess_cohort, potentially_eligible
    verdicts = assess_cohort(
        {member_id: facts, ...},          # each member's facts, keyed by cohort fact key
        {"BLEND": criteria, ...},         # each trial's Criteria (load_trial(code).criteria)
        catalogue,                        # the cohort's fact catalogue (load_cohort().facts)
    )
    verdicts["BLEND"][member_id].status   # "eligible" | "ineligible" | "pending"

A member's facts are checked once against the cohort's catalogue (``FactError`` names the
member, the fact, what was expected and what was received), and derived once (age from
date of birth and ``screening_date``, the SINS total from its components); then each
trial reads only the keys its criteria ask, with the same three-valued verdict as
``assess`` (docs/eligibility.md): a member is **potentially eligible** for a trial when
no criterion fails on what is known (eligible, or pending on a missing fact).

Speed is measured in ``bench/bench_prescreening.py`` (10,000 members × 3 trials).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, TypeVar

from blend.eligibility.criteria import Criteria, FactSpec
from blend.eligibility.engine import ELIGIBLE, PENDING, EligibilityResult, verdict
from blend.eligibility.facts import FactError, clean_facts, derive

Member = TypeVar("Member", bound=Hashable)

POTENTIALLY_ELIGIBLE = frozenset({ELIGIBLE, PENDING})


def potentially_eligible(result: EligibilityResult) -> bool:
    """No criterion fails on the known facts: eligible, or pending on missing facts."""
    return result.status in POTENTIALLY_ELIGIBLE


def checked_facts(facts: Mapping[str, Any], catalogue: Mapping[str, FactSpec]) -> dict[str, Any]:
    """One member's facts checked against the cohort's catalogue and derived (age, SINS
    total). Raises ``FactError`` naming every bad fact."""
    return derive(clean_facts(facts, Criteria("cohort", catalogue, ())))


def assess_cohort(
    members: Mapping[Member, Mapping[str, Any]],
    trials: Mapping[str, Criteria],
    catalogue: Mapping[str, FactSpec],
    errors: dict[str, str] | None = None,
) -> dict[str, dict[Member, EligibilityResult]]:
    """Each trial's verdict on each member: ``{trial code: {member: result}}``.

    ``members`` maps any member key (an id) to that member's facts. A member's bad facts
    raise ``FactError`` whose keys are ``"<member>: <fact>"``, so the caller can tell
    whose record is wrong; given an ``errors`` dict, those members are left out and
    their errors put there instead (a list page still shows everyone else)."""
    collect = errors is not None
    errors = {} if errors is None else errors
    checked: dict[Member, dict[str, Any]] = {}
    for member, facts in members.items():
        try:
            checked[member] = checked_facts(facts, catalogue)
        except FactError as error:
            errors.update({f"{member}: {key}": text for key, text in error.errors.items()})
    if errors and not collect:
        raise FactError(errors)
    verdicts: dict[str, dict[Member, EligibilityResult]] = {}
    for code, criteria in trials.items():
        asked = criteria.facts.keys()
        verdicts[code] = {
            member: verdict({k: v for k, v in known.items() if k in asked}, criteria)
            for member, known in checked.items()
        }
    return verdicts
