"""One JSON error shape for every failure: ``{"ok": false, "error", "errors", "status"}``.

Each entry of ``errors`` names the ``field``, where it was (``in``: body, query, path),
the ``message``, and, where the rule says so, what was ``expected`` and ``received``.
No exception reaches Django as a 500: a domain error is a 400 naming its field, a
model's own validation a 400, a constraint the database enforces a 409, a body above
``DATA_UPLOAD_MAX_MEMORY_SIZE`` a 413.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
)
from django.core.exceptions import ValidationError as ModelValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from pydantic import ConfigDict

#: The ``model_config`` of every request body: a field the schema does not name is a 422
#: naming it, never silently dropped.
FORBID_EXTRA = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    ok: bool = False
    error: str
    errors: list[dict[str, Any]] = []
    status: int


ERRORS: dict[int, type[Schema]] = {
    code: ErrorOut for code in (400, 401, 403, 404, 409, 413, 422, 429)
}

TOO_BIG = "body: expected a request body of at most {limit} bytes, received {length}"

# A handler as ninja types it (``ninja.main.ExcHandler``): the exception or its class. Ninja
# only ever passes the raised instance (``on_exception`` finds the handler by ``type(exc)``).
Handler = Callable[[HttpRequest, Exception | type[Exception]], HttpResponse]


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    error: str,
    errors: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    body = {"ok": False, "error": error, "errors": errors or [], "status": status}
    return api.create_response(request, body, status=status)


def _validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Each schema error with its field (``registered_on``, not ``data.registered_on``: the
    body's parameter name is left out) and the value received, when it is a plain one."""
    out = []
    for item in exc.errors:
        location = [str(part) for part in item.get("loc", ())]
        path = location[2:] if location[:1] == ["body"] and len(location) > 2 else location[1:]
        entry = {
            "field": ".".join(path) or ".".join(location),
            "in": location[0] if location else "",
            "message": str(item.get("msg", "")),
        }
        received = item.get("input")
        if isinstance(received, str | int | float | bool):
            entry["received"] = str(received)[:200]
        out.append(entry)
    return out


FIELD_FIRST = re.compile(r"^([a-z_][a-z0-9_./]*): (.+)$", re.DOTALL)


def _field_errors(exc: Exception) -> list[dict[str, Any]]:
    """The fields a domain error names: its ``problems`` (field, message, expected,
    received), its ``errors`` mapping (field → message), or the field its message starts
    with (``"onset_date: expected today or earlier, got …"``)."""
    problems = getattr(exc, "problems", None)
    if problems:
        return [p.as_dict() if hasattr(p, "as_dict") else dict(p) for p in problems]
    mapping = getattr(exc, "errors", None)
    if isinstance(mapping, dict):
        return [
            {"field": "" if k == "__all__" else k, "in": "body", "message": str(v)}
            for k, v in mapping.items()
        ]
    out = []
    for part in str(exc).split("; "):
        match = FIELD_FIRST.match(part)
        if match:
            out.append({"field": match[1], "in": "body", "message": match[2]})
    return out


def _model_errors(exc: ModelValidationError) -> list[dict[str, Any]]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": "" if k == "__all__" else k, "in": "body", "message": m}
            for k, messages in exc.message_dict.items()
            for m in messages
        ]
    return [{"field": "", "in": "body", "message": m} for m in exc.messages]


def _handler(api: NinjaAPI, status: int, message: str | None = None) -> Handler:
    def handle(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
        return error_response(api, request, status, message or str(exc))

    return handle


def add_status(api: NinjaAPI, exception: type[Exception], status: int) -> None:
    api.add_exception_handler(exception, _handler(api, status))


def install(api: NinjaAPI) -> None:
    """Translate every exception at the edge; domain errors carry their own field-naming messages.
    Apps add their own domain errors with ``api.core.add_error`` (a lock, an allocation refused)."""

    def handler(status: int, message: str | None = None) -> Handler:
        return _handler(api, status, message)

    api.add_exception_handler(
        ValidationError,
        lambda request, exc: error_response(
            api,
            request,
            422,
            "the request does not match the schema",
            # ninja's handler type also admits the class, but it passes the raised instance (see Handler)
            _validation_errors(exc),  # type: ignore[arg-type]
        ),
    )
    api.add_exception_handler(
        AuthenticationError,
        handler(401, "authentication: expected a valid API token (Authorization: Bearer <token>)"),
    )
    api.add_exception_handler(PermissionDenied, handler(403))
    api.add_exception_handler(Http404, handler(404, "not found"))
    api.add_exception_handler(ObjectDoesNotExist, handler(404, "not found"))
    api.add_exception_handler(Throttled, handler(429, "rate limit exceeded; retry in a minute"))
    api.add_exception_handler(
        HttpError, lambda request, exc: error_response(api, request, exc.status_code, str(exc))
    )
    api.add_exception_handler(
        ValueError,
        lambda request, exc: error_response(
            api,
            request,
            400,
            str(exc),
            _field_errors(exc),  # type: ignore[arg-type]
        ),
    )
    api.add_exception_handler(
        ModelValidationError,
        lambda request, exc: error_response(
            api,
            request,
            400,
            "; ".join(e["message"] for e in _model_errors(exc)),  # type: ignore[arg-type]
            _model_errors(exc),  # type: ignore[arg-type]
        ),
    )
    api.add_exception_handler(
        IntegrityError,
        handler(409, "conflict: the record conflicts with one already saved; nothing was saved"),
    )
    api.add_exception_handler(
        RequestDataTooBig,
        lambda request, exc: too_big(api, request),
    )


def too_big(api: NinjaAPI | None, request: HttpRequest) -> HttpResponse:
    """413 in the one shape (used by ninja's handler and by ``api.middleware.BodyLimit``)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    length = request.META.get("CONTENT_LENGTH") or "more"
    message = TOO_BIG.format(limit=limit, length=length)
    body = {
        "ok": False,
        "error": message,
        "errors": [
            {
                "field": "body",
                "in": "body",
                "message": message,
                "expected": f"at most {limit} bytes",
                "received": f"{length} bytes",
            }
        ],
        "status": 413,
    }
    if api is not None:
        return api.create_response(request, body, status=413)
    return JsonResponse(body, status=413)
