"""Checking and deriving screening facts (no Django).

Facts arrive as JSON-like values (the form, the CLI). ``clean_facts`` checks each
against its catalogue entry and names the fact, what was expected and what came;
``derive`` adds the facts computed from others (age, SINS total).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from blend.eligibility.criteria import Criteria, FactSpec

SINS_COMPONENTS = ("location", "pain", "bone_lesion", "alignment", "collapse", "posterolateral")


class FactError(ValueError):
    """A fact has the wrong type or value. ``errors`` maps fact key → message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _check_number(spec: FactSpec, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    if spec.type == "int" and value != int(value):
        raise ValueError(f"expected a whole number, got {value!r}")
    low = -float("inf") if spec.minimum is None else spec.minimum
    high = float("inf") if spec.maximum is None else spec.maximum
    if not low <= value <= high:
        raise ValueError(f"expected a value from {spec.minimum} to {spec.maximum}, got {value!r}")
    return int(value) if spec.type == "int" else value


def _check(spec: FactSpec, value: Any) -> Any:
    if spec.type == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if spec.type in {"int", "number"}:
        return _check_number(spec, value)
    if spec.type == "choice":
        if value not in spec.choices:
            raise ValueError(f"expected one of {list(spec.choices)}, got {value!r}")
        return value
    if spec.type == "choices":
        if not isinstance(value, list | tuple) or any(v not in spec.choices for v in value):
            raise ValueError(f"expected a list of values from {list(spec.choices)}, got {value!r}")
        return sorted(set(value), key=spec.choices.index)
    try:
        return _as_date(value).isoformat()
    except ValueError:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from None


def clean_facts(facts: Mapping[str, Any], criteria: Criteria) -> dict[str, Any]:
    """Checked facts (None/absent means unknown). Raises FactError listing every bad fact."""
    if not isinstance(facts, Mapping):
        raise FactError(
            {"facts": f"expected a JSON object of fact: value, got {type(facts).__name__}"}
        )
    extra = {"sins_components"}
    errors: dict[str, str] = {}
    unknown = sorted(set(facts) - set(criteria.facts) - extra)
    for key in unknown:
        errors[key] = f"unknown fact; expected one of {sorted(criteria.facts)}"
    cleaned: dict[str, Any] = {}
    for key, value in facts.items():
        if key in criteria.facts and value is not None:
            try:
                cleaned[key] = _check(criteria.facts[key], value)
            except ValueError as error:
                errors[key] = str(error)
    if facts.get("sins_components") is not None:
        cleaned["sins_components"] = facts["sins_components"]
    if errors:
        raise FactError(errors)
    return cleaned


def age_on(date_of_birth: date, on: date) -> int:
    """Completed years on ``on``."""
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - int(before_birthday)


def sins_total(components: Mapping[str, Any]) -> int | None:
    """The SINS total from its six components via blend.instruments; None if any is missing."""
    if not isinstance(components, Mapping):
        raise FactError(
            {"sins_components": f"expected an object of component: code, got {components!r}"}
        )
    if any(components.get(key) in (None, "") for key in SINS_COMPONENTS):
        return None
    from blend.instruments import InstrumentError, score

    try:
        total = score("sins", {key: components[key] for key in SINS_COMPONENTS})["total"]
    except InstrumentError as error:
        raise FactError({"sins_components": str(error)}) from None
    return None if total is None else int(total)


def derive(facts: dict[str, Any]) -> dict[str, Any]:
    """Add age (from date of birth and screening date) and the SINS total (from components).

    The date of birth is dropped once the age is known: the stored facts never hold it.
    """
    out = dict(facts)
    dob, on = out.pop("date_of_birth", None), out.get("screening_date")
    if out.get("age") is None and dob is not None and on is not None:
        out["age"] = age_on(_as_date(dob), _as_date(on))
    components = out.pop("sins_components", None)
    if out.get("sins_total") is None and components is not None:
        total = sins_total(components)
        if total is not None:
            out["sins_total"] = total
    return out
