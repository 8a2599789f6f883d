"""API tokens: issue (shown once), verify (by hash), expire, revoke."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from blend.apps.accounts.models import User
from blend.apps.api.models import ApiToken
from blend.apps.audit.services import record_event

log = logging.getLogger(__name__)

TOKEN_BYTES = 32
# last_used_at is written at most once a minute (it also measures the idle timeout), so a
# read is no write per request, and a read still works while the database is read-only.
TOUCH_EVERY = timedelta(minutes=1)

REPLACED, REVOKED, LOCKED_OUT = "replaced", "revoked", "locked out"
_WHY_REVOKED = {
    REPLACED: "a newer token of the same account replaced it",
    REVOKED: "it was revoked",
    LOCKED_OUT: "the account was locked after repeated failed log-ins",
}
ASK_FOR_A_NEW_ONE = "ask the trial administrator for a new one (`blend api-token USERNAME`)"


class TokenRefused(Exception):
    """The presented token does not authenticate; the message says why (a 401)."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def issue_token(user: User, *, by: User | None = None) -> str:
    """A new token for ``user`` (the previous one stops working). Returns the raw token,
    once. It expires ``settings.API_TOKEN_DAYS`` days from now (BLEND_API_TOKEN_DAYS)."""
    revoke_tokens(user, by=by, quiet=True, reason=REPLACED)
    raw = "blend_" + secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
    ApiToken.objects.create(
        user=user, prefix=raw[6:14], key_hash=hash_token(raw), expires_at=expires_at
    )
    record_event(
        "api.token_issued",
        actor=by or user,
        details={"user": user.get_username(), "expires_at": expires_at.isoformat()},
    )
    return raw


def revoke_tokens(
    user: User, *, by: User | None = None, quiet: bool = False, reason: str = REVOKED
) -> int:
    n = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )
    if n and not quiet:
        record_event(
            "api.token_revoked",
            actor=by or user,
            details={"user": user.get_username(), "reason": reason},
        )
    return n


def user_for(raw: str) -> User:
    """The active user holding this token; :class:`TokenRefused`, saying why, otherwise."""
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(raw)).first()
    if token is None:
        raise TokenRefused(
            "authentication: expected a valid API token (Authorization: Bearer <token>), "
            "got one that was never issued"
        )
    now = timezone.now()
    refusal = refusal_of(token, now)
    if refusal:
        raise TokenRefused(f"authentication: {refusal}; {ASK_FOR_A_NEW_ONE}")
    _touch(token, now)
    return token.user


def refusal_of(token: ApiToken, now: datetime) -> str:
    """Why ``token`` cannot be used at ``now`` ('' when it can)."""
    if token.revoked_at is not None:
        why = _WHY_REVOKED.get(token.revoked_reason, _WHY_REVOKED[REVOKED])
        return f"the API token was revoked on {_day(token.revoked_at)}: {why}"
    if not token.user.is_active:
        return "the API token belongs to a deactivated account"
    if token.expires_at <= now:
        return f"the API token expired on {_day(token.expires_at)} (tokens last {settings.API_TOKEN_DAYS} days)"
    idle = timedelta(days=settings.API_TOKEN_IDLE_DAYS)
    last = token.last_used_at or token.created_at
    if now - last > idle:
        return (
            f"the API token expired after {settings.API_TOKEN_IDLE_DAYS} days unused "
            f"(last used {_day(last)})"
        )
    return ""


def _touch(token: ApiToken, now: datetime) -> None:
    """Record the use at most once a minute; a failed write (a read-only database, a lock
    timeout) is logged and never fails the request that only reads."""
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    try:
        with transaction.atomic():
            # The condition makes "at most once a minute" hold for concurrent requests too.
            ApiToken.objects.filter(pk=token.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - TOUCH_EVERY)
            ).update(last_used_at=now)
    except DatabaseError as error:
        log.warning("API token %s: last use not recorded (%s)", token.prefix, error)


def _day(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
