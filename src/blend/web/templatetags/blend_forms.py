"""Template filters for every app's forms (registered in settings as ``blend_forms``)."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.forms.utils import ErrorList

register = template.Library()

#: An edit check's code (``AE08``, ``P02``, ``Q01``); Django's own error codes are words.
CHECK_CODE = re.compile(r"[A-Z]{1,3}[0-9]{2}")


@register.filter
def with_check_codes(errors: ErrorList | None) -> list[tuple[str, str]]:
    """Each error as (text, check code); the code is empty for errors that are not edit checks."""
    if not errors:
        return []
    pairs: list[tuple[str, str]] = []
    for error in errors.as_data():
        code: Any = error.code or ""
        for text in error:
            pairs.append((str(text), code if CHECK_CODE.fullmatch(str(code)) else ""))
    return pairs
