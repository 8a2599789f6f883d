"""Properties of the three-valued engine over random subsets of the facts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from blend.eligibility import ELIGIBLE, INELIGIBLE, PENDING, assess
from tests.core.eligibility.test_assess import ELIGIBLE_FACTS, VIOLATIONS

KEYS = sorted(ELIGIBLE_FACTS)


@settings(max_examples=300, deadline=None)
@given(kept=st.sets(st.sampled_from(KEYS)))
def test_missing_facts_can_only_make_an_eligible_patient_pending(kept: set[str]) -> None:
    result = assess({k: ELIGIBLE_FACTS[k] for k in kept})
    assert result.status in {ELIGIBLE, PENDING}
    assert (result.status == ELIGIBLE) == (not result.missing_facts)
    assert set(result.missing_facts) <= set(KEYS) - kept


@settings(max_examples=300, deadline=None)
@given(
    kept=st.sets(st.sampled_from(KEYS)),
    codes=st.sets(st.sampled_from(sorted(VIOLATIONS)), min_size=1),
)
def test_a_known_violation_is_reported_whatever_else_is_missing(
    kept: set[str], codes: set[str]
) -> None:
    facts = {k: ELIGIBLE_FACTS[k] for k in kept}
    for code in codes:
        facts.update(VIOLATIONS[code])
    result = assess(facts)
    assert result.status == INELIGIBLE
    assert set(result.reasons) == codes
    assert not set(result.reasons) & set(result.undecided)
