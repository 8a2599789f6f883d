"""Account services: re-authentication for signatures and confirmations."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpRequest

from blend.apps.accounts.models import User


class ReauthenticationFailed(Exception):
    """The password given to confirm an action was wrong."""


def reauthenticate(request: HttpRequest | None, user: User, password: str) -> None:
    """Check the password of the user who is signing or confirming.

    Goes through ``authenticate`` so that failures count towards the lockout.
    """
    confirmed = authenticate(request, username=user.get_username(), password=password)
    if confirmed is None or confirmed.pk != user.pk:
        raise ReauthenticationFailed("password: expected the password of the signed-in user; it did not match")
