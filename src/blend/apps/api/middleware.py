"""Refuse an oversized API body before anything reads it, in the API's one error shape.

Django raises ``RequestDataTooBig`` when a body longer than
``DATA_UPLOAD_MAX_MEMORY_SIZE`` is read; the first reader of an API body is a
middleware (the NUL guard), where Django would answer with its own HTML 400. This
middleware sits before it and answers 413 in JSON, by the same ``Content-Length``
test Django applies.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from blend.apps.api.errors import too_big

API_PREFIX = "/api/"


class BodyLimit:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.path.startswith(API_PREFIX):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return too_big(None, request)
        return self.get_response(request)
