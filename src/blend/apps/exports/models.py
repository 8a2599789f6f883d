from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    VALIDATING = "validating", _("validating")
    WRITING = "writing", _("writing")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class ImportJob(models.Model):
    """A large web import run by the background worker (``exports.tasks.run_import``):
    its progress, and its report once it has finished. The upload itself is a private
    file that is removed when the job ends."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20)  # participants, questionnaires
    file_name = models.CharField(max_length=255)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(default=0)  # data rows in the file (lines)
    rows_done = models.PositiveIntegerField(default=0)
    report = models.JSONField(null=True, blank=True)  # ImportReport.as_dict()
    error = models.TextField(blank=True)  # why the file was refused whole
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} import {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in {ImportStatus.DONE, ImportStatus.FAILED}

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        return min(99, round(100 * self.rows_done / self.rows_total)) if self.rows_total else 0
