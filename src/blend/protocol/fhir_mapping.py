"""The mapping of the FHIR import of screening facts (``cohort/fhir_mapping.toml``; no Django).

Which codes in a hospital's FHIR Bundle pre-fill which of the cohort's screening facts
(docs/interoperability.md section 2). It is configuration a site adapts to what its
hospital record sends: the shipped rules use codes of SNOMED CT, ICD-10, LOINC, RxNorm
and ATC, and a local code system for what has no standard code the cohort relies on.

    from blend.protocol.fhir_mapping import load_fhir_mapping
    mapping = load_fhir_mapping(load_cohort().facts, excluded={"age"})
    mapping.rule_for("Condition", [("http://hl7.org/fhir/sid/icd-10", "C79.5")])

Every problem raises ``ConfigError`` naming the file, the key, what was expected and what
was found, like the other loaders of ``blend.protocol``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from blend.eligibility.criteria import Criteria, FactSpec
from blend.eligibility.facts import FactError, clean_facts
from blend.protocol.cohort_config import COHORT_DIR
from blend.protocol.errors import ConfigError, Said, shown
from blend.protocol.reading import Table, read_toml

MAPPING_FILE = COHORT_DIR / "fhir_mapping.toml"
RESOURCES = ("Condition", "Observation", "Procedure", "MedicationStatement")
OBSERVED = "observed"  # ``value = "observed"``: the fact is the Observation's own value


@dataclass(frozen=True)
class Rule:
    """What one coded resource tells: fixed facts (``sets``), its observed value as a
    fact (``fact``, through ``value_map`` when given), its body-site levels as a list
    fact (``levels``), or whether it was at an index level (``at_index_level``)."""

    resource: str
    codes: tuple[tuple[str, str], ...]  # (system URI, code)
    key: str  # where the rule is in the file, e.g. "rules[3]"
    sets: Mapping[str, Any] = field(default_factory=dict)
    fact: str = ""
    value_map: Mapping[str, Any] | None = None
    levels: str = ""
    at_index_level: str = ""
    fallback: bool = False  # its facts count only when no other rule of the bundle sets them

    @property
    def facts(self) -> tuple[str, ...]:
        named = (*self.sets, self.fact, self.levels, self.at_index_level)
        return tuple(key for key in named if key)


@dataclass(frozen=True)
class FhirMapping:
    study_id_system: str
    hospital_number_system: str  # "" when members are not matched by hospital number
    level_codes: Mapping[tuple[str, str], str]  # (system, code) of a body site → level
    rules: tuple[Rule, ...]
    file: str = ""

    def rule_for(self, resource: str, codings: Iterable[tuple[str, str]]) -> Rule | None:
        """The rule that reads a ``resource`` coded with any of ``codings``, or None."""
        wanted = set(codings)
        for rule in self.rules:
            if rule.resource == resource and wanted.intersection(rule.codes):
                return rule
        return None

    def level_of(self, codings: Iterable[tuple[str, str]]) -> str | None:
        for coding in codings:
            if coding in self.level_codes:
                return self.level_codes[coding]
        return None


def _systems(table: Table) -> dict[str, str]:
    systems = table.table("systems")
    return {name: systems.text(name) for name in systems.names()}


def _coding(table: Table, name: str, text: Any, systems: Mapping[str, str]) -> tuple[str, str]:
    """``"icd10:C79.5"`` → (the ICD-10 system URI, "C79.5")."""
    short, _, code = str(text).partition(":") if isinstance(text, str) else ("", "", "")
    if short not in systems or not code.strip():
        raise table.error(
            name, f"codes written system:code with a system of {sorted(systems)}", text
        )
    return systems[short], code.strip()


def _check_value(
    table: Table, name: str, key: str, value: Any, catalogue: Mapping[str, FactSpec]
) -> Any:
    try:
        return clean_facts({key: value}, Criteria("cohort", catalogue, ()))[key]
    except FactError as error:
        raise table.error(
            name, f"a value of the fact {key!r} ({error.errors[key]})", value
        ) from None


def _fact_key(
    table: Table,
    name: str,
    key: Any,
    catalogue: Mapping[str, FactSpec],
    excluded: Collection[str],
    kind: str = "",
) -> str:
    recordable = sorted(k for k in catalogue if k not in excluded)
    if key not in recordable:
        raise table.error(
            name, f"a fact of the cohort's catalogue the import may set ({recordable})", key
        )
    if kind and catalogue[key].type != kind:
        raise table.error(
            name, f"a fact of type {kind}", Said(f"{key!r} of type {catalogue[key].type}")
        )
    return str(key)


def _rule(
    table: Table,
    systems: Mapping[str, str],
    catalogue: Mapping[str, FactSpec],
    excluded: Collection[str],
) -> Rule:
    table.only(
        {
            "resource",
            "codes",
            "set",
            "fact",
            "value",
            "value_map",
            "levels",
            "at_index_level",
            "fallback",
            "note",
        }
    )
    resource = table.choice("resource", RESOURCES)
    texts = table.value("codes", list)
    if not texts:
        raise table.error("codes", "a non-empty list of system:code", texts)
    codes = tuple(_coding(table, "codes", text, systems) for text in texts)
    sets: dict[str, Any] = {}
    if "set" in table:
        given = table.table("set")
        for key in given.names():
            _fact_key(given, key, key, catalogue, excluded)
            sets[key] = _check_value(given, key, key, given.raw[key], catalogue)
    fact, value_map = "", None
    if "fact" in table:
        fact = _fact_key(table, "fact", table.text("fact"), catalogue, excluded)
        if resource != "Observation":
            raise table.error("fact", "an observed value only on an Observation rule", resource)
        table.choice("value", (OBSERVED,))
        if "value_map" in table:
            mapped = table.table("value_map")
            value_map = {
                str(k): _check_value(mapped, k, fact, mapped.raw[k], catalogue)
                for k in mapped.names()
            }
    levels = (
        _fact_key(table, "levels", table.text("levels"), catalogue, excluded, "choices")
        if "levels" in table
        else ""
    )
    at_index = (
        _fact_key(
            table, "at_index_level", table.text("at_index_level"), catalogue, excluded, "bool"
        )
        if "at_index_level" in table
        else ""
    )
    if not (sets or fact or levels or at_index):
        raise table.error(
            "", "one of the keys set, fact, levels or at_index_level", Said("none of them")
        )
    table.text("note", default="")
    fallback = table.value("fallback", bool, False)
    return Rule(
        resource,
        codes,
        table.prefix,
        MappingProxyType(sets),
        fact,
        value_map,
        levels,
        at_index,
        fallback,
    )


def _levels(
    table: Table, systems: Mapping[str, str], catalogue: Mapping[str, FactSpec]
) -> dict[tuple[str, str], str]:
    """``[levels]``: a system whose codes are the level names, and/or ``codes`` mapping a
    site's body-structure codes to levels."""
    levels = table.table("levels")
    levels.only({"system", "codes"})
    allowed = next((spec.choices for spec in catalogue.values() if spec.key == "index_levels"), ())
    out: dict[tuple[str, str], str] = {}
    if "system" in levels:
        short = levels.choice("system", sorted(systems))
        out.update({(systems[short], level): level for level in allowed})
    if "codes" in levels:
        codes = levels.table("codes")
        for text in codes.names():
            out[_coding(codes, text, text, systems)] = codes.choice(text, allowed)
    return out


def parse_fhir_mapping(
    raw: Mapping[str, Any],
    path: Path,
    catalogue: Mapping[str, FactSpec],
    excluded: Collection[str] = (),
) -> FhirMapping:
    """Validate the mapping against the cohort's fact catalogue; ``excluded`` are the facts
    that only other records give (age, consent): no rule may set them."""
    top = Table(raw, path)
    top.only({"patient", "systems", "levels", "rules"})
    patient = top.table("patient")
    patient.only({"study_id_system", "hospital_number_system"})
    systems = _systems(top)
    rules = [_rule(table, systems, catalogue, excluded) for table in top.tables("rules")]
    seen: dict[tuple[str, tuple[str, str]], str] = {}
    for rule in rules:
        for coding in rule.codes:
            if (rule.resource, coding) in seen:
                raise ConfigError(
                    path,
                    f"{rule.key}.codes",
                    f"each code in one {rule.resource} rule only",
                    Said(f"{coding[1]} also in {seen[rule.resource, coding]}"),
                )
            seen[rule.resource, coding] = rule.key
    return FhirMapping(
        study_id_system=patient.text("study_id_system"),
        hospital_number_system=patient.value("hospital_number_system", str, ""),
        level_codes=MappingProxyType(_levels(top, systems, catalogue) if "levels" in top else {}),
        rules=tuple(rules),
        file=shown(path),
    )


def load_fhir_mapping(
    catalogue: Mapping[str, FactSpec], excluded: Collection[str] = (), path: Path | None = None
) -> FhirMapping:
    """The cohort's mapping (``cohort/fhir_mapping.toml``, or ``path``), validated."""
    path = path or MAPPING_FILE
    if not path.is_file():
        raise ConfigError(path, "", "the FHIR import mapping", Said("no such file"))
    return parse_fhir_mapping(read_toml(path), path, catalogue, excluded)
