"""Request guards that belong to no single app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse


class RejectNulCharacters:
    """Refuse any request whose parameters or body carry a NUL character.

    No clinical text contains one, PostgreSQL cannot store one (it raises instead of
    saving), and Django's forms already refuse it field by field; this guard gives the
    API and every other entry point the same answer: a 400 that names the field.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = self._offending_field(request)
        if found is None:
            return self.get_response(request)
        field, location = found
        message = f"{field}: expected text without NUL (\\x00) characters, got one"
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "ok": False,
                    "error": message,
                    "errors": [{"field": field, "in": location, "message": message}],
                    "status": 400,
                },
                status=400,
            )
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")

    @staticmethod
    def _offending_field(request: HttpRequest) -> tuple[str, str] | None:
        if "\x00" in request.path:
            return "path", "path"
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return name.replace("\x00", "") or "query", "query"
        if (
            request.method in {"POST", "PUT", "PATCH"}
            and request.content_type == "application/json"
        ):
            body = request.body
            if b"\x00" in body or b"\\u0000" in body.lower():
                return "body", "body"
        return None
