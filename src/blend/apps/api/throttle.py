"""Counting in the shared cache: the API rate limit and the per-address failure throttles.

Every count is ``cache.incr(key)`` (after ``cache.add(key, 0)`` for a window's first
event) in the one cache all workers share (``settings.CACHES``: Redis when BLEND_CACHE_URL
is set, else the database, whose ``incr`` is made atomic in :mod:`blend.apps.api.cache`),
so a limit holds across gunicorn workers exactly, not once per process. Counts run in fixed windows (a clock minute for the
rate limit, BLEND_IP_FAILURE_MINUTES for the failure throttles) named in the key, so an
old window's key simply expires.

When the cache cannot be reached (Redis down, the database read-only) a count is logged
and the request let through: the throttles guard against abuse, and the per-account
lockout (django-axes, in the database) stays in force.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CACHE_ERRORS = (DatabaseError, RedisError, OSError)


def client_ip(request: HttpRequest) -> str:
    """The address a request came from: ``REMOTE_ADDR``, or, behind BLEND_PROXY_COUNT
    trusted reverse proxies, the address the outermost of them saw (X-Forwarded-For is
    read from the right, so a client cannot choose its address by sending the header).
    django-axes uses the same address (``axes_client_ip``, AXES_CLIENT_IP_CALLABLE)."""
    remote = str(request.META.get("REMOTE_ADDR") or "unknown")
    proxies = settings.PROXY_COUNT
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    if not proxies or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def axes_client_ip(request: HttpRequest) -> str | None:
    """``client_ip`` for django-axes, which stores it in an IP-address column: None when the
    request has no address (a log-in without a request, such as a test client's
    force_login), since PostgreSQL refuses "unknown" there."""
    found = client_ip(request)
    try:
        return str(ipaddress.ip_address(found))
    except ValueError:
        return None


def hit(key: str, seconds: int) -> int | None:
    """Count one event under ``key`` (kept ``seconds``); the count so far, this one
    included, or None when the cache cannot be reached (logged)."""
    try:
        try:  # the common case: the window's counter exists
            return int(cache.incr(key))
        except ValueError:  # the first event of the window (or its key expired, or was culled)
            cache.add(key, 0, timeout=seconds)
        try:
            return int(cache.incr(key))
        except ValueError:  # the database cache swallows a failed write in add()
            error: Exception = ValueError("the counter could not be created")
    except CACHE_ERRORS as raised:
        error = raised
    log.error("throttle %s not counted: the cache cannot be written (%s)", key, error)
    return None


def _count(key: str) -> int:
    try:
        return int(cache.get(key, 0))
    except CACHE_ERRORS as error:
        log.error("throttle %s not read: the cache cannot be reached (%s)", key, error)
        return 0


def rate_hit(who: str) -> int | None:
    """One API request by ``who`` (a token's key, or an address) in this clock minute."""
    return hit(f"blend-api-rate:{who}:{int(time.time() // 60)}", 70)


@dataclass(frozen=True)
class FailureThrottle:
    """At most BLEND_IP_FAILURE_LIMIT failures of one kind (``scope``) from one address in
    a window of BLEND_IP_FAILURE_MINUTES; past it the address is refused (429) until the
    window ends, whichever account it tries."""

    scope: str

    @staticmethod
    def window_seconds() -> int:
        return int(settings.IP_FAILURE_MINUTES) * 60

    def _key(self, request: HttpRequest) -> str:
        window = int(time.time() // self.window_seconds())
        return f"blend-ip-failures:{self.scope}:{client_ip(request)}:{window}"

    def blocked(self, request: HttpRequest) -> bool:
        return _count(self._key(request)) >= settings.IP_FAILURE_LIMIT

    def record(self, request: HttpRequest) -> None:
        hit(self._key(request), self.window_seconds() + 10)

    def retry_after(self) -> int:
        window = self.window_seconds()
        return int(window - time.time() % window) + 1


login_failures = FailureThrottle("login")
token_failures = FailureThrottle("token")


class LoginThrottleMiddleware:
    """Refuse a log-in attempt (429) from an address past its failure limit, before the
    password is checked. The failures are counted by ``record_login_failure`` (connected to
    Django's ``user_login_failed`` in ``ApiConfig.ready``). The per-account lockout
    (django-axes) still applies below the limit: this one stops one address trying many
    accounts."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "POST"
            and request.path == resolve_url(settings.LOGIN_URL)
            and login_failures.blocked(request)
        ):
            wait = login_failures.retry_after()
            response = render(
                request, "api/login_throttled.html", {"minutes": -(-wait // 60)}, status=429
            )
            response["Retry-After"] = str(wait)
            return response
        return self.get_response(request)


def record_login_failure(request: HttpRequest | None) -> None:
    if request is not None:
        login_failures.record(request)
