"""Treatment rules as plain functions (no Django): the configuration in
``treatment.toml``, the protocol-deviation flags and the start of treatment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from blend.protocol import ProtocolError, load_protocol

START_RULES = ("first_treatment_day", "radiotherapy", "surgery")


@dataclass(frozen=True)
class TreatmentConfig:
    start_of_treatment: str
    max_hours_between: float
    sbrt_dose_gy: float
    sbrt_fractions: int
    surgical_site_dose_gy: float
    min_days_surgery_to_radiotherapy: int
    radiotherapy_types: tuple[str, ...]


def _number(section: Mapping[str, Any], key: str, where: str, minimum: float) -> float:
    value = section.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ProtocolError(
            f"treatment.toml {where}: {key} expected a number ≥ {minimum}, got {value!r}"
        )
    return float(value)


def parse_treatment(raw: Mapping[str, Any]) -> TreatmentConfig:
    rule = raw.get("start_of_treatment")
    if rule not in START_RULES:
        raise ProtocolError(
            f"treatment.toml: start_of_treatment expected one of {START_RULES}, got {rule!r}"
        )
    intervention, control = raw.get("intervention", {}), raw.get("control", {})
    types = control.get("radiotherapy_types")
    if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
        raise ProtocolError(
            f"treatment.toml [control]: radiotherapy_types expected a list of names, got {types!r}"
        )
    return TreatmentConfig(
        start_of_treatment=rule,
        max_hours_between=_number(intervention, "max_hours_between", "[intervention]", 0),
        sbrt_dose_gy=_number(intervention, "sbrt_dose_gy", "[intervention]", 0.1),
        sbrt_fractions=int(_number(intervention, "sbrt_fractions", "[intervention]", 1)),
        surgical_site_dose_gy=_number(intervention, "surgical_site_dose_gy", "[intervention]", 0),
        min_days_surgery_to_radiotherapy=int(
            _number(control, "min_days_surgery_to_radiotherapy", "[control]", 0)
        ),
        radiotherapy_types=tuple(types),
    )


@cache
def load_treatment_config() -> TreatmentConfig:
    return parse_treatment(load_protocol().section("treatment"))


def hours_between(first: datetime | None, second: datetime | None) -> float | None:
    if first is None or second is None:
        return None
    return abs((second - first).total_seconds()) / 3600


def same_day_gap_flag(
    sbrt_at: datetime | None, surgery_at: datetime | None, config: TreatmentConfig
) -> bool:
    """Intervention: SBRT and surgery more than the allowed hours apart."""
    gap = hours_between(sbrt_at, surgery_at)
    return gap is not None and gap > config.max_hours_between


def radiotherapy_too_early_flag(
    surgery_on: date | None, rt_on: date | None, config: TreatmentConfig
) -> bool:
    """Standard care: radiotherapy less than the minimum days after surgery (wound healing)."""
    if surgery_on is None or rt_on is None:
        return False
    return (rt_on - surgery_on).days < config.min_days_surgery_to_radiotherapy


def start_of_treatment(
    rule: str, *, radiotherapy_on: date | None, surgery_on: date | None
) -> date | None:
    """Day 0 of the schedule by the configured rule; None until that treatment happened."""
    if rule == "radiotherapy":
        return radiotherapy_on
    if rule == "surgery":
        return surgery_on
    days = [d for d in (radiotherapy_on, surgery_on) if d is not None]
    return min(days) if days else None
