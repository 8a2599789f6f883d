"""BLEND eligibility (pure; no Django).

    from blend.eligibility import assess
    result = assess({"age": 64, "symptoms": ["mechanical_pain"], ...})
    result.status    # "eligible" | "ineligible" | "pending"
    result.reasons   # {criterion code: reason} — every failing (or undecided) criterion

The criteria are data: each trial's ``eligibility.toml`` (``trials/<code>/`` of
``blend.protocol``), over the cohort's catalogue of facts (``cohort/facts.toml``);
``assess`` without criteria uses BLEND's (``load_protocol().section("eligibility")``).
Every criterion code and fact key is documented in docs/eligibility.md.
"""

from __future__ import annotations

from blend.eligibility.criteria import (
    Criteria,
    Criterion,
    FactSpec,
    criteria_from_section,
    load_criteria,
)
from blend.eligibility.engine import ELIGIBLE, INELIGIBLE, PENDING, EligibilityResult, assess
from blend.eligibility.facts import SINS_COMPONENTS, FactError, age_on
from blend.eligibility.rules import RuleError

__all__ = [
    "ELIGIBLE",
    "INELIGIBLE",
    "PENDING",
    "SINS_COMPONENTS",
    "Criteria",
    "Criterion",
    "EligibilityResult",
    "FactError",
    "FactSpec",
    "RuleError",
    "age_on",
    "assess",
    "criteria_from_section",
    "load_criteria",
]
