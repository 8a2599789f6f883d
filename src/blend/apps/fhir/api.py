"""``/api/fhir/...``: the FHIR R4 export, read-only, with the REST API's permissions.

Every endpoint takes the API token (``Authorization: Bearer``) and checks the capability
the REST endpoints for the same data check (``api.core.need``): ``participant.view`` for
everything about members, a role in the trial for its study and subjects (a ``?trial=``
the user has no role in is refused), and ``allocation.view`` in the trial for a
subject's arm (``allocation.blinding``). Answers are ``application/fhir+json``; every
failure is an ``OperationOutcome`` with the HTTP status: an unknown or malformed
search parameter is a 400 naming it, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Router

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check_works_in
from blend.apps.api.core import TokenAuth, api, need
from blend.apps.api.tokens import TokenRefused
from blend.apps.fhir import queries, services
from blend.apps.trials.lookup import UnknownTrial, get_trial, known_trial_codes
from blend.instruments import instrument_codes
from blend.interop import fhir_export as fx

router = Router(tags=["fhir"])
PREFIX = "/fhir"
MAX_COUNT = 200
DEFAULT_COUNT = 50
COMMON = ("trial", "_count", "page")


class FhirProblem(Exception):
    """A request the FHIR endpoints refuse: the HTTP status, the FHIR issue code, what
    was wrong and (for a parameter) which one."""

    def __init__(self, status: int, code: str, message: str, expression: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.expression = status, code, expression


def outcome_response(problem: FhirProblem) -> HttpResponse:
    body = fx.operation_outcome(problem.code, str(problem), problem.expression)
    return HttpResponse(json.dumps(body), status=problem.status, content_type=fx.FHIR_JSON)


api.add_exception_handler(FhirProblem, lambda request, exc: outcome_response(exc))  # type: ignore[arg-type]


class FhirTokenAuth(TokenAuth):
    """The API's token check; a missing or refused token is a 401 OperationOutcome."""

    def __call__(self, request: HttpRequest) -> Any:
        try:
            user = super().__call__(request)
        except TokenRefused as refused:
            raise FhirProblem(401, "login", str(refused)) from refused
        if user is None:
            raise FhirProblem(
                401,
                "login",
                "authentication: expected a valid API token (Authorization: Bearer <token>)",
            )
        return user


AUTH = FhirTokenAuth()

_RESOURCE = {"type": "object", "properties": {"resourceType": {"type": "string"}}}
_FHIR_BODY = {fx.FHIR_JSON: {"schema": _RESOURCE}}
#: What each FHIR endpoint may answer, in the OpenAPI schema (schemathesis holds the API to
#: it): a resource or an OperationOutcome as FHIR JSON, and the API's own JSON error shape
#: where the frame answers before the FHIR view does (a throttled address, a NUL in the
#: query).
FHIR_RESPONSES: dict[str, Any] = {
    "responses": {
        200: {"description": "A FHIR resource or searchset Bundle", "content": _FHIR_BODY},
        400: {
            "description": "A bad search parameter (OperationOutcome)",
            "content": {**_FHIR_BODY, "application/json": {"schema": {"type": "object"}}},
        },
        401: {"description": "No valid API token (OperationOutcome)", "content": _FHIR_BODY},
        403: {"description": "Not allowed (OperationOutcome)", "content": _FHIR_BODY},
        404: {"description": "No such resource (OperationOutcome)", "content": _FHIR_BODY},
        429: {
            "description": "Too many requests (the API's error shape)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
    }
}


def fhir_view(view: Callable[..., Any]) -> Callable[..., HttpResponse]:
    """Answer with FHIR JSON, and every refusal as an OperationOutcome."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            body = view(request, *args, **kwargs)
        except PermissionDenied as refused:
            return outcome_response(FhirProblem(403, "forbidden", str(refused) or "forbidden"))
        except UnknownTrial as unknown:
            return outcome_response(FhirProblem(400, "invalid", str(unknown), "trial"))
        except Http404 as missing:
            return outcome_response(FhirProblem(404, "not-found", str(missing) or "not found"))
        except FhirProblem as problem:
            return outcome_response(problem)
        return HttpResponse(json.dumps(body, ensure_ascii=False), content_type=fx.FHIR_JSON)

    return wrapped


# --- search parameters ---------------------------------------------------------------------


def _params(request: HttpRequest, allowed: Iterable[str]) -> dict[str, str]:
    """The query's parameters, each given once; any other is refused (not ignored)."""
    allowed = (*allowed, *COMMON)
    for name in request.GET:
        if name not in allowed:
            raise FhirProblem(
                400,
                "not-supported",
                f"{name}: unknown search parameter; expected one of {', '.join(allowed)}",
                name,
            )
        if len(request.GET.getlist(name)) > 1:
            raise FhirProblem(400, "invalid", f"{name}: expected one value, got several", name)
    return {name: request.GET[name] for name in request.GET}


def _whole(params: Mapping[str, str], name: str, default: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise FhirProblem(
            400, "invalid", f"{name}: expected a whole number from 1 to {high}, got {text!r}", name
        )
    return int(text)


def _window(params: Mapping[str, str]) -> tuple[int, int]:
    """(first row, page size) from ``_count`` and ``page``."""
    count = _whole(params, "_count", DEFAULT_COUNT, MAX_COUNT)
    page = _whole(params, "page", 1, 1_000_000)
    return (page - 1) * count, count


def _choice(params: Mapping[str, str], name: str, known: Iterable[str]) -> str | None:
    value = params.get(name)
    known = tuple(known)
    if value is not None and value not in known:
        raise FhirProblem(
            400, "invalid", f"{name}: expected one of {', '.join(known)}, got {value!r}", name
        )
    return value


def _subject(params: Mapping[str, str]) -> str | None:
    """``subject=<study ID>`` (or ``system|<study ID>`` with the study-ID system)."""
    value = params.get("subject")
    if value is None:
        return None
    system, _, study_id = value.rpartition("|")
    if system not in ("", fx.STUDY_ID_SYSTEM) or not study_id or len(study_id) > 40:
        raise FhirProblem(
            400,
            "invalid",
            f"subject: expected a study ID (optionally {fx.STUDY_ID_SYSTEM}|ID), got {value!r}",
            "subject",
        )
    return study_id


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri(f"/api{PREFIX}")


def _bundle(
    request: HttpRequest,
    resources: list[dict[str, Any]],
    total: int | None,
    more: bool = False,
) -> dict[str, Any]:
    params = request.GET.copy()
    next_url = None
    if more:
        params["page"] = str(int(params.get("page", "1")) + 1)
        next_url = f"{request.build_absolute_uri(request.path)}?{urlencode(params)}"
    bundle = fx.searchset(
        resources, total or 0, _base(request), request.build_absolute_uri(), next_url
    )
    if total is None:
        del bundle["total"]  # a page of questionnaires: counting every resource costs a scan
    return bundle


def _page(
    request: HttpRequest, resources: list[dict[str, Any]], start: int, count: int
) -> dict[str, Any]:
    window = resources[start : start + count]
    return _bundle(request, window, len(resources), start + count < len(resources))


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the token's user (FhirTokenAuth)
    return user


# --- endpoints -----------------------------------------------------------------------------


@router.get(
    f"{PREFIX}/metadata",
    auth=AUTH,
    openapi_extra=FHIR_RESPONSES,
    summary="FHIR CapabilityStatement",
)
@fhir_view
def metadata(request: HttpRequest) -> dict[str, Any]:
    params = _params(request, ())
    _choice(params, "trial", known_trial_codes())
    return fx.capability_statement(_base(request))


@router.get(
    f"{PREFIX}/Questionnaire",
    auth=AUTH,
    openapi_extra=FHIR_RESPONSES,
    summary="FHIR: every instrument",
)
@fhir_view
def questionnaire_search(request: HttpRequest) -> dict[str, Any]:
    params = _params(request, ("_id",))
    need(request, Cap.PARTICIPANT_VIEW)
    start, count = _window(params)
    found = services.questionnaires()
    if "_id" in params:
        found = [q for q in found if q["id"] == params["_id"]]
    return _page(request, found, start, count)


@router.get(
    f"{PREFIX}/Questionnaire/{{questionnaire_id}}",
    auth=AUTH,
    openapi_extra=FHIR_RESPONSES,
    summary="FHIR: one instrument",
)
@fhir_view
def questionnaire_read(request: HttpRequest, questionnaire_id: str) -> dict[str, Any]:
    _params(request, ())
    need(request, Cap.PARTICIPANT_VIEW)
    if questionnaire_id not in instrument_codes():
        raise Http404(f"Questionnaire/{questionnaire_id}: no such instrument")
    return next(q for q in services.questionnaires() if q["id"] == questionnaire_id)


@router.get(
    f"{PREFIX}/ResearchStudy",
    auth=AUTH,
    openapi_extra=FHIR_RESPONSES,
    summary="FHIR: the trials you work in",
)
@fhir_view
def study_search(request: HttpRequest) -> dict[str, Any]:
    params = _params(request, ("_id",))
    need(request, Cap.PARTICIPANT_VIEW)
    start, count = _window(params)
    found = services.studies(_user(request))
    if "_id" in params:
        found = [s for s in found if s["id"] == params["_id"]]
    return _page(request, found, start, count)


@router.get(
    f"{PREFIX}/ResearchStudy/{{trial_code}}",
    auth=AUTH,
    openapi_extra=FHIR_RESPONSES,
    summary="FHIR: one trial",
)
@fhir_view
def study_read(request: HttpRequest, trial_code: str) -> dict[str, Any]:
    _params(request, ())
    need(request, Cap.PARTICIPANT_VIEW)
    if trial_code not in known_trial_codes():
        raise Http404(f"ResearchStudy/{trial_code}: no such trial")
    check_works_in(_user(request), trial_code)
    return fx.research_study(get_trial(trial_code))


def _trials(request: HttpRequest, params: Mapping[str, str]) -> list[str]:
    """The ``?trial=`` (``need`` checked the user works in it) or every trial they do."""
    trial = _choice(params, "trial", known_trial_codes())
    return [trial] if trial else queries.visible_trials(_user(request))


@router.get(
    f"{PREFIX}/ResearchSubject",
    auth=AUTH,
    openapi_extra=FHIR_RESPONSES,
    summary="FHIR: members in a trial",
)
@fhir_view
def subject_search(request: HttpRequest) -> dict[str, Any]:
    params = _params(request, ("subject",))
    trials = _trials(request, params)
    need(request, Cap.PARTICIPANT_VIEW)
    start, count = _window(params)
    return _page(request, services.subjects(trials, _user(request), _subject(params)), start, count)


def _responses(request: HttpRequest, params: Mapping[str, str]) -> Any:
    """The submitted questionnaires of the query: of the trial's subjects for ``?trial=``."""
    trial = _choice(params, "trial", known_trial_codes())
    need(request, Cap.PARTICIPANT_VIEW)
    members = queries.subject_ids(trial) if trial else None
    return queries.submitted(members, _subject(params))


def _response_page(
    request: HttpRequest,
    params: Mapping[str, str],
    instrument: str | None,
    scores: bool,
    code: str | None = None,
) -> dict[str, Any]:
    """One page of questionnaires (``_count`` of them), as QuestionnaireResponses or, with
    ``scores``, as their Observations (those with ``code`` when given)."""
    start, count = _window(params)
    rows = _responses(request, params)
    window = list(rows[start : start + count + 1])  # one more: is there a next page?
    facts = queries.response_facts(rows.filter(pk__in=[r.pk for r in window[:count]]), instrument)
    found: list[dict[str, Any]] = []
    for response, observations in services.responses(facts, services.instruments()):
        if not scores:
            found.append(response)
        else:
            found += [o for o in observations if code is None or _has_code(o, code)]
    return _bundle(request, found, None, len(window) > count)


def _has_code(observation: Mapping[str, Any], code: str) -> bool:
    system, _, value = code.rpartition("|")
    return any(
        c["code"] == value and system in ("", c["system"]) for c in observation["code"]["coding"]
    )


@router.get(
    f"{PREFIX}/QuestionnaireResponse",
    auth=AUTH,
    openapi_extra=FHIR_RESPONSES,
    summary="FHIR: submitted questionnaires",
)
@fhir_view
def response_search(request: HttpRequest) -> dict[str, Any]:
    params = _params(request, ("subject", "questionnaire"))
    wanted = params.get("questionnaire")
    instrument = None
    if wanted is not None:
        instrument = wanted.split("|")[0].rsplit("/", 1)[-1]
        if instrument not in instrument_codes():
            raise FhirProblem(
                400,
                "invalid",
                f"questionnaire: expected an instrument ({', '.join(instrument_codes())}) or its "
                f"URL, got {wanted!r}",
                "questionnaire",
            )
    return _response_page(request, params, instrument, scores=False)


@router.get(
    f"{PREFIX}/Observation",
    auth=AUTH,
    openapi_extra=FHIR_RESPONSES,
    summary="FHIR: the scores of questionnaires",
)
@fhir_view
def observation_search(request: HttpRequest) -> dict[str, Any]:
    params = _params(request, ("subject", "code"))
    code = params.get("code")
    if code is not None and not code.rpartition("|")[2]:
        raise FhirProblem(400, "invalid", f"code: expected a code, got {code!r}", "code")
    return _response_page(request, params, None, scores=True, code=code)
