"""REST endpoint of pre-screening: the FHIR import of screening facts (docs/api.md,
docs/interoperability.md section 2)."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema
from ninja.errors import HttpError

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.api.core import need
from blend.apps.api.errors import ERRORS, ErrorOut
from blend.apps.api.permissions import writes
from blend.apps.prescreening.fhir_import import import_fhir_bundle, parse_json

# A refused bundle is a ValueError: the API's 400, whose entries are its ``problems``
# (field = the FHIR path, resource, expected, received).
router = Router(tags=["trial"])

FHIR_JSON = "application/fhir+json"
ACCEPTED_TYPES = (FHIR_JSON, "application/json")


class ImportedFactOut(Schema):
    key: str
    value: Any
    written: str  # "added" | "replaced" | "unchanged"
    resources: list[str]
    observed_on: str | None


class FhirImportOut(Schema):
    ok: bool = True
    study_id: str
    bundle: str
    facts: list[ImportedFactOut]
    to_confirm: list[str]
    unused: list[str]


def _content_type(request: AuthenticatedHttpRequest) -> str:
    return (request.content_type or "").split(";")[0].strip().lower()


@router.post(
    "/prescreening/fhir-bundle",
    response={200: FhirImportOut, **ERRORS, 415: ErrorOut},
    summary="Pre-fill a member's screening facts from a FHIR R4 Bundle",
    auth=writes(Cap.PARTICIPANT_WRITE),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                FHIR_JSON: {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
def fhir_bundle(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    """A FHIR R4 `Bundle` (Patient, Condition, Observation, Procedure, MedicationStatement)
    pre-fills the cohort facts of the member its Patient names (a study ID in
    `urn:blend:study-id`, or the hospital number, which needs `identifiers.view`). The
    facts are marked imported and wait for the nurse's confirmation. A bad bundle is a
    400 listing every problem with its `resource`, its path (`field`), `expected` and
    `received`; nothing is written."""
    need(request, Cap.PARTICIPANT_WRITE)
    if _content_type(request) not in ACCEPTED_TYPES:
        raise HttpError(
            415,
            f"body: expected Content-Type {FHIR_JSON} (or application/json), "
            f"received {_content_type(request) or 'none'}",
        )
    result = import_fhir_bundle(parse_json(request.body), user=request.user)
    return {
        "study_id": result.participant.study_id,
        "bundle": result.bundle,
        "facts": [
            {
                "key": key,
                "value": fact.value,
                "written": result.written[key],
                "resources": list(fact.resources),
                "observed_on": fact.observed_on.isoformat() if fact.observed_on else None,
            }
            for key, fact in result.found.facts.items()
        ],
        "to_confirm": result.to_confirm,
        "unused": list(result.found.unused),
    }
