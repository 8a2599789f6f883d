"""The request type of a view behind ``@require``: the user is a signed-in staff member.

Django types ``request.user`` as ``User | AnonymousUser``; behind ``require`` (which
logs in first) it is always our ``User``, so views annotate ``request`` with this
type and the type checker knows ``request.user.can``. As healthchecks does in
``hc/accounts/http.py``.
"""

from __future__ import annotations

from django.http import HttpRequest

from blend.apps.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
