"""The criteria and fact catalogue as configured data (protocol section ``eligibility``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from blend.eligibility.rules import Rule, RuleError, parse_rule

FACT_TYPES = ("bool", "int", "number", "choice", "choices", "date")
WHERE = "eligibility.toml"


@dataclass(frozen=True)
class FactSpec:
    key: str
    type: str
    label: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Criterion:
    code: str
    kind: str  # "inclusion" | "exclusion"
    text: str
    reason: str
    rule: Rule
    enabled: bool = True

    def failed(self, facts: Mapping[str, Any]) -> bool | None:
        """True when this criterion makes the participant ineligible; None when undecided."""
        outcome = self.rule.evaluate(facts)
        if outcome is None:
            return None
        return not outcome if self.kind == "inclusion" else outcome


@dataclass(frozen=True)
class Criteria:
    version: str
    facts: Mapping[str, FactSpec]
    criteria: tuple[Criterion, ...]

    @property
    def active(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.enabled)

    def required_facts(self) -> list[str]:
        """The facts the enabled criteria read, in catalogue order."""
        used = set().union(*(c.rule.facts() for c in self.active))
        return [key for key in self.facts if key in used]


def _fact(key: str, data: Any, file: str = WHERE) -> FactSpec:
    where = f"{file}: facts.{key}"
    if not isinstance(data, Mapping) or data.get("type") not in FACT_TYPES:
        raise RuleError(f"{where}.type: expected one of {list(FACT_TYPES)}, got {data!r}")
    choices = tuple(str(c) for c in data.get("choices", ()))
    if data["type"] in {"choice", "choices"} and not choices:
        raise RuleError(f"{where}.choices: expected a non-empty list for type {data['type']}")
    return FactSpec(
        key, data["type"], str(data.get("label", key)), choices, data.get("min"), data.get("max")
    )


def _criterion(index: int, data: Any, known: set[str]) -> Criterion:
    where = f"{WHERE}: criteria[{index}]"
    if not isinstance(data, Mapping):
        raise RuleError(f"{where}: expected a table, got {data!r}")
    for key in ("code", "kind", "text", "reason", "rule"):
        if key not in data:
            raise RuleError(f"{where}: expected key {key!r}, found {sorted(data)}")
    if data["kind"] not in {"inclusion", "exclusion"}:
        raise RuleError(f"{where}.kind: expected 'inclusion' or 'exclusion', got {data['kind']!r}")
    rule = parse_rule(data["rule"], f"{where} ({data['code']}).rule", known)
    return Criterion(
        str(data["code"]),
        data["kind"],
        str(data["text"]),
        str(data["reason"]),
        rule,
        bool(data.get("enabled", True)),
    )


def fact_catalogue(facts: Any, file: str = WHERE) -> dict[str, FactSpec]:
    """Fact definitions (a ``[facts]`` table), e.g. the cohort's catalogue in
    ``cohort/facts.toml``; errors name ``file`` and the fact."""
    if not isinstance(facts, Mapping) or not facts:
        raise RuleError(f"{file}: [facts]: expected a table of fact definitions")
    return {key: _fact(key, value, file) for key, value in facts.items()}


def criteria_from_section(section: Mapping[str, Any]) -> Criteria:
    facts_data = section.get("facts", {})
    if not isinstance(facts_data, Mapping) or not facts_data:
        raise RuleError(f"{WHERE}: [facts]: expected a table of fact definitions")
    facts = {key: _fact(key, value) for key, value in facts_data.items()}
    items = section.get("criteria", [])
    if not isinstance(items, list) or not items:
        raise RuleError(f"{WHERE}: [[criteria]]: expected at least one criterion")
    criteria = tuple(_criterion(i, item, set(facts)) for i, item in enumerate(items))
    codes = [c.code for c in criteria]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise RuleError(f"{WHERE}: criterion codes must be unique; repeated: {duplicates}")
    return Criteria(str(section.get("version", "")), facts, criteria)


@cache
def load_criteria() -> Criteria:
    """BLEND's criteria, as ``load_protocol()`` gives them (with a BLEND_PROTOCOL_DIR
    override); another trial's are ``blend.protocol.load_trial(code).criteria``."""
    from blend.protocol import load_protocol

    return criteria_from_section(load_protocol().section("eligibility"))


ORDER_OPERATORS = ("at_least", "at_most", "greater_than", "less_than")
LIST_OPERATORS = ("subset_of", "intersects")


def operand_problems(criteria: Criteria) -> list[str]:
    """Every leaf test whose value cannot mean what it says for the fact it reads, e.g. a
    choice that is not one of the fact's choices: a typo that would make a criterion
    silently never apply. Empty when every operand fits its fact."""
    problems = []
    for index, criterion in enumerate(criteria.criteria):
        for leaf in criterion.rule.leaves():
            problem = _operand_problem(criteria.facts[leaf.fact], leaf)
            if problem:
                problems.append(f"criteria[{index}] ({criterion.code}).rule: {problem}")
    return problems


def _operand_problem(spec: FactSpec, leaf: Rule) -> str | None:
    expected = _expected_operand(spec, leaf.op)
    if expected is None:
        return f"{leaf.op} does not apply to fact {spec.key!r} of type {spec.type}"
    description, fits = expected
    if fits(leaf.operand):
        return None
    return f"{leaf.op} on fact {spec.key!r} expected {description}, found {leaf.operand!r}"


def _expected_operand(spec: FactSpec, op: str) -> tuple[str, Any] | None:
    """What operand ``op`` needs on this fact, and a test for it; None if ``op`` does not apply."""

    def one(value: Any) -> bool:
        return _fits(spec, value)

    def several(values: Any) -> bool:
        return isinstance(values, list) and bool(values) and all(_fits(spec, v) for v in values)

    single = {
        "bool": "true or false",
        "int": "a number",
        "number": "a number",
        "choice": f"one of {list(spec.choices)}",
        "date": "a date as YYYY-MM-DD",
    }
    if spec.type == "choices":
        if op == "not_empty":
            return "true", lambda value: value is True
        if op in LIST_OPERATORS:
            return f"a list of values from {list(spec.choices)}", several
        return None
    if op == "equals":
        return single[spec.type], one
    if op == "in" and spec.type != "bool":
        return f"a list of {single[spec.type]}", several
    if op in ORDER_OPERATORS and spec.type in {"int", "number", "date"}:
        return single[spec.type], one
    return None


def _fits(spec: FactSpec, value: Any) -> bool:
    if spec.type == "bool":
        return isinstance(value, bool)
    if spec.type in {"int", "number"}:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if spec.type in {"choice", "choices"}:
        return value in spec.choices
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return isinstance(value, str)
