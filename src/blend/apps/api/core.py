"""The NinjaAPI instance: token auth, rate limit, pagination and the error shape."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Schema
from ninja.pagination import PaginationBase
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.models import User
from blend.apps.accounts.permissions import check_request
from blend.apps.api import errors
from blend.apps.api.throttle import client_ip, rate_hit, token_failures
from blend.apps.api.tokens import TokenRefused, hash_token, user_for
from blend.apps.trials.lookup import UnknownTrial, trial_code_or_default

RATE_KEY = "blend.api_rate_key"  # the token's throttle key, set on the request by TokenAuth


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``; the token's user acts, with that user's role.

    A token that is unknown, revoked, expired or idle too long is a 401 that says which,
    and counts as a failure of the address it came from: past BLEND_IP_FAILURE_LIMIT of
    them in BLEND_IP_FAILURE_MINUTES, that address is refused (429) before any token is
    looked at, so it cannot go on trying tokens (``throttle.token_failures``)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if token_failures.blocked(request):
            raise IpThrottled(token_failures.retry_after())
        try:
            user = user_for(token)
        except TokenRefused:
            token_failures.record(request)
            raise
        request.user = user
        # Per-request data for the throttle, kept in META as Django's CSRF middleware keeps its own.
        request.META[RATE_KEY] = hash_token(token)[:32]
        return user


class IpThrottled(Exception):
    """Too many failed tokens from this address (a 429 with Retry-After)."""

    def __init__(self, wait: int) -> None:
        super().__init__(
            f"authentication: too many failed API tokens from this address; retry in {wait} s"
        )
        self.wait = wait


class PerMinuteThrottle(BaseThrottle):
    """At most ``settings.API_RATE_LIMIT_PER_MINUTE`` requests per token (or address) per
    clock minute, counted in the cache every worker shares (``throttle.rate_hit``)."""

    def allow_request(self, request: HttpRequest) -> bool:
        who = request.META.get(RATE_KEY) or client_ip(request)
        count = rate_hit(who)
        return count is None or count <= settings.API_RATE_LIMIT_PER_MINUTE

    def wait(self) -> float:
        return 60 - time.time() % 60


class Pages(PaginationBase):
    """``?page=1&page_size=50`` (at most 200); the reply says how many items there are."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int = Field(50, ge=1, le=200)

    class Output(Schema):
        ok: bool = True
        items: list[Any]
        count: int
        page: int
        page_size: int

    # ``queryset`` is a QuerySet or a Mapped one (which ninja's QuerySet-typed helpers also accept).
    def paginate_queryset(
        self, queryset: Any, pagination: Input, request: HttpRequest, **params: Any
    ) -> Any:
        start = (pagination.page - 1) * pagination.page_size
        return {
            "ok": True,
            "items": list(queryset[start : start + pagination.page_size]),
            "count": self._items_count(queryset),
            "page": pagination.page,
            "page_size": pagination.page_size,
        }


class Mapped:
    """A queryset whose page is converted only when sliced, so a page costs one page of rows."""

    def __init__(self, queryset: QuerySet[Any], convert: Callable[[Any], Any]) -> None:
        self.queryset, self.convert = queryset, convert

    def __getitem__(self, window: slice) -> list[Any]:
        return [self.convert(row) for row in self.queryset[window]]

    def all(self) -> QuerySet[Any]:  # the paginator counts with .all().count()
        return self.queryset.all()


def responses(schema: Any) -> dict[int, Any]:
    """``schema`` on success, the one error shape on every failure."""
    return {200: schema, **errors.ERRORS}


def need(request: HttpRequest, *capabilities: Cap) -> None:
    """The same capability check as the user interface (``accounts.permissions``): a
    per-trial capability in the request's ``?trial=`` (the default trial when absent; an
    unknown code is a 422 naming the known ones), and a ``?trial=`` the user has no role
    in is refused whatever the capability."""
    trial = trial_code_or_default(request.GET.get("trial") or None)
    check_request(request, capabilities, trial)


api = NinjaAPI(
    title="BLEND trial platform API",
    version="1",
    description="Pseudonymous trial data (study IDs, never direct identifiers). Authenticate with a personal "
    "token: `Authorization: Bearer <token>` (`blend api-token USERNAME`); it expires after 90 days, or "
    "30 unused (BLEND_API_TOKEN_DAYS, BLEND_API_TOKEN_IDLE_DAYS). Every user has the same "
    "permissions as in the web interface. Errors: `{ok: false, error, errors, status}`.",
    auth=TokenAuth(),
    throttle=[PerMinuteThrottle()],
    urls_namespace="api",
)
errors.install(api)
errors.add_status(api, UnknownTrial, 422)  # ?trial= names no trial of the cohort
errors.add_status(api, TokenRefused, 401)  # the message says why: unknown, revoked, expired


def _ip_throttled(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    response = errors.error_response(api, request, 429, str(exc))
    response["Retry-After"] = str(getattr(exc, "wait", 60))
    return response


api.add_exception_handler(IpThrottled, _ip_throttled)


def add_error(exception: type[Exception], status: int) -> None:
    """Answer a domain error of a higher app with ``status`` and the error's own message
    (apps call this from their ``api`` module, so the API app never imports them)."""
    errors.add_status(api, exception, status)
