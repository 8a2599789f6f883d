"""Request guards that belong to no single app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from blend.apps.audit.guards import WriteRefused


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


class ExplainRefusedWrites:
    """Turn a write that a guard refused (a locked participant or database, for one) into
    a page that says so, instead of a 500, on every staff page at once.

    Views need not catch ``WriteRefused`` one by one: any view that saves through
    ``audited_save`` gets this answer. The message is the guard's own, translated; it
    names the record, so the patient pages catch the refusal themselves and show a
    neutral page instead. The API answers with its JSON error (409) before this runs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, WriteRefused):
            return None
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = ""
        if request.headers.get("HX-Request"):
            return render(
                request, "write_refused_fragment.html", {"message": str(exception)}, status=200
            )
        return render(
            request, "write_refused.html", {"message": str(exception), "back": back}, status=409
        )


class NoStore:
    """``Cache-Control: no-store`` on every response the application makes.

    Participant pages show identifiers to the roles that may see them, staff pages show
    study data, the patient pages show a patient's own answers, and exports are data:
    none may stay in a browser's or a proxy's cache, or in the back-forward cache of a
    shared ward computer after logging out. Static files are served by WhiteNoise before
    this middleware runs (it sits below WhiteNoise) and stay cacheable. A view that sets
    a stricter Cache-Control keeps its own value only if it contains ``no-store``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "no-store"
        return response
