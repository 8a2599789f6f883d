"""Helpers for reading rendered pages in tests."""

from __future__ import annotations

import re

_CSRF = re.compile(r"hx-headers='[^']*'|name=\"csrfmiddlewaretoken\" value=\"[^\"]*\"")


def without_csrf(body: bytes | str) -> str:
    """The page without its per-client CSRF tokens.

    A random token can contain any short string ("w4", "NRS"), so checks that a word
    is absent from a page read it without them.
    """
    text = body.decode() if isinstance(body, bytes) else body
    return _CSRF.sub("", text)
