"""One JSON error shape for every failure: ``{"ok": false, "error", "errors", "status"}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError


class ErrorOut(Schema):
    ok: bool = False
    error: str
    errors: list[dict[str, Any]] = []
    status: int


ERRORS: dict[int, type[Schema]] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}

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
    out = []
    for item in exc.errors:
        location = [str(part) for part in item.get("loc", ())]
        out.append(
            {
                "field": ".".join(location[1:]) or ".".join(location),
                "in": location[0] if location else "",
                "message": str(item.get("msg", "")),
            }
        )
    return out


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
    api.add_exception_handler(ValueError, handler(400))
