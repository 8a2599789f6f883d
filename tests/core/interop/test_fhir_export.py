"""The pure FHIR builders: every instrument as a valid Questionnaire, and its answers out
as a QuestionnaireResponse and back, scored identically (fixed seed); the licensed Dutch
wording only once installed; no arm in a subject unless given."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pytest

from blend.instruments import InstrumentError, get_instrument, instrument_codes, score
from blend.instruments.model import Instrument
from blend.interop import fhir_export as fx

SEED = 20261201


def _answers(instrument: Instrument, rng: np.random.Generator) -> dict[str, Any]:
    """One complete, valid set of answers, drawn with a fixed seed."""
    if instrument.code == fx.OMED:
        return {
            "medications": [
                {"drug": "morphine", "route": "oral", "dose": 40.0, "unit": "mg/day"},
                {"drug": "fentanyl", "route": "transdermal", "dose": 12.0, "unit": "ug/h"},
            ]
        }
    for _attempt in range(50):
        answers: dict[str, Any] = {}
        for item in instrument.items:
            if item.kind == "choice":
                answers[item.key] = item.values[int(rng.integers(len(item.values)))]
            else:
                high = 200.0 if item.maximum is None or math.isinf(item.maximum) else item.maximum
                value = float(rng.uniform(item.minimum or 0.0, high))
                answers[item.key] = round(value) if item.integer else round(value, 1)
        try:
            score(instrument.code, answers)
            return answers
        except InstrumentError:
            continue  # a combination the instrument refuses (e.g. a CTCAE grade a term lacks)
    raise AssertionError(f"{instrument.code}: no valid answers in 50 draws")


def _facts(code: str, answers: dict[str, Any]) -> fx.ResponseFacts:
    return fx.ResponseFacts(
        response_id=7,
        study_id="PRS-00007-4",
        instrument=code,
        answers=answers,
        scores=score(code, answers),
        completed_on=date(2025, 5, 1),
        timepoint="w4",
        mode="web",
        language="nl",
    )


@pytest.mark.parametrize("code", instrument_codes())
def test_every_instrument_is_a_valid_questionnaire(code: str) -> None:
    resource = fx.questionnaire(get_instrument(code))
    parsed = fx.parse(resource)
    assert parsed.url == fx.questionnaire_url(code) and parsed.copyright


@pytest.mark.parametrize("code", instrument_codes())
def test_every_instrument_round_trips_and_scores_identically(code: str) -> None:
    instrument = get_instrument(code)
    rng = np.random.default_rng([SEED, instrument_codes().index(code)])
    for _ in range(5):
        answers = _answers(instrument, rng)
        facts = _facts(code, answers)
        resource = fx.questionnaire_response(facts, instrument)
        fx.parse(resource)
        back_code, back = fx.answers_of(resource)
        assert back_code == code
        assert score(code, back) == score(code, answers) == facts.scores
        for observation in fx.observations(facts, instrument):
            fx.parse(observation)


def test_unanswered_items_and_unscorable_scales_are_left_out() -> None:
    instrument = get_instrument("qlq-c15-pal")
    facts = _facts("qlq-c15-pal", {"q1": 1, "q2": 2})
    resource = fx.questionnaire_response(facts, instrument)
    assert [item["linkId"] for item in resource["item"]] == ["q1", "q2"]
    assert fx.observations(facts, instrument) == []  # PF needs q3: no score at all
    assert fx.answers_of(resource) == ("qlq-c15-pal", {"q1": 1, "q2": 2})


def test_no_opioid_is_zero_and_an_unanswered_painkiller_page_is_missing() -> None:
    instrument = get_instrument("omed")
    none = fx.questionnaire_response(_facts("omed", {"medications": []}), instrument)
    assert score("omed", fx.answers_of(none)[1]) == {"omed": 0.0}
    missing = fx.questionnaire_response(_facts("omed", {}), instrument)
    assert "item" not in missing and fx.answers_of(missing) == ("omed", {})


def test_placeholder_dutch_is_never_written_and_installed_dutch_is() -> None:
    shipped = get_instrument("qlq-c15-pal")
    text = str(fx.questionnaire(shipped))
    assert fx.PLACEHOLDER_PREFIX not in text
    assert "not installed on this platform" in fx.questionnaire(shipped)["copyright"]
    translated_item = replace(shipped.items[0], text_nl="Heeft u moeite?", placeholder=False)
    installed = replace(
        shipped, items=(translated_item, *shipped.items[1:]), translation_source="licence 42"
    )
    resource = fx.questionnaire(installed)
    assert resource["item"][0]["_text"]["extension"][0]["extension"][1] == {
        "url": "content",
        "valueString": "Heeft u moeite?",
    }
    assert "_text" not in resource["item"][1]
    fx.parse(resource)


def test_clinician_scores_carry_the_loinc_codes_we_are_sure_of() -> None:
    facts = replace(
        _facts("kps", {"kps": 70}), scores=score("kps", {"kps": 70}, ecog_convention="A")
    )
    codes = {
        c["code"]
        for o in fx.observations(facts, get_instrument("kps"))
        for c in o["code"]["coding"]
    }
    assert {"89243-0", "89247-1", "kps/kps", "kps/ecog"} <= codes


def test_a_subject_carries_an_arm_only_when_given_one() -> None:
    blind = fx.research_subject(fx.SubjectFacts("PRS-00007-4", "BLEND", "on-study"))
    assert "assignedArm" not in blind and "actualArm" not in blind
    seen = fx.research_subject(
        fx.SubjectFacts("PRS-00007-4", "BLEND", "on-study", arm="control", actual_arm="control")
    )
    assert (seen["assignedArm"], seen["actualArm"]) == ("control", "control")
    for resource in (blind, seen):
        fx.parse(resource)


def test_the_status_is_the_same_in_both_arms() -> None:
    assert fx.subject_status("eligible", True) == "on-study"
    assert fx.subject_status("ineligible", False) == "ineligible"
    assert fx.subject_status("pending", False) == "screening"
    assert fx.actual_arm("intervention", "refused") == fx.actual_arm("control", None) == "control"
    assert fx.actual_arm("intervention", "offered") is None


def test_the_capability_statement_and_an_error_are_valid() -> None:
    fx.parse(fx.capability_statement("https://example.org/api/fhir"))
    outcome = fx.parse(fx.operation_outcome("invalid", "trial: expected BLEND", "trial"))
    assert outcome.issue[0].expression == ["trial"]
