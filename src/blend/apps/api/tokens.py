"""API tokens: issue (shown once), verify (by hash), revoke."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from blend.apps.accounts.models import User
from blend.apps.api.models import ApiToken
from blend.apps.audit.services import record_event

TOKEN_BYTES = 32
TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is informative; no write per request


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def issue_token(user: User, *, by: User | None = None) -> str:
    """A new token for ``user`` (the previous one stops working). Returns the raw token, once."""
    revoke_tokens(user, by=by, quiet=True)
    raw = "blend_" + secrets.token_urlsafe(TOKEN_BYTES)
    ApiToken.objects.create(user=user, prefix=raw[6:14], key_hash=hash_token(raw))
    record_event("api.token_issued", actor=by or user, details={"user": user.get_username()})
    return raw


def revoke_tokens(user: User, *, by: User | None = None, quiet: bool = False) -> int:
    n = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if n and not quiet:
        record_event("api.token_revoked", actor=by or user, details={"user": user.get_username()})
    return n


def user_for(raw: str) -> User | None:
    """The active user holding this token, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
