"""Access ending on lockout: the one service that revokes what a locked-out account holds."""

from __future__ import annotations

from django.db import transaction

from blend.apps.accounts.models import User
from blend.apps.api.sessions import end_sessions
from blend.apps.api.tokens import LOCKED_OUT, revoke_tokens
from blend.apps.audit.services import record_event


@transaction.atomic
def revoke_access_on_lockout(username: str | None) -> tuple[int, int]:
    """The account ``username`` was just locked out (django-axes): its API token is revoked
    and every open session ends, at once, so a thief holding either cannot go on while the
    owner is locked out. Returns (tokens revoked, sessions ended); audited when anything
    was revoked. A name that is no account's (an attacker guessing) changes nothing."""
    user = User.objects.filter(username=username).first() if username else None
    if user is None:
        return 0, 0
    tokens = revoke_tokens(user, quiet=True, reason=LOCKED_OUT)
    sessions = end_sessions(user)
    if tokens or sessions:
        record_event(
            "access.revoked_on_lockout",
            actor=None,
            details={"user": user.get_username(), "tokens": tokens, "sessions": sessions},
        )
    return tokens, sessions
