"""A write endpoint's capability is checked with its token, before ninja reads the body.

ninja parses and validates the body before the view runs, so a role that may not
write would otherwise get a 422 listing the schema instead of a 403. ``writes(...)``
is the endpoint's ``auth``: the token is checked as on every endpoint (``TokenAuth``),
then the capabilities exactly as the view checks them (``need``); a missing one is
the 403 of the one error shape, and the body is never read.
"""

from __future__ import annotations

from django.http import HttpRequest

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.api.core import TokenAuth, need


class CapabilityAuth(TokenAuth):
    def __init__(self, *capabilities: Cap) -> None:
        super().__init__()
        self.capabilities = capabilities

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = super().authenticate(request, token)
        if user is not None:
            need(request, *self.capabilities)  # PermissionDenied: 403, before the body
        return user


def writes(*capabilities: Cap) -> CapabilityAuth:
    """The ``auth`` of an endpoint that needs ``capabilities``."""
    return CapabilityAuth(*capabilities)
