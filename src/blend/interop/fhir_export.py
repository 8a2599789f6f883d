"""FHIR R4 resources for what the platform holds: instruments, questionnaires, scores,
trials and their subjects. Pure code: values in, JSON-ready dicts out (no Django).

The resources are plain dicts, built directly (a 10,000-member export builds about a
million of them); the tests parse every kind back with the ``fhir.resources`` model
(:func:`parse`), so a dict that is not valid FHIR fails there. The R4B models are used:
R4B changed none of these resources, so they are valid R4 (4.0.1).

What is left out is as deliberate as what is put in (docs/interoperability.md §1):

- no direct identifier: a member is referred to by the pseudonymous study ID alone
  (``Reference.identifier`` in :data:`STUDY_ID_SYSTEM`), never by a Patient resource;
- no licensed wording that is not installed: a Dutch text still a placeholder
  (``PLACEHOLDER_PREFIX``) is never written; the licensed Dutch wording appears only once
  ``blend instruments install-translation`` installed it;
- no arm unless the caller says the reader may see it (``SubjectFacts.arm`` is None
  otherwise), and nothing that differs by arm: the subject's status and dates are the
  same for both arms.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from blend.instruments import PLACEHOLDER_PREFIX, Instrument, Item, get_instrument
from blend.protocol import Trial

FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"
BASE = "https://present-cohort.nl/fhir"
#: The pseudonymous study ID (``registry.domain.format_study_id``), the only identifier.
STUDY_ID_SYSTEM = f"{BASE}/sid/study-id"
TRIAL_SYSTEM = f"{BASE}/sid/trial"
INSTRUMENT_SYSTEM = f"{BASE}/sid/instrument"
#: The local code of every score: ``<instrument>/<score key>`` (e.g. ``qlq-c15-pal/PF``).
SCORES_SYSTEM = f"{BASE}/CodeSystem/blend-scores"
TIMEPOINT_EXTENSION = f"{BASE}/StructureDefinition/timepoint"
MODE_EXTENSION = f"{BASE}/StructureDefinition/mode-of-administration"
TRANSLATION_EXTENSION = "http://hl7.org/fhir/StructureDefinition/translation"
MIN_VALUE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/maxValue"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
CLINICALTRIALS_GOV = "https://clinicaltrials.gov"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
OBJECTIVE_TYPE = "http://terminology.hl7.org/CodeSystem/research-study-objective-type"
#: The date of this export's CapabilityStatement (a required element; it changes with it).
CAPABILITY_DATE = "2026-12-01"

#: Standard codes beside the local one, only where we are sure of them (mCODE uses the
#: LOINC performance-status codes; the MII PRO guide the SNOMED CT EQ-5D-5L ones).
STANDARD_CODES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("ecog", "ecog"): (LOINC, "89247-1", "ECOG Performance Status score"),
    ("kps", "ecog"): (LOINC, "89247-1", "ECOG Performance Status score"),
    ("kps", "kps"): (LOINC, "89243-0", "Karnofsky Performance Status score"),
    ("eq5d5l-nl", "index"): (
        SNOMED,
        "736534008",
        "EuroQol five dimension five level index value",
    ),
    ("eq5d5l-nl", "vas"): (SNOMED, "736535009", "EuroQol visual analogue score"),
}
#: UCUM units of the scores that have one; every other number is a unitless score.
UNITS: dict[tuple[str, str], tuple[str, str]] = {
    ("omed", "omed"): ("mg/d", "mg/day"),
    ("eq5d5l-nl", "index"): ("1", "1"),
    ("pain-response", "baseline_omed"): ("mg/d", "mg/day"),
}
#: Who holds each licensed questionnaire (the Questionnaire's ``copyright``).
LICENCE_HOLDERS = {
    "qlq-c15-pal": "EORTC QLQ-C15-PAL © EORTC Quality of Life Group",
    "qlq-c30": "EORTC QLQ-C30 version 3.0 © EORTC Quality of Life Group",
    "bpi-sf": "Brief Pain Inventory © Charles S. Cleeland, PhD, Pain Research Group; "
    "licensed by The University of Texas MD Anderson Cancer Center",
    "eq5d5l-nl": "EQ-5D™ is a trade mark of the EuroQol Research Foundation; "
    "EQ-5D-5L © EuroQol Research Foundation",
}
#: The OMED input is a list of medicines; its questionnaire asks first whether there are any.
OMED = "omed"
OMED_ANY = "any"
OMED_GROUP = "medications"
#: The trial's status (trial.toml) as ResearchStudy.status.
STUDY_STATUS = {
    "planned": "approved",
    "recruiting": "active",
    "follow-up": "closed-to-accrual",
    "completed": "completed",
}
#: The resource types served, each with its search parameters (the CapabilityStatement).
SEARCH_PARAMETERS: dict[str, tuple[tuple[str, str], ...]] = {
    "Questionnaire": (("_id", "token"),),
    "ResearchStudy": (("_id", "token"),),
    "ResearchSubject": (("trial", "token"), ("subject", "token")),
    "QuestionnaireResponse": (("trial", "token"), ("subject", "token"), ("questionnaire", "token")),
    "Observation": (("trial", "token"), ("subject", "token"), ("code", "token")),
}
READABLE = ("Questionnaire", "ResearchStudy")


# --- values the apps hand in ---------------------------------------------------------------


@dataclass(frozen=True)
class ResponseFacts:
    """One instrument of one submitted questionnaire (a Response holds several)."""

    response_id: int
    study_id: str
    instrument: str
    answers: Mapping[str, Any]
    scores: Mapping[str, Any]
    completed_on: date | None
    timepoint: str
    mode: str
    language: str

    @property
    def resource_id(self) -> str:
        return f"{self.response_id}-{self.instrument}"


@dataclass(frozen=True)
class SubjectFacts:
    """A cohort member in one trial. ``arm`` and ``actual_arm`` are None unless the reader
    holds ``allocation.view`` in that trial; nothing else here differs by arm."""

    study_id: str
    trial: str
    status: str  # a ResearchSubject.status code (see subject_status)
    randomized_on: date | None = None
    arm: str | None = None
    actual_arm: str | None = None


def subject_status(screening: str | None, randomized: bool) -> str:
    """ResearchSubject.status from the screening's status and whether the member is
    randomized: the same for both arms (never on-study-intervention)."""
    if randomized:
        return "on-study"
    return {"eligible": "eligible", "ineligible": "ineligible"}.get(screening or "", "screening")


def actual_arm(arm: str | None, offer: str | None) -> str | None:
    """The arm followed: TwiCs controls and the intervention arm's refusers get standard
    care; an offer still awaiting a decision follows none yet."""
    if arm == "control":
        return "control"
    if arm == "intervention":
        return {"accepted": "intervention", "refused": "control", "not_offered": "control"}.get(
            offer or ""
        )
    return None


# --- small parts ---------------------------------------------------------------------------


def _installed(text: str) -> str | None:
    """``text`` unless it is empty or still a placeholder (never exported)."""
    return None if not text or text.startswith(PLACEHOLDER_PREFIX) else text


def _translation(text_nl: str) -> dict[str, Any] | None:
    """The Dutch wording as the FHIR translation extension, when it is installed."""
    installed = _installed(text_nl)
    if installed is None:
        return None
    return {
        "extension": [
            {
                "url": TRANSLATION_EXTENSION,
                "extension": [
                    {"url": "lang", "valueCode": "nl"},
                    {"url": "content", "valueString": installed},
                ],
            }
        ]
    }


def _with_text(target: dict[str, Any], name: str, text_en: str, text_nl: str) -> None:
    target[name] = text_en
    translation = _translation(text_nl) if text_nl != text_en else None
    if translation:
        target[f"_{name}"] = translation


def subject_reference(study_id: str) -> dict[str, Any]:
    return {"identifier": {"system": STUDY_ID_SYSTEM, "value": study_id}, "type": "Patient"}


def questionnaire_url(code: str) -> str:
    return f"{BASE}/Questionnaire/{code}"


def answer_system(code: str) -> str:
    return f"{BASE}/CodeSystem/answers-{code}"


def fhir_id(text: str) -> str:
    """A resource id from a key (FHIR ids allow letters, digits, '-' and '.')."""
    return text.replace("_", "-").replace("/", ".")


# --- Questionnaire -------------------------------------------------------------------------


def licence_notice(instrument: Instrument) -> str:
    if not instrument.licensed:
        return f"BLEND's own wording. Source: {instrument.source}."
    holder = LICENCE_HOLDERS.get(instrument.code, instrument.title_en)
    dutch = (
        f"Dutch wording: {instrument.translation_source}."
        if instrument.translation_source and not instrument.placeholder
        else "The licensed Dutch wording is not installed on this platform and is not included."
    )
    return (
        f"{holder}. Used under licence; reproduce or translate only with the copyright "
        f"holder's permission. {dutch} Source: {instrument.source}."
    )


def _answer_options(instrument: Instrument, item: Item) -> list[dict[str, Any]]:
    options = []
    for option in item.options:
        coding: dict[str, Any] = {"system": answer_system(instrument.code)}
        _with_text(coding, "display", option.label_en, option.label_nl)
        coding["code"] = str(option.value)
        options.append({"valueCoding": coding})
    return options


def _bound(url: str, value: float | None, integer: bool) -> list[dict[str, Any]]:
    if value is None or math.isinf(value):
        return []
    return [{"url": url, **({"valueInteger": int(value)} if integer else {"valueDecimal": value})}]


def _question(instrument: Instrument, item: Item) -> dict[str, Any]:
    question: dict[str, Any] = {"linkId": item.key}
    _with_text(question, "text", item.text_en, item.text_nl)
    if item.kind == "choice":
        question.update(type="choice", answerOption=_answer_options(instrument, item))
        return question
    question["type"] = "integer" if item.integer else "decimal"
    extensions = _bound(MIN_VALUE_EXTENSION, item.minimum, item.integer) + _bound(
        MAX_VALUE_EXTENSION, item.maximum, item.integer
    )
    if extensions:
        question["extension"] = extensions
    return question


def _header(item: Item) -> dict[str, Any]:
    header: dict[str, Any] = {"linkId": f"{item.key}-header", "type": "display"}
    _with_text(header, "text", item.header_en, item.header_nl)
    return header


def _items(instrument: Instrument) -> list[dict[str, Any]]:
    if instrument.code == OMED:
        return _omed_items(instrument)
    items: list[dict[str, Any]] = []
    previous = ""
    for item in instrument.items:
        if item.header_en and item.header_en != previous:
            items.append(_header(item))
        previous = item.header_en
        items.append(_question(instrument, item))
    return items


def _omed_items(instrument: Instrument) -> list[dict[str, Any]]:
    """Whether any opioid is used, then one repeating group per medicine."""
    group: dict[str, Any] = {
        "linkId": OMED_GROUP,
        "type": "group",
        "repeats": True,
        "enableWhen": [{"question": OMED_ANY, "operator": "=", "answerBoolean": True}],
        "item": [_question(instrument, item) for item in instrument.items],
    }
    _with_text(group, "text", "Medicine", "Medicijn")
    any_question: dict[str, Any] = {"linkId": OMED_ANY, "type": "boolean"}
    _with_text(
        any_question,
        "text",
        "Do you currently use strong painkillers (opioids)?",
        "Gebruikt u op dit moment sterke pijnstillers (opioïden)?",
    )
    return [any_question, group]


def questionnaire(instrument: Instrument) -> dict[str, Any]:
    """The instrument as a Questionnaire: English wording, the installed Dutch wording as
    translations, the licence notice as ``copyright``."""
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": instrument.code,
        "url": questionnaire_url(instrument.code),
        "identifier": [{"system": INSTRUMENT_SYSTEM, "value": instrument.code}],
        "version": instrument.version,
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": "PRESENT cohort",
        "copyright": licence_notice(instrument),
    }
    _with_text(resource, "title", instrument.title_en, instrument.title_nl)
    if instrument.instructions_en:
        _with_text(resource, "description", instrument.instructions_en, instrument.instructions_nl)
    resource["item"] = _items(instrument)
    return resource


# --- QuestionnaireResponse and its scores --------------------------------------------------


def _answer(system: str, item: Item, value: Any) -> dict[str, Any]:
    if item.kind == "choice":
        return {"valueCoding": {"system": system, "code": str(value)}}
    if item.integer:
        return {"valueInteger": int(value)}
    return {"valueDecimal": value}


def _answer_items(instrument: Instrument, answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    system = answer_system(instrument.code)
    return [
        {"linkId": item.key, "answer": [_answer(system, item, answers[item.key])]}
        for item in instrument.items
        if answers.get(item.key) is not None
    ]


def _omed_answer_items(instrument: Instrument, answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    medicines = answers.get("medications")
    if medicines is None:
        return []
    groups = [
        {"linkId": OMED_GROUP, "item": _answer_items(instrument, medicine)}
        for medicine in medicines
    ]
    return [{"linkId": OMED_ANY, "answer": [{"valueBoolean": bool(medicines)}]}, *groups]


def questionnaire_response(facts: ResponseFacts, instrument: Instrument) -> dict[str, Any]:
    """The answers to one instrument; ``answers_of`` reads them back."""
    answer_items = (
        _omed_answer_items(instrument, facts.answers)
        if instrument.code == OMED
        else _answer_items(instrument, facts.answers)
    )
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": facts.resource_id,
        "extension": [
            {"url": TIMEPOINT_EXTENSION, "valueCode": facts.timepoint},
            {"url": MODE_EXTENSION, "valueCode": facts.mode},
        ],
        "language": facts.language,
        "questionnaire": f"{questionnaire_url(instrument.code)}|{instrument.version}",
        "status": "completed",
        "subject": subject_reference(facts.study_id),
    }
    if facts.completed_on is not None:
        resource["authored"] = facts.completed_on.isoformat()
    if answer_items:
        resource["item"] = answer_items
    return resource


def _value_of(item: Item, answer: Mapping[str, Any]) -> Any:
    if "valueCoding" in answer:
        code = answer["valueCoding"]["code"]
        return code if item.coded else int(code)
    if "valueInteger" in answer:
        return int(answer["valueInteger"])
    value = answer["valueDecimal"]
    return float(value)


def _flat_answers(instrument: Instrument, items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    found = {}
    for entry in items:
        item = instrument.item(entry["linkId"])
        found[item.key] = _value_of(item, entry["answer"][0])
    return found


def answers_of(resource: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(instrument code, answers as ``blend.instruments.score`` takes them) of a
    QuestionnaireResponse made by :func:`questionnaire_response`."""
    code = str(resource["questionnaire"]).split("|")[0].rsplit("/", 1)[-1]
    instrument = get_instrument(code)
    items = resource.get("item", [])
    if code != OMED:
        return code, _flat_answers(instrument, items)
    if not items:
        return code, {}
    groups = [g for g in items if g["linkId"] == OMED_GROUP]
    return code, {"medications": [_flat_answers(instrument, g.get("item", [])) for g in groups]}


#: A score's CodeableConcept, built once per instrument and scale: a bulk export makes
#: a million Observations from a few dozen codes. The dicts are shared, never changed.
_SCORE_CODES: dict[tuple[str, str, str], dict[str, Any]] = {}


def _score_code(instrument: Instrument, key: str) -> dict[str, Any]:
    cache_key = (instrument.code, key, instrument.title_en)
    if cache_key not in _SCORE_CODES:
        _SCORE_CODES[cache_key] = _new_score_code(instrument, key)
    return _SCORE_CODES[cache_key]


def _new_score_code(instrument: Instrument, key: str) -> dict[str, Any]:
    label = next((s.label_en for s in instrument.scales if s.key == key), key)
    codings = [{"system": SCORES_SYSTEM, "code": f"{instrument.code}/{key}", "display": label}]
    standard = STANDARD_CODES.get((instrument.code, key))
    if standard:
        codings.append({"system": standard[0], "code": standard[1], "display": standard[2]})
    return {"coding": codings, "text": f"{instrument.title_en}: {label}"}


def _value(instrument: str, key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, str):
        return {"valueString": value}
    code, unit = UNITS.get((instrument, key), ("{score}", "score"))
    return {"valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": code}}


def observations(facts: ResponseFacts, instrument: Instrument) -> list[dict[str, Any]]:
    """One Observation per score that could be computed (an unscorable scale, None, has
    none), derived from the QuestionnaireResponse."""
    found = []
    base = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
        "subject": subject_reference(facts.study_id),
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{facts.resource_id}"}],
    }
    if facts.completed_on is not None:
        base["effectiveDateTime"] = facts.completed_on.isoformat()
    for key in instrument.score_keys:
        value = facts.scores.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        found.append(
            {
                **base,
                "id": f"{facts.resource_id}-{fhir_id(key)}",
                "code": _score_code(instrument, key),
                **_value(instrument.code, key, value),
            }
        )
    return found


# --- trials and their subjects -------------------------------------------------------------


def research_study(trial: Trial) -> dict[str, Any]:
    identifiers = [{"system": TRIAL_SYSTEM, "value": trial.code}]
    if trial.registration.startswith("NCT"):
        identifiers.append({"system": CLINICALTRIALS_GOV, "value": trial.registration})
    outcome = trial.primary_outcome
    return {
        "resourceType": "ResearchStudy",
        "id": trial.code,
        "identifier": identifiers,
        "title": trial.title,
        "status": STUDY_STATUS.get(trial.status, "active"),
        "primaryPurposeType": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/research-study-prim-purp-type",
                    "code": "treatment",
                }
            ]
        },
        "partOf": [{"identifier": {"system": TRIAL_SYSTEM, "value": trial.cohort}}],
        "sponsor": {"display": trial.sponsor},
        "arm": [
            {"name": code, "description": trial.treatment.arms[code].label} for code in trial.arms
        ],
        "objective": [
            {
                "name": f"{outcome.measure} at {outcome.timepoint}",
                "type": {"coding": [{"system": OBJECTIVE_TYPE, "code": "primary"}]},
            }
        ],
    }


def research_subject(facts: SubjectFacts) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ResearchSubject",
        "id": f"{facts.trial}-{facts.study_id}",
        "status": facts.status,
        "study": {"reference": f"ResearchStudy/{facts.trial}"},
        "individual": subject_reference(facts.study_id),
    }
    if facts.randomized_on is not None:
        resource["period"] = {"start": facts.randomized_on.isoformat()}
    if facts.arm is not None:
        resource["assignedArm"] = facts.arm
    if facts.actual_arm is not None:
        resource["actualArm"] = facts.actual_arm
    return resource


# --- bundles, errors, the capability statement ---------------------------------------------


def searchset(
    resources: Sequence[Mapping[str, Any]],
    total: int,
    base_url: str,
    self_url: str,
    next_url: str | None = None,
) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def operation_outcome(code: str, diagnostics: str, expression: str = "") -> dict[str, Any]:
    """One error, as FHIR says it (``code``: invalid, login, forbidden, not-found ...)."""
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def capability_statement(base_url: str) -> dict[str, Any]:
    resources = []
    for kind, parameters in SEARCH_PARAMETERS.items():
        interactions = [{"code": "search-type"}]
        if kind in READABLE:
            interactions.append({"code": "read"})
        resources.append(
            {
                "type": kind,
                "interaction": interactions,
                "searchParam": [
                    {"name": name, "type": kind_}
                    for name, kind_ in (*parameters, ("_count", "number"))
                ],
            }
        )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": CAPABILITY_DATE,
        "kind": "instance",
        "software": {"name": "BLEND trial platform"},
        "implementation": {"description": "PRESENT cohort, read-only FHIR R4", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON],
        "rest": [
            {
                "mode": "server",
                "security": {"description": "Authorization: Bearer <personal API token>"},
                "resource": resources,
            }
        ],
    }


# --- validation (the tests, and anyone who wants to check a file) --------------------------


def _models() -> dict[str, Any]:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.operationoutcome import OperationOutcome
    from fhir.resources.R4B.questionnaire import Questionnaire
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
    from fhir.resources.R4B.researchstudy import ResearchStudy
    from fhir.resources.R4B.researchsubject import ResearchSubject

    kinds = (
        Bundle,
        CapabilityStatement,
        Observation,
        OperationOutcome,
        Questionnaire,
        QuestionnaireResponse,
        ResearchStudy,
        ResearchSubject,
    )
    return {kind.__name__: kind for kind in kinds}


def parse(resource: Mapping[str, Any]) -> Any:
    """``resource`` parsed by its ``fhir.resources`` R4B model; raises pydantic's
    ValidationError when it is not valid FHIR (or KeyError for a type not made here).
    The models are imported only when used: they take a moment to load."""
    return _models()[str(resource["resourceType"])].model_validate(dict(resource))
