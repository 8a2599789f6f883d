"""Reading screening facts from a FHIR R4 Bundle (pure, no database): the shipped mapping,
good bundles, and bad ones refused whole with the resource, path, expected and found."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from blend.interop.fhir_import import BundleRefused, read_bundle
from blend.protocol import ConfigError, load_cohort
from blend.protocol.fhir_mapping import MAPPING_FILE, load_fhir_mapping, parse_fhir_mapping
from blend.protocol.reading import read_toml

EXAMPLE = Path(__file__).parents[2] / "fixtures" / "fhir" / "screening-bundle.json"
RECORD_FACTS = {
    "screening_date",
    "date_of_birth",
    "age",
    "consent_randomization",
    "consent_questionnaires",
}


def catalogue() -> Any:
    return load_cohort().facts


def mapping() -> Any:
    return load_fhir_mapping(catalogue(), excluded=RECORD_FACTS)


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def read(bundle: Any) -> Any:
    return read_bundle(bundle, mapping(), catalogue())


def refused(bundle: Any) -> list[Any]:
    with pytest.raises(BundleRefused) as caught:
        read(bundle)
    return caught.value.problems


def entry(bundle: dict[str, Any], resource_id: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == resource_id)


def observation(
    code: str, value: dict[str, Any], system: str = "urn:blend:screening-fact"
) -> dict[str, Any]:
    return {
        "resource": {
            "resourceType": "Observation",
            "id": f"obs-{code.replace('_', '-')}",
            "status": "final",
            "code": {"coding": [{"system": system, "code": code}]},
            "subject": {"reference": "Patient/p1"},
            **value,
        }
    }


# ------------------------------------------------------------------------ good bundles


def test_the_example_bundle_gives_the_screening_facts_it_codes() -> None:
    found = read(example())
    assert found.label == "UMCU-2026-03-02-0018"
    assert found.patient.study_ids == ("PRS000018",) and found.patient.hospital_numbers == ()
    assert {key: fact.value for key, fact in found.facts.items()} == {
        "bone_metastases_imaging": True,  # ICD-10 C79.5 / SNOMED CT 94222008
        "index_levels": ["T7", "T8"],  # its bodySite levels
        "kps": 70,  # LOINC 89247-1 ECOG 1: the lower bound of KPS 70-80
        "neurological_signs": "mild",
        "long_halflife_drugs": True,  # bevacizumab, RxNorm 253337 / ATC L01FG01
        "prior_radiotherapy_index": False,  # radiotherapy at L2, not at T7-T8
    }
    assert found.facts["kps"].resources == ("Observation/ecog",)
    assert str(found.facts["index_levels"].observed_on) == "2026-02-20"
    assert found.unused == ("Observation/weight: no rule of the mapping reads its code",)


def test_radiotherapy_at_an_index_level_is_prior_radiotherapy_there() -> None:
    bundle = example()
    entry(bundle, "rt-2024")["bodySite"] = [
        {"coding": [{"system": "urn:blend:spinal-level", "code": "T8"}]}
    ]
    assert read(bundle).facts["prior_radiotherapy_index"].value is True


def test_a_kps_observed_wins_over_the_one_from_ecog_and_ecog_2_gives_none() -> None:
    bundle = example()
    bundle["entry"].append(observation("kps", {"valueInteger": 80}))
    assert read(bundle).facts["kps"].value == 80  # the ECOG rule is a fallback
    bundle = example()
    entry(bundle, "ecog")["valueInteger"] = 2
    found = read(bundle)
    assert "kps" not in found.facts
    assert any("the value 2 sets no kps" in line for line in found.unused)


def test_icd10_and_snomed_codes_of_myeloma_and_cord_compression() -> None:
    bundle = example()
    for code, system in (
        ("C90.0", "http://hl7.org/fhir/sid/icd-10"),
        ("G95.2", "http://hl7.org/fhir/sid/icd-10"),
    ):
        bundle["entry"].append(
            {
                "resource": {
                    "resourceType": "Condition",
                    "id": code,
                    "code": {"coding": [{"system": system, "code": code}]},
                    "subject": {"reference": "Patient/p1"},
                }
            }
        )
    facts = read(bundle).facts
    assert (
        facts["multiple_myeloma"].value is True and facts["radiosensitive_histology"].value is True
    )
    assert facts["spinal_cord_compression"].value is True


def test_resources_entered_in_error_are_skipped() -> None:
    bundle = example()
    entry(bundle, "bev")["status"] = "entered-in-error"
    found = read(bundle)
    assert "long_halflife_drugs" not in found.facts
    assert "MedicationStatement/bev: skipped (its status says it does not hold)" in found.unused


# ------------------------------------------------------------------------- bad bundles


def test_a_value_the_library_refuses_names_its_fhir_path() -> None:
    bundle = example()
    bundle["entry"][2]["resource"].pop("valueInteger")
    bundle["entry"][2]["resource"]["valueQuantity"] = {"value": "seventy"}
    (problem,) = refused(bundle)
    assert problem.resource == "Observation/ecog"
    assert problem.path == "Bundle.entry[2].resource.valueQuantity.value"
    assert "a valid FHIR R4 value" in problem.expected and problem.found == "'seventy'"


def test_every_problem_is_listed_not_only_the_first() -> None:
    bundle = example()
    bundle["entry"][1]["resource"]["onsetDateTime"] = "yesterday"
    bundle["entry"][3]["resource"]["colour"] = "blue"
    paths = [p.path for p in refused(bundle)]
    assert paths == ["Bundle.entry[1].resource.onsetDateTime", "Bundle.entry[3].resource.colour"]


@pytest.mark.parametrize(
    ("change", "path", "expected", "found"),
    [
        (
            lambda b: b.update(resourceType="Patient"),
            "Bundle.resourceType",
            "'Bundle'",
            "'Patient'",
        ),
        (lambda b: b.update(entry=[]), "Bundle.entry", "a non-empty list of entries", "a list"),
        (
            lambda b: b["entry"][4]["resource"].update(resourceType="Encounter"),
            "Bundle.entry[4].resource.resourceType",
            "a resourceType of Patient, Condition, Observation, Procedure, MedicationStatement",
            "'Encounter'",
        ),
        (lambda b: b["entry"].pop(0), "Bundle.entry", "exactly one Patient resource", "none"),
        (
            lambda b: b["entry"][0]["resource"].update(
                identifier=[{"system": "urn:other", "value": "x"}]
            ),
            "Bundle.entry[0].resource.identifier",
            "an identifier with the system 'urn:blend:study-id' or 'urn:blend:hospital-number'",
            "the systems ['urn:other']",
        ),
        (
            lambda b: b["entry"][2]["resource"].update(
                subject={"reference": "Patient/someone-else"}
            ),
            "Bundle.entry[2].resource.subject.reference",
            "a reference to the bundle's Patient (Patient/p1 or urn:uuid:7c1f7a3e-2f55-4a61-9d5e-0a1b2c3d4e01)",
            "'Patient/someone-else'",
        ),
    ],
)
def test_a_bad_bundle_is_refused_with_the_resource_path_expected_and_found(
    change: Any, path: str, expected: str, found: str
) -> None:
    bundle = example()
    change(bundle)
    (problem,) = refused(bundle)
    assert (problem.path, problem.expected, problem.found) == (path, expected, found)


def test_a_value_outside_the_catalogue_is_refused_at_its_path() -> None:
    bundle = example()
    bundle["entry"].append(observation("kps", {"valueInteger": 150}))
    (problem,) = refused(bundle)
    assert problem.resource == "Observation/obs-kps"
    assert problem.path == f"Bundle.entry[{len(bundle['entry']) - 1}].resource.valueInteger"
    assert problem.expected == "a value from 0 to 100, got 150" and problem.found == "150"


def test_two_resources_that_disagree_on_a_fact_refuse_the_bundle() -> None:
    bundle = example()
    bundle["entry"].append(observation("neurological_signs", {"valueString": "severe"}))
    (problem,) = refused(bundle)
    assert problem.path.endswith(".valueString") and problem.found == "'severe'"
    assert "the same neurological_signs as Observation/neuro" in problem.expected


def test_a_bundle_that_gives_no_fact_is_refused() -> None:
    bundle = example()
    bundle["entry"] = [bundle["entry"][0], bundle["entry"][-1]]  # the Patient and a weight
    (problem,) = refused(bundle)
    assert problem.expected == "at least one resource that cohort/fhir_mapping.toml reads"
    assert "no rule of the mapping reads its code" in problem.found


def test_not_json_objects_are_refused_not_crashed_on() -> None:
    for bad in (None, [], "Bundle", {"resourceType": "Bundle", "entry": [None]}):
        assert refused(bad)


# ------------------------------------------------------------------------ the mapping


def test_the_shipped_mapping_names_real_codes_of_each_system() -> None:
    codes = {code for rule in mapping().rules for code in rule.codes}
    assert ("http://hl7.org/fhir/sid/icd-10", "C79.5") in codes
    assert ("http://snomed.info/sct", "94222008") in codes
    assert ("http://loinc.org", "89247-1") in codes
    assert ("http://www.nlm.nih.gov/research/umls/rxnorm", "253337") in codes
    assert ("http://www.whocc.no/atc", "L01FG01") in codes


def _mapping_with(change: Any) -> Any:
    raw = copy.deepcopy(read_toml(MAPPING_FILE))
    change(raw)
    return parse_fhir_mapping(raw, MAPPING_FILE, catalogue(), RECORD_FACTS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda raw: raw["rules"][0].update(set={"sleep_hours": 8}),
            "cohort/fhir_mapping.toml: rules[0].set.sleep_hours: expected a fact of the cohort's catalogue",
        ),
        (
            lambda raw: raw["rules"][0].update(set={"age": 40}),
            "rules[0].set.age: expected a fact of the cohort's catalogue the import may set",
        ),
        (
            lambda raw: raw["rules"][0].update(set={"bone_metastases_imaging": "yes"}),
            "rules[0].set.bone_metastases_imaging: expected a value of the fact 'bone_metastases_imaging' (expected true or false, got 'yes'), found 'yes'",
        ),
        (
            lambda raw: raw["rules"][0].update(codes=["icd:C79.5"]),
            "rules[0].codes: expected codes written system:code with a system of",
        ),
        (
            lambda raw: raw["rules"][1].update(codes=["icd10:C79.5"]),
            "rules[1].codes: expected each code in one Condition rule only, found C79.5 also in rules[0]",
        ),
        (
            lambda raw: raw["rules"][5].update(value_map={"0": 900}),
            "rules[5].value_map.0: expected a value of the fact 'kps'",
        ),
        (
            lambda raw: raw["rules"][7].update(at_index_level="kps"),
            "rules[7].at_index_level: expected a fact of type bool, found 'kps' of type int",
        ),
        (
            lambda raw: raw["patient"].pop("study_id_system"),
            "patient.study_id_system: expected the key 'study_id_system'",
        ),
    ],
)
def test_a_bad_mapping_names_the_file_key_expected_and_found(change: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _mapping_with(change)
    assert message in str(caught.value)


def test_the_cohort_folder_accepts_the_mapping_file_and_still_refuses_typos() -> None:
    assert MAPPING_FILE.parent == load_cohort().folder  # the cohort loads with it in place
