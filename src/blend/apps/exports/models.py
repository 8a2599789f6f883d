from __future__ import annotations

from django.conf import settings
from django.db import models


class ExportLog(models.Model):
    """Who exported what, when: one row per export. Append-only (database triggers)."""

    APPEND_ONLY = True

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    via = models.CharField(max_length=10)  # web, cli, api
    os_user = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=20)  # analysis, full
    formats = models.JSONField(default=list)
    rows = models.JSONField(default=dict)  # table -> number of rows
    files = models.JSONField(default=dict)  # file name -> sha256

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} export {self.at:%Y-%m-%d %H:%M} by {self.user or self.os_user}"
