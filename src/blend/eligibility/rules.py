"""Three-valued rules over screening facts (no Django).

A rule evaluates to True, False or None (unknown: a fact it needs is missing), with
Kleene logic for ``all``/``any``/``not``, so a criterion is decided as soon as the
known facts decide it and is pending only when they cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

Truth = bool | None


class RuleError(ValueError):
    """A rule in the eligibility configuration is malformed."""


def _not_empty(value: Any, _: Any) -> bool:
    return len(value) > 0


def _subset_of(value: Any, allowed: Any) -> bool:
    return set(value) <= set(allowed)


def _intersects(value: Any, listed: Any) -> bool:
    """A list fact shares at least one value with the list, e.g. a lesion in C1 or C2."""
    return bool(set(value) & set(listed))


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": lambda v, x: v == x,
    "in": lambda v, x: v in x,
    "at_least": lambda v, x: v >= x,
    "at_most": lambda v, x: v <= x,
    "greater_than": lambda v, x: v > x,
    "less_than": lambda v, x: v < x,
    "not_empty": _not_empty,
    "subset_of": _subset_of,
    "intersects": _intersects,
}


@dataclass(frozen=True)
class Rule:
    """A leaf test (``fact`` + operator) or a combination (``all``/``any``/``not``)."""

    op: str
    fact: str = ""
    operand: Any = None
    children: tuple[Rule, ...] = ()

    def evaluate(self, facts: Mapping[str, Any]) -> Truth:
        if self.op == "all":
            return _kleene_all(c.evaluate(facts) for c in self.children)
        if self.op == "any":
            return _kleene_any(c.evaluate(facts) for c in self.children)
        if self.op == "not":
            inner = self.children[0].evaluate(facts)
            return None if inner is None else not inner
        value = facts.get(self.fact)
        return None if value is None else OPERATORS[self.op](value, self.operand)

    def facts(self) -> set[str]:
        """Every fact key the rule may read."""
        return set(self._keys)

    @cached_property
    def _keys(self) -> tuple[str, ...]:
        """The fact keys, sorted, worked out once per rule (a cohort is assessed on the
        same rules for every member: ``blend.eligibility.cohort``)."""
        own = {self.fact} if self.fact else set()
        return tuple(sorted(own.union(*(c._keys for c in self.children))))

    def leaves(self) -> list[Rule]:
        """The leaf tests (``fact`` + operator), in reading order."""
        if self.fact:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]

    def missing(self, facts: Mapping[str, Any]) -> list[str]:
        """Fact keys that are missing and would let an unknown rule be decided."""
        return [key for key in self._keys if facts.get(key) is None]


def _kleene_all(values: Any) -> Truth:
    result: Truth = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def _kleene_any(values: Any) -> Truth:
    result: Truth = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def parse_rule(data: Any, where: str, known_facts: set[str]) -> Rule:
    """Build a Rule from its TOML form; errors name the criterion and what was expected."""
    if not isinstance(data, Mapping):
        raise RuleError(
            f"{where}: expected a table such as {{ fact = ..., equals = ... }}, got {data!r}"
        )
    for combinator in ("all", "any"):
        if combinator in data:
            parts = data[combinator]
            if not isinstance(parts, list) or not parts:
                raise RuleError(
                    f"{where}.{combinator}: expected a non-empty list of rules, got {parts!r}"
                )
            return Rule(
                combinator,
                children=tuple(
                    parse_rule(p, f"{where}.{combinator}[{i}]", known_facts)
                    for i, p in enumerate(parts)
                ),
            )
    if "not" in data:
        return Rule("not", children=(parse_rule(data["not"], f"{where}.not", known_facts),))
    return _parse_leaf(data, where, known_facts)


def _parse_leaf(data: Mapping[str, Any], where: str, known_facts: set[str]) -> Rule:
    fact = data.get("fact")
    if fact not in known_facts:
        raise RuleError(f"{where}.fact: expected one of the [facts] keys, got {fact!r}")
    ops = [key for key in data if key != "fact"]
    if len(ops) != 1 or ops[0] not in OPERATORS:
        raise RuleError(f"{where}: expected exactly one operator of {sorted(OPERATORS)}, got {ops}")
    return Rule(ops[0], fact=str(fact), operand=data[ops[0]])
