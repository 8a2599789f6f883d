"""Signal receivers, connected once in ``ApiConfig.ready``. Each only calls a service:
django-axes tells of a lockout only by its ``user_locked_out`` signal and Django of a
failed log-in only by ``user_login_failed``, so a signal is the one place to hear them;
the rules stay in the services they call (``services.revoke_access_on_lockout``,
``throttle.record_login_failure``). The post-migrate one is infrastructure, like the
audit app's triggers: the database cache's table exists wherever ``migrate`` ran."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command

from blend.apps.api.services import revoke_access_on_lockout
from blend.apps.api.throttle import record_login_failure


def on_user_locked_out(sender: Any, username: str | None = None, **kwargs: Any) -> None:
    revoke_access_on_lockout(username)


def on_user_login_failed(sender: Any, request: Any = None, **kwargs: Any) -> None:
    record_login_failure(request)


def create_cache_table(sender: Any, using: str = "default", **kwargs: Any) -> None:
    if any(c["BACKEND"].endswith("DatabaseCache") for c in settings.CACHES.values()):
        call_command("createcachetable", database=using, verbosity=0)
