"""The FHIR resources of what a reader may see, and ``blend export fhir DIR``.

Read-only: nothing here changes a record. The export writes one NDJSON file per resource
type (FHIR bulk-data style: one resource per line) and is logged in the export log like
every other export (``exports.services.log_export``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from blend.apps.accounts.models import User
from blend.apps.exports.models import ExportLog
from blend.apps.exports.services import authorize_export, log_export
from blend.apps.fhir import queries
from blend.apps.trials.lookup import get_trial
from blend.instruments import Instrument, get_instrument, instrument_codes
from blend.interop import fhir_export as fx

RESOURCE_TYPES = (
    "Questionnaire",
    "ResearchStudy",
    "ResearchSubject",
    "QuestionnaireResponse",
    "Observation",
)


def instruments() -> dict[str, Instrument]:
    """Every instrument, with the translations installed now (read once per request)."""
    return {code: get_instrument(code) for code in instrument_codes()}


def questionnaires() -> list[dict[str, Any]]:
    return [fx.questionnaire(instrument) for instrument in instruments().values()]


def studies(user: User | None) -> list[dict[str, Any]]:
    return [fx.research_study(get_trial(code)) for code in queries.visible_trials(user)]


def subjects(
    trials: Iterable[str], user: User | None, study_id: str | None = None
) -> list[dict[str, Any]]:
    return [
        fx.research_subject(facts)
        for trial in trials
        for facts in queries.subjects(trial, user, study_id)
    ]


def responses(
    facts: Iterable[fx.ResponseFacts], known: dict[str, Instrument]
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each questionnaire's QuestionnaireResponse with its score Observations."""
    for item in facts:
        instrument = known[item.instrument]
        yield fx.questionnaire_response(item, instrument), fx.observations(item, instrument)


def _write(file: BinaryIO, resource: dict[str, Any]) -> None:
    # orjson, not json: serialising is most of a bulk export's time (31 µs a resource
    # with json, a tenth of that with orjson), and the output is the same compact UTF-8.
    file.write(orjson.dumps(resource))
    file.write(b"\n")


def _write_all(folder: Path, name: str, resources: Iterable[dict[str, Any]]) -> int:
    count = 0
    with (folder / f"{name}.ndjson").open("wb") as file:
        for resource in resources:
            _write(file, resource)
            count += 1
    return count


def _write_responses(folder: Path, known: dict[str, Instrument]) -> dict[str, int]:
    rows = {"QuestionnaireResponse": 0, "Observation": 0}
    facts = queries.response_facts(queries.submitted())
    with (
        (folder / "QuestionnaireResponse.ndjson").open("wb") as answers,
        (folder / "Observation.ndjson").open("wb") as scores,
    ):
        for response, observations in responses(facts, known):
            _write(answers, response)
            rows["QuestionnaireResponse"] += 1
            for observation in observations:
                _write(scores, observation)
            rows["Observation"] += len(observations)
    return rows


def export_fhir(folder: Path, *, user: User | None = None, via: str = "cli") -> ExportLog:
    """Write ``<type>.ndjson`` for each of :data:`RESOURCE_TYPES` into ``folder``: every
    instrument, the trials ``user`` works in with their subjects (the arm only where
    ``user`` holds ``allocation.view``; the operator, with no user, sees every arm, as
    in the full export) and every submitted questionnaire with its scores."""
    authorize_export(user, via)
    folder.mkdir(parents=True, exist_ok=True)
    known = instruments()
    trials = queries.visible_trials(user)
    rows = {
        "Questionnaire": _write_all(
            folder, "Questionnaire", (fx.questionnaire(i) for i in known.values())
        ),
        "ResearchStudy": _write_all(folder, "ResearchStudy", studies(user)),
        "ResearchSubject": _write_all(folder, "ResearchSubject", subjects(trials, user)),
        **_write_responses(folder, known),
    }
    return log_export(
        "fhir",
        folder,
        user=user,
        via=via,
        fmts=["ndjson"],
        rows=rows,
        details={"trials": ",".join(trials)},
    )
