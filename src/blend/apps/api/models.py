from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A user's API token. Only its SHA-256 is stored; the token is shown once at issue.
    One active token per user: issuing a new one revokes the old. It expires, and it is
    revoked when its account is locked out (docs/security.md section 7)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    prefix = models.CharField(
        max_length=8, db_index=True
    )  # shown in lists so a user can tell tokens apart
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Why it was revoked ("replaced", "revoked", "locked out"; blend.apps.api.tokens), so a
    # refused request can say so.
    revoked_reason = models.CharField(max_length=20, blank=True, default="")
    # BLEND_API_TOKEN_DAYS after issue; a token unused for BLEND_API_TOKEN_IDLE_DAYS also stops.
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_api_token_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"API token {self.prefix}… of {self.user_id}"
