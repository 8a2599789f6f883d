"""Enforce the permission matrix in views (``require``) and anywhere else (``check``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from blend.apps.accounts.domain import Cap


def check(user: Any, capability: Cap | str) -> None:
    """Raise PermissionDenied unless ``user`` holds ``capability``."""
    if not (getattr(user, "is_authenticated", False) and user.can(capability)):
        raise PermissionDenied(f"This needs the capability {Cap(capability).value!r}.")


def require(
    *capabilities: Cap | str,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """View decorator: log in first, then every listed capability is needed."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            for capability in capabilities:
                check(request.user, capability)
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorate
