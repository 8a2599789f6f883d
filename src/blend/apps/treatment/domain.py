"""Treatment rules as plain functions (no Django): the configuration in
``treatment.toml``, the protocol-deviation flags and the start of treatment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from blend.protocol import ProtocolError, TreatmentPlan, load_protocol

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


# ---------------------------------------------------------------- configured treatment
# A trial other than the default one records its treatment as its treatment.toml says:
# the arm whose procedures were given and, per procedure, the day, dose and fractions.


def procedure_days(procedures: Mapping[str, Mapping[str, Any]]) -> dict[str, date | None]:
    """Procedure code → the day it was given (None while not given)."""
    return {
        code: date.fromisoformat(values["on"]) if values.get("on") else None
        for code, values in procedures.items()
    }


def configured_start(
    plan: TreatmentPlan, arm_given: str, procedures: Mapping[str, Mapping[str, Any]]
) -> date | None:
    """Day 0 by the trial's ``start_of_treatment``, from the procedures of the arm given."""
    if arm_given not in plan.arms:
        return None
    return plan.start_day(arm_given, procedure_days(procedures))


def configured_deviations(
    plan: TreatmentPlan, arm_given: str, procedures: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Protocol deviations to review: broken timing rules and a fixed prescription given
    at another dose or number of fractions."""
    if arm_given not in plan.arms:
        return []
    arm = plan.arm(arm_given)
    flags = arm.deviations(procedure_days(procedures))
    for procedure in arm.procedures:
        given = procedures.get(procedure.code) or {}
        if given.get("on") and procedure.dose_deviation(
            given.get("dose_gy"), given.get("fractions")
        ):
            flags.append(
                f"{procedure.label}: {given.get('dose_gy')} Gy in {given.get('fractions')} "
                f"fraction(s), prescribed {procedure.dose_gy:g} Gy in {procedure.fractions}"
            )
    return flags


def received_arm(
    plan: TreatmentPlan,
    arm: str,
    arm_given: str,
    procedures: Mapping[str, Mapping[str, Any]],
) -> bool:
    """Whether ``arm``'s treatment was given as prescribed: every one of its procedures
    given, none at another dose (the analysis' "received the intervention")."""
    if arm_given != arm or arm not in plan.arms:
        return False
    for procedure in plan.arm(arm).procedures:
        given = procedures.get(procedure.code) or {}
        if not given.get("on"):
            return False
        if procedure.dose_deviation(given.get("dose_gy"), given.get("fractions")):
            return False
    return True
