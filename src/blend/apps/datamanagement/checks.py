"""The edit checks of every form, declared once. Forms use them live (through
``EditCheckMixin``); ``blend check-data`` runs them over the database.

Each entry of ``MODEL_CHECKS`` names a model, the checks, and how to turn one saved
row into the values the checks read. Other apps may add theirs with ``register``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from blend.apps.datamanagement.editchecks import CrossField, DateOrder, EditCheck, Range, RequiredIf
from blend.apps.safety.domain import BY_CODE


def _age_between(born_key: str, lo: int, hi: int) -> Callable[[Mapping[str, Any]], bool]:
    def holds(v: Mapping[str, Any]) -> bool:
        born, entered = v[born_key], v["registered_on"]
        born_year = born if isinstance(born, int) else born.year
        return lo <= entered.year - born_year <= hi

    return holds


PARTICIPANT: tuple[EditCheck, ...] = (
    Range("P01", "performance_status", 0, 4, "WHO/ECOG performance status"),
    DateOrder("P02", "metastases_diagnosed_on", "registered_on", blame="metastases_diagnosed_on"),
    CrossField("P03", "birth_year", ("birth_year", "registered_on"), _age_between("birth_year", 18, 110),
               "birth_year: expected an age of 18–110 years at cohort entry"),
)

REGISTRATION: tuple[EditCheck, ...] = (
    CrossField("R01", "date_of_birth", ("date_of_birth", "registered_on"), _age_between("date_of_birth", 18, 110),
               "date_of_birth: expected an age of 18–110 years at cohort entry"),
)

CONSENT_FORM: tuple[EditCheck, ...] = (
    CrossField("C01", "item_d", ("item_c", "item_d"), lambda v: v["item_d"] != "yes" or v["item_c"] == "yes",
               "item_d: expected no or postponed ('not informed when allocated to control') unless item c (randomization) is yes"),
)

CONSENT_RECORD: tuple[EditCheck, ...] = (
    DateOrder("C02", "timeline.registered_on", "effective_on"),
)


def _grade_allowed(v: Mapping[str, Any]) -> bool:
    term = BY_CODE.get(v["term"])
    return term is None or term.allows(int(v["grade"]))


ADVERSE_EVENT: tuple[EditCheck, ...] = (
    Range("AE01", "grade", 1, 5, "CTCAE grade"),
    CrossField("AE02", "grade", ("term", "grade"), _grade_allowed,
               "grade: expected a grade that CTCAE v5.0 defines for this term"),
    RequiredIf("AE03", "seriousness", lambda v: bool(v.get("serious")), "the event is serious"),
    CrossField("AE04", "outcome", ("grade", "outcome"), lambda v: int(v["grade"]) != 5 or v["outcome"] == "fatal",
               "outcome: expected 'fatal' for a grade 5 event"),
    CrossField("AE05", "serious", ("seriousness",), lambda v: bool(v.get("serious")),
               "serious: expected 'serious' to be ticked when a seriousness criterion is given"),
    RequiredIf("AE06", "other_term", lambda v: v.get("term") == "other", "the term is 'other'"),
    DateOrder("AE07", "onset_date", "resolved_on"),
    DateOrder("AE08", "timeline.registered_on", "onset_date"),
    RequiredIf("AE09", "resolved_on", lambda v: v.get("outcome") in {"recovered", "sequelae"},
               "the outcome is recovered"),
    DateOrder("AE10", "onset_date", "timeline.death_date", blame="onset_date"),
    CrossField("AE11", "seriousness", ("grade", "seriousness"),
               lambda v: int(v["grade"]) != 5 or "death" in v["seriousness"],
               "seriousness: expected 'results in death' for a grade 5 event"),
    DateOrder("AE12", "timeline.randomized_on", "onset_date"),
)

TIMELINE: tuple[EditCheck, ...] = (
    DateOrder("T01", "timeline.registered_on", "timeline.consent_on"),
    DateOrder("T02", "timeline.consent_on", "timeline.randomized_on"),
    DateOrder("T03", "timeline.screened_on", "timeline.randomized_on"),
    DateOrder("T04", "timeline.randomized_on", "timeline.treatment_start"),
    DateOrder("T05", "timeline.treatment_start", "timeline.death_date", blame="timeline.treatment_start"),
    DateOrder("T06", "timeline.registered_on", "timeline.death_date"),
)


@dataclass(frozen=True)
class ModelChecks:
    """The checks of one model and the form name shown on queries."""

    model: str  # app_label.ModelName
    form: str
    checks: tuple[EditCheck, ...]
    uses_timeline: bool = False


MODEL_CHECKS: list[ModelChecks] = [
    ModelChecks("registry.Participant", "Cohort registration", PARTICIPANT),
    ModelChecks("consent.ConsentRecord", "Consent", CONSENT_RECORD, uses_timeline=True),
    ModelChecks("safety.AdverseEvent", "Adverse event", ADVERSE_EVENT, uses_timeline=True),
]


def register(entry: ModelChecks) -> None:
    """Let another app declare checks on its own model for ``blend check-data``."""
    if all(existing.model != entry.model for existing in MODEL_CHECKS):
        MODEL_CHECKS.append(entry)


def all_codes() -> list[str]:
    codes = [c.code for entry in MODEL_CHECKS for c in entry.checks]
    return codes + [c.code for c in (*TIMELINE, *REGISTRATION, *CONSENT_FORM)] + ["Q01"]  # Q01: editchecks.out_of_order
