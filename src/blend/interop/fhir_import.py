"""Reading screening facts from a FHIR R4 Bundle (pure; no Django).

    from blend.interop.fhir_import import read_bundle
    found = read_bundle(json.loads(text), mapping, catalogue)
    found.patient.study_ids, found.facts["kps"].value, found.unused

The bundle holds one Patient and any of Condition, Observation, Procedure and
MedicationStatement about it. Each resource is validated with ``fhir.resources`` (its
R4B models, unchanged from R4 for these resources); the mapping
(``blend.protocol.fhir_mapping``, ``cohort/fhir_mapping.toml``) says which codes give
which cohort fact. A bundle is refused whole: ``BundleRefused`` lists every problem
with the resource, its path (``Bundle.entry[3].resource.valueQuantity.value``), what
was expected and what was found, including the library's own validation errors
translated to that form. A resource no rule reads is not a problem (a hospital record
holds much more than screening facts): it is listed in ``unused``.

What is read:

- the Patient's identifiers in the mapping's study-ID and hospital-number systems (the
  caller matches them to a cohort member; the values are never facts);
- every other resource must be about that Patient (``subject``), else the bundle mixes
  patients and is refused; resources marked entered-in-error (and refuted Conditions,
  MedicationStatements not taken) are skipped;
- facts from the rules, each value checked against the cohort's catalogue; two
  resources that give one fact different values refuse the bundle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from blend.eligibility.criteria import Criteria, FactSpec
from blend.eligibility.facts import FactError, clean_facts
from blend.protocol.fhir_mapping import FhirMapping, Rule

ACCEPTED = ("Patient", "Condition", "Observation", "Procedure", "MedicationStatement")
# Statuses that say the resource does not hold: skipped, never read as a fact.
SKIPPED_STATUS = {
    "Condition": ("verificationStatus", {"entered-in-error", "refuted"}),
    "Observation": ("status", {"entered-in-error", "cancelled"}),
    "Procedure": ("status", {"entered-in-error", "not-done"}),
    "MedicationStatement": ("status", {"entered-in-error", "not-taken"}),
}
# Where each resource type's date and code are.
DATE_FIELDS = {
    "Condition": ("onsetDateTime", "recordedDate"),
    "Observation": ("effectiveDateTime", "issued"),
    "Procedure": ("performedDateTime", "performedPeriod.end", "performedPeriod.start"),
    "MedicationStatement": ("effectiveDateTime", "effectivePeriod.start", "dateAsserted"),
}
CODE_FIELD = {"MedicationStatement": "medicationCodeableConcept"}
VALUE_FIELDS = (
    "valueInteger",
    "valueQuantity",
    "valueBoolean",
    "valueString",
    "valueCodeableConcept",
)


@dataclass(frozen=True)
class Problem:
    """One reason a bundle is refused."""

    resource: str  # "Observation/ecog-1", or the resource type when it has no id
    path: str  # "Bundle.entry[3].resource.valueQuantity.value"
    expected: str
    found: str

    @property
    def message(self) -> str:
        return f"{self.resource} at {self.path}: expected {self.expected}, found {self.found}"

    def as_dict(self) -> dict[str, str]:
        """The API's error entry (``api.errors``: field, in, message, expected, received)."""
        return {
            "field": self.path,
            "in": "body",
            "resource": self.resource,
            "message": self.message,
            "expected": self.expected,
            "received": self.found,
        }


class BundleRefused(ValueError):
    """The bundle is refused whole; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(problem.message for problem in problems))


@dataclass(frozen=True)
class PatientRef:
    """How the bundle names its patient (the caller matches these to a cohort member)."""

    resource: str
    path: str
    study_ids: tuple[str, ...] = ()
    hospital_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportedFact:
    key: str
    value: Any
    resources: tuple[str, ...]  # the resources it was read from ("Observation/ecog-1")
    observed_on: date | None  # the latest clinical date among them, when they give one


@dataclass(frozen=True)
class BundleFacts:
    label: str  # the bundle's identifier value or id ("" when it has neither)
    patient: PatientRef
    facts: Mapping[str, ImportedFact]
    unused: tuple[str, ...] = ()  # resources read by no rule, or giving nothing, with why


@dataclass
class _Found:
    """One resource's contribution to one fact."""

    value: Any
    resource: str
    path: str
    on: date | None
    fallback: bool = False


@dataclass
class _Entry:
    index: int
    type: str
    resource: Any  # the library's model
    raw: Mapping[str, Any]
    full_url: str

    @property
    def path(self) -> str:
        return f"Bundle.entry[{self.index}].resource"

    @property
    def name(self) -> str:
        rid = self.raw.get("id")
        return f"{self.type}/{rid}" if isinstance(rid, str) and rid else self.type


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _library_problems(error: ValidationError, entry_path: str, name: str) -> list[Problem]:
    """pydantic's errors, each with its FHIR path and what was expected."""
    problems = []
    for item in error.errors():
        path = entry_path
        for part in item.get("loc", ()):
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        message = str(item.get("msg", "")).removeprefix("Value error, ")
        expected = {
            "extra_forbidden": "only the elements FHIR R4 defines for this resource",
            "missing": "this required element",
        }.get(str(item.get("type")), f"a valid FHIR R4 value ({message})")
        found = "nothing" if item.get("type") == "missing" else _shown(item.get("input"))
        problems.append(Problem(name, path, expected, found))
    return problems


def _validated(index: int, raw: Any) -> tuple[_Entry | None, list[Problem]]:
    path = f"Bundle.entry[{index}]"
    if not isinstance(raw, Mapping) or not isinstance(raw.get("resource"), Mapping):
        return None, [
            Problem("Bundle", f"{path}.resource", "a FHIR resource (a JSON object)", _shown(raw))
        ]
    resource = raw["resource"]
    kind = resource.get("resourceType")
    entry = _Entry(index, str(kind), None, resource, str(raw.get("fullUrl") or ""))
    if kind not in ACCEPTED:
        expected = f"a resourceType of {', '.join(ACCEPTED)}"
        return None, [
            Problem(
                entry.name if isinstance(kind, str) else "Bundle",
                f"{path}.resource.resourceType",
                expected,
                _shown(kind),
            )
        ]
    try:
        entry.resource = get_fhir_model_class(kind).model_validate(resource)
    except ValidationError as error:
        return None, _library_problems(error, entry.path, entry.name)
    except (
        ValueError,
        TypeError,
        KeyError,
    ) as error:  # the library's own, e.g. a contained resource of no type
        return None, [
            Problem(
                entry.name,
                entry.path,
                "a valid FHIR R4 resource",
                f"an error of the library ({error})",
            )
        ]
    return entry, []


def _entries(bundle: Any) -> tuple[list[_Entry], list[Problem]]:
    if not isinstance(bundle, Mapping):
        return [], [Problem("Bundle", "Bundle", "a FHIR Bundle (a JSON object)", _shown(bundle))]
    if bundle.get("resourceType") != "Bundle":
        return [], [
            Problem("Bundle", "Bundle.resourceType", "'Bundle'", _shown(bundle.get("resourceType")))
        ]
    raw_entries = bundle.get("entry")
    if not isinstance(raw_entries, list) or not raw_entries:
        return [], [
            Problem("Bundle", "Bundle.entry", "a non-empty list of entries", _shown(raw_entries))
        ]
    problems: list[Problem] = []
    try:  # the bundle's own elements (type, identifier ...), without its entries
        get_fhir_model_class("Bundle").model_validate(
            {k: v for k, v in bundle.items() if k != "entry"}
        )
    except ValidationError as error:
        problems += _library_problems(error, "Bundle", "Bundle")
    entries = []
    for index, raw in enumerate(raw_entries):
        entry, found = _validated(index, raw)
        problems += found
        if entry is not None:
            entries.append(entry)
    return entries, problems


def _label(bundle: Mapping[str, Any]) -> str:
    identifier = bundle.get("identifier")
    if isinstance(identifier, Mapping) and identifier.get("value"):
        return str(identifier["value"])
    return str(bundle.get("id") or "")


def _patient(
    entries: list[_Entry], mapping: FhirMapping
) -> tuple[PatientRef | None, list[Problem]]:
    patients = [entry for entry in entries if entry.type == "Patient"]
    if len(patients) != 1:
        found = (
            "none" if not patients else f"{len(patients)} ({', '.join(p.path for p in patients)})"
        )
        return None, [Problem("Bundle", "Bundle.entry", "exactly one Patient resource", found)]
    entry = patients[0]
    study, hospital = [], []
    for identifier in entry.resource.identifier or []:
        value = (identifier.value or "").strip()
        if identifier.system == mapping.study_id_system and value:
            study.append(value)
        elif (
            mapping.hospital_number_system
            and identifier.system == mapping.hospital_number_system
            and value
        ):
            hospital.append(value)
    if not study and not hospital:
        systems = " or ".join(
            repr(s) for s in (mapping.study_id_system, mapping.hospital_number_system) if s
        )
        given = [identifier.system for identifier in entry.resource.identifier or []]
        return None, [
            Problem(
                entry.name,
                f"{entry.path}.identifier",
                f"an identifier with the system {systems}",
                f"the systems {given}" if given else "no identifier",
            )
        ]
    return PatientRef(entry.name, entry.path, tuple(study), tuple(hospital)), []


def _about_patient(entries: list[_Entry]) -> list[Problem]:
    """Every clinical resource's subject is the bundle's Patient."""
    patient = next(entry for entry in entries if entry.type == "Patient")
    names = {f"Patient/{patient.raw.get('id')}", patient.full_url} - {"Patient/None", ""}
    problems = []
    for entry in entries:
        if entry.type == "Patient":
            continue
        reference = entry.resource.subject.reference if entry.resource.subject else None
        if reference not in names:
            expected = f"a reference to the bundle's Patient ({' or '.join(sorted(names)) or 'give the Patient an id'})"
            problems.append(
                Problem(entry.name, f"{entry.path}.subject.reference", expected, _shown(reference))
            )
    return problems


def _codings(concept: Any) -> list[tuple[str, str]]:
    if concept is None:
        return []
    return [(c.system or "", c.code or "") for c in concept.coding or [] if c.code]


def _skipped(entry: _Entry) -> bool:
    element, statuses = SKIPPED_STATUS[entry.type]
    status = getattr(entry.resource, element)
    if status is not None and not isinstance(status, str):  # a CodeableConcept
        return any(code in statuses for _, code in _codings(status))
    return status in statuses


def _attribute(resource: Any, dotted: str) -> Any:
    value = resource
    for part in dotted.split("."):
        value = getattr(value, part, None) if value is not None else None
    return value


def _date_of(entry: _Entry) -> date | None:
    for dotted in DATE_FIELDS[entry.type]:
        value = _attribute(entry.resource, dotted)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str) and len(value) >= 10:  # a partial date (2026-03) gives none
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                continue
    return None


def _observed(entry: _Entry) -> tuple[Any, str]:
    """The Observation's value and its path (None when it has none the import reads)."""
    resource = entry.resource
    for name in VALUE_FIELDS:
        value = getattr(resource, name, None)
        if value is None:
            continue
        path = f"{entry.path}.{name}"
        if name == "valueQuantity":
            number = value.value
            if isinstance(number, Decimal):
                number = int(number) if number == number.to_integral_value() else float(number)
            return number, f"{path}.value"
        if name == "valueCodeableConcept":
            codes = [code for _, code in _codings(value)]
            return (codes[0] if codes else value.text), f"{path}.coding[0].code"
        return value, path
    return None, f"{entry.path}.value[x]"


def _levels(entry: _Entry, mapping: FhirMapping) -> list[str]:
    found = []
    for site in getattr(entry.resource, "bodySite", None) or []:
        level = mapping.level_of(_codings(site))
        if level is not None:
            found.append(level)
    return found


@dataclass
class _Reading:
    """What the bundle gives so far: each fact's contributions, and what was not used."""

    found: dict[str, list[_Found]] = field(default_factory=lambda: defaultdict(list))
    at_index: list[tuple[Rule, _Entry, list[str]]] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    any_true: set[str] = field(default_factory=set)  # at-index facts: one true makes it true

    def add(self, key: str, value: Any, entry: _Entry, path: str, rule: Rule) -> None:
        self.found[key].append(_Found(value, entry.name, path, _date_of(entry), rule.fallback))


def _apply(rule: Rule, entry: _Entry, reading: _Reading, mapping: FhirMapping) -> None:
    code_path = f"{entry.path}.{CODE_FIELD.get(entry.type, 'code')}"
    for key, value in rule.sets.items():
        reading.add(key, value, entry, code_path, rule)
    if rule.fact:
        value, path = _observed(entry)
        if value is None:
            expected = f"a value for the fact {rule.fact!r}"
            reading.problems.append(Problem(entry.name, path, expected, "nothing"))
        elif rule.value_map is None:
            reading.add(rule.fact, value, entry, path, rule)
        elif str(value) in rule.value_map:
            reading.add(rule.fact, rule.value_map[str(value)], entry, path, rule)
        else:
            where = f"{mapping.file}, {rule.key}.value_map"
            reading.unused.append(
                f"{entry.name}: the value {value!r} sets no {rule.fact} ({where})"
            )
    levels = _levels(entry, mapping)
    if rule.levels and levels:
        reading.add(rule.levels, levels, entry, f"{entry.path}.bodySite", rule)
    if rule.at_index_level:
        reading.at_index.append((rule, entry, levels))
        reading.any_true.add(rule.at_index_level)


def _read(entries: list[_Entry], mapping: FhirMapping) -> _Reading:
    reading = _Reading()
    for entry in entries:
        if entry.type == "Patient":
            continue
        if _skipped(entry):
            reading.unused.append(f"{entry.name}: skipped (its status says it does not hold)")
            continue
        concept = getattr(entry.resource, CODE_FIELD.get(entry.type, "code"), None)
        rule = mapping.rule_for(entry.type, _codings(concept))
        if rule is None:
            reading.unused.append(f"{entry.name}: no rule of the mapping reads its code")
            continue
        _apply(rule, entry, reading, mapping)
    index_levels = {
        level for found in reading.found.get("index_levels", []) for level in found.value
    }
    for rule, entry, levels in reading.at_index:
        if not levels:
            reading.unused.append(
                f"{entry.name}: names no spinal level, so not {rule.at_index_level}"
            )
        elif not index_levels:
            reading.unused.append(
                f"{entry.name}: the bundle names no index level, so not {rule.at_index_level}"
            )
        else:
            reading.add(
                rule.at_index_level,
                bool(index_levels & set(levels)),
                entry,
                f"{entry.path}.bodySite",
                rule,
            )
    return reading


def _combined(
    key: str, found: list[_Found], spec: FactSpec, any_true: bool
) -> tuple[Any, list[_Found], Problem | None]:
    """One value from every resource that gives the fact: lists add up, true wins for an
    at-index fact, anything else must agree."""
    strong = [f for f in found if not f.fallback] or found
    if spec.type == "choices":
        levels = sorted(
            {v for f in strong for v in f.value},
            key=lambda v: spec.choices.index(v) if v in spec.choices else len(spec.choices),
        )
        return levels, strong, None
    values = {repr(f.value): f for f in strong}
    if any_true:
        return any(f.value for f in strong), strong, None
    if len(values) > 1:
        first, *others = values.values()
        other = others[0]
        return (
            None,
            strong,
            Problem(
                other.resource,
                other.path,
                f"the same {key} as {first.resource} at {first.path} ({_shown(first.value)})",
                _shown(other.value),
            ),
        )
    return strong[0].value, strong, None


def _facts(reading: _Reading, catalogue: Mapping[str, FactSpec]) -> dict[str, ImportedFact]:
    facts: dict[str, ImportedFact] = {}
    criteria = Criteria("cohort", catalogue, ())
    for key, found in reading.found.items():
        value, used, problem = _combined(key, found, catalogue[key], key in reading.any_true)
        if problem is not None:
            reading.problems.append(problem)
            continue
        try:
            value = clean_facts({key: value}, criteria)[key]
        except FactError as error:
            reading.problems.append(
                Problem(
                    used[0].resource,
                    used[0].path,
                    error.errors[key].removeprefix("expected "),
                    _shown(value),
                )
            )
            continue
        dates = [f.on for f in used if f.on is not None]
        facts[key] = ImportedFact(
            key,
            value,
            tuple(dict.fromkeys(f.resource for f in used)),
            max(dates) if dates else None,
        )
    return facts


def read_bundle(
    bundle: Any, mapping: FhirMapping, catalogue: Mapping[str, FactSpec]
) -> BundleFacts:
    """The patient and the screening facts a FHIR Bundle gives, or ``BundleRefused``
    listing every problem (nothing is partly read)."""
    entries, problems = _entries(bundle)
    if problems:
        raise BundleRefused(problems)
    patient, problems = _patient(entries, mapping)
    if patient is None:
        raise BundleRefused(problems)
    problems = _about_patient(entries)
    reading = _read(entries, mapping)
    facts = _facts(reading, catalogue)
    problems += reading.problems
    if not problems and not facts:
        problems.append(
            Problem(
                "Bundle",
                "Bundle.entry",
                f"at least one resource that {mapping.file or 'the mapping'} reads",
                "; ".join(reading.unused) or "only the Patient",
            )
        )
    if problems:
        raise BundleRefused(problems)
    return BundleFacts(_label(bundle), patient, facts, tuple(reading.unused))


def describe(problems: Iterable[Problem]) -> list[str]:
    """One line per problem, as the CLI prints them."""
    return [problem.message for problem in problems]
