"""Helpers for reading rendered pages in tests."""

from __future__ import annotations

import re
from typing import Any

from django.core.signals import request_finished
from django.db import close_old_connections

_CSRF = re.compile(r"hx-headers='[^']*'|name=\"csrfmiddlewaretoken\" value=\"[^\"]*\"")


def without_csrf(body: bytes | str) -> str:
    """The page without its per-client CSRF tokens.

    A random token can contain any short string ("w4", "NRS"), so checks that a word
    is absent from a page read it without them.
    """
    text = body.decode() if isinstance(body, bytes) else body
    return _CSRF.sub("", text)


def finish(response: Any) -> None:
    """End the response as the server does (``close()``, which closes the zip file).

    Its ``request_finished`` signal would also close the test's database connection
    inside the test transaction on PostgreSQL; the test client keeps it open the same
    way during a request.
    """
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
